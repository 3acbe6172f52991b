"""SQLite reads on the event loop thread itself, through SQLAlchemy's aiosqlite dialect.

aiosqlite sends every call (cursor, execute, fetch, close, BEGIN, COMMIT) to a worker
thread and back; a one-row read makes about a dozen such round trips, ~0.5 ms under
load, while SQLite answers it from its page cache in microseconds. In WAL mode a reader
never waits for a writer, so running reads inline costs the loop less than handing them
off. Writes keep aiosqlite's thread: their COMMIT waits for fsync.
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
        return fn(*args, **kwargs)


async def connect_inline(database: str) -> aiosqlite.Connection:
    connector = partial(sqlite3.connect, database, check_same_thread=False)
    return await InlineConnection(connector, _ITER_CHUNK_SIZE)
