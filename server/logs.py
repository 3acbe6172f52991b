"""Structured logs: one JSON object per line, with the fields the call put in ``extra``."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from json.encoder import encode_basestring_ascii
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
        if datefmt is not None and datefmt != _TIME_FORMAT:
            return time.strftime(datefmt, self.converter(int(record.created)))
        return self.stamp(record.created)

    def stamp(self, created: float) -> str:
        """``created`` (seconds since the epoch) as this formatter writes ``time``."""
        second = int(created)
        if second != self._second:
            self._stamp = time.strftime(_TIME_FORMAT, self.converter(second))
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

    When the line's only destination is the server's own :class:`LoopBufferedHandler`
    with a :class:`JsonFormatter` (as :func:`configure` sets up), no record is built at
    all: the line is written from a template, the same JSON object the formatter would
    write for the record, field for field and in the same order. Any other set-up
    (another handler, a filter, test capture) gets the record, as before.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._encoded: dict[str, str] = {}

    def _direct(self) -> LoopBufferedHandler | None:
        """The one handler this logger's INFO lines reach, if it is ours, else None."""
        logger: logging.Logger | None = self._logger
        if self._logger.filters or self._logger.disabled:
            return None
        found = None
        while logger is not None:
            for handler in logger.handlers:
                if found is not None:
                    return None
                found = handler
            if not logger.propagate:
                break
            logger = logger.parent
        if (
            type(found) is LoopBufferedHandler
            and not found.filters
            and found.level <= logging.INFO
            and type(found.formatter) is JsonFormatter
        ):
            return found
        return None

    def _json(self, text: str) -> str:
        """``text`` as a JSON string; method names and codes repeat, so they are kept."""
        encoded = self._encoded.get(text)
        if encoded is None:
            encoded = encode_basestring_ascii(text)
            if len(self._encoded) < 1024:
                self._encoded[text] = encoded
        return encoded

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
        handler = self._direct()
        if handler is not None:
            formatter: JsonFormatter = handler.formatter  # type: ignore[assignment]
            client_id = "null" if client is None else encode_basestring_ascii(client.id)
            line = (
                f'{{"time": "{formatter.stamp(time.time())}", "level": "INFO", '
                f'"logger": {self._json(logger.name)}, "message": "rpc", '
                f'"rpc_method": {self._json(method)}, "code": {self._json(code)}, '
                f'"duration_ms": {round(elapsed_seconds * 1000, 2)!r}, '
                f'"request_id": {encode_basestring_ascii(request_id)}, '
                f'"client_id": {client_id}}}'
            )
            with handler.lock:  # type: ignore[union-attr]  # created by Handler.__init__
                handler.queue(line + handler.terminator, logging.INFO)
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
        self.queue(line, record.levelno)

    def queue(self, line: str, levelno: int) -> None:
        """Write ``line`` (formatted, with its terminator) as :meth:`emit` would."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._pending.append(line)
        if loop is None or levelno >= logging.WARNING:
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
