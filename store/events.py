"""The event outbox: append-only writes, keyset reads."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import EventRow
from store.raw import db_time, raw_sqlite


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


class Events:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append(self, event: EventRecord) -> EventRecord:
        raw = await raw_sqlite(self._session)
        if raw is not None:  # the batch writer's hot path: hand-written SQL (store.raw)
            raw.execute(
                "INSERT INTO events (id, client_id, type, resource_id, gateway_event_id, payload,"
                " create_time) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    event.id,
                    event.client_id,
                    event.type,
                    event.resource_id,
                    event.gateway_event_id,
                    event.payload,
                    db_time(event.create_time),
                ),
            )
            return event
        self._session.add(
            EventRow(
                id=event.id,
                client_id=event.client_id,
                type=event.type,
                resource_id=event.resource_id,
                gateway_event_id=event.gateway_event_id,
                payload=event.payload,
                create_time=event.create_time,
            )
        )
        await self._session.flush()
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
