"""Idempotency records: one row per (client, key), unique by the primary key."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
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


def _record(row: IdempotencyRecordRow) -> IdempotencyRecord:
    return IdempotencyRecord(
        client_id=row.client_id,
        key=row.key,
        method=row.method,
        request_hash=row.request_hash,
        status=row.status,
        response=row.response,
        locked_until=row.locked_until,
        expire_time=row.expire_time,
    )


_FIND_SQL = (
    "SELECT client_id, key, method, request_hash, status, response, locked_until, expire_time"
    " FROM idempotency_records WHERE client_id = ? AND key = ?"
)
_INSERT_SQL = (
    "INSERT INTO idempotency_records (client_id, key, method, request_hash, status, response,"
    " locked_until, create_time, expire_time) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)"
    " ON CONFLICT DO NOTHING"
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
        locked = await self._session.scalar(
            select(func.pg_try_advisory_xact_lock(_advisory_lock_id(client_id, key)))
        )
        return bool(locked)

    async def find(self, client_id: str, key: str) -> IdempotencyRecord | None:
        raw = await raw_sqlite(self._session)
        if raw is not None:  # the batch writer's hot path: hand-written SQL (store.raw)
            found = raw.execute(_FIND_SQL, (client_id, key)).fetchone()
            return None if found is None else _raw_record(found)
        row = await self._session.get(IdempotencyRecordRow, (client_id, key))
        return None if row is None else _record(row)

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
        statement = (
            pg_insert(IdempotencyRecordRow)
            .values(
                client_id=client_id,
                key=key,
                method=method,
                request_hash=request_hash,
                status=COMPLETED,
                response=response,
                locked_until=None,
                create_time=now,
                expire_time=expire_time,
            )
            .on_conflict_do_nothing()
            .returning(IdempotencyRecordRow.key)
        )
        inserted = await self._session.scalar(statement)
        return inserted is not None

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
