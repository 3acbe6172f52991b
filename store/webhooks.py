"""Repositories of the webhook relay: endpoints, deliveries (with leases), gateway events.

Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so concurrent workers never pick
the same row; SQLite serialises writers (``BEGIN IMMEDIATE``), where the clause is
simply not emitted. Either way a claim writes a lease (owner, until) and every result
is recorded only while the lease is still the caller's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.events import EventRecord
from store.models import EventRow
from store.raw import db_time, raw_sqlite
from store.webhook_models import (
    WebhookDeliveryAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookEventFanoutRow,
)

ENABLED = "enabled"
DISABLED = "disabled"

#: Rows per multi-row INSERT, well under SQLite's bound-parameter limit.
INSERT_CHUNK = 200
_MARK_FANNED_OUT_SQL = "INSERT INTO webhook_event_fanouts (event_id, create_time) VALUES (?, ?)"

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointRecord:
    id: str
    client_id: str
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expire_time: dt.datetime | None
    event_types: tuple[str, ...]
    forward_gateway_events: tuple[str, ...]
    status: str
    disabled_reason: str
    description: str
    metadata: dict[str, str] = field(default_factory=dict)
    failing_since: dt.datetime | None
    create_time: dt.datetime
    update_time: dt.datetime


def _endpoint(row: WebhookEndpointRow) -> EndpointRecord:
    return EndpointRecord(
        id=row.id,
        client_id=row.client_id,
        url=row.url,
        secret=row.secret,
        previous_secret=row.previous_secret,
        previous_secret_expire_time=row.previous_secret_expire_time,
        event_types=tuple(row.event_types or ()),
        forward_gateway_events=tuple(row.forward_gateway_events or ()),
        status=row.status,
        disabled_reason=row.disabled_reason,
        description=row.description,
        metadata=dict(row.metadata_ or {}),
        failing_since=row.failing_since,
        create_time=row.create_time,
        update_time=row.update_time,
    )


_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def id_floor(prefix: str, when: dt.datetime) -> str:
    """The smallest id ``store.ids.new_id(prefix)`` can make at ``when`` (ULIDs sort by time)."""
    value = int(when.timestamp() * 1000) << 80
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return f"{prefix}_{''.join(reversed(chars))}"


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


class WebhookEndpoints:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, endpoint: EndpointRecord) -> EndpointRecord:
        self._session.add(
            WebhookEndpointRow(
                id=endpoint.id,
                client_id=endpoint.client_id,
                url=endpoint.url,
                secret=endpoint.secret,
                previous_secret=endpoint.previous_secret,
                previous_secret_expire_time=endpoint.previous_secret_expire_time,
                event_types=list(endpoint.event_types),
                forward_gateway_events=list(endpoint.forward_gateway_events),
                status=endpoint.status,
                disabled_reason=endpoint.disabled_reason,
                description=endpoint.description,
                metadata_=dict(endpoint.metadata),
                failing_since=endpoint.failing_since,
                create_time=endpoint.create_time,
                update_time=endpoint.update_time,
            )
        )
        await self._session.flush()
        return endpoint

    async def get(
        self, client_id: str, endpoint_id: str, *, for_update: bool = False
    ) -> EndpointRecord | None:
        query = select(WebhookEndpointRow).where(
            WebhookEndpointRow.id == endpoint_id, WebhookEndpointRow.client_id == client_id
        )
        if for_update and _is_postgres(self._session):
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else _endpoint(row)

    async def page(
        self, client_id: str, *, before_id: str | None, limit: int
    ) -> list[EndpointRecord]:
        query = select(WebhookEndpointRow).where(WebhookEndpointRow.client_id == client_id)
        if before_id is not None:
            query = query.where(WebhookEndpointRow.id < before_id)
        rows = await self._session.scalars(
            query.order_by(WebhookEndpointRow.id.desc()).limit(limit)
        )
        return [_endpoint(row) for row in rows]

    async def enabled_of(self, client_id: str) -> list[EndpointRecord]:
        rows = await self._session.scalars(
            select(WebhookEndpointRow)
            .where(WebhookEndpointRow.client_id == client_id, WebhookEndpointRow.status == ENABLED)
            .order_by(WebhookEndpointRow.id)
        )
        return [_endpoint(row) for row in rows]

    async def save(self, endpoint: EndpointRecord) -> EndpointRecord:
        """Write every mutable field of ``endpoint`` (the caller read it for update)."""
        await self._session.execute(
            update(WebhookEndpointRow)
            .where(WebhookEndpointRow.id == endpoint.id)
            .values(
                url=endpoint.url,
                secret=endpoint.secret,
                previous_secret=endpoint.previous_secret,
                previous_secret_expire_time=endpoint.previous_secret_expire_time,
                event_types=list(endpoint.event_types),
                forward_gateway_events=list(endpoint.forward_gateway_events),
                status=endpoint.status,
                disabled_reason=endpoint.disabled_reason,
                description=endpoint.description,
                metadata_=dict(endpoint.metadata),
                failing_since=endpoint.failing_since,
                update_time=endpoint.update_time,
            )
        )
        return endpoint

    async def delete(self, endpoint_id: str) -> None:
        await self._session.execute(
            delete(WebhookEndpointRow).where(WebhookEndpointRow.id == endpoint_id)
        )

    async def lock(self, endpoint_id: str) -> None:
        """Hold the endpoint's row for this transaction (results of one endpoint queue here,
        so that disabling it and recording its deliveries never deadlock)."""
        if _is_postgres(self._session):
            await self._session.execute(
                select(WebhookEndpointRow.id)
                .where(WebhookEndpointRow.id == endpoint_id)
                .with_for_update()
            )

    async def record_failure(
        self, endpoint_id: str, now: dt.datetime, *, disable_after: dt.timedelta
    ) -> bool:
        """Note a failed attempt; disable the endpoint once failing for ``disable_after``.

        Returns whether the endpoint was disabled by this call.
        """
        row = await self._session.get(WebhookEndpointRow, endpoint_id)
        if row is None:
            return False
        if row.failing_since is None:
            row.failing_since = now
            return False
        if row.status == ENABLED and now - row.failing_since >= disable_after:
            row.status = DISABLED
            row.disabled_reason = "failing continuously for 5 days"
            row.update_time = now
            return True
        return False

    async def record_success(self, endpoint_id: str) -> None:
        await self._session.execute(
            update(WebhookEndpointRow)
            .where(
                WebhookEndpointRow.id == endpoint_id, WebhookEndpointRow.failing_since.isnot(None)
            )
            .values(failing_since=None)
        )

    async def disable(self, endpoint_id: str, now: dt.datetime, reason: str) -> None:
        await self._session.execute(
            update(WebhookEndpointRow)
            .where(WebhookEndpointRow.id == endpoint_id)
            .values(status=DISABLED, disabled_reason=reason, update_time=now)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptRecord:
    time: dt.datetime
    response_code: int
    latency_ms: int
    error: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryRecord:
    id: str
    client_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: str
    attempt_count: int
    next_attempt_time: dt.datetime | None
    create_time: dt.datetime
    update_time: dt.datetime
    attempts: tuple[AttemptRecord, ...] = ()


def _delivery(row: WebhookDeliveryRow, attempts: Sequence[AttemptRecord] = ()) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        client_id=row.client_id,
        endpoint_id=row.endpoint_id,
        event_id=row.event_id,
        event_type=row.event_type,
        status=row.status,
        attempt_count=row.attempt_count,
        next_attempt_time=row.next_attempt_time,
        create_time=row.create_time,
        update_time=row.update_time,
        attempts=tuple(attempts),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedDelivery:
    """What a worker needs to send one delivery, read when it was claimed."""

    id: str
    endpoint_id: str
    event_id: str
    attempt_count: int
    url: str
    secrets: tuple[str, ...]
    payload: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UnfannedEvent:
    """An outbox event not fanned out yet: what fan-out needs of it."""

    id: str
    client_id: str
    type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingDelivery:
    id: str
    client_id: str
    endpoint_id: str
    event_id: str
    event_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryFilter:
    endpoint_id: str | None = None
    event_id: str | None = None
    status: str | None = None


class WebhookDeliveries:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._postgres = _is_postgres(session)

    async def add_pending(
        self,
        *,
        delivery_id: str,
        client_id: str,
        endpoint_id: str,
        event_id: str,
        event_type: str,
        now: dt.datetime,
    ) -> DeliveryRecord:
        row = WebhookDeliveryRow(
            id=delivery_id,
            client_id=client_id,
            endpoint_id=endpoint_id,
            event_id=event_id,
            event_type=event_type,
            status=PENDING,
            attempt_count=0,
            next_attempt_time=now,
            lease_owner=None,
            lease_until=None,
            create_time=now,
            update_time=now,
        )
        self._session.add(row)
        await self._session.flush()
        return _delivery(row)

    async def unfanned_events(
        self, limit: int, *, since: dt.datetime | None = None, after: str | None = None
    ) -> list[UnfannedEvent]:
        """Outbox events whose deliveries were not created yet, oldest first, locked.

        ``since`` bounds the search to events made from then on (ids sort by time), so a
        routine poll reads the recent end of the outbox, not all of it; ``after`` goes on
        past the last event of a previous round. Only what fan-out needs is read (not
        the payload): a backlog is read in rounds of hundreds.
        """
        query = (
            select(EventRow.id, EventRow.client_id, EventRow.type)
            .where(
                ~exists().where(WebhookEventFanoutRow.event_id == EventRow.id),
            )
            .order_by(EventRow.id)
            .limit(limit)
        )
        if since is not None:
            query = query.where(EventRow.id >= id_floor("evt", since))
        if after is not None:
            query = query.where(EventRow.id > after)
        if self._postgres:
            query = query.with_for_update(of=EventRow, skip_locked=True)
        rows = await self._session.execute(query)
        return [UnfannedEvent(id=row[0], client_id=row[1], type=row[2]) for row in rows]

    async def mark_all_fanned_out(self, event_ids: Sequence[str], now: dt.datetime) -> set[str]:
        """Mark events fanned out; returns those this call marked (not another worker)."""
        if not event_ids:
            return set()
        raw = await raw_sqlite(self._session)
        if raw is not None:
            # SQLite: the events were read in this same write transaction, which holds
            # the database's only write lock since its BEGIN IMMEDIATE, so no other
            # process can have marked one since: all are ours. A plain INSERT (a
            # conflict would fail the round, not deliver twice) through executemany
            # costs a microsecond an event; the compiled multi-row INSERT ... RETURNING
            # below cost more than the event's own write.
            stamp = db_time(now)
            raw.executemany(_MARK_FANNED_OUT_SQL, [(event_id, stamp) for event_id in event_ids])
            return set(event_ids)
        insert_ = pg_insert if self._postgres else sqlite_insert
        statement = (
            insert_(WebhookEventFanoutRow)
            .values([{"event_id": event_id, "create_time": now} for event_id in event_ids])
            .on_conflict_do_nothing()
            .returning(WebhookEventFanoutRow.event_id)
        )
        return set((await self._session.scalars(statement)).all())

    async def add_all_pending(self, rows: Sequence[PendingDelivery], now: dt.datetime) -> None:
        """Queue many new deliveries in one statement."""
        for start in range(0, len(rows), INSERT_CHUNK):
            await self._insert_pending(rows[start : start + INSERT_CHUNK], now)

    async def _insert_pending(self, rows: Sequence[PendingDelivery], now: dt.datetime) -> None:
        await self._session.execute(
            insert(WebhookDeliveryRow).values(
                [
                    {
                        "id": row.id,
                        "client_id": row.client_id,
                        "endpoint_id": row.endpoint_id,
                        "event_id": row.event_id,
                        "event_type": row.event_type,
                        "status": PENDING,
                        "attempt_count": 0,
                        "next_attempt_time": now,
                        "lease_owner": None,
                        "lease_until": None,
                        "create_time": now,
                        "update_time": now,
                    }
                    for row in rows
                ]
            )
        )

    async def record_successes(
        self, attempts: Sequence[tuple[str, AttemptRecord]], now: dt.datetime
    ) -> None:
        """Record the 2xx attempts of a batch: their attempts and SUCCEEDED, in two statements."""
        if not attempts:
            return
        await self._session.execute(
            insert(WebhookDeliveryAttemptRow).values(
                [
                    {
                        "delivery_id": delivery_id,
                        "time": attempt.time,
                        "response_code": attempt.response_code,
                        "latency_ms": attempt.latency_ms,
                        "error": attempt.error,
                    }
                    for delivery_id, attempt in attempts
                ]
            )
        )
        await self._session.execute(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id.in_([delivery_id for delivery_id, _ in attempts]))
            .values(
                status=SUCCEEDED,
                attempt_count=WebhookDeliveryRow.attempt_count + 1,
                next_attempt_time=None,
                lease_owner=None,
                lease_until=None,
                update_time=now,
            )
        )

    async def claim_due(
        self, *, now: dt.datetime, owner: str, lease_until: dt.datetime, limit: int
    ) -> list[ClaimedDelivery]:
        """Lease up to ``limit`` due deliveries to ``owner`` (skipping rows others hold)."""
        query = (
            select(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.status == PENDING,
                WebhookDeliveryRow.next_attempt_time <= now,
                (WebhookDeliveryRow.lease_until.is_(None)) | (WebhookDeliveryRow.lease_until < now),
            )
            .order_by(WebhookDeliveryRow.next_attempt_time)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        rows = list(await self._session.scalars(query))
        if not rows:
            return []
        for row in rows:
            row.lease_owner = owner
            row.lease_until = lease_until
        endpoints = {
            e.id: e
            for e in await self._session.scalars(
                select(WebhookEndpointRow).where(
                    WebhookEndpointRow.id.in_({row.endpoint_id for row in rows})
                )
            )
        }
        events = {
            e.id: e
            for e in await self._session.scalars(
                select(EventRow).where(EventRow.id.in_({row.event_id for row in rows}))
            )
        }
        claimed = []
        for row in rows:
            endpoint = endpoints.get(row.endpoint_id)
            event = events.get(row.event_id)
            if endpoint is None or event is None or endpoint.status != ENABLED:
                row.status = FAILED
                row.next_attempt_time = None
                row.lease_owner = None
                row.lease_until = None
                row.update_time = now
                continue
            secrets = [endpoint.secret]
            if (
                endpoint.previous_secret
                and endpoint.previous_secret_expire_time is not None
                and endpoint.previous_secret_expire_time > now
            ):
                secrets.append(endpoint.previous_secret)
            claimed.append(
                ClaimedDelivery(
                    id=row.id,
                    endpoint_id=row.endpoint_id,
                    event_id=row.event_id,
                    attempt_count=row.attempt_count,
                    url=endpoint.url,
                    secrets=tuple(secrets),
                    payload=event.payload,
                )
            )
        await self._session.flush()
        return claimed

    async def held_of(self, delivery_ids: Sequence[str], owner: str) -> set[str]:
        """Those of ``delivery_ids`` still pending and leased to ``owner`` (locked)."""
        query = select(
            WebhookDeliveryRow.id, WebhookDeliveryRow.lease_owner, WebhookDeliveryRow.status
        ).where(WebhookDeliveryRow.id.in_(delivery_ids))
        if self._postgres:
            query = query.order_by(WebhookDeliveryRow.id).with_for_update()
        rows = (await self._session.execute(query)).all()
        return {row.id for row in rows if row.lease_owner == owner and row.status == PENDING}

    async def record_attempt(
        self,
        delivery_id: str,
        attempt: AttemptRecord,
        *,
        status: str,
        next_attempt_time: dt.datetime | None,
        now: dt.datetime,
    ) -> None:
        await self._session.execute(
            insert(WebhookDeliveryAttemptRow).values(
                delivery_id=delivery_id,
                time=attempt.time,
                response_code=attempt.response_code,
                latency_ms=attempt.latency_ms,
                error=attempt.error,
            )
        )
        await self._session.execute(
            update(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.id == delivery_id)
            .values(
                status=status,
                attempt_count=WebhookDeliveryRow.attempt_count + 1,
                next_attempt_time=next_attempt_time,
                lease_owner=None,
                lease_until=None,
                update_time=now,
            )
        )

    async def fail_pending_of_endpoint(self, endpoint_id: str, now: dt.datetime) -> None:
        await self._session.execute(
            update(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.endpoint_id == endpoint_id,
                WebhookDeliveryRow.status == PENDING,
            )
            .values(status=FAILED, next_attempt_time=None, update_time=now)
        )

    async def drop_pending_of_endpoint(self, endpoint_id: str) -> None:
        await self._session.execute(
            delete(WebhookDeliveryRow).where(
                WebhookDeliveryRow.endpoint_id == endpoint_id,
                WebhookDeliveryRow.status == PENDING,
            )
        )

    async def page(
        self, client_id: str, where: DeliveryFilter, *, before_id: str | None, limit: int
    ) -> list[DeliveryRecord]:
        query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.client_id == client_id)
        if where.endpoint_id is not None:
            query = query.where(WebhookDeliveryRow.endpoint_id == where.endpoint_id)
        if where.event_id is not None:
            query = query.where(WebhookDeliveryRow.event_id == where.event_id)
        if where.status is not None:
            query = query.where(WebhookDeliveryRow.status == where.status)
        if before_id is not None:
            query = query.where(WebhookDeliveryRow.id < before_id)
        rows = list(
            await self._session.scalars(query.order_by(WebhookDeliveryRow.id.desc()).limit(limit))
        )
        attempts: dict[str, list[AttemptRecord]] = {row.id: [] for row in rows}
        if rows:
            found = await self._session.scalars(
                select(WebhookDeliveryAttemptRow)
                .where(WebhookDeliveryAttemptRow.delivery_id.in_(attempts))
                .order_by(WebhookDeliveryAttemptRow.id)
            )
            for attempt in found:
                attempts[attempt.delivery_id].append(
                    AttemptRecord(
                        time=attempt.time,
                        response_code=attempt.response_code,
                        latency_ms=attempt.latency_ms,
                        error=attempt.error,
                    )
                )
        return [_delivery(row, attempts[row.id]) for row in rows]

    async def outbox_depth(self) -> int:
        pending = await self._session.scalar(
            select(func.count()).where(WebhookDeliveryRow.status == PENDING)
        )
        unfanned = await self._session.scalar(
            select(func.count())
            .select_from(EventRow)
            .where(~exists().where(WebhookEventFanoutRow.event_id == EventRow.id))
        )
        return int(pending or 0) + int(unfanned or 0)


async def events_page(
    session: AsyncSession,
    client_id: str,
    *,
    before_id: str | None,
    limit: int,
    type: str | None,
    resource_id: str | None,
    type_prefix: str | None = None,
) -> list[EventRecord]:
    """The client's outbox events, newest first, by type (exact, or by prefix) and/or
    resource."""
    query = select(EventRow).where(EventRow.client_id == client_id)
    if type is not None:
        query = query.where(EventRow.type == type)
    if type_prefix is not None:
        query = query.where(EventRow.type.startswith(type_prefix, autoescape=True))
    if resource_id is not None:
        query = query.where(EventRow.resource_id == resource_id)
    if before_id is not None:
        query = query.where(EventRow.id < before_id)
    rows = await session.scalars(query.order_by(EventRow.id.desc()).limit(limit))
    return [
        EventRecord(
            id=row.id,
            client_id=row.client_id,
            type=row.type,
            resource_id=row.resource_id,
            gateway_event_id=row.gateway_event_id,
            payload=row.payload,
            create_time=row.create_time,
        )
        for row in rows
    ]
