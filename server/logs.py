"""Structured logs: one JSON object per line, with the fields the call put in ``extra``."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from typing import Final, TextIO

from server.config import Client

_STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}
#: One encoder for every line (``json.dumps(..., default=str)`` builds one per call).
_ENCODER: Final = json.JSONEncoder(default=str)
_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S"


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's time to the second; a busy server logs many lines per second, so
        the text is formatted once per second, not once per line."""
        second = int(record.created)
        if second != self._second:
            self._stamp = time.strftime(datefmt or _TIME_FORMAT, self.converter(second))
            self._second = second
        return self._stamp

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, _TIME_FORMAT),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = value
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return _ENCODER.encode(entry)


class CallLog:
    """The one INFO line per call, with its method, code, duration, request and client.

    Goes through ``logger`` like any line (levels, handlers and test capture all apply),
    but builds the record directly: ``logger.info`` would first walk the stack to find
    the caller's file and line, which nobody reads in these lines and which cost more
    than formatting them.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger

    def emit(
        self,
        method: str,
        code: str,
        elapsed_seconds: float,
        request_id: str,
        client: Client | None,
    ) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        record = logger.makeRecord(
            logger.name,
            logging.INFO,
            __file__,
            0,
            "rpc",
            (),
            None,
            extra={
                "rpc_method": method,
                "code": code,
                "duration_ms": round(elapsed_seconds * 1000, 2),
                "request_id": request_id,
                "client_id": client.id if client else None,
            },
        )
        logger.handle(record)


class LoopBufferedHandler(logging.StreamHandler[TextIO]):
    """A stream handler that, on the event loop, writes once per loop step.

    A busy server logs a line per call; writing and flushing each one is a system call
    per call. Lines logged on the event loop's thread are collected and written
    together as soon as the loop finishes its current step, in order, before it waits
    for anything (so a line appears as promptly as the loop can make it). Warnings and
    errors, lines from other threads and lines at shutdown are written at once.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._pending: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._pending.append(line)
        if loop is None or record.levelno >= logging.WARNING:
            self._write_pending()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush_soon)

    def _flush_soon(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # created by Handler.__init__
            self._write_pending()

    def _write_pending(self) -> None:
        self._scheduled = False
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        try:
            self.stream.write(text)
            self.stream.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"msg": "log lines lost"}))

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]
            self._write_pending()
        super().flush()


def configure(level: str) -> None:
    handler = LoopBufferedHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-call lines are INFO; the libraries' chatter is not ours to show.
    for noisy in ("aiohttp.access", "sqlalchemy", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
