"""Idempotency records: one row per (client, key), unique by the primary key."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import IdempotencyRecordRow
from store.raw import DriverSql, time_of

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


#: One text for both stores (``?`` placeholders; store.raw.DriverSql): on the write path of
#: every mutating call, where building and cache-keying a SQLAlchemy statement cost more
#: than the statement itself.
_FIND_SQL = (
    "SELECT client_id, key, method, request_hash, status, response, locked_until, expire_time"
    " FROM idempotency_records WHERE client_id = ? AND key = ?"
)
_INSERT_SQL = (
    "INSERT INTO idempotency_records (client_id, key, method, request_hash, status, response,"
    " locked_until, create_time, expire_time) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)"
    " ON CONFLICT DO NOTHING RETURNING key"
)
_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(?)"


def _record_of(row: Sequence[Any]) -> IdempotencyRecord:
    """A record from a hand-written SELECT's row (times as text on SQLite)."""
    return IdempotencyRecord(
        client_id=row[0],
        key=row[1],
        method=row[2],
        request_hash=row[3],
        status=row[4],
        response=None if row[5] is None else bytes(row[5]),
        locked_until=None if row[6] is None else time_of(row[6]),
        expire_time=time_of(row[7]),
    )


def _advisory_lock_id(client_id: str, key: str) -> int:
    digest = hashlib.blake2b(f"{client_id}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class IdempotencyRecords:
    """Reads and named writes of idempotency records inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._sql = DriverSql(session)

    async def lock_key(self, client_id: str, key: str) -> bool:
        """Hold the key for this transaction; False when another transaction holds it.

        PostgreSQL: a transaction-scoped advisory lock, so a concurrent repeat on any
        replica learns at once that the first is still running. SQLite: writes are
        already serialised (one writer), so the lock is always ours.
        """
        if self._sql.dialect != "postgresql":
            return True
        [(locked,)] = await self._sql.rows(_LOCK_SQL, (_advisory_lock_id(client_id, key),))
        return bool(locked)

    async def find(self, client_id: str, key: str) -> IdempotencyRecord | None:
        rows = await self._sql.rows(_FIND_SQL, (client_id, key))
        return _record_of(rows[0]) if rows else None

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
        sql = self._sql
        inserted = await sql.rows(
            _INSERT_SQL,
            (
                client_id,
                key,
                method,
                request_hash,
                COMPLETED,
                response,
                sql.time(now),
                sql.time(expire_time),
            ),
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
