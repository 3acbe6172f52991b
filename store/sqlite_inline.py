"""SQLite statements on the event loop thread, through SQLAlchemy's aiosqlite dialect.

aiosqlite sends every call (cursor, execute, fetch, close, BEGIN, COMMIT) to a worker
thread and back; a one-row read makes about a dozen such round trips, ~0.5 ms under
load, while SQLite answers it from its page cache in microseconds. Here statements run
inline, and only calls that may wait go to aiosqlite's thread: a writer's ``BEGIN
IMMEDIATE`` (another process may hold the write lock: busy_timeout) and ``COMMIT`` (the
fsync), and ``close``.

The two paths never overlap on one connection: a threaded call is awaited through a
shield and remembered, and any later call — inline or threaded — first waits for it to
finish. So even when a caller is cancelled mid-COMMIT (and SQLAlchemy rolls back or
closes the connection), the sqlite3 handle is never used by two threads at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from typing import Any

import aiosqlite

_ITER_CHUNK_SIZE = 64
_WRITER_WAITS = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT")


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the caller's thread, except close."""

    _pending: asyncio.Future[Any] | None = None

    def _needs_thread(self, fn: Any, args: tuple[Any, ...]) -> bool:
        return getattr(fn, "__name__", "") == "close"

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        await self._settle_pending()
        if self._needs_thread(fn, args):
            return await self._on_thread(partial(fn, *args, **kwargs))
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)

    async def _on_thread(self, call: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((future, call))
        self._pending = future
        return await asyncio.shield(future)

    async def _settle_pending(self) -> None:
        pending = self._pending
        if pending is not None and not pending.done():
            await asyncio.wait({pending})


class WriterConnection(InlineConnection):
    """Also waits on the thread for what may block: BEGIN IMMEDIATE and COMMIT."""

    def _needs_thread(self, fn: Any, args: tuple[Any, ...]) -> bool:
        if getattr(fn, "__name__", "") in ("close", "commit"):
            return True
        statement = args[0] if args and isinstance(args[0], str) else ""
        return statement.lstrip()[:15].upper().startswith(_WRITER_WAITS)


async def connect_inline(database: str) -> aiosqlite.Connection:
    connector = partial(sqlite3.connect, database, check_same_thread=False)
    return await InlineConnection(connector, _ITER_CHUNK_SIZE)


async def connect_writer(database: str) -> aiosqlite.Connection:
    connector = partial(sqlite3.connect, database, check_same_thread=False)
    return await WriterConnection(connector, _ITER_CHUNK_SIZE)
