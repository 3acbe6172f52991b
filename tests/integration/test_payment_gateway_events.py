"""Gateway webhooks applied to payments, end to end with real peers.

localstripe sends its own Stripe-signed webhooks to the running relay; the sandbox sends
its signed webhooks itself. Either way the event is verified, stored, applied through the
payments domain, and the owning client's endpoint gets the signed callback, which the
test verifies with the ``standardwebhooks`` library.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import standardwebhooks

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from isa.webhook.v1 import resources_pb2 as wres
from isa.webhook.v1 import webhook_service_pb2 as wpb
from isa.webhook.v1 import webhook_service_pb2_grpc as wgrpc
from server.config import Settings
from server.relay_config import SANDBOX_WEBHOOK_SECRET
from store.payments import PaymentIntents
from tests.conftest import (
    OPERATOR_AUTH,
    QUICK_RELAY,
    TENANT_AUTH,
    Running,
    settings_for,
    start_running,
)
from tests.contract.peers import localstripe_card, start_localstripe
from tests.integration.test_payments import create
from tests.polling import eventually
from tests.webhook_support import Receiver

S = res.PaymentIntentStatus
G = wres.GatewayEventStatus
STRIPE_SECRET = "whsec_localstripe_relay"
T = TypeVar("T")


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    yield from start_localstripe()


def stripe_settings(migrated_url: str, clients_file: Path, localstripe: str) -> Settings:
    """The sandbox and Stripe (localstripe) enabled, Stripe's webhooks signed with
    :data:`STRIPE_SECRET`, the relay applying promptly."""
    return settings_for(
        migrated_url,
        ISA_CLIENTS_FILE=str(clients_file),
        ISA_GATEWAYS="sandbox,stripe",
        ISA_STRIPE_API_KEY="sk_test_isa",
        ISA_STRIPE_API_BASE=localstripe,
        ISA_STRIPE_WEBHOOK_SECRET=STRIPE_SECRET,
        **QUICK_RELAY,
    )


@pytest.fixture
async def server(migrated_url: str, clients_file: Path, localstripe: str) -> AsyncIterator[Running]:
    running = await start_running(stripe_settings(migrated_url, clients_file, localstripe))
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


def webhooks(server: Running) -> wgrpc.WebhookServiceStub:
    return wgrpc.WebhookServiceStub(server.channel)


async def endpoint(server: Running, receiver: Receiver, *forward: str) -> wres.Endpoint:
    response = await webhooks(server).CreateEndpoint(
        wpb.CreateEndpointRequest(
            url=receiver.url, event_types=["payment.*"], forward_gateway_events=list(forward)
        ),
        metadata=TENANT_AUTH,
    )
    return response.endpoint


async def gateway_events(server: Running, *auths: Any, **filters: Any) -> list[wres.GatewayEvent]:
    """The gateway events listed for ``auths``' clients, newest first; by default the
    tenant's own and the unowned ones (only the operator lists those)."""
    seen: dict[str, wres.GatewayEvent] = {}
    for auth in auths or (TENANT_AUTH, OPERATOR_AUTH):
        response = await webhooks(server).ListGatewayEvents(
            wpb.ListGatewayEventsRequest(page_size=100, **filters), metadata=auth
        )
        seen.update((event.id, event) for event in response.gateway_events)
    return sorted(seen.values(), key=lambda event: event.id, reverse=True)


def callbacks(receiver: Receiver, secret: str, event_type: str) -> list[dict[str, Any]]:
    """Every received callback of ``event_type``, each verified with standardwebhooks."""
    hook = standardwebhooks.Webhook(secret)
    verified = [hook.verify(got.body, got.headers) for got in receiver.received]
    return [payload for payload in verified if payload.get("type") == event_type]


async def get_intent(server: Running, intent_id: str) -> res.PaymentIntent:
    response = await server.payments().GetPaymentIntent(
        pb.GetPaymentIntentRequest(id=intent_id), metadata=TENANT_AUTH
    )
    intent: res.PaymentIntent = response.payment_intent
    return intent


