"""Inbound gateway events: stored once, then applied through the domain, asynchronously.

The relay verifies a webhook and hands it here; it is stored raw, deduplicated by the
provider's event id, and acknowledged. A worker then applies it through the applier
registered for its gateway — a :class:`GatewayEventApplier` that the payments domain
implements — in one transaction with the event's new status, so an event is applied
at most once however often it arrives. Applying failures are retried on a schedule and
stay visible as FAILED; an event whose gateway has no applier yet is kept UNAPPLIED
(listable) and applied as soon as one is registered, or by ReprocessGatewayEvent.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound, StoreUnavailable
from server.metrics import Metrics
from server.pagination import Page, PageRequest, page_of
from server.webhooks.matching import forwarded_type
from store.db import Database
from store.events import EventRecord, Events
from store.gateway_events import (
    FAILED,
    IGNORED,
    PROCESSED,
    RECEIVED,
    UNAPPLIED,
    GatewayEventRecord,
    GatewayEvents,
)
from store.ids import new_id
from store.models import utcnow

log = logging.getLogger("isa.relay.inbound")

Clock = Callable[[], dt.datetime]
GatewayEvent = GatewayEventRecord

#: Waits before each re-application of a failed event; then it stays FAILED.
APPLY_RETRY_SCHEDULE: Final = tuple(
    dt.timedelta(seconds=s) for s in (5, 30, 300, 1800, 7200, 21600)
)
MAX_ERROR: Final = 500
#: Most arrivals stored in one transaction.
MAX_GROUP: Final = 200


class ApplyOutcome(enum.Enum):
    PROCESSED = "processed"  # the affected resource changed (or already had this change)
    IGNORED = "ignored"  # nothing to do: unknown type or resource, or stale


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyResult:
    outcome: ApplyOutcome
    resource_id: str = ""
    #: The client owning the affected resource: its endpoints may get the raw event.
    client_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NormalizedGatewayEvent:
    """What an applier is given: the verified event, parsed, with its identities."""

    id: str
    gateway: str
    gateway_event_id: str
    type: str
    payload: Mapping[str, Any]
    raw: str


class GatewayEventApplier(Protocol):
    """Applies one verified gateway event in the caller's transaction, in two steps.

    :meth:`prepare` runs first, outside any transaction: whatever applying needs from
    outside the store (asking the provider what changed) happens there, because a slow
    provider inside a write transaction would hold the store's writer (on SQLite, every
    write of the service) for as long as it takes. :meth:`apply` gets what it returned.
    Both must be idempotent; apply never moves a state machine backwards (a stale event
    is IGNORED). Raising from either marks the event FAILED (retried), and apply's writes
    are rolled back. :meth:`committed` is told once apply's transaction committed (a
    reader's cursor moves on only then, so a failed apply reads the same changes again).
    :meth:`close` is awaited at shutdown, before the gateways and the store close: work
    ``committed`` started in the background gets ``grace`` seconds to finish.
    """

    async def prepare(self, event: NormalizedGatewayEvent) -> Any: ...

    async def apply(
        self, session: AsyncSession, event: NormalizedGatewayEvent, prepared: Any
    ) -> ApplyResult: ...

    def committed(self, prepared: Any) -> None: ...

    async def close(self, grace: float) -> None: ...


@dataclass(frozen=True, slots=True)
class Prepared:
    """What an event's applier prepared outside the transaction, or why it could not."""

    applier: GatewayEventApplier | None
    value: Any = None
    failure: Exception | None = None


class Appliers:
    """The applier of each gateway; domains register theirs as they land."""

    def __init__(self) -> None:
        self._by_gateway: dict[str, GatewayEventApplier] = {}
        self.version = 0

    def register(self, gateway: str, applier: GatewayEventApplier) -> None:
        self._by_gateway[gateway] = applier
        self.version += 1

    def get(self, gateway: str) -> GatewayEventApplier | None:
        return self._by_gateway.get(gateway)

    @property
    def gateways(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_gateway))

    async def close(self, grace: float) -> None:
        """Let every applier's background work finish within ``grace`` (together)."""
        await asyncio.gather(*(applier.close(grace) for applier in self._by_gateway.values()))


@dataclass(frozen=True, slots=True, kw_only=True)
class Stored:
    id: str
    duplicate: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Arrival:
    gateway: str
    gateway_event_id: str
    type: str
    raw: str
    future: asyncio.Future[Stored]


def no_applier_note(gateway: str) -> str:
    return (
        f"no applier is registered for gateway {gateway!r} yet; the event is kept and "
        "applied once one is, or with ReprocessGatewayEvent"
    )


