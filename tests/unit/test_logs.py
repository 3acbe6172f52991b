"""Log lines: JSON objects, written in order, promptly, with warnings at once."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from server.logs import JsonFormatter, LoopBufferedHandler


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
