"""POST /webhooks/{gateway} on the running relay: verified, stored once, applied once.

The payments domain is not merged yet, so a test applier stands in for it: it keeps each
resource's state in the outbox (one ``payment.updated`` event per applied change, in the
applying transaction), and ignores a change older than the one it already has.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
import standardwebhooks
import stripe
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from isa.webhook.v1 import resources_pb2 as resources
from isa.webhook.v1 import webhook_service_pb2 as pb
from isa.webhook.v1 import webhook_service_pb2_grpc
from server.events import record_event
from server.relay_config import SANDBOX_WEBHOOK_SECRET
from server.webhooks.inbound import ApplyOutcome, ApplyResult, NormalizedGatewayEvent
from store.db import Database
from store.models import EventRow
from store.webhook_models import GatewayEventRow
from tests.conftest import (
    OPERATOR_AUTH,
    OTHER_AUTH,
    QUICK_RELAY,
    TENANT,
    TENANT_AUTH,
    Running,
    bearer,
    settings_for,
    start_running,
)
from tests.polling import eventually
from tests.webhook_support import Receiver

STRIPE_SECRET = "whsec_relay_test"
SQUARE_KEY = "square-signature-key"
PUBLIC_URL = "https://relay.example.com"
COINBASE_SECRET = "coinbase-secret"


@pytest.fixture
async def relay(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    running = await start_running(
        settings_for(
            migrated_url,
            ISA_CLIENTS_FILE=str(clients_file),
            ISA_STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
            ISA_SQUARE_WEBHOOK_SIGNATURE_KEY=SQUARE_KEY,
            ISA_PUBLIC_RELAY_URL=PUBLIC_URL,
            ISA_COINBASE_WEBHOOK_SECRET=COINBASE_SECRET,
            ISA_RELAY_MAX_BODY_BYTES="4096",
            **QUICK_RELAY,
        )
    )
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


def stub(server: Running) -> webhook_service_pb2_grpc.WebhookServiceStub:
    return webhook_service_pb2_grpc.WebhookServiceStub(server.channel)


class StateApplier:
    """Moves a resource to the state an event carries, never backwards (by ``seq``)."""

    def __init__(self, *, failures: int = 0) -> None:
        self.failures = failures

    async def prepare(self, event: NormalizedGatewayEvent) -> None:
        return None

    def committed(self, prepared: None) -> None:
        """Nothing prepared, so nothing to move on once applied."""

    async def close(self, grace: float) -> None:
        """Nothing runs in the background."""

    async def apply(
        self, session: AsyncSession, event: NormalizedGatewayEvent, prepared: None
    ) -> ApplyResult:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("the ledger is busy")
        change: dict[str, Any] = event.payload["data"]["object"]
        resource = str(change["id"])
        latest = await session.scalar(
            select(EventRow.payload)
            .where(EventRow.resource_id == resource, EventRow.type == "payment.updated")
            .order_by(EventRow.id.desc())
            .limit(1)
        )
        if latest is not None and json.loads(latest)["data"]["seq"] >= change["seq"]:
            return ApplyResult(
                outcome=ApplyOutcome.IGNORED, resource_id=resource, client_id=TENANT[0]
            )
        await record_event(
            session,
            client_id=TENANT[0],
            event_type="payment.updated",
            resource_id=resource,
            data={"seq": change["seq"], "status": change["status"]},
            gateway_event_id=event.id,
        )
        return ApplyResult(
            outcome=ApplyOutcome.PROCESSED, resource_id=resource, client_id=TENANT[0]
        )


def sandbox_event(
    event_id: str, resource: str = "pi_1", seq: int = 1, status: str = "succeeded"
) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": f"payment_intent.{status}",
            "data": {"object": {"id": resource, "seq": seq, "status": status}},
        }
    ).encode()


def sandbox_headers(body: bytes, message_id: str = "msg_1") -> dict[str, str]:
    now = dt.datetime.now(dt.UTC)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(SANDBOX_WEBHOOK_SECRET).sign(
            message_id, now, body.decode()
        ),
    }


async def post(
    server: Running, gateway: str, body: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.relay_url}/webhooks/{gateway}", data=body, headers=headers) as response,
    ):
        return response.status, await response.json(content_type=None)


async def listed(
    server: Running, auth: Any = OPERATOR_AUTH, **filters: Any
) -> list[resources.GatewayEvent]:
    """The gateway events ``auth``'s client sees: by default the operator's (the unowned)."""
    response = await stub(server).ListGatewayEvents(
        pb.ListGatewayEventsRequest(page_size=500, **filters), metadata=auth
    )
    return list(response.gateway_events)


async def test_unknown_gateway_is_404_and_bad_signatures_store_nothing(relay: Running) -> None:
    body = sandbox_event("sbx_1")
    status, _ = await post(relay, "bitbank", body, sandbox_headers(body))
    assert status == 404
    tampered = sandbox_headers(body)
    status, answer = await post(relay, "sandbox", body.replace(b"pi_1", b"pi_2"), tampered)
    assert status == 401
    assert "signature" in answer["error"]
    missing = sandbox_headers(body)
    del missing["webhook-signature"]
    assert (await post(relay, "sandbox", body, missing))[0] == 401
    stripe_header = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_other")
    assert (await post(relay, "stripe", body, {"Stripe-Signature": stripe_header}))[0] == 401
    assert (await post(relay, "paypal", body, {}))[0] == 401  # not configured here
    assert await listed(relay) == []


async def test_oversized_body_is_413(relay: Running) -> None:
    body = json.dumps({"id": "sbx_big", "type": "x", "pad": "x" * 5000}).encode()
    status, _ = await post(relay, "sandbox", body, sandbox_headers(body))
    assert status == 413
    assert await listed(relay) == []


async def test_event_without_an_applier_is_kept_listed_and_applied_once_one_exists(
    relay: Running,
) -> None:
    # Payments apply stripe and sandbox events; nothing applies coinbase's yet.
    body = json.dumps(
        {
            "id": 1,
            "event": {"id": "cb_wait", "type": "charge:confirmed"},
            "data": {"object": {"id": "pi_1", "seq": 1, "status": "succeeded"}},
        }
    ).encode()
    signature = hmac.new(COINBASE_SECRET.encode(), body, hashlib.sha256).hexdigest()
    status, answer = await post(relay, "coinbase", body, {"X-CC-Webhook-Signature": signature})
    assert status == 200
    assert answer["duplicate"] is False
    [event] = await listed(relay, status=resources.GATEWAY_EVENT_STATUS_RECEIVED)
    assert event.id == answer["id"]
    assert event.gateway_event_id == "cb_wait"
    assert event.payload == body.decode()
    assert "no applier is registered" in event.error

    relay.runtime.appliers.register("coinbase", StateApplier())

    async def processed() -> list[resources.GatewayEvent]:
        return await listed(relay, TENANT_AUTH, status=resources.GATEWAY_EVENT_STATUS_PROCESSED)

    [applied] = await eventually(processed)
    assert applied.resource_id == "pi_1"
    assert applied.attempt_count == 1
    assert applied.process_time.seconds > 0


async def test_duplicate_answers_200_and_changes_nothing(relay: Running) -> None:
    relay.runtime.appliers.register("sandbox", StateApplier())
    body = sandbox_event("sbx_dup")
    first = await post(relay, "sandbox", body, sandbox_headers(body, "m1"))
    again = await post(relay, "sandbox", body, sandbox_headers(body, "m2"))
    assert first[0] == again[0] == 200
    assert again[1] == {"id": first[1]["id"], "duplicate": True}
    # Once applied the event is the tenant's (until then only the operator sees it).
    assert len(await eventually(lambda: listed(relay, TENANT_AUTH))) == 1
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{relay.relay_url}/metrics") as response,
    ):
        text = await response.text()
    assert 'isa_relay_inbound_webhooks_total{gateway="sandbox",outcome="duplicate"} 1.0' in text
    assert 'isa_relay_inbound_webhooks_total{gateway="sandbox",outcome="verified"} 2.0' in text


async def test_failed_application_is_retried_visible_and_reprocessable(relay: Running) -> None:
    applier = StateApplier(failures=1)
    relay.runtime.appliers.register("sandbox", applier)
    body = sandbox_event("sbx_fail")
    await post(relay, "sandbox", body, sandbox_headers(body))

    async def failed() -> list[resources.GatewayEvent]:
        return await listed(relay, status=resources.GATEWAY_EVENT_STATUS_FAILED)

    [event] = await eventually(failed)
    assert "the ledger is busy" in event.error
    assert event.attempt_count == 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(relay).ReprocessGatewayEvent(
            pb.ReprocessGatewayEventRequest(id="gev_nope"), metadata=TENANT_AUTH
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # Unowned while it fails: only the operator may reprocess it.
    response = await stub(relay).ReprocessGatewayEvent(
        pb.ReprocessGatewayEventRequest(id=event.id, idempotency_key="reprocess-1"),
        metadata=OPERATOR_AUTH,
    )
    assert response.gateway_event.status == resources.GATEWAY_EVENT_STATUS_PROCESSED
    assert response.gateway_event.error == ""
    assert response.gateway_event.attempt_count == 2
    # Now owned by the tenant: another client no longer sees it.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(relay).ReprocessGatewayEvent(
            pb.ReprocessGatewayEventRequest(id=event.id), metadata=OTHER_AUTH
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    # Reprocessing again applies nothing twice: the state is already there.
    again = await stub(relay).ReprocessGatewayEvent(
        pb.ReprocessGatewayEventRequest(id=event.id), metadata=TENANT_AUTH
    )
    assert again.gateway_event.status == resources.GATEWAY_EVENT_STATUS_IGNORED


async def ids(server: Running, auth: Any) -> set[str]:
    return {event.id for event in await listed(server, auth)}


async def reprocess_code(server: Running, event_id: str, auth: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).ReprocessGatewayEvent(
            pb.ReprocessGatewayEventRequest(id=event_id), metadata=auth
        )
    return caught.value.code()


async def test_unowned_events_are_listed_and_reprocessed_by_the_operator_only(
    relay: Running,
) -> None:
    # Unowned while its application fails: its payload may be any tenant's payment.
    relay.runtime.appliers.register("sandbox", StateApplier(failures=1))
    body = sandbox_event("sbx_unowned")
    await post(relay, "sandbox", body, sandbox_headers(body))
    [event] = await eventually(lambda: listed(relay, status=resources.GATEWAY_EVENT_STATUS_FAILED))
    assert event.payload == body.decode()
    assert await ids(relay, TENANT_AUTH) == set()
    assert await ids(relay, OTHER_AUTH) == set()
    # A tenant learns nothing: the same answer as for an id that does not exist.
    assert await reprocess_code(relay, event.id, TENANT_AUTH) == grpc.StatusCode.NOT_FOUND
    assert await reprocess_code(relay, event.id, OTHER_AUTH) == grpc.StatusCode.NOT_FOUND

    response = await stub(relay).ReprocessGatewayEvent(
        pb.ReprocessGatewayEventRequest(id=event.id), metadata=OPERATOR_AUTH
    )
    assert response.gateway_event.status == resources.GATEWAY_EVENT_STATUS_PROCESSED
    # Applied, it is the tenant's own: listed for that tenant alone.
    assert await ids(relay, TENANT_AUTH) == {event.id}
    assert await ids(relay, OTHER_AUTH) == set()
    assert await ids(relay, OPERATOR_AUTH) == set()


async def test_the_dev_client_is_the_operator(migrated_url: str) -> None:
    running = await start_running(settings_for(migrated_url, **QUICK_RELAY))
    try:
        body = sandbox_event("sbx_dev")
        status, answer = await post(running, "sandbox", body, sandbox_headers(body))
        assert status == 200
        # Nothing applies sandbox events here: it stays unowned, and the dev client sees it.
        assert await ids(running, bearer("dev-token")) == {answer["id"]}
    finally:
        await running.channel.close()
        await running.runtime.stop(grace=0)


async def test_verified_payload_is_forwarded_re_signed_to_subscribed_endpoints(
    relay: Running,
) -> None:
    receiver = await Receiver().start()
    try:
        endpoint = (
            await stub(relay).CreateEndpoint(
                pb.CreateEndpointRequest(
                    url=receiver.url,
                    event_types=["invoice.*"],
                    forward_gateway_events=["sandbox.*"],
                ),
                metadata=TENANT_AUTH,
            )
        ).endpoint
        relay.runtime.appliers.register("sandbox", StateApplier())
        body = sandbox_event("sbx_fwd")
        await post(relay, "sandbox", body, sandbox_headers(body))

        async def arrived() -> bool:
            return len(receiver.received) >= 1

        await eventually(arrived)
    finally:
        await receiver.stop()
    [got] = receiver.received
    assert got.body == body
    assert (
        standardwebhooks.Webhook(endpoint.secret).verify(got.body, got.headers)["id"] == "sbx_fwd"
    )
    events = await stub(relay).ListEvents(
        pb.ListEventsRequest(type="gateway.sandbox.payment_intent.succeeded"), metadata=TENANT_AUTH
    )
    [forwarded] = events.events
    assert forwarded.id == got.headers["webhook-id"]
    assert forwarded.gateway_event_id.startswith("gev_")
    assert forwarded.payload == body.decode()


async def test_stripe_square_and_coinbase_events_are_verified_and_stored(relay: Running) -> None:
    stripe_body = json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"})
    header = stripe.WebhookSignature.generate_signature_header(stripe_body, STRIPE_SECRET)
    assert (await post(relay, "stripe", stripe_body.encode(), {"Stripe-Signature": header}))[
        0
    ] == 200

    square_body = b'{"event_id":"sq-1","type":"payment.updated","data":{}}'
    url = PUBLIC_URL + "/webhooks/square"
    signature = base64.b64encode(
        hmac.new(SQUARE_KEY.encode(), url.encode() + square_body, hashlib.sha256).digest()
    ).decode()
    square_headers = {"x-square-hmacsha256-signature": signature}
    assert (await post(relay, "square", square_body, square_headers))[0] == 200

    coinbase_body = b'{"id":1,"event":{"id":"cb-1","type":"charge:confirmed"}}'
    coinbase_headers = {
        "X-CC-Webhook-Signature": hmac.new(
            COINBASE_SECRET.encode(), coinbase_body, hashlib.sha256
        ).hexdigest()
    }
    assert (await post(relay, "coinbase", coinbase_body, coinbase_headers))[0] == 200

    stored = {(e.gateway, e.gateway_event_id, e.type) for e in await listed(relay)}
    assert stored == {
        ("stripe", "evt_1", "payment_intent.succeeded"),
        ("square", "sq-1", "payment.updated"),
        ("coinbase", "cb-1", "charge:confirmed"),
    }
    assert [e.gateway for e in await listed(relay, gateway="square")] == ["square"]


async def test_a_thousand_events_with_duplicates_shuffled_apply_once_each(
    relay: Running, migrated_url: str
) -> None:
    relay.runtime.appliers.register("sandbox", StateApplier())
    rng = random.Random(7)
    statuses = ["processing", "requires_capture", "succeeded", "refunded"]
    unique = [
        (f"sbx_{resource}_{seq}", f"pi_{resource}", seq, statuses[seq - 1])
        for resource in range(250)
        for seq in range(1, 5)
    ]
    sends = unique + rng.sample(unique, 300)
    rng.shuffle(sends)
    gate = asyncio.Semaphore(16)
    answers: list[tuple[int, dict[str, Any]]] = []

    async def send(index: int, event: tuple[str, str, int, str]) -> None:
        body = sandbox_event(event[0], event[1], event[2], event[3])
        async with gate:
            answers.append(await post(relay, "sandbox", body, sandbox_headers(body, f"m{index}")))

    await asyncio.gather(*(send(i, e) for i, e in enumerate(sends)))
    assert {status for status, _ in answers} == {200}
    assert sum(1 for _, answer in answers if answer["duplicate"]) == 300

    db = Database(migrated_url)
    try:

        async def settled() -> bool:
            async with db.read() as session:
                open_ = await session.scalar(
                    select(func.count()).where(GatewayEventRow.status.in_(("received", "failed")))
                )
            return open_ == 0

        await eventually(settled, seconds=120)
        async with db.read() as session:
            stored = await session.scalar(select(func.count()).select_from(GatewayEventRow))
            applied = (
                await session.execute(
                    select(EventRow.gateway_event_id, func.count())
                    .where(EventRow.type == "payment.updated")
                    .group_by(EventRow.gateway_event_id)
                )
            ).all()
            finals = (
                await session.execute(
                    select(EventRow.resource_id, EventRow.payload)
                    .where(EventRow.type == "payment.updated")
                    .order_by(EventRow.id)
                )
            ).all()
    finally:
        await db.dispose()
    assert stored == 1000
    assert all(count == 1 for _, count in applied)  # no gateway event applied twice
    state: dict[str, dict[str, Any]] = {}
    for resource, payload in finals:
        data = json.loads(payload)["data"]
        assert resource not in state or data["seq"] > state[resource]["seq"]  # never backwards
        state[resource] = data
    assert len(state) == 250
    assert all(s == {"seq": 4, "status": "refunded"} for s in state.values())


async def test_store_unreachable_answers_503_so_the_gateway_retries() -> None:
    running = await start_running(settings_for("postgresql+asyncpg://postgres@127.0.0.1:9/none"))
    try:
        body = sandbox_event("sbx_down")
        status, answer = await post(running, "sandbox", body, sandbox_headers(body))
    finally:
        await running.channel.close()
        await running.runtime.stop(grace=0)
    assert status == 503
    assert "retry" in answer["error"]


class AskingApplier(StateApplier):
    """An applier that must ask its provider what changed (like Plaid's reader): the
    asking happens in prepare, outside the relay's transaction, and its answer is only
    taken as applied once that transaction committed."""

    def __init__(self, db: Database, *, provider_failures: int) -> None:
        super().__init__()
        self.db = db
        self.provider_failures = provider_failures
        self.committed_with: list[str] = []

    async def prepare(self, event: NormalizedGatewayEvent) -> str:  # type: ignore[override]
        # While the provider is asked, the store's writer is free: another write commits
        # (on SQLite it would wait forever if prepare ran inside a write transaction).
        async with asyncio.timeout(10), self.db.write() as session:
            await record_event(
                session,
                client_id=TENANT[0],
                event_type="provider.asked",
                resource_id=event.id,
                data={},
            )
        if self.provider_failures > 0:
            self.provider_failures -= 1
            raise RuntimeError("the provider is unavailable")
        return f"answer for {event.id}"

    def committed(self, prepared: str) -> None:  # type: ignore[override]
        self.committed_with.append(prepared)


async def test_an_applier_asks_its_provider_outside_the_transaction_and_learns_of_the_commit(
    relay: Running,
) -> None:
    applier = AskingApplier(relay.runtime.db, provider_failures=1)
    relay.runtime.appliers.register("sandbox", applier)
    body = sandbox_event("sbx_ask")
    await post(relay, "sandbox", body, sandbox_headers(body))

    async def failed() -> list[resources.GatewayEvent]:
        return await listed(relay, status=resources.GATEWAY_EVENT_STATUS_FAILED)

    [event] = await eventually(failed)
    assert "the provider is unavailable" in event.error
    assert applier.committed_with == []  # nothing applied: a reader's cursor stays put
    response = await stub(relay).ReprocessGatewayEvent(
        pb.ReprocessGatewayEventRequest(id=event.id, idempotency_key="ask-1"),
        metadata=OPERATOR_AUTH,
    )
    assert response.gateway_event.status == resources.GATEWAY_EVENT_STATUS_PROCESSED
    assert applier.committed_with == [f"answer for {event.id}"]
