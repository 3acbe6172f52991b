"""Inbound gateway events: stored once per (gateway, provider event id), then applied.

Statuses: ``received`` (due for applying), ``processed``, ``ignored``, ``failed`` (with
``next_attempt_time`` while retries remain), and ``unapplied``: verified and stored, but
no applier for its gateway is registered yet — kept, listed, and applied as soon as one
is (or by ReprocessGatewayEvent).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.webhook_models import GatewayEventRow

RECEIVED = "received"
PROCESSED = "processed"
IGNORED = "ignored"
FAILED = "failed"
UNAPPLIED = "unapplied"


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayEventRecord:
    id: str
    gateway: str
    gateway_event_id: str
    type: str
    status: str
    payload: str
    error: str
    resource_id: str
    client_id: str | None
    process_time: dt.datetime | None
    attempt_count: int
    next_attempt_time: dt.datetime | None
    forwarded: bool
    create_time: dt.datetime
    update_time: dt.datetime


def _record(row: GatewayEventRow) -> GatewayEventRecord:
    return GatewayEventRecord(
        id=row.id,
        gateway=row.gateway,
        gateway_event_id=row.gateway_event_id,
        type=row.type,
        status=row.status,
        payload=row.payload,
        error=row.error,
        resource_id=row.resource_id,
        client_id=row.client_id,
        process_time=row.process_time,
        attempt_count=row.attempt_count,
        next_attempt_time=row.next_attempt_time,
        forwarded=bool(row.forwarded),
        create_time=row.create_time,
        update_time=row.update_time,
    )


class GatewayEvents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    async def insert_new(
        self,
        *,
        event_id: str,
        gateway: str,
        gateway_event_id: str,
        type: str,
        payload: str,
        status: str,
        now: dt.datetime,
        error: str = "",
    ) -> bool:
        """Store the event unless the provider's id is already stored; True if stored."""
        insert = pg_insert if self._postgres else sqlite_insert
        statement = (
            insert(GatewayEventRow)
            .values(
                id=event_id,
                gateway=gateway,
                gateway_event_id=gateway_event_id,
                type=type,
                status=status,
                payload=payload,
                error=error,
                resource_id="",
                client_id=None,
                process_time=None,
                attempt_count=0,
                next_attempt_time=now if status == RECEIVED else None,
                lease_owner=None,
                lease_until=None,
                forwarded=0,
                create_time=now,
                update_time=now,
            )
            .on_conflict_do_nothing(index_elements=["gateway", "gateway_event_id"])
            .returning(GatewayEventRow.id)
        )
        return (await self._session.scalar(statement)) is not None

    async def get(self, event_id: str, *, for_update: bool = False) -> GatewayEventRecord | None:
        query = (
            select(GatewayEventRow)
            .where(GatewayEventRow.id == event_id)
            .execution_options(populate_existing=True)
        )
        if for_update and self._postgres:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else _record(row)

    async def by_provider_id(
        self, gateway: str, gateway_event_id: str
    ) -> GatewayEventRecord | None:
        row = await self._session.scalar(
            select(GatewayEventRow).where(
                GatewayEventRow.gateway == gateway,
                GatewayEventRow.gateway_event_id == gateway_event_id,
            )
        )
        return None if row is None else _record(row)

    async def claim_due(
        self, *, now: dt.datetime, owner: str, lease_until: dt.datetime, limit: int
    ) -> list[str]:
        """Lease up to ``limit`` events due for applying; returns their ids, oldest first."""
        query = (
            select(GatewayEventRow)
            .where(
                GatewayEventRow.status.in_((RECEIVED, FAILED)),
                GatewayEventRow.next_attempt_time <= now,
                or_(GatewayEventRow.lease_until.is_(None), GatewayEventRow.lease_until < now),
            )
            .order_by(GatewayEventRow.next_attempt_time, GatewayEventRow.id)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        rows = list(await self._session.scalars(query))
        for row in rows:
            row.lease_owner = owner
            row.lease_until = lease_until
        await self._session.flush()
        return [row.id for row in rows]

    async def held_by(
        self, event_id: str, owner: str, *, lock: bool = True
    ) -> GatewayEventRecord | None:
        """The event, locked (unless ``lock`` is false: a look outside a write
        transaction), if ``owner`` still holds its lease and it is still due."""
        query = select(GatewayEventRow).where(GatewayEventRow.id == event_id)
        if self._postgres and lock:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        if row is None or row.lease_owner != owner or row.status not in (RECEIVED, FAILED):
            return None
        return _record(row)

    async def record_outcome(
        self,
        event_id: str,
        *,
        status: str,
        now: dt.datetime,
        error: str = "",
        resource_id: str | None = None,
        client_id: str | None = None,
        next_attempt_time: dt.datetime | None = None,
        forwarded: bool | None = None,
        count_attempt: bool = True,
    ) -> None:
        values: dict[str, object] = {
            "status": status,
            "error": error,
            "next_attempt_time": next_attempt_time,
            "lease_owner": None,
            "lease_until": None,
            "update_time": now,
        }
        if status in (PROCESSED, IGNORED, FAILED):
            values["process_time"] = now
        if count_attempt:
            values["attempt_count"] = GatewayEventRow.attempt_count + 1
        if resource_id is not None:
            values["resource_id"] = resource_id
        if client_id is not None:
            values["client_id"] = client_id
        if forwarded is not None:
            values["forwarded"] = 1 if forwarded else 0
        await self._session.execute(
            update(GatewayEventRow).where(GatewayEventRow.id == event_id).values(**values)
        )

    async def release_unapplied(self, gateways: tuple[str, ...], now: dt.datetime) -> int:
        """Make events waiting for an applier due again, for gateways that now have one."""
        if not gateways:
            return 0
        result = await self._session.execute(
            update(GatewayEventRow)
            .where(GatewayEventRow.status == UNAPPLIED, GatewayEventRow.gateway.in_(gateways))
            .values(status=RECEIVED, next_attempt_time=now, error="", update_time=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def page(
        self,
        client_id: str,
        *,
        include_unowned: bool,
        before_id: str | None,
        limit: int,
        gateway: str | None,
        statuses: tuple[str, ...] | None,
    ) -> list[GatewayEventRecord]:
        """The client's gateway events, newest first; with ``include_unowned`` (operators
        only) also those no client owns yet."""
        owned = GatewayEventRow.client_id == client_id
        query = select(GatewayEventRow).where(
            or_(owned, GatewayEventRow.client_id.is_(None)) if include_unowned else owned
        )
        if gateway is not None:
            query = query.where(GatewayEventRow.gateway == gateway)
        if statuses is not None:
            query = query.where(GatewayEventRow.status.in_(statuses))
        if before_id is not None:
            query = query.where(GatewayEventRow.id < before_id)
        rows = await self._session.scalars(query.order_by(GatewayEventRow.id.desc()).limit(limit))
        return [_record(row) for row in rows]
