"""The event outbox: append-only writes, keyset reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import EventRow
from store.raw import DriverSql


@dataclass(frozen=True, slots=True, kw_only=True)
class EventRecord:
    id: str
    client_id: str
    type: str
    resource_id: str
    gateway_event_id: str | None
    payload: str
    create_time: dt.datetime


def _record(row: EventRow) -> EventRecord:
    return EventRecord(
        id=row.id,
        client_id=row.client_id,
        type=row.type,
        resource_id=row.resource_id,
        gateway_event_id=row.gateway_event_id,
        payload=row.payload,
        create_time=row.create_time,
    )


_INSERT_SQL: Final = (
    "INSERT INTO events (id, client_id, type, resource_id, gateway_event_id, payload,"
    " create_time) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


class Events:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: EventRecord) -> EventRecord:
        """Hand-written SQL on both stores (store.raw.DriverSql): every change of every
        resource appends one, and an ORM unit of work costs more Python than the insert
        costs the database."""
        sql = DriverSql(self._session)
        await sql.rows(
            _INSERT_SQL,
            (
                event.id,
                event.client_id,
                event.type,
                event.resource_id,
                event.gateway_event_id,
                event.payload,
                sql.time(event.create_time),
            ),
        )
        return event

    async def get(self, client_id: str, event_id: str) -> EventRecord | None:
        row = await self._session.scalar(
            select(EventRow).where(EventRow.id == event_id, EventRow.client_id == client_id)
        )
        return None if row is None else _record(row)

    async def page(
        self, client_id: str, *, before_id: str | None, limit: int, type: str | None = None
    ) -> list[EventRecord]:
        """Newest first, keyset by id."""
        query = select(EventRow).where(EventRow.client_id == client_id)
        if type is not None:
            query = query.where(EventRow.type == type)
        if before_id is not None:
            query = query.where(EventRow.id < before_id)
        rows = await self._session.scalars(query.order_by(EventRow.id.desc()).limit(limit))
        return [_record(row) for row in rows]