class GatewayEventService:
    def __init__(
        self,
        db: Database,
        appliers: Appliers,
        metrics: Metrics,
        *,
        clock: Clock = utcnow,
        retry_schedule: Sequence[dt.timedelta] = APPLY_RETRY_SCHEDULE,
        lease: dt.timedelta = dt.timedelta(seconds=60),
        batch: int = 32,
    ) -> None:
        self._db = db
        self._appliers = appliers
        self._metrics = metrics
        self._clock = clock
        self._schedule = tuple(retry_schedule)
        self._lease = lease
        self._batch = batch
        self._owner = f"a-{secrets.token_hex(8)}"
        self._wake = asyncio.Event()
        self._released_version = -1
        self._arrivals: list[_Arrival] = []
        self._flusher: asyncio.Task[None] | None = None

    async def store(self, *, gateway: str, gateway_event_id: str, type: str, raw: str) -> Stored:
        """Keep a verified event unless its provider id is already stored.

        Concurrent arrivals are written together (group commit): each waits for the one
        transaction that stores its group, so none is acknowledged before it is durable.
        """
        arrival = _Arrival(
            gateway=gateway,
            gateway_event_id=gateway_event_id,
            type=type,
            raw=raw,
            future=asyncio.get_running_loop().create_future(),
        )
        self._arrivals.append(arrival)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_arrivals())
        return await asyncio.shield(arrival.future)

    async def _flush_arrivals(self) -> None:
        while self._arrivals:
            group = self._arrivals[:MAX_GROUP]
            del self._arrivals[:MAX_GROUP]
            try:
                stored = await self._store_group(group)
            except StoreUnavailable as exc:
                for arrival in group:
                    arrival.future.set_exception(exc)
                continue
            except Exception:
                # One bad arrival must not fail its neighbours: store them one by one.
                log.exception("storing %d gateway events together failed", len(group))
                await self._store_one_by_one(group)
                continue
            for arrival, result in zip(group, stored, strict=True):
                arrival.future.set_result(result)
            self._wake.set()

    async def _store_one_by_one(self, group: Sequence[_Arrival]) -> None:
        for arrival in group:
            try:
                [result] = await self._store_group([arrival])
            except Exception as exc:
                arrival.future.set_exception(exc)
            else:
                arrival.future.set_result(result)
        self._wake.set()

    async def _store_group(self, group: Sequence[_Arrival]) -> list[Stored]:
        now = self._clock()
        results = []
        async with self._db.write() as session:
            events = GatewayEvents(session)
            for arrival in group:
                event_id = new_id("gev")
                applier = self._appliers.get(arrival.gateway)
                stored = await events.insert_new(
                    event_id=event_id,
                    gateway=arrival.gateway,
                    gateway_event_id=arrival.gateway_event_id,
                    type=arrival.type,
                    payload=arrival.raw,
                    status=RECEIVED if applier is not None else UNAPPLIED,
                    error="" if applier is not None else no_applier_note(arrival.gateway),
                    now=now,
                )
                if stored:
                    results.append(Stored(id=event_id, duplicate=False))
                    continue
                existing = await events.by_provider_id(arrival.gateway, arrival.gateway_event_id)
                results.append(Stored(id=existing.id if existing else "", duplicate=True))
        return results

    async def run_forever(self, poll_seconds: float) -> None:
        while True:
            try:
                done = await self.apply_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("applying gateway events failed; retrying")
                done = 0
            if done == 0:
                self._wake.clear()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
                # cancellation that arrives as the event is set, and this loop would then
                # outlive the shutdown that cancelled it (seen as a hang in the tests).
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(poll_seconds):
                        await self._wake.wait()

    async def apply_due(self) -> int:
        """Apply every due event once (and release those waiting for a new applier)."""
        now = self._clock()
        if self._released_version != self._appliers.version:
            async with self._db.write() as session:
                await GatewayEvents(session).release_unapplied(self._appliers.gateways, now)
            self._released_version = self._appliers.version
        async with self._db.write() as session:
            claimed = await GatewayEvents(session).claim_due(
                now=now, owner=self._owner, lease_until=now + self._lease, limit=self._batch
            )
        for event_id in claimed:
            await self._apply_claimed(event_id)
        return len(claimed)

    async def _apply_claimed(self, event_id: str) -> None:
        async with self._db.read() as session:
            event = await GatewayEvents(session).held_by(event_id, self._owner, lock=False)
        if event is None:
            return
        prepared = await self._prepare(event)
        async with self._db.write() as session:
            event = await GatewayEvents(session).held_by(event_id, self._owner)
            if event is None:
                return
            applied = await self._apply(session, event, prepared)
        if applied:
            self._committed(prepared)

    async def _prepare(self, event: GatewayEvent) -> Prepared:
        """The applier's outside-the-store step (see :class:`GatewayEventApplier`)."""
        applier = self._appliers.get(event.gateway)
        if applier is None:
            return Prepared(applier=None)
        try:
            return Prepared(applier=applier, value=await applier.prepare(_normalized(event)))
        except Exception as exc:
            return Prepared(applier=applier, failure=exc)

    @staticmethod
    def _committed(prepared: Prepared) -> None:
        if prepared.applier is not None:
            prepared.applier.committed(prepared.value)

    async def _apply(self, session: AsyncSession, event: GatewayEvent, prepared: Prepared) -> bool:
        """Apply ``event`` and record its outcome, both in ``session``'s transaction;
        whether it applied (so the applier may be told once that commits)."""
        events = GatewayEvents(session)
        now = self._clock()
        applier = prepared.applier
        if applier is None:
            await events.record_outcome(
                event.id,
                status=UNAPPLIED,
                now=now,
                error=no_applier_note(event.gateway),
                count_attempt=False,
            )
            return False
        try:
            async with session.begin_nested():
                if prepared.failure is not None:
                    raise prepared.failure
                result = await applier.apply(session, _normalized(event), prepared.value)
                forwarded = await self._forward(session, event, result, now)
                await events.record_outcome(
                    event.id,
                    status=PROCESSED if result.outcome is ApplyOutcome.PROCESSED else IGNORED,
                    now=now,
                    resource_id=result.resource_id,
                    client_id=result.client_id,
                    forwarded=forwarded,
                )
        except Exception as exc:
            self._metrics.apply_failures.labels(event.gateway).inc()
            log.warning("gateway event %s failed to apply: %s", event.id, type(exc).__name__)
            done = event.attempt_count + 1
            await events.record_outcome(
                event.id,
                status=FAILED,
                now=now,
                error=f"{type(exc).__name__}: {exc}"[:MAX_ERROR],
                next_attempt_time=now + self._schedule[done - 1]
                if done <= len(self._schedule)
                else None,
            )
            return False
        return True

    async def _forward(
        self, session: AsyncSession, event: GatewayEvent, result: ApplyResult, now: dt.datetime
    ) -> bool:
        """Put the raw payload in the owner's outbox once, for forward_gateway_events."""
        if event.forwarded:
            return True
        if result.client_id is None:
            return False
        await Events(session).append(
            EventRecord(
                id=new_id("evt"),
                client_id=result.client_id,
                type=forwarded_type(event.gateway, event.type),
                resource_id=result.resource_id,
                gateway_event_id=event.id,
                payload=event.payload,
                create_time=now,
            )
        )
        return True

    async def prepare_reprocess(
        self, client_id: str, event_id: str, *, include_unowned: bool
    ) -> Prepared:
        """The applier's outside-the-store step for :meth:`reprocess`, before its
        transaction (NotFound for an event the caller may not see)."""
        async with self._db.read() as session:
            event = await GatewayEvents(session).get(event_id)
        return await self._prepare(_visible(event, event_id, client_id, include_unowned))

    async def reprocess(
        self,
        session: AsyncSession,
        client_id: str,
        event_id: str,
        prepared: Prepared,
        *,
        include_unowned: bool,
    ) -> GatewayEvent:
        """Apply a stored event again, now, whatever its status (application is idempotent);
        call :meth:`reprocessed` with ``prepared`` once the transaction committed."""
        events = GatewayEvents(session)
        event = await events.get(event_id, for_update=True)
        event = _visible(event, event_id, client_id, include_unowned)
        await self._apply(session, event, prepared)
        await session.flush()
        applied = await events.get(event_id)
        assert applied is not None
        return applied

    def reprocessed(self, prepared: Prepared) -> None:
        """:meth:`reprocess` committed: the applier may move on (its cursor)."""
        self._committed(prepared)

    async def list(
        self,
        client_id: str,
        page: PageRequest,
        *,
        include_unowned: bool,
        gateway: str | None,
        status: str | None,
    ) -> Page[GatewayEvent]:
        statuses: tuple[str, ...] | None = None
        if status == RECEIVED:
            statuses = (RECEIVED, UNAPPLIED)
        elif status is not None:
            statuses = (status,)
        async with self._db.read() as session:
            rows = await GatewayEvents(session).page(
                client_id,
                include_unowned=include_unowned,
                before_id=page.before_id,
                limit=page.size + 1,
                gateway=gateway,
                statuses=statuses,
            )
        return page_of(rows, page)


def _visible(
    event: GatewayEvent | None, event_id: str, client_id: str, include_unowned: bool
) -> GatewayEvent:
    """The event, if the caller may see it: its own, or an unowned one for an operator
    (NotFound otherwise, the same as for an unknown id: not revealing that it exists)."""
    if event is None or not (
        event.client_id == client_id or (include_unowned and event.client_id is None)
    ):
        raise NotFound("gateway event", event_id)
    return event


def _normalized(event: GatewayEvent) -> NormalizedGatewayEvent:
    payload = json.loads(event.payload)
    return NormalizedGatewayEvent(
        id=event.id,
        gateway=event.gateway,
        gateway_event_id=event.gateway_event_id,
        type=event.type,
        payload=payload if isinstance(payload, dict) else {},
        raw=event.payload,
    )
