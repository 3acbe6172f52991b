"""Intent answers: times converted by arithmetic equal protobuf's own conversion."""

from __future__ import annotations

import datetime as dt

import pytest

from server.servicers.payment_messages import _stamp
from server.servicers.support import timestamp


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2026, 12, 2, 20, 5, 6, 123456, tzinfo=dt.UTC),
        dt.datetime(2026, 12, 2, 20, 5, 6, 1),  # naive: UTC
        dt.datetime(2000, 2, 29, 23, 59, 59, 999999, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
    ],
)
def test_stamp_equals_from_datetime(value: dt.datetime) -> None:
    assert _stamp(value) == timestamp(value)
