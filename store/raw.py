"""Hand-written SQL on SQLite's own connection, for the hot paths.

On SQLite a statement costs a few microseconds, while the same statement through an
ORM session costs a few hundred: at ledger rates the session, not the database, is the
bottleneck. Hot repositories therefore run hand-written SQL on the session's raw
``sqlite3`` connection, inside the same transaction and group-commit savepoint as
everything else (``store.group_commit``), and use SQLAlchemy on PostgreSQL. Values
are stored exactly as SQLAlchemy stores them (UTC times as
``YYYY-MM-DD HH:MM:SS.ffffff``, JSON as text), so both paths read each other's rows.

Reads get an :class:`InlineReader`: one read-only connection used synchronously on
the event loop. WAL readers never wait for the writer, and a single statement is its
own consistent snapshot, so a lookup costs microseconds and no thread hop.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from store.db import Database, Dialect

RAW_SQLITE: Final = "isa.raw_sqlite"
_RAW_SCOPE: Final = "isa.raw_sqlite_scope"


async def raw_sqlite(session: AsyncSession) -> sqlite3.Connection | None:
    """The session's own sqlite3 connection inside its current transaction and savepoint,
    or None on PostgreSQL.

    SQLAlchemy opens a savepoint (``begin_nested``, as group commit gives each caller)
    only when the session next touches its connection, so before hand-written SQL runs
    in a new savepoint the session's connection is asked for once: the SAVEPOINT is
    then really there, and rolling it back undoes these statements too.
    """
    info = session.info
    nested = session.get_nested_transaction()
    if RAW_SQLITE in info and info.get(_RAW_SCOPE) is nested:
        found: sqlite3.Connection | None = info[RAW_SQLITE]
        return found
    conn: sqlite3.Connection | None = None
    if session.get_bind().dialect.name == "sqlite":
        connection = await session.connection()  # emits the pending SAVEPOINT, if any
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection  # aiosqlite's Connection (store.sqlite_inline)
        conn = driver._connection
    info[RAW_SQLITE] = conn
    info[_RAW_SCOPE] = nested
    return conn


@functools.lru_cache(maxsize=64)  # one write stamps many rows with the same instant
def db_time(value: dt.datetime) -> str:
    """A UTC time in SQLAlchemy's SQLite storage format (sorts and compares as text)."""
    utc = value.astimezone(dt.UTC)
    if utc.year < 1000:  # strftime's unpadded year, as before
        return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
    # The same text without strftime (which re-parses its format on every call).
    return utc.isoformat(" ", "microseconds")[:26]


def parse_time(value: str) -> dt.datetime:
    """A time stored as UTC (naive text, as SQLAlchemy and :func:`db_time` write it)."""
    try:  # one C call: parsed with its offset, not parsed and then copied with one
        return dt.datetime.fromisoformat(value + "+00:00")
    except ValueError:  # text that carries its own offset: it is UTC all the same
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)


def parse_optional_time(value: str | None) -> dt.datetime | None:
    return None if value is None else parse_time(value)


def db_json(value: object) -> str:
    if type(value) is dict and not value:  # most metadata: skip the encoder
        return "{}"
    return json.dumps(value)


def parse_json(value: str | None) -> Any:
    return {} if value is None or value == "{}" else json.loads(value)


def json_of(value: Any) -> Any:
    """JSON read by hand-written SQL on either store: text on SQLite, already decoded on
    PostgreSQL (the driver's codec)."""
    return parse_json(value) if value is None or isinstance(value, str) else value


def time_of(value: str | dt.datetime) -> dt.datetime:
    """A time read by hand-written SQL on either store: text on SQLite, a datetime on
    PostgreSQL (naive ones are UTC)."""
    if isinstance(value, str):
        return parse_time(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@functools.lru_cache(maxsize=256)
def dollar_params(statement: str) -> str:
    """``?`` placeholders as PostgreSQL's ``$1, $2 …`` (the statements hold no ``?`` else)."""
    parts = statement.split("?")
    return "".join(
        part + (f"${index}" if index < len(parts) else "") for index, part in enumerate(parts, 1)
    )


class DriverSql:
    """Hand-written statements on the session's own connection, in its transaction.

    SQLite: the writer's (or reader's) ``sqlite3`` connection inside the caller's
    savepoint (:func:`raw_sqlite`); times and JSON as the ORM stores them (text).
    PostgreSQL: driver SQL through the session's connection, which begins the
    transaction if it has not yet, so a statement never runs outside it. One statement
    text serves both (``?`` placeholders, see :func:`dollar_params`).
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self.dialect = session.get_bind().dialect.name

    async def rows(self, statement: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        raw = await raw_sqlite(self._session)
        if raw is not None:
            return raw.execute(statement, params).fetchall()
        connection = await self._session.connection()
        result = await connection.exec_driver_sql(dollar_params(statement), tuple(params))
        return list(result.all()) if result.returns_rows else []

    def time(self, value: dt.datetime) -> str | dt.datetime:
        return db_time(value) if self.dialect == "sqlite" else value


class InlineReader:
    """Synchronous SQLite reads on the loop; ``None`` from :meth:`connection` elsewhere."""

    def __init__(self, db: Database) -> None:
        self._path = make_url(db.url).database if db.dialect is Dialect.SQLITE else None
        self._conn: sqlite3.Connection | None = None

    def connection(self) -> sqlite3.Connection | None:
        if self._path is None:
            return None
        if self._conn is None:
            conn = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only=1")
            conn.execute("PRAGMA busy_timeout=10000")
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
