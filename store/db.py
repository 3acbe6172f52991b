"""Engines and transactions for SQLite (default) and PostgreSQL.

SQLite allows one writer at a time. Rather than letting connections fight over the
lock and sleep in ``busy_timeout``, writes go through a one-connection engine whose
transactions start with ``BEGIN IMMEDIATE``: writers queue fairly in the pool, and a
read never has to be upgraded to a write mid-transaction (the cause of SQLITE_BUSY
deadlocks). Reads use their own small pool and see WAL snapshots. PostgreSQL uses one
pooled engine for both. Connection failures surface as :class:`StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import enum
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from server.config import async_url
from server.errors import StoreUnavailable
from store.group_commit import GroupCommitWriter, UnitSession
from store.sqlite_inline import connect_inline, connect_writer, savepoints_inline

_SQLITE_BUSY_TIMEOUT_MS = 10_000


class Dialect(enum.Enum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


_writing: ContextVar[bool] = ContextVar("_writing", default=False)

_UNREACHABLE = (OperationalError, InterfaceError, PoolTimeout, OSError, ConnectionError)


def _store_error(exc: BaseException) -> BaseException:
    """What a caller sees when its batch could not commit."""
    if _is_unreachable(exc):
        return StoreUnavailable("the store is unreachable; retry later")
    return exc


def _is_unreachable(exc: BaseException) -> bool:
    if isinstance(exc, _UNREACHABLE):
        return True
    # asyncpg reports a dropped connection as a DBAPIError wrapping its own class.
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


class Database:
    """The store's engines; ``write()`` and ``read()`` give a session in a transaction."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = async_url(url)
        self._sqlite_path: str | None = None
        self._checkpointer: sqlite3.Connection | None = None
        #: A checkpoint left running on its thread by a cancelled caller must not meet
        #: dispose() closing its connection.
        self._checkpoint_lock = threading.Lock()
        parsed = make_url(self.url)
        self.dialect = (
            Dialect.SQLITE if parsed.get_backend_name() == "sqlite" else Dialect.POSTGRESQL
        )
        if self.dialect is Dialect.SQLITE:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            path = parsed.database or ":memory:"
            self._sqlite_path = path if path != ":memory:" else None
            self._write_engine = self._sqlite_engine(
                immediate=True,
                pool_size=1,
                creator=partial(connect_writer, path, busy_timeout_ms=_SQLITE_BUSY_TIMEOUT_MS),
            )
            self._read_engine = self._sqlite_engine(
                immediate=False, pool_size=4, creator=partial(connect_inline, path)
            )
        else:
            # No overflow: a burst queues for the pooled connections (cheap) instead of
            # opening overflow connections that are closed again on return — under 200
            # concurrent payments that churn (a backend started and stopped per
            # connection) cost more than the waiting, measured 1.3-1.6x in wall time.
            # Nothing holds one connection while waiting for another (writes never
            # nest; a read never runs inside a write), so queueing cannot deadlock.
            engine = create_async_engine(
                self.url, pool_size=pool_size, max_overflow=0, pool_timeout=30
            )
            self._write_engine = self._read_engine = engine
        self._writer = async_sessionmaker(
            self._write_engine,
            expire_on_commit=False,
            sync_session_class=UnitSession if self.dialect is Dialect.SQLITE else Session,
        )
        self._reader = async_sessionmaker(
            self._read_engine
            if self.dialect is Dialect.SQLITE
            # READ COMMITTED gives each statement its own snapshot, in a transaction or
            # not: reads skip the BEGIN and COMMIT round trips and see the same.
            else self._read_engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
        )
        self._group_commit = (
            GroupCommitWriter(self._writer, translate=_store_error)
            if self.dialect is Dialect.SQLITE
            else None
        )

    def _sqlite_engine(
        self, *, immediate: bool, pool_size: int, creator: Callable[[], Awaitable[Any]]
    ) -> AsyncEngine:
        engine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=60,
            async_creator=creator,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _configure(dbapi_connection: Any, _record: Any) -> None:
            # Take transaction control from the driver so BEGIN is ours to emit.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # The writer never waits inline: it takes the lock at once or waits on a
            # thread (store.sqlite_inline.WriterConnection). Readers in WAL never wait.
            busy_ms = 0 if immediate else _SQLITE_BUSY_TIMEOUT_MS
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            # Savepoints keep their statement journals in memory, not in a temp file
            # opened and unlinked for every group-commit batch.
            cursor.execute("PRAGMA temp_store=MEMORY")
            if immediate:
                # The writer never checkpoints: a checkpoint on COMMIT copies the WAL into
                # the database file and fsyncs it while every caller of the group-commit
                # batch waits (measured: a 200-call burst 1.5x slower once the file had
                # grown). checkpoint_wal() does it off the writer's path instead.
                cursor.execute("PRAGMA wal_autocheckpoint=0")
            cursor.close()

        begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        savepoints_inline(engine.sync_engine.dialect)

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(connection: Any) -> None:
            connection.exec_driver_sql(begin)

        return engine

    @property
    def write_engine(self) -> AsyncEngine:
        return self._write_engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session in a write transaction, committed on success, rolled back on error.

        On SQLite concurrent writes are group-committed (``store.group_commit``): the
        body runs in its own savepoint and this returns once its batch is durable.
        Writes do not nest on any store (on SQLite a nested one would wait for itself).
        """
        if _writing.get():
            raise RuntimeError("write transactions do not nest")
        token = _writing.set(True)
        try:
            if self._group_commit is None:
                async with self._transaction(self._writer) as session:
                    yield session
                return
            try:
                async with self._group_commit.unit() as session:
                    yield session
            except _UNREACHABLE as exc:
                raise StoreUnavailable("the store is unreachable; retry later") from exc
        finally:
            _writing.reset(token)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reads (a snapshot on SQLite; on PostgreSQL, READ COMMITTED
        statements outside a transaction: each sees what was committed when it began)."""
        async with self._transaction(self._reader) as session:
            yield session

    @asynccontextmanager
    async def _transaction(
        self, factory: async_sessionmaker[AsyncSession]
    ) -> AsyncIterator[AsyncSession]:
        try:
            async with factory() as session, session.begin():
                yield session
        except _UNREACHABLE as exc:
            raise StoreUnavailable("the store is unreachable; retry later") from exc
        except DBAPIError as exc:
            if _is_unreachable(exc):
                raise StoreUnavailable("the store is unreachable; retry later") from exc
            raise

    async def ping(self) -> bool:
        """Whether the store answers a trivial query now."""
        try:
            async with self._read_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def checkpoint_wal(self) -> tuple[int, int] | None:
        """SQLite: copy what the WAL holds into the database file, on a thread and on a
        connection of its own (PASSIVE: it waits for neither readers nor the writer, and
        copies what it can). The server runs it every second; short-lived processes
        need not, since the last connection to close checkpoints. Returns the WAL's
        frames and how many of them are now in the database file; None on PostgreSQL."""
        if self.dialect is not Dialect.SQLITE or self._sqlite_path is None:
            return None
        return await asyncio.to_thread(self._checkpoint_passive)

    def _checkpoint_passive(self) -> tuple[int, int] | None:
        with self._checkpoint_lock:
            if self._checkpointer is None:
                assert self._sqlite_path is not None
                self._checkpointer = sqlite3.connect(
                    self._sqlite_path, check_same_thread=False, isolation_level=None, timeout=0
                )
            _busy, frames, copied = self._checkpointer.execute(
                "PRAGMA wal_checkpoint(PASSIVE)"
            ).fetchone()
            return int(frames), int(copied)

    def _close_checkpointer(self) -> None:
        with self._checkpoint_lock:
            if self._checkpointer is not None:
                self._checkpointer.close()
                self._checkpointer = None

    async def dispose(self) -> None:
        if self._checkpointer is not None:
            await asyncio.to_thread(self._close_checkpointer)
        if self._group_commit is not None:
            await self._group_commit.close()
        await self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            await self._read_engine.dispose()
