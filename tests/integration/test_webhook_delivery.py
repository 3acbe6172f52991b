"""Outbound deliveries: signed per Standard Webhooks, retried on schedule, leased, replayable.

The worker runs against a real store (SQLite and PostgreSQL) and a real HTTP receiver
on 127.0.0.1; time is a settable clock, so the retry schedule is walked without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import time
from collections.abc import AsyncIterator

import pytest
import standardwebhooks
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from server.metrics import Metrics
from server.pagination import PageRequest
from server.webhooks.deliveries import DeliveryService
from server.webhooks.endpoints import EndpointService
from store.db import Database
from store.events import EventRecord, Events
from store.webhooks import DeliveryFilter, id_floor
from tests.webhook_support import FakeClock, Receiver, create_endpoint, emit
from webhook_relay.delivery import RETRY_SCHEDULE, DeliveryPolicy, DeliveryWorker

CLIENT = "tenant-portal"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = await Receiver().start()
    yield running
    await running.stop()


def worker(db: Database, clock: FakeClock, **policy: object) -> DeliveryWorker:
    # rand=0.5 puts the jitter at exactly zero: the schedule's own delays.
    return DeliveryWorker(
        db, Metrics(), policy=DeliveryPolicy(**policy), clock=clock, rand=lambda: 0.5
    )  # type: ignore[arg-type]


async def deliveries_of(db: Database, event_id: str) -> list:  # type: ignore[type-arg]
    page = await DeliveryService(db).list_deliveries(
        CLIENT, PageRequest(size=50), DeliveryFilter(event_id=event_id)
    )
    return list(page.items)


async def test_event_is_delivered_signed_and_verifies_with_standardwebhooks(
    db: Database, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(db, CLIENT, receiver.url)
    event = await emit(db, CLIENT, amount=1999)
    clock = FakeClock()
    relay = worker(db, clock)
    try:
        assert await relay.run_once() > 0
    finally:
        await relay.close()
    assert len(receiver.received) == 1
    got = receiver.received[0]
    payload = standardwebhooks.Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["id"] == event.id
    assert payload["type"] == "payment.succeeded"
    assert payload["data"]["amount"] == 1999
    assert got.headers["webhook-id"] == event.id
    assert got.body.decode() == event.payload
    [delivery] = await deliveries_of(db, event.id)
    assert delivery.status == "succeeded"
    assert [a.response_code for a in delivery.attempts] == [204]


async def test_another_clients_endpoint_and_unsubscribed_types_receive_nothing(
    db: Database, receiver: Receiver
) -> None:
    await create_endpoint(db, "other-tenant", receiver.url)
    await create_endpoint(db, CLIENT, receiver.url, event_types=("invoice.*",))
    await emit(db, CLIENT, "payment.succeeded")
    invoice = await emit(db, CLIENT, "invoice.paid")
    relay = worker(db, FakeClock())
    try:
        await relay.run_once()
    finally:
        await relay.close()
    assert [r.headers["webhook-id"] for r in receiver.received] == [invoice.id]


async def test_receiver_down_for_three_attempts_gets_the_same_event_later(
    db: Database, receiver: Receiver
) -> None:
    async def flaky(_request: web.Request, count: int) -> web.StreamResponse:
        return web.Response(status=503 if count <= 3 else 200, text="down for maintenance")

    receiver.respond = flaky
    endpoint = await create_endpoint(db, CLIENT, receiver.url)
    event = await emit(db, CLIENT)
    clock = FakeClock()
    relay = worker(db, clock)
    try:
        await relay.run_once()
        assert len(receiver.received) == 1
        # Not due yet: nothing is sent before the schedule says so.
        clock.advance(dt.timedelta(seconds=4))
        await relay.run_once()
        assert len(receiver.received) == 1
        for delay in RETRY_SCHEDULE[:3]:
            clock.advance(delay)
            await relay.run_once()
    finally:
        await relay.close()
    assert len(receiver.received) == 4
    assert {r.headers["webhook-id"] for r in receiver.received} == {event.id}
    hook = standardwebhooks.Webhook(endpoint.secret)
    assert hook.verify(receiver.received[-1].body, receiver.received[-1].headers)["id"] == event.id
    [delivery] = await deliveries_of(db, event.id)
    assert delivery.status == "succeeded"
    assert [a.response_code for a in delivery.attempts] == [503, 503, 503, 200]
    assert "down for maintenance" in delivery.attempts[0].error
    assert delivery.attempts[-1].error == ""


async def test_retries_run_out_then_the_delivery_is_failed_and_can_be_replayed(
    db: Database, receiver: Receiver
) -> None:
    async def broken(_request: web.Request, _count: int) -> web.StreamResponse:
        return web.Response(status=500)

    receiver.respond = broken
    endpoint = await create_endpoint(db, CLIENT, receiver.url)
    event = await emit(db, CLIENT)
    clock = FakeClock()
    relay = worker(db, clock)
    try:
        await relay.run_once()
        for delay in RETRY_SCHEDULE:
            clock.advance(delay)
            await relay.run_once()
        clock.advance(dt.timedelta(days=2))
        await relay.run_once()
        assert len(receiver.received) == 1 + len(RETRY_SCHEDULE)
        [delivery] = await deliveries_of(db, event.id)
        assert delivery.status == "failed"
        assert delivery.next_attempt_time is None

        receiver.respond = lambda _r, _c: _ok()
        async with db.write() as session:
            replayed = await DeliveryService(db, clock=clock).replay(
                session, CLIENT, event.id, endpoint.id
            )
        assert [d.status for d in replayed] == ["pending"]
        await relay.run_once()
    finally:
        await relay.close()
    assert receiver.received[-1].headers["webhook-id"] == event.id
    statuses = sorted(d.status for d in await deliveries_of(db, event.id))
    assert statuses == ["failed", "succeeded"]


async def _ok() -> web.StreamResponse:
    return web.Response(status=200)


async def test_jitter_stays_within_twenty_percent(db: Database, receiver: Receiver) -> None:
    async def broken(_request: web.Request, _count: int) -> web.StreamResponse:
        return web.Response(status=500)

    receiver.respond = broken
    await create_endpoint(db, CLIENT, receiver.url)
    clock = FakeClock()
    for rand, factor in ((0.0, 0.8), (1.0, 1.2)):
        event = await emit(db, CLIENT)
        relay = DeliveryWorker(db, Metrics(), clock=clock, rand=lambda r=rand: r)
        try:
            await relay.run_once()
        finally:
            await relay.close()
        [delivery] = await deliveries_of(db, event.id)
        assert delivery.next_attempt_time == clock.now + RETRY_SCHEDULE[0] * factor


async def test_429_retry_after_is_honoured(db: Database, receiver: Receiver) -> None:
    async def throttled(_request: web.Request, count: int) -> web.StreamResponse:
        if count == 1:
            return web.Response(status=429, headers={"Retry-After": "120"})
        return web.Response(status=200)

    receiver.respond = throttled
    await create_endpoint(db, CLIENT, receiver.url)
    event = await emit(db, CLIENT)
    clock = FakeClock()
    relay = worker(db, clock)
    try:
        await relay.run_once()
        clock.advance(RETRY_SCHEDULE[0])  # 5 s: the schedule alone would retry now
        await relay.run_once()
        assert len(receiver.received) == 1
        clock.advance(dt.timedelta(seconds=120))
        await relay.run_once()
    finally:
        await relay.close()
    assert len(receiver.received) == 2
    [delivery] = await deliveries_of(db, event.id)
    assert [a.response_code for a in delivery.attempts] == [429, 200]


async def test_410_gone_disables_the_endpoint(db: Database, receiver: Receiver) -> None:
    async def gone(_request: web.Request, _count: int) -> web.StreamResponse:
        return web.Response(status=410)

    receiver.respond = gone
    endpoint = await create_endpoint(db, CLIENT, receiver.url)
    first = await emit(db, CLIENT)
    relay = worker(db, FakeClock())
    try:
        await relay.run_once()
        await emit(db, CLIENT)
        await relay.run_once()
    finally:
        await relay.close()
    assert len(receiver.received) == 1
    assert (await EndpointService(db).get(CLIENT, endpoint.id)).status == "disabled"
    [delivery] = await deliveries_of(db, first.id)
    assert delivery.status == "failed"


async def test_endpoint_failing_for_five_days_is_disabled(db: Database, receiver: Receiver) -> None:
    async def broken(_request: web.Request, _count: int) -> web.StreamResponse:
        return web.Response(status=500)

    receiver.respond = broken
    endpoint = await create_endpoint(db, CLIENT, receiver.url)
    clock = FakeClock()
    relay = worker(db, clock)
    try:
        for _ in range(6):
            await emit(db, CLIENT)
            await relay.run_once()
            assert (await EndpointService(db).get(CLIENT, endpoint.id)).status == "enabled"
            clock.advance(dt.timedelta(hours=23))
        clock.advance(dt.timedelta(hours=2))
        await emit(db, CLIENT)
        await relay.run_once()
    finally:
        await relay.close()
    assert (await EndpointService(db).get(CLIENT, endpoint.id)).status == "disabled"


async def test_redirects_are_not_followed(db: Database, receiver: Receiver) -> None:
    async def redirect(request: web.Request, _count: int) -> web.StreamResponse:
        if request.path == "/hook":
            raise web.HTTPTemporaryRedirect(location="/other")
        return web.Response(status=200)

    receiver.respond = redirect
    event = await emit(db, CLIENT)
    await create_endpoint(db, CLIENT, receiver.url)
    relay = worker(db, FakeClock())
    try:
        await relay.run_once()
    finally:
        await relay.close()
    assert len(receiver.received) == 1
    [delivery] = await deliveries_of(db, event.id)
    assert delivery.status == "pending"
    assert delivery.attempts[0].response_code == 307
    assert "redirects are not followed" in delivery.attempts[0].error


async def test_timeout_is_an_attempt_with_no_response_code(
    db: Database, receiver: Receiver
) -> None:
    release = asyncio.Event()

    async def hang(_request: web.Request, _count: int) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=200)

    receiver.respond = hang
    event = await emit(db, CLIENT)
    await create_endpoint(db, CLIENT, receiver.url)
    relay = worker(db, FakeClock(), timeout=dt.timedelta(seconds=0.2))
    try:
        await relay.run_once()
    finally:
        release.set()
        await relay.close()
    [delivery] = await deliveries_of(db, event.id)
    assert delivery.attempts[0].response_code == 0
    assert "timed out" in delivery.attempts[0].error


async def test_rotation_signs_with_both_secrets_until_the_old_one_expires(
    db: Database, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(db, CLIENT, receiver.url)
    clock = FakeClock()
    async with db.write() as session:
        rotated = await EndpointService(db, clock=clock).rotate_secret(session, CLIENT, endpoint.id)
    assert rotated.secret != endpoint.secret
    await emit(db, CLIENT)
    relay = worker(db, clock)
    try:
        await relay.run_once()
        clock.advance(dt.timedelta(hours=24, seconds=1))
        await emit(db, CLIENT)
        await relay.run_once()
    finally:
        await relay.close()
    during, after = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (endpoint.secret, rotated.secret):
        standardwebhooks.Webhook(secret).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    standardwebhooks.Webhook(rotated.secret).verify(after.body, after.headers)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(endpoint.secret).verify(after.body, after.headers)


async def test_a_dead_workers_lease_expires_and_another_worker_delivers(
    db: Database, receiver: Receiver
) -> None:
    """A worker killed mid-delivery: the lease runs out, nothing is lost, same event id."""
    arrived = asyncio.Event()

    async def first_hangs(_request: web.Request, count: int) -> web.StreamResponse:
        if count == 1:
            arrived.set()
            await asyncio.Event().wait()
        return web.Response(status=200)

    receiver.respond = first_hangs
    event = await emit(db, CLIENT)
    await create_endpoint(db, CLIENT, receiver.url)
    clock = FakeClock()
    doomed = worker(db, clock)
    task = asyncio.create_task(doomed.run_once())
    await asyncio.wait_for(arrived.wait(), timeout=10)
    task.cancel()  # killed mid-request: no outcome is ever recorded
    await asyncio.gather(task, return_exceptions=True)
    await doomed.close()

    survivor = worker(db, clock)
    try:
        assert await survivor.run_once() == 0  # still leased by the dead worker
        clock.advance(dt.timedelta(seconds=61))
        await survivor.run_once()
    finally:
        await survivor.close()
    assert [r.headers["webhook-id"] for r in receiver.received] == [event.id, event.id]
    [delivery] = await deliveries_of(db, event.id)
    assert delivery.status == "succeeded"


async def test_concurrent_workers_deliver_each_event_once_per_endpoint(
    db: Database, receiver: Receiver, migrated_url: str
) -> None:
    endpoints = [await create_endpoint(db, CLIENT, receiver.url) for _ in range(2)]
    events = [await emit(db, CLIENT, n=n) for n in range(60)]
    stores = [Database(migrated_url) for _ in range(3)]
    workers = [DeliveryWorker(store, Metrics(), policy=DeliveryPolicy(batch=8)) for store in stores]
    try:
        for _ in range(40):
            done = await asyncio.gather(*(w.run_once() for w in workers))
            if sum(done) == 0 and len(receiver.received) >= 120:
                break
    finally:
        for w, store in zip(workers, stores, strict=True):
            await w.close()
            await store.dispose()
    pairs = [
        (r.headers["webhook-id"], json.loads(r.body)["id"], r.headers["webhook-signature"])
        for r in receiver.received
    ]
    assert len(pairs) == len(events) * len(endpoints)
    by_event: dict[str, int] = {}
    for event_id, body_id, _signature in pairs:
        assert event_id == body_id
        by_event[event_id] = by_event.get(event_id, 0) + 1
    assert by_event == {e.id: 2 for e in events}


async def test_an_event_older_than_the_poll_window_is_found_by_the_sweep(
    db: Database, receiver: Receiver
) -> None:
    await create_endpoint(db, CLIENT, receiver.url)
    relay = worker(db, FakeClock(), sweep_seconds=3600)
    try:
        await relay.run_once()  # the start-up sweep: nothing yet
        late = await late_event(db, dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        await relay.run_once()  # routine poll: recent events only
        assert receiver.received == []
    finally:
        await relay.close()
    restarted = worker(db, FakeClock())
    try:
        await restarted.run_once()
    finally:
        await restarted.close()
    assert [r.headers["webhook-id"] for r in receiver.received] == [late]


async def test_a_large_fan_out_reaches_every_endpoint_once(
    db: Database, receiver: Receiver
) -> None:
    endpoints = [await create_endpoint(db, CLIENT, receiver.url) for _ in range(3)]
    events = [await emit(db, CLIENT, n=n) for n in range(150)]
    relay = worker(db, FakeClock())
    try:
        while await relay.run_once():
            pass
    finally:
        await relay.close()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(events) * len(endpoints)
    assert {i: ids.count(i) for i in set(ids)} == {e.id: 3 for e in events}


async def late_event(db: Database, made: dt.datetime) -> str:
    """An outbox event whose id says it was made at ``made`` (its transaction was slow)."""
    late = id_floor("evt", made)[:-1] + "1"
    async with db.write() as session:
        await Events(session).append(
            EventRecord(
                id=late,
                client_id=CLIENT,
                type="payment.succeeded",
                resource_id="pi_late",
                gateway_event_id=None,
                payload=json.dumps({"id": late}),
                create_time=dt.datetime.now(dt.UTC),
            )
        )
    return late


async def test_routine_polls_read_from_the_previous_poll_and_the_sweep_finds_the_rest(
    db: Database, receiver: Receiver
) -> None:
    await create_endpoint(db, CLIENT, receiver.url)
    relay = worker(db, FakeClock(), sweep_seconds=3600)
    try:
        await relay.run_once()  # the start-up sweep: nothing yet
        now = dt.datetime.now(dt.UTC)
        slightly_late = await late_event(db, now - dt.timedelta(seconds=2))
        await relay.run_once()  # within the overlap below the previous poll: found
        assert [r.headers["webhook-id"] for r in receiver.received] == [slightly_late]
        very_late = await late_event(db, now - dt.timedelta(minutes=2))
        await relay.run_once()  # routine: from the previous poll on, not the whole hour
        assert len(receiver.received) == 1
        # the next sweep is due (not 0.0: the monotonic clock starts near boot, and a
        # machine up for less than sweep_seconds would find no sweep due at all)
        relay._last_sweep = time.monotonic() - 3601
        await relay.run_once()
        assert [r.headers["webhook-id"] for r in receiver.received] == [slightly_late, very_late]
    finally:
        await relay.close()


async def test_a_backlog_is_drained_without_waiting_for_the_next_poll(
    db: Database, receiver: Receiver
) -> None:
    await create_endpoint(db, CLIENT, receiver.url)
    events = [await emit(db, CLIENT, n=n) for n in range(150)]  # over one round's limit
    relay = worker(db, FakeClock(), batch=8, fan_out_batch=32)
    task = asyncio.create_task(relay.run_forever(poll_seconds=3600))
    try:
        for _ in range(400):
            if len(receiver.received) >= len(events):
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert sorted(r.headers["webhook-id"] for r in receiver.received) == sorted(
        e.id for e in events
    )


async def test_a_backlog_pass_goes_on_where_its_last_round_stopped_and_misses_nothing(
    db: Database, receiver: Receiver
) -> None:
    await create_endpoint(db, CLIENT, receiver.url)
    relay = worker(db, FakeClock(), sweep_seconds=3600, fan_out_batch=10)
    try:
        await relay.run_once()  # the start-up sweep: nothing yet
        events = [await emit(db, CLIENT, n=n) for n in range(25)]
        assert await relay.fan_out() == 10
        # Committed now but made earlier than the pass's position: a later round of the
        # pass does not go back for it; the next routine poll (from the pass's start) does.
        late = await late_event(db, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        assert [await relay.fan_out() for _ in range(3)] == [10, 5, 1]
        while await relay.run_once():
            pass
    finally:
        await relay.close()
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert sorted(ids) == sorted([e.id for e in events] + [late])


class Names(AbstractResolver):
    """A DNS of our own: each name to the addresses it is said to resolve to."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self._names = names

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=address, port=port, family=family, proto=0, flags=0)
            for address in self._names[host]
        ]

    async def close(self) -> None:
        return None


