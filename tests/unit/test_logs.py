"""Log lines: JSON objects, written in order, promptly, with warnings at once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator

import pytest

from server.config import Client
from server.logs import CallLog, JsonFormatter, LoopBufferedHandler


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = LoopBufferedHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("isa.test.logs")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.handlers[:] = []


def messages(stream: io.StringIO) -> list[str]:
    return [json.loads(line)["message"] for line in stream.getvalue().splitlines()]


async def test_lines_on_the_loop_are_written_in_order_once_the_step_ends(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    logger.info("one", extra={"request_id": "r1"})
    logger.info("two")
    assert messages(stream) == []  # still in this loop step
    await asyncio.sleep(0)
    assert messages(stream) == ["one", "two"]
    assert json.loads(stream.getvalue().splitlines()[0])["request_id"] == "r1"


async def test_a_warning_is_written_at_once_after_the_lines_before_it(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    logger.info("before")
    logger.warning("trouble")
    assert messages(stream) == ["before", "trouble"]


def test_lines_off_the_loop_are_written_at_once(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    logger.info("plain")
    assert messages(stream) == ["plain"]


async def test_flush_writes_what_is_pending(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("pending")
    for handler in logger.handlers:
        handler.flush()
    assert messages(stream) == ["pending"]


def test_the_call_line_from_its_template_is_the_line_of_its_record(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    client = Client(id="tenant-\u00e9", token_sha256="", services=frozenset())
    call_log = CallLog(logger)
    call_log.emit("/isa.wallet.v1.WalletService/GetWallet", "OK", 0.0012345, 'r"1', client)
    call_log.emit("/isa.wallet.v1.WalletService/GetWallet", "UNAUTHENTICATED", 0.5, "r2", None)
    direct = stream.getvalue().splitlines()
    assert len(direct) == 2

    records: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(capture)  # a second destination: lines go through records again
    call_log.emit("/isa.wallet.v1.WalletService/GetWallet", "OK", 0.0012345, 'r"1', client)
    call_log.emit("/isa.wallet.v1.WalletService/GetWallet", "UNAUTHENTICATED", 0.5, "r2", None)
    formatted = [JsonFormatter().format(record) for record in records]
    stamp = re.compile(r'^\{"time": "[0-9T:-]{19}", ')
    assert all(stamp.match(line) for line in direct + formatted)
    # The same text, field for field and in order, but for the second each was stamped in.
    assert [stamp.sub("", line) for line in direct] == [stamp.sub("", line) for line in formatted]