def localstripe_call(base: str, method: str, path: str, **form: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}{path}",
        data=urllib.parse.urlencode(form).encode() if method == "POST" else None,
        headers={"Authorization": "Bearer sk_test_isa"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        text = response.read()
        answer: dict[str, Any] = json.loads(text) if text else {}  # _config answers empty
        return answer


async def test_localstripe_webhook_moves_the_intent_and_the_client_gets_the_callback(
    server: Running, receiver: Receiver, localstripe: str
) -> None:
    # localstripe signs its webhooks with this secret and posts them to our relay.
    await asyncio.to_thread(
        localstripe_call,
        localstripe,
        "POST",
        "/_config/webhooks/isa-relay",
        url=f"{server.relay_url}/webhooks/stripe",
        secret=STRIPE_SECRET,
    )
    hook = await endpoint(server, receiver, "stripe.payment_intent.*")
    card = await asyncio.to_thread(localstripe_card, localstripe, "4000002500003155")
    intent = await create(server, gateway="stripe", payment_method_id=card, confirm=True)
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION

    # The payer completes 3-D Secure at Stripe: only Stripe's webhook tells us.
    remote = await asyncio.to_thread(
        localstripe_call, localstripe, "GET", f"/v1/payment_intents/{intent.gateway_reference}"
    )
    await asyncio.to_thread(
        localstripe_call,
        localstripe,
        "POST",
        f"/v1/payment_intents/{intent.gateway_reference}/_authenticate",
        client_secret=remote["client_secret"],
        success="true",
    )

    async def succeeded() -> res.PaymentIntent | None:
        now = await get_intent(server, intent.id)
        return now if now.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED else None

    done = await eventually(succeeded)
    assert done.amount_received == 2999
    [applied] = await gateway_events(server, gateway="stripe")
    assert applied.type == "payment_intent.succeeded"
    assert applied.status == G.GATEWAY_EVENT_STATUS_PROCESSED
    assert applied.resource_id == intent.id

    async def called_back() -> list[dict[str, Any]]:
        return callbacks(receiver, hook.secret, "payment.succeeded")

    [callback] = await eventually(called_back)
    assert callback["data"]["id"] == intent.id
    assert callback["data"]["status"] == "succeeded"

    async def forwarded() -> list[dict[str, Any]]:
        raw = standardwebhooks.Webhook(hook.secret)
        return [
            payload
            for got in receiver.received
            if (payload := raw.verify(got.body, got.headers)).get("object") == "event"
        ]

    [raw_event] = await eventually(forwarded)
    assert raw_event["id"] == applied.gateway_event_id
    assert raw_event["data"]["object"]["id"] == intent.gateway_reference


async def test_sandbox_3ds_completion_is_sent_by_webhook_and_called_back(
    server: Running, receiver: Receiver
) -> None:
    hook = await endpoint(server, receiver, "sandbox.*")
    intent = await create(
        server, gateway="sandbox", payment_method_id="pm_card_authenticationRequired", confirm=True
    )
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    done = await sb_grpc.SandboxServiceStub(server.channel).CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=intent.id, succeed=True),
        metadata=TENANT_AUTH,
    )
    assert done.payment_intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED

    async def received() -> list[wres.GatewayEvent]:
        return [
            event
            for event in await gateway_events(server, gateway="sandbox")
            if event.status == G.GATEWAY_EVENT_STATUS_PROCESSED
        ]

    [webhook] = await eventually(received)
    assert webhook.type == "payment_intent.succeeded"
    assert webhook.resource_id == intent.id

    async def called_back() -> list[dict[str, Any]]:
        return callbacks(receiver, hook.secret, "payment.succeeded")

    [callback] = await eventually(called_back)
    assert callback["data"]["id"] == intent.id

    async def forwarded() -> list[dict[str, Any]]:
        raw = standardwebhooks.Webhook(hook.secret)
        return [
            payload
            for got in receiver.received
            if (payload := raw.verify(got.body, got.headers)).get("object") == "event"
        ]

    [raw_event] = await eventually(forwarded)
    assert raw_event["id"] == webhook.gateway_event_id
    assert raw_event["data"]["object"]["status"] == "succeeded"


def sandbox_event(
    event_id: str, event_type: str, obj: dict[str, Any]
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"id": event_id, "type": event_type, "data": {"object": obj}}).encode()
    now = dt.datetime.now(dt.UTC)
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": standardwebhooks.Webhook(SANDBOX_WEBHOOK_SECRET).sign(
            event_id, now, body.decode()
        ),
    }
    return body, headers


async def post_sandbox(server: Running, event_id: str, event_type: str, **obj: Any) -> str:
    body, headers = sandbox_event(event_id, event_type, obj)
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{server.relay_url}/webhooks/sandbox", data=body, headers=headers) as answer,
    ):
        assert answer.status == 200
        return str((await answer.json())["id"])


async def settled(server: Running, stored_id: str, *auths: Any) -> wres.GatewayEvent:
    async def check() -> wres.GatewayEvent | None:
        for event in await gateway_events(server, *auths):
            if event.id == stored_id and event.status in (
                G.GATEWAY_EVENT_STATUS_PROCESSED,
                G.GATEWAY_EVENT_STATUS_IGNORED,
            ):
                return event
        return None

    return await eventually(check)


