"""An aiosqlite-compatible connection that runs SQLite statements on the event loop.

aiosqlite hands every call (cursor, execute, fetch, close) to its own thread: four or
five thread hops for one indexed lookup that SQLite itself answers in microseconds, so
the hops, not the database, bound throughput. Here statements run inline, and only the
calls that can wait run in a worker thread: ``BEGIN …`` (may wait for another
process's write lock, up to ``busy_timeout``) and ``COMMIT`` (the fsync that makes a
write durable). Durability is unchanged (``synchronous=FULL``); a write transaction
costs two thread hops instead of dozens, and a read none.

SQLAlchemy's ``sqlite+aiosqlite`` dialect drives it through ``async_creator``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any


def _may_wait(sql: str) -> bool:
    """BEGIN IMMEDIATE/EXCLUSIVE may wait for a lock; a plain BEGIN or a read never does."""
    head = sql.lstrip()[:16].upper()
    return head.startswith(("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT"))


class InlineCursor:
    def __init__(self, connection: InlineConnection) -> None:
        self._owner = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        await self._owner.settle()
        if not _may_wait(sql):
            self._cursor.execute(sql, parameters)
        elif not self._owner.try_inline(self._cursor, sql, parameters):
            await self._owner.off_loop(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        await self._owner.settle()
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *_sizes: Any) -> None:
        return None

    async def nextset(self) -> None:
        return None


class _Immediate:
    """Stands in for aiosqlite's request queue: SQLAlchemy sets isolation_level through it."""

    def put_nowait(self, item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as error:
            future.set_exception(error)


class InlineConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn
        self._tx = _Immediate()
        self._changes = conn.total_changes
        self._in_thread = 0
        self._close_when_idle = False
        self._pending: asyncio.Future[Any] | None = None

    async def settle(self) -> None:
        """Wait for a thread call a cancelled caller left running: one use at a time."""
        pending = self._pending
        if pending is not None and not pending.done():
            await asyncio.wait([pending])

    async def off_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        """Run a call that may wait in a thread; a cancelled caller never leaves it running
        against a connection someone then closes (the close waits for the thread)."""
        await self.settle()
        future = asyncio.get_running_loop().run_in_executor(None, function, *args)
        self._pending = future
        self._in_thread += 1
        future.add_done_callback(self._thread_done)
        return await asyncio.shield(future)

    def try_inline(self, cursor: sqlite3.Cursor, sql: str, parameters: Sequence[Any]) -> bool:
        """BEGIN IMMEDIATE without waiting: almost always the lock is free (one writer per
        process), and then a thread hop would only add latency. False: it is taken
        (another process writes); the caller waits for it in a thread instead."""
        if not sql.lstrip().upper().startswith("BEGIN") or self._in_thread:
            return False
        busy_timeout_ms = int(self._conn.execute("PRAGMA busy_timeout").fetchone()[0])
        self._conn.execute("PRAGMA busy_timeout=0")
        try:
            cursor.execute(sql, parameters)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
            return False
        finally:
            self._conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        return True

    def _thread_done(self, _future: asyncio.Future[Any]) -> None:
        self._in_thread -= 1
        if self._in_thread == 0 and self._close_when_idle:
            self._close_now()

    def _close_now(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    def _close(self) -> None:
        if self._in_thread:
            self._close_when_idle = True
        else:
            self._close_now()

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> InlineCursor:
        return await self.cursor().execute(sql, parameters)

    async def commit(self) -> None:
        changes = self._conn.total_changes
        if changes != self._changes:  # a write: its fsync happens off the loop
            await self.off_loop(self._conn.commit)
        else:  # nothing written: no fsync, nothing to wait for
            self._conn.commit()
        self._changes = changes

    async def rollback(self) -> None:
        await self.settle()
        self._conn.rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def close(self) -> None:
        self._close()

    def stop(self) -> None:
        self._close()


def inline_creator(path: str) -> Callable[[], Any]:
    """The ``async_creator`` for ``create_async_engine``: one inline connection per call."""

    async def connect() -> InlineConnection:
        conn = await asyncio.to_thread(
            sqlite3.connect, path, check_same_thread=False, isolation_level=None
        )
        return InlineConnection(conn)

    return connect
