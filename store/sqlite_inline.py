"""SQLite reads on the event loop thread itself, through SQLAlchemy's aiosqlite dialect.

aiosqlite sends every call (cursor, execute, fetch, close, BEGIN, COMMIT) to a worker
thread and back; a one-row read makes about a dozen such round trips, ~0.5 ms under
load, while SQLite answers it from its page cache in microseconds. In WAL mode a reader
never waits for a writer, so running reads inline costs the loop less than handing them
off. Writes run their statements inline too, but BEGIN and COMMIT go to aiosqlite's
thread: BEGIN may wait for another process's write lock, COMMIT waits for fsync.
"""

from __future__ import annotations

import sqlite3
from functools import partial
from typing import Any

import aiosqlite

_ITER_CHUNK_SIZE = 64


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the caller's thread.

    The worker thread still opens and closes the connection (and serves SQLAlchemy's
    isolation-level setter, which talks to it directly), so the sqlite3 connection is
    opened with ``check_same_thread=False``; the two never use it at the same time.
    """

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        if getattr(fn, "__name__", "") == "close":
            # Closing goes through the worker thread, behind whatever it may still be
            # running for this connection (a BEGIN or COMMIT whose caller was cancelled):
            # closing inline at that moment crashes the process.
            threaded: Any = aiosqlite.Connection._execute  # untyped upstream
            return await threaded(self, fn, *args, **kwargs)
        return fn(*args, **kwargs)


class WriterConnection(InlineConnection):
    """Statements inline; only what may wait goes to the thread: BEGIN (another process
    may hold the write lock: busy_timeout) and COMMIT (fsync)."""

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if _may_wait(fn, args):
            threaded: Any = aiosqlite.Connection._execute  # untyped upstream
            return await threaded(self, fn, *args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)


def _may_wait(fn: Any, args: tuple[Any, ...]) -> bool:
    if getattr(fn, "__name__", "") == "commit":
        return True
    statement = args[0] if args and isinstance(args[0], str) else ""
    return statement.lstrip()[:6].upper() in ("BEGIN", "BEGIN ", "COMMIT")


async def connect_inline(database: str) -> aiosqlite.Connection:
    connector = partial(sqlite3.connect, database, check_same_thread=False)
    return await InlineConnection(connector, _ITER_CHUNK_SIZE)


async def connect_writer(database: str) -> aiosqlite.Connection:
    connector = partial(sqlite3.connect, database, check_same_thread=False)
    return await WriterConnection(connector, _ITER_CHUNK_SIZE)
