"""The outbound delivery worker: fan events out to endpoints, POST them signed, retry.

Every outbox event becomes one delivery per subscribed, enabled endpoint of its client
(once: the fan-out marker's primary key). A delivery is claimed with a lease, POSTed
outside any transaction (15 s timeout, no redirects followed), and its outcome recorded
only while the lease is still ours; a worker that dies leaves a lease that simply runs
out, and another worker sends the delivery again with the same ``webhook-id``.

Time is injected (``clock``) and so are the retry schedule and the jitter's randomness,
so tests walk through the whole schedule without waiting for it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import errno
import logging
import random
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from sqlalchemy.ext.asyncio import AsyncSession

from server.metrics import Metrics
from server.webhooks import signing
from server.webhooks.endpoints import unroutable_address
from server.webhooks.matching import subscribed
from store.db import Database
from store.ids import new_id
from store.models import utcnow
from store.webhooks import (
    FAILED,
    PENDING,
    AttemptRecord,
    ClaimedDelivery,
    EndpointRecord,
    PendingDelivery,
    WebhookDeliveries,
    WebhookEndpoints,
)

log = logging.getLogger("isa.relay.delivery")

Clock = Callable[[], dt.datetime]

#: Waits before each retry: the first attempt is immediate (ARCHITECTURE.md).
RETRY_SCHEDULE: Final = tuple(
    dt.timedelta(seconds=s) for s in (5, 300, 1800, 7200, 18000, 36000, 36000)
)
ERROR_EXCERPT: Final = 200
USER_AGENT: Final = "isa-webhooks/1"


class RoutableResolver(AbstractResolver):
    """Resolves as aiohttp does, then drops the addresses no endpoint may live at
    (:func:`unroutable_address`): registration refuses such address literals, but a
    name can point anywhere, and at any time — say at the cloud metadata service on
    169.254.169.254. A name left with no other address fails to connect, and the
    delivery records why."""

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        kept = [address for address in found if not unroutable_address(address["host"])]
        if not kept:
            raise OSError(  # with an errno, so aiohttp's message carries the text
                errno.EHOSTUNREACH,
                f"{host} resolves only to link-local, unspecified, multicast or reserved "
                "addresses, where no webhook endpoint may be",
            )
        return kept

    async def close(self) -> None:
        await self._inner.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryPolicy:
    retry_schedule: Sequence[dt.timedelta] = RETRY_SCHEDULE
    jitter: float = 0.2
    timeout: dt.timedelta = dt.timedelta(seconds=15)
    lease: dt.timedelta = dt.timedelta(seconds=60)
    disable_after: dt.timedelta = dt.timedelta(days=5)
    max_retry_after: dt.timedelta = dt.timedelta(days=1)
    batch: int = 32
    #: Outbox events one fan-out round takes at most (one write transaction).
    fan_out_batch: int = 512
    #: Routine fan-out polls look back to this far before the previous poll began: an
    #: event's id is taken before its transaction commits, so it may sort a little earlier
    #: than events already fanned out.
    fan_out_overlap: dt.timedelta = dt.timedelta(seconds=5)
    #: A sweep runs at start and every sweep_seconds, for events that committed later
    #: still (or while no worker ran); each sweep re-reads this far below the point where
    #: the previous one started, and nothing older after the first.
    fan_out_window: dt.timedelta = dt.timedelta(hours=1)
    sweep_seconds: float = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class _Resume:
    """Where a fan-out pass that stopped at its limit goes on."""

    sweep: bool
    after: str
    began: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Sent:
    delivery: ClaimedDelivery
    sent_at: dt.datetime
    outcome: Outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    response_code: int
    latency: float
    error: str
    retry_after: dt.timedelta | None = None

    @property
    def succeeded(self) -> bool:
        return 200 <= self.response_code < 300


def retry_after(value: str | None, now: dt.datetime) -> dt.timedelta | None:
    """Parse ``Retry-After``: delay seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(when - now, dt.timedelta(0))


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        metrics: Metrics,
        *,
        policy: DeliveryPolicy | None = None,
        clock: Clock = utcnow,
        rand: Callable[[], float] = random.random,
        owner: str | None = None,
        resolver: AbstractResolver | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics
        #: Names of endpoints to addresses (aiohttp's by default); filtered as routable.
        self._resolver = resolver
        self._policy = policy or DeliveryPolicy()
        self._clock = clock
        self._rand = rand
        self._owner = owner or f"w-{secrets.token_hex(8)}"
        self._http: aiohttp.ClientSession | None = None
        self._last_sweep: float | None = None
        #: Events below this time were all fanned out when the last sweep drained.
        self._swept_to: dt.datetime | None = None
        #: When the previous routine poll began (routine polls read from there on).
        self._polled_at: dt.datetime | None = None
        #: Whether the last round stopped at its limit (more may be waiting right now).
        self._backlog = False
        #: A pass over the outbox that stopped at its limit goes on after this event id
        #: (whether that pass is a sweep, and when its first round began).
        self._resume: _Resume | None = None

    async def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._policy.timeout.total_seconds()),
                connector=aiohttp.TCPConnector(
                    limit=self._policy.batch * 2,
                    resolver=RoutableResolver(self._resolver),
                ),
            )
        return self._http

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def run_once(self) -> int:
        """Fan out new events, then send every due delivery once; returns work done."""
        fanned = await self.fan_out()
        sent = await self.deliver_due()
        self._backlog = fanned >= self._policy.fan_out_batch or sent >= self._policy.batch
        return fanned + sent

    async def run_forever(self, poll_seconds: float) -> None:
        try:
            await self._loop(poll_seconds)
        finally:
            await self.close()

    async def _loop(self, poll_seconds: float) -> None:
        """Poll every ``poll_seconds``; go again at once only while a round hit its limit.

        Looping whenever a round did any work kept the worker busy for as long as events
        kept coming, one write transaction after another, each competing with the RPCs
        that made the events; a busy outbox now costs a round per poll, not per event.
        """
        last_depth = 0.0
        while True:
            try:
                await self.run_once()
                if time.monotonic() - last_depth > 5:
                    await self.refresh_depth()
                    last_depth = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("delivery round failed; retrying")
                self._backlog = False
            if not self._backlog:
                await asyncio.sleep(poll_seconds)

    async def refresh_depth(self) -> None:
        async with self._db.read() as session:
            depth = await WebhookDeliveries(session).outbox_depth()
        self._metrics.outbox_depth.set(depth)

    def _sweep_due(self) -> bool:
        return (
            self._last_sweep is None
            or time.monotonic() - self._last_sweep > self._policy.sweep_seconds
        )

    async def fan_out(self) -> int:
        """Create the deliveries of events not fanned out yet (each event exactly once)."""
        now = self._clock()
        began = dt.datetime.now(dt.UTC)  # ids carry wall-clock time, not the injected clock
        sweep = self._sweep_due()
        resume = self._resume if self._resume is not None and self._resume.sweep == sweep else None
        async with self._db.write() as session:
            deliveries = WebhookDeliveries(session)
            limit = self._policy.fan_out_batch
            events = await deliveries.unfanned_events(
                limit,
                since=self._since(sweep),
                after=None if resume is None else resume.after,
            )
            ours = await deliveries.mark_all_fanned_out([e.id for e in events], now)
            endpoints: dict[str, list[EndpointRecord]] = {}
            pending: list[PendingDelivery] = []
            for event in events:
                if event.id not in ours:
                    continue  # another worker fanned it out
                if event.client_id not in endpoints:
                    endpoints[event.client_id] = await WebhookEndpoints(session).enabled_of(
                        event.client_id
                    )
                pending += [
                    PendingDelivery(
                        id=new_id("del"),
                        client_id=event.client_id,
                        endpoint_id=endpoint.id,
                        event_id=event.id,
                        event_type=event.type,
                    )
                    for endpoint in endpoints[event.client_id]
                    if subscribed(endpoint.event_types, endpoint.forward_gateway_events, event.type)
                ]
            await deliveries.add_all_pending(pending, now)
        if len(events) >= limit:  # more wait: the next round goes on after the last one
            first = began if resume is None else resume.began
            self._resume = _Resume(sweep=sweep, after=events[-1].id, began=first)
        else:
            self._resume = None
            self._advance(sweep=sweep, began=began if resume is None else resume.began)
        return len(events)

    def _since(self, sweep: bool) -> dt.datetime | None:
        """Where this round reads the outbox from (ids sort by the time they were made).

        Routine polls read from a little before the previous poll began, so each reads
        only what is new; a sweep reads from a little below where the previous sweep
        started (the first one, everything). A pass that takes several rounds (a backlog)
        reads each round on from where the last one stopped, not from here again: reading
        from here each time re-skipped everything fanned out so far, round after round.
        """
        if sweep:
            return self._swept_to
        if self._polled_at is None:
            return dt.datetime.now(dt.UTC) - self._policy.fan_out_window
        return self._polled_at - self._policy.fan_out_overlap

    def _advance(self, *, sweep: bool, began: dt.datetime) -> None:
        """A pass read everything it was after: move the read points to when it began
        (the first round of a long pass: what committed late meanwhile lies above it)."""
        if sweep:
            self._last_sweep = time.monotonic()
            self._swept_to = began - self._policy.fan_out_window
        if self._polled_at is None or not sweep:
            self._polled_at = began

    async def deliver_due(self) -> int:
        now = self._clock()
        async with self._db.write() as session:
            claimed = await WebhookDeliveries(session).claim_due(
                now=now,
                owner=self._owner,
                lease_until=now + self._policy.lease,
                limit=self._policy.batch,
            )
        if claimed:
            sent = await asyncio.gather(*(self._send(delivery) for delivery in claimed))
            await self._record_all(sent)
        return len(claimed)

    async def _send(self, delivery: ClaimedDelivery) -> Sent:
        sent_at = self._clock()
        outcome = await self._post(delivery)
        self._metrics.delivery_latency.observe(outcome.latency)
        return Sent(delivery=delivery, sent_at=sent_at, outcome=outcome)

    async def _record_all(self, sent: Sequence[Sent]) -> None:
        """Record a batch's outcomes in one transaction (endpoints locked in id order)."""
        async with self._db.write() as session:
            endpoints = WebhookEndpoints(session)
            for endpoint_id in sorted({s.delivery.endpoint_id for s in sent}):
                await endpoints.lock(endpoint_id)
            held = await WebhookDeliveries(session).held_of(
                [s.delivery.id for s in sent], self._owner
            )
            batch = _Batch()
            for one in sent:
                if one.delivery.id not in held:
                    log.warning("delivery %s: lease lost before recording it", one.delivery.id)
                    continue
                await self._record(session, one, batch)
            await WebhookDeliveries(session).record_successes(batch.successes, self._clock())
            # A success in the batch means the endpoint is not failing continuously.
            for endpoint_id in sorted(batch.answered):
                await endpoints.record_success(endpoint_id)

    async def _post(self, delivery: ClaimedDelivery) -> Outcome:
        body = delivery.payload.encode()
        # The receiver checks the signature's timestamp against its own clock: wall time.
        headers = signing.headers(delivery.secrets, delivery.event_id, int(time.time()), body)
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        http = await self._session()
        started = time.perf_counter()
        try:
            async with http.post(
                delivery.url, data=body, headers=headers, allow_redirects=False
            ) as response:
                text = (await response.content.read(ERROR_EXCERPT)).decode("utf-8", "replace")
                latency = time.perf_counter() - started
                code = response.status
                error = "" if 200 <= code < 300 else _error_text(code, text)
                wait = (
                    retry_after(response.headers.get("Retry-After"), self._clock())
                    if code == 429
                    else None
                )
                return Outcome(response_code=code, latency=latency, error=error, retry_after=wait)
        except TimeoutError:
            error = f"timed out after {self._policy.timeout.total_seconds():g} s"
        except aiohttp.ClientError as exc:
            error = f"{type(exc).__name__}: {exc}"[:ERROR_EXCERPT]
        return Outcome(response_code=0, latency=time.perf_counter() - started, error=error)

    def _next_attempt(self, attempts_done: int, outcome: Outcome) -> dt.datetime | None:
        """When to try again after ``attempts_done`` attempts, or None when out of retries."""
        schedule = self._policy.retry_schedule
        if attempts_done > len(schedule):
            return None
        base = schedule[attempts_done - 1].total_seconds()
        jittered = base * (1 + self._policy.jitter * (2 * self._rand() - 1))
        delay = dt.timedelta(seconds=jittered)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, self._policy.max_retry_after))
        return self._clock() + delay

    async def _record(self, session: AsyncSession, sent: Sent, batch: _Batch) -> None:
        delivery, outcome = sent.delivery, sent.outcome
        now = self._clock()
        attempt = AttemptRecord(
            time=sent.sent_at,
            response_code=outcome.response_code,
            latency_ms=round(outcome.latency * 1000),
            error=outcome.error,
        )
        deliveries = WebhookDeliveries(session)
        endpoints = WebhookEndpoints(session)
        if outcome.succeeded:
            batch.successes.append((delivery.id, attempt))
            batch.answered.add(delivery.endpoint_id)
            self._metrics.delivery_attempts.labels("succeeded").inc()
            return
        if outcome.response_code == 410:
            await deliveries.record_attempt(
                delivery.id, attempt, status=FAILED, next_attempt_time=None, now=now
            )
            await endpoints.disable(delivery.endpoint_id, now, "answered 410 Gone")
            await deliveries.fail_pending_of_endpoint(delivery.endpoint_id, now)
            batch.disabled.add(delivery.endpoint_id)
            self._metrics.delivery_attempts.labels("gone").inc()
            return
        next_time = None
        if delivery.endpoint_id not in batch.disabled:
            next_time = self._next_attempt(delivery.attempt_count + 1, outcome)
        await deliveries.record_attempt(
            delivery.id,
            attempt,
            status=PENDING if next_time is not None else FAILED,
            next_attempt_time=next_time,
            now=now,
        )
        self._metrics.delivery_attempts.labels(
            "retrying" if next_time is not None else "failed"
        ).inc()
        if delivery.endpoint_id not in batch.disabled and await endpoints.record_failure(
            delivery.endpoint_id, now, disable_after=self._policy.disable_after
        ):
            await deliveries.fail_pending_of_endpoint(delivery.endpoint_id, now)
            batch.disabled.add(delivery.endpoint_id)


@dataclass(slots=True)
class _Batch:
    """What recording one batch has learnt about its endpoints so far."""

    answered: set[str] = field(default_factory=set)
    successes: list[tuple[str, AttemptRecord]] = field(default_factory=list)
    disabled: set[str] = field(default_factory=set)


def _error_text(code: int, body: str) -> str:
    if 300 <= code < 400:
        return f"HTTP {code}: redirects are not followed"
    excerpt = " ".join(body.split())
    return f"HTTP {code}: {excerpt}" if excerpt else f"HTTP {code}"
