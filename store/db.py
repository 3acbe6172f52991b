"""Engines and transactions for SQLite (default) and PostgreSQL.

SQLite allows one writer at a time. Rather than letting connections fight over the
lock and sleep in ``busy_timeout``, writes go through a one-connection engine whose
transactions start with ``BEGIN IMMEDIATE``: writers queue fairly in the pool, and a
read never has to be upgraded to a write mid-transaction (the cause of SQLITE_BUSY
deadlocks). Reads use their own small pool and see WAL snapshots. PostgreSQL uses one
pooled engine for both. Connection failures surface as :class:`StoreUnavailable`.
"""

from __future__ import annotations

import enum
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
        parsed = make_url(self.url)
        self.dialect = (
            Dialect.SQLITE if parsed.get_backend_name() == "sqlite" else Dialect.POSTGRESQL
        )
        if self.dialect is Dialect.SQLITE:
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            path = parsed.database or ":memory:"
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

    async def dispose(self) -> None:
        if self._group_commit is not None:
            await self._group_commit.close()
        await self._write_engine.dispose()
        if self._read_engine is not self._write_engine:
            await self._read_engine.dispose()
