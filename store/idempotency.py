"""Idempotency records: one row per (client, key), unique by the primary key."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import IdempotencyRecordRow
from store.raw import db_time, parse_optional_time, parse_time, raw_sqlite

COMPLETED = "completed"
IN_FLIGHT = "in_flight"


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotencyRecord:
    client_id: str
    key: str
    method: str
    request_hash: str
    status: str
    response: bytes | None
    locked_until: dt.datetime | None
    expire_time: dt.datetime


_FIND_SQL = (
    "SELECT client_id, key, method, request_hash, status, response, locked_until, expire_time"
    " FROM idempotency_records WHERE client_id = ? AND key = ?"
)
_INSERT_SQL = (
    "INSERT INTO idempotency_records (client_id, key, method, request_hash, status, response,"
    " locked_until, create_time, expire_time) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)"
    " ON CONFLICT DO NOTHING"
)


#: PostgreSQL's forms of the statements above (driver SQL: no statement to build,
#: compile or cache-key on every mutating call, which cost more than the round trip).
_FIND_SQL_PG = (
    "SELECT client_id, key, method, request_hash, status, response, locked_until, expire_time"
    " FROM idempotency_records WHERE client_id = $1 AND key = $2"
)
_INSERT_SQL_PG = (
    "INSERT INTO idempotency_records (client_id, key, method, request_hash, status, response,"
    " locked_until, create_time, expire_time) VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, $8)"
    " ON CONFLICT DO NOTHING RETURNING key"
)
_LOCK_SQL_PG = "SELECT pg_try_advisory_xact_lock($1)"


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.UTC)


def _pg_record(row: Any) -> IdempotencyRecord:
    expire_time = _utc(row[7])
    assert expire_time is not None  # NOT NULL
    return IdempotencyRecord(
        client_id=row[0],
        key=row[1],
        method=row[2],
        request_hash=row[3],
        status=row[4],
        response=bytes(row[5]) if row[5] is not None else None,
        locked_until=_utc(row[6]),
        expire_time=expire_time,
    )


def _raw_record(row: tuple[Any, ...]) -> IdempotencyRecord:
    return IdempotencyRecord(
        client_id=row[0],
        key=row[1],
        method=row[2],
        request_hash=row[3],
        status=row[4],
        response=row[5],
        locked_until=parse_optional_time(row[6]),
        expire_time=parse_time(row[7]),
    )


def _advisory_lock_id(client_id: str, key: str) -> int:
    digest = hashlib.blake2b(f"{client_id}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class IdempotencyRecords:
    """Reads and named writes of idempotency records inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    async def lock_key(self, client_id: str, key: str) -> bool:
        """Hold the key for this transaction; False when another transaction holds it.

        PostgreSQL: a transaction-scoped advisory lock, so a concurrent repeat on any
        replica learns at once that the first is still running. SQLite: writes are
        already serialised (one writer), so the lock is always ours.
        """
        if not self._postgres:
            return True
        rows = await self._pg(_LOCK_SQL_PG, (_advisory_lock_id(client_id, key),))
        return bool(rows[0][0])

    async def _pg(self, statement: str, params: tuple[Any, ...]) -> list[Any]:
        """Driver SQL on the session's connection, in its transaction (PostgreSQL)."""
        connection = await self._session.connection()
        result = await connection.exec_driver_sql(statement, params)
        return list(result.all()) if result.returns_rows else []

    async def find(self, client_id: str, key: str) -> IdempotencyRecord | None:
        raw = await raw_sqlite(self._session)
        if raw is not None:  # the batch writer's hot path: hand-written SQL (store.raw)
            found = raw.execute(_FIND_SQL, (client_id, key)).fetchone()
            return None if found is None else _raw_record(found)
        rows = await self._pg(_FIND_SQL_PG, (client_id, key))
        return _pg_record(rows[0]) if rows else None

    async def insert_completed(
        self,
        *,
        client_id: str,
        key: str,
        method: str,
        request_hash: str,
        response: bytes,
        now: dt.datetime,
        expire_time: dt.datetime,
    ) -> bool:
        """Store the answer; False if the key was taken meanwhile (the caller rolls back)."""
        raw = await raw_sqlite(self._session)
        if raw is not None:
            cursor = raw.execute(
                _INSERT_SQL,
                (
                    client_id,
                    key,
                    method,
                    request_hash,
                    COMPLETED,
                    response,
                    db_time(now),
                    db_time(expire_time),
                ),
            )
            return cursor.rowcount == 1
        # PostgreSQL only: on SQLite the hand-written branch above always answers.
        inserted = await self._pg(
            _INSERT_SQL_PG,
            (client_id, key, method, request_hash, COMPLETED, response, now, expire_time),
        )
        return bool(inserted)

    async def delete(self, client_id: str, key: str) -> None:
        await self._session.execute(
            delete(IdempotencyRecordRow).where(
                IdempotencyRecordRow.client_id == client_id, IdempotencyRecordRow.key == key
            )
        )

    async def purge_expired(self, now: dt.datetime, *, limit: int = 1000) -> int:
        """Delete up to ``limit`` records past retention; returns how many went."""
        doomed = (
            select(IdempotencyRecordRow.client_id, IdempotencyRecordRow.key)
            .where(IdempotencyRecordRow.expire_time <= now)
            .limit(limit)
        )
        pairs = (await self._session.execute(doomed)).all()
        for client_id, key in pairs:
            await self.delete(client_id, key)
        return len(pairs)