async def test_a_name_resolving_to_link_local_is_never_connected_to(
    db: Database, receiver: Receiver
) -> None:
    """Registration refuses 169.254.169.254 written out; a name pointing there (the cloud
    metadata service) is refused when connecting, and only its unroutable addresses."""
    metadata = await create_endpoint(db, CLIENT, f"http://metadata.test:{receiver.port}/hook")
    mapped = await create_endpoint(db, CLIENT, f"http://mapped.test:{receiver.port}/hook")
    mixed = await create_endpoint(db, CLIENT, f"http://mixed.test:{receiver.port}/other")
    names = Names(
        {
            "metadata.test": ["169.254.169.254", "fe80::1"],
            "mapped.test": ["::ffff:169.254.169.254"],
            "mixed.test": ["169.254.169.254", "127.0.0.1"],
        }
    )
    event = await emit(db, CLIENT)
    relay = DeliveryWorker(db, Metrics(), clock=FakeClock(), rand=lambda: 0.5, resolver=names)
    try:
        await relay.run_once()
    finally:
        await relay.close()
    assert [r.headers["webhook-id"] for r in receiver.received] == [event.id]  # mixed's
    by_endpoint = {d.endpoint_id: d for d in await deliveries_of(db, event.id)}
    assert by_endpoint[mixed.id].status == "succeeded"
    for refused in (metadata, mapped):
        [attempt] = by_endpoint[refused.id].attempts
        assert attempt.response_code == 0
        assert "link-local" in attempt.error, attempt.error
        assert by_endpoint[refused.id].status == "pending"  # retried on schedule
