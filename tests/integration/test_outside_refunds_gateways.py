"""Refunds made in Stripe's and Square's dashboards, adopted from their signed webhooks,
end to end: a real charge through each adapter's SDK, the refund made at the provider
(localstripe's API; a Square-shaped PaymentRefund), the provider's event posted signed
to the relay, and the refund shows up as ours.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import stripe

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.webhook.v1 import resources_pb2 as whres
from tests.conftest import TENANT_AUTH, Running, serving
from tests.contract.peers import Recorded, RecordingStripe, localstripe_card, start_localstripe
from tests.integration.test_deposit_refunds import refunds_of
from tests.integration.test_payment_gateway_events import (
    STRIPE_SECRET,
    gateway_events,
    get_intent,
    localstripe_call,
    stripe_settings,
)
from tests.integration.test_payments import create
from tests.integration.test_square_webhooks import post_square_event, square_settings
from tests.polling import eventually

G = whres.GatewayEventStatus
SQUARE_PAYMENT = "sq_pay_outside_1"


async def applied(server: Running, gateway: str, count: int) -> list[whres.GatewayEvent]:
    """Wait until ``count`` events of ``gateway`` are stored and each is applied or ignored."""

    async def check() -> list[whres.GatewayEvent] | None:
        found = await gateway_events(server, gateway=gateway)
        done = (G.GATEWAY_EVENT_STATUS_PROCESSED, G.GATEWAY_EVENT_STATUS_IGNORED)
        if len(found) == count and all(event.status in done for event in found):
            return found
        return None

    return await eventually(check)


# --- Stripe (localstripe) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    yield from start_localstripe()


@pytest.fixture
async def stripe_server(
    migrated_url: str, clients_file: Path, localstripe: str
) -> AsyncIterator[Running]:
    async for running in serving(stripe_settings(migrated_url, clients_file, localstripe)):
        yield running


async def post_stripe_event(
    server: Running, event_type: str, obj: dict[str, Any], *, event_id: str = ""
) -> None:
    body = json.dumps(
        {
            "id": event_id or f"evt_{event_type}_{obj['id']}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "type": event_type,
            "data": {"object": obj},
        }
    )
    header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.relay_url}/webhooks/stripe",
            data=body.encode(),
            headers={"content-type": "application/json", "Stripe-Signature": header},
        ) as answer,
    ):
        assert answer.status == 200


async def test_a_refund_made_in_the_stripe_dashboard_is_adopted_once(
    stripe_server: Running, localstripe: str
) -> None:
    card = await asyncio.to_thread(localstripe_card, localstripe, "4242424242424242")
    intent = await create(stripe_server, gateway="stripe", payment_method_id=card, confirm=True)
    assert intent.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    # The dashboard refunds part of it at Stripe: the service never asked.
    made = await asyncio.to_thread(
        localstripe_call,
        localstripe,
        "POST",
        "/v1/refunds",
        payment_intent=intent.gateway_reference,
        amount="1200",
    )
    assert made["payment_intent"] == intent.gateway_reference
    charge = await asyncio.to_thread(
        localstripe_call, localstripe, "GET", f"/v1/charges/{made['charge']}"
    )
    # Stripe sends refund.created with the refund, and charge.refunded with the charge
    # (listing its refunds only when expanded): one refund either way.
    await post_stripe_event(stripe_server, "refund.created", made)
    await post_stripe_event(stripe_server, "charge.refunded", charge)
    await applied(stripe_server, "stripe", 2)
    [found] = await refunds_of(stripe_server, intent.id)
    assert (found.status, found.amount, found.currency, found.gateway_reference) == (
        res.REFUND_STATUS_SUCCEEDED,
        1200,
        "usd",
        made["id"],
    )
    assert dict(found.metadata) == {"isa_origin": "gateway"}
    assert (await get_intent(stripe_server, intent.id)).amount_refunded == 1200
    # The rest is still ours to refund, through Stripe.
    rest = await stripe_server.payments().CreateRefund(
        pb.CreateRefundRequest(payment_intent_id=intent.id, idempotency_key="rest"),
        metadata=TENANT_AUTH,
    )
    assert (rest.refund.status, rest.refund.amount) == (res.REFUND_STATUS_SUCCEEDED, 2999 - 1200)


# --- Square (a recorded connect.squareup.com) -------------------------------------------


def square_payment() -> dict[str, Any]:
    return {
        "id": SQUARE_PAYMENT,
        "status": "COMPLETED",
        "amount_money": {"amount": 4200, "currency": "USD"},
        "total_money": {"amount": 4200, "currency": "USD"},
        "version_token": "v-completed",
    }


def square_answer(request: Recorded) -> tuple[int, dict[str, Any]]:
    if request.method == "POST" and request.path == "/v2/payments":
        return 200, {"payment": square_payment()}
    return 404, {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND"}]}


@pytest.fixture
async def square_server(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    fake = RecordingStripe(reply=square_answer)
    await fake.start()
    async for running in serving(square_settings(migrated_url, clients_file, fake.base)):
        yield running
    await fake.stop()


def square_refund_event(event_type: str, status: str, number: int) -> dict[str, Any]:
    refund = {
        "id": "sq_refund_dashboard_1",
        "status": status,
        "amount_money": {"amount": 1500, "currency": "USD"},
        "payment_id": SQUARE_PAYMENT,
        "location_id": "L-RECORDED",
    }
    return {
        "merchant_id": "ML-RECORDED",
        "type": event_type,
        "event_id": f"c7e0a2b4-2222-4a7e-9d2c-00000000000{number}",
        "created_at": "2026-12-03T12:00:00Z",
        "data": {"type": "refund", "id": refund["id"], "object": {"refund": refund}},
    }


async def test_a_refund_made_in_the_square_dashboard_is_adopted_and_completes(
    square_server: Running,
) -> None:
    intent = await create(square_server, amount=4200, payment_method_id="cnon:ok", confirm=True)
    assert (intent.status, intent.gateway) == (res.PAYMENT_INTENT_STATUS_SUCCEEDED, "square")
    created = square_refund_event("refund.created", "PENDING", 1)
    assert await post_square_event(square_server, created) == 200
    await applied(square_server, "square", 1)
    [pending] = await refunds_of(square_server, intent.id)
    assert (pending.status, pending.amount, pending.gateway_reference) == (
        res.REFUND_STATUS_PENDING,
        1500,
        "sq_refund_dashboard_1",
    )
    assert dict(pending.metadata) == {"isa_origin": "gateway"}
    # Square retries the same event, then says the refund completed.
    assert await post_square_event(square_server, created) == 200
    completed = square_refund_event("refund.updated", "COMPLETED", 2)
    assert await post_square_event(square_server, completed) == 200
    await applied(square_server, "square", 2)
    [done] = await refunds_of(square_server, intent.id)
    assert (done.id, done.status) == (pending.id, res.REFUND_STATUS_SUCCEEDED)
    assert (await get_intent(square_server, intent.id)).amount_refunded == 1500