async def test_out_of_order_and_unknown_events_are_ignored_never_moving_state_back(
    server: Running,
) -> None:
    intent = await create(
        server, gateway="sandbox", payment_method_id="pm_card_authenticationRequired", confirm=True
    )
    ref = intent.gateway_reference
    payment = {"object": "payment_intent", "id": ref}

    succeeded = await post_sandbox(
        server,
        "evt_1",
        "payment_intent.succeeded",
        **payment,
        status="succeeded",
        amount_received=2999,
    )
    first = await settled(server, succeeded)
    assert first.status == G.GATEWAY_EVENT_STATUS_PROCESSED
    assert first.resource_id == intent.id
    assert (await get_intent(server, intent.id)).status == S.PAYMENT_INTENT_STATUS_SUCCEEDED

    # An older event arriving late: recorded, ignored, the intent stays succeeded.
    stale = await post_sandbox(
        server, "evt_0", "payment_intent.requires_action", **payment, status="requires_action"
    )
    late = await settled(server, stale)
    assert late.status == G.GATEWAY_EVENT_STATUS_IGNORED
    assert late.resource_id == intent.id
    declined = await post_sandbox(
        server,
        "evt_00",
        "payment_intent.payment_failed",
        **payment,
        status="declined",
        last_payment_error={"code": "card_declined"},
    )
    assert (await settled(server, declined)).status == G.GATEWAY_EVENT_STATUS_IGNORED
    now = await get_intent(server, intent.id)
    assert (now.status, now.amount_received) == (S.PAYMENT_INTENT_STATUS_SUCCEEDED, 2999)

    # Not ours, not a payment change, or malformed: ignored and owned by no client, so
    # listed for the operator only (their payloads may be another tenant's); nothing crashes.
    for event_id, event_type, obj in (
        ("evt_x1", "payment_intent.succeeded", {"object": "payment_intent", "id": "pi_elsewhere"}),
        ("evt_x2", "customer.created", {"object": "customer", "id": "cus_1"}),
        (
            "evt_x3",
            "payment_intent.succeeded",
            {"object": "payment_intent", "id": ref, "status": 7},
        ),
        (
            "evt_x4",
            "refund.updated",
            {"object": "refund", "id": "re_elsewhere", "status": "failed"},
        ),
    ):
        stored = await post_sandbox(server, event_id, event_type, **obj)
        unowned = await settled(server, stored, OPERATOR_AUTH)
        assert unowned.status == G.GATEWAY_EVENT_STATUS_IGNORED
        assert stored not in {event.id for event in await gateway_events(server, TENANT_AUTH)}
    assert (await get_intent(server, intent.id)).status == S.PAYMENT_INTENT_STATUS_SUCCEEDED


async def test_a_stale_event_during_our_own_open_call_does_not_move_the_intent_back(
    server: Running,
) -> None:
    intent = await create(
        server,
        gateway="sandbox",
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
    )
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE
    async with server.runtime.db.write() as session:  # a capture of ours is at the gateway
        await PaymentIntents(session).record_attempt(
            intent.id, operation="capture", key="isa-open", amount=intent.amount
        )
    stale = await post_sandbox(
        server,
        "evt_old",
        "payment_intent.requires_action",
        object="payment_intent",
        id=intent.gateway_reference,
        status="requires_action",
    )
    assert (await settled(server, stale)).status == G.GATEWAY_EVENT_STATUS_IGNORED
    assert (await get_intent(server, intent.id)).status == S.PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE


async def test_a_refund_settled_by_webhook_never_changes_again(server: Running) -> None:
    intent = await create(server, gateway="sandbox", payment_method_id="pm_card_visa", confirm=True)
    refund = (
        await server.payments().CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, amount=999, idempotency_key="r1"),
            metadata=TENANT_AUTH,
        )
    ).refund
    assert refund.status == res.REFUND_STATUS_SUCCEEDED
    failed = await post_sandbox(
        server,
        "evt_r1",
        "refund.updated",
        object="refund",
        id=refund.gateway_reference,
        status="failed",
    )
    event = await settled(server, failed)
    assert event.status == G.GATEWAY_EVENT_STATUS_IGNORED
    assert event.resource_id == refund.id
    again = await server.payments().GetRefund(
        pb.GetRefundRequest(id=refund.id), metadata=TENANT_AUTH
    )
    assert again.refund.status == res.REFUND_STATUS_SUCCEEDED
