"""Answers' times: converted by arithmetic, equal to protobuf's own conversion."""

from __future__ import annotations

import datetime as dt

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from server.servicers.support import set_timestamp, timestamp


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 2, 20, 5, 6, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 20, 5, 6, 1),  # naive: UTC
        dt.datetime(2000, 2, 29, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),  # before the epoch
    ],
)
def test_timestamps_equal_from_datetime(value: dt.datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value)
    assert timestamp(value) == expected
    filled = Timestamp()
    set_timestamp(filled, value)
    assert filled == expected
