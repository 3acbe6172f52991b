"""SQLite statements on the event loop thread, through SQLAlchemy's aiosqlite dialect.

aiosqlite sends every call (cursor, execute, fetch, close, BEGIN, COMMIT) to a worker
thread and back; a one-row read makes about a dozen such round trips, ~0.5 ms under
load, while SQLite answers it from its page cache in microseconds. Here statements run
inline; only ``close``, a writer's ``COMMIT`` (fsync), and its ``BEGIN IMMEDIATE`` while
another process holds the write lock, go to aiosqlite's thread.

The two paths never overlap on one connection: a threaded call is awaited through a
shield and remembered, and any later call — inline or threaded — first waits for it to
finish. So even when a caller is cancelled mid-call (and SQLAlchemy rolls back or closes
the connection), the sqlite3 handle is never used by two threads at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from functools import partial
from typing import Any, Final

import aiosqlite
from sqlalchemy import exc
from sqlalchemy.ext.asyncio import AsyncSession

_ITER_CHUNK_SIZE = 64


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in the caller's thread, except close."""

    _pending: asyncio.Future[Any] | None = None

    def _needs_thread(self, fn: Any, args: tuple[Any, ...]) -> bool:
        """Closing the connection itself (not a cursor: those close on every statement)."""
        return getattr(fn, "__self__", None) is self._connection and fn.__name__ == "close"

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
    """The single writer: statements inline, COMMIT on the thread.

    COMMIT waits for fsync. On the thread, the loop keeps serving meanwhile, and the calls
    that arrive during the fsync queue up for the next batch: that is what makes group
    commit (store.group_commit) batch at all — with COMMIT inline the loop stalls, nothing
    arrives, and batches stay at one call (measured: mean 1.1 under 32 concurrent RPCs).
    ``BEGIN IMMEDIATE`` is tried inline without waiting (the connection's busy_timeout is
    0); only when another process holds the write lock does it go to the thread and wait.
    """

    def _needs_thread(self, fn: Any, args: tuple[Any, ...]) -> bool:
        if getattr(fn, "__self__", None) is self._connection and fn.__name__ == "commit":
            return True
        statement = args[0] if args and isinstance(args[0], str) else ""
        return statement.lstrip()[:6].upper() == "COMMIT" or super()._needs_thread(fn, args)

    def __init__(self, connector: Any, iter_chunk_size: int, *, busy_timeout_ms: int) -> None:
        super().__init__(connector, iter_chunk_size)
        self._busy_timeout_ms = busy_timeout_ms

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_begin_immediate(args):
            return await super()._execute(fn, *args, **kwargs)
        try:
            return await super()._execute(fn, *args, **kwargs)
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        return await self._on_thread(partial(self._begin_waiting, fn, args, kwargs))

    def _begin_waiting(self, fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """On the thread: wait up to busy_timeout for the lock, then stop waiting again."""
        self._conn.execute(f"PRAGMA busy_timeout={self._busy_timeout_ms}")
        try:
            return fn(*args, **kwargs)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")


def _is_begin_immediate(args: tuple[Any, ...]) -> bool:
    statement = args[0] if args and isinstance(args[0], str) else ""
    return statement.lstrip()[:15].upper() == "BEGIN IMMEDIATE"


async def connect_inline(database: str) -> aiosqlite.Connection:
    connector = partial(sqlite3.connect, database, check_same_thread=False)
    return await InlineConnection(connector, _ITER_CHUNK_SIZE)


async def connect_writer(database: str, *, busy_timeout_ms: int) -> aiosqlite.Connection:
    connector = partial(sqlite3.connect, database, check_same_thread=False)
    return await WriterConnection(connector, _ITER_CHUNK_SIZE, busy_timeout_ms=busy_timeout_ms)


_HANDLE: Final = "isa.sqlite_handle"


async def sqlite_handle(session: AsyncSession) -> sqlite3.Connection:
    """The sqlite3 handle of the session's connection, in its transaction (BEGIN is
    emitted if it was not yet). Cached for the session's life: one connection, one
    transaction (group commit's batch session)."""
    found: sqlite3.Connection | None = session.info.get(_HANDLE)
    if found is not None:
        return found
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    if not isinstance(driver, InlineConnection) or not driver._connection:
        raise TypeError("the session is not on a store.sqlite_inline connection")
    await driver._settle_pending()
    handle: sqlite3.Connection = driver._connection
    session.info[_HANDLE] = handle
    return handle


def _inline_sqlite(connection: Any) -> sqlite3.Connection | None:
    """The sqlite3 handle under a SQLAlchemy connection when a statement may run on it
    inline now (no threaded call of this connection is still running), else None."""
    driver = connection.connection.driver_connection
    if not isinstance(driver, InlineConnection) or not driver._connection:
        return None
    pending = driver._pending
    if pending is not None and not pending.done():
        return None
    conn: sqlite3.Connection = driver._connection
    return conn


def savepoints_inline(dialect: Any) -> None:
    """Emit SAVEPOINT / RELEASE / ROLLBACK TO straight on the sqlite3 handle.

    SQLAlchemy sends these as compiled Core statements, through its whole execution
    path, and group commit (``store.group_commit``) opens and releases one savepoint per
    write: that cost more than the transfer's own hand-written SQL. The session still
    does all its nested-transaction bookkeeping (flush first, expire on rollback, a
    failed flush undoes only its savepoint); only the emission of the statement is
    replaced, with the same text and the same exception types.
    """
    preparer = dialect.identifier_preparer
    defaults = {
        "do_savepoint": dialect.do_savepoint,
        "do_release_savepoint": dialect.do_release_savepoint,
        "do_rollback_to_savepoint": dialect.do_rollback_to_savepoint,
    }
    verbs = {
        "do_savepoint": "SAVEPOINT",
        "do_release_savepoint": "RELEASE SAVEPOINT",
        "do_rollback_to_savepoint": "ROLLBACK TO SAVEPOINT",
    }

    def inline(hook: str) -> Any:
        default, verb = defaults[hook], verbs[hook]

        def emit(connection: Any, name: str) -> None:
            conn = _inline_sqlite(connection)
            if conn is None:
                default(connection, name)
                return
            statement = f"{verb} {preparer.quote(name)}"
            try:
                conn.execute(statement)
            except sqlite3.Error as error:
                raise exc.DBAPIError.instance(statement, (), error, sqlite3.Error) from error

        return emit

    for hook in defaults:
        setattr(dialect, hook, inline(hook))
