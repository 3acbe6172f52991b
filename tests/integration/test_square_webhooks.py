"""Square's webhooks applied to payments, end to end over real HTTP and gRPC.

A recording server stands in for connect.squareup.com (Prism's Square description has
no examples to carry a payment id from the charge to the webhook); the service charges
through the official SDK, then the relay receives a Square-signed ``payment.updated``
for that payment and the intent moves as Square says.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.webhook.v1 import resources_pb2 as wres
from isa.webhook.v1 import webhook_service_pb2 as wpb
from isa.webhook.v1 import webhook_service_pb2_grpc as wgrpc
from server.config import Settings
from tests.conftest import QUICK_RELAY, TENANT_AUTH, Running, settings_for, start_running
from tests.contract.peers import Recorded, RecordingStripe
from tests.integration.test_payments import create

S = res.PaymentIntentStatus
SIGNATURE_KEY = "square-webhook-signature-key"
PUBLIC_URL = "https://relay.example.test"


def square_payment(status: str) -> dict[str, Any]:
    return {
        "id": "sq_pay_webhook_1",
        "status": status,
        "amount_money": {"amount": 4200, "currency": "USD"},
        "total_money": {"amount": 4200, "currency": "USD"},
        "version_token": f"v-{status}",
    }


def answer(request: Recorded) -> tuple[int, dict[str, Any]]:
    if request.method == "POST" and request.path == "/v2/payments":
        return 200, {"payment": square_payment("APPROVED")}
    return 404, {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND"}]}


@pytest.fixture
async def square() -> AsyncIterator[RecordingStripe]:
    fake = RecordingStripe(reply=answer)
    await fake.start()
    yield fake
    await fake.stop()


def square_settings(migrated_url: str, clients_file: Path, base: str) -> Settings:
    """Square enabled against a recorded-HTTP fake at ``base``, its webhooks signed with
    :data:`SIGNATURE_KEY` for :data:`PUBLIC_URL`, the relay applying promptly."""
    return settings_for(
        migrated_url,
        ISA_CLIENTS_FILE=str(clients_file),
        ISA_GATEWAYS="square",
        ISA_SQUARE_ACCESS_TOKEN="EAAA-recorded",
        ISA_SQUARE_LOCATION_ID="L-RECORDED",
        ISA_SQUARE_BASE_URL=base,
        ISA_SQUARE_WEBHOOK_SIGNATURE_KEY=SIGNATURE_KEY,
        ISA_PUBLIC_RELAY_URL=PUBLIC_URL,
        **QUICK_RELAY,
    )


@asynccontextmanager
async def square_server(migrated_url: str, clients_file: Path, base: str) -> AsyncIterator[Running]:
    """The service with Square (at ``base``) as its only gateway, stopped on exit."""
    running = await start_running(square_settings(migrated_url, clients_file, base))
    try:
        yield running
    finally:
        await running.channel.close()
        await running.runtime.stop(grace=0)


@pytest.fixture
async def server(
    migrated_url: str, clients_file: Path, square: RecordingStripe
) -> AsyncIterator[Running]:
    async with square_server(migrated_url, clients_file, square.base) as running:
        yield running


async def post_square_event(server: Running, event: dict[str, Any]) -> int:
    body = json.dumps(event).encode()
    signed = (PUBLIC_URL + "/webhooks/square").encode() + body
    signature = base64.b64encode(
        hmac.new(SIGNATURE_KEY.encode(), signed, hashlib.sha256).digest()
    ).decode()
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.relay_url}/webhooks/square",
            data=body,
            headers={
                "content-type": "application/json",
                "x-square-hmacsha256-signature": signature,
            },
        ) as response,
    ):
        return response.status


async def intent_status(server: Running, intent_id: str) -> res.PaymentIntent:
    response = await server.payments().GetPaymentIntent(
        pb.GetPaymentIntentRequest(id=intent_id), metadata=TENANT_AUTH
    )
    return response.payment_intent


async def square_events_applied(server: Running, count: int) -> None:
    """Wait until ``count`` Square events are stored and none is still waiting to apply."""
    stub = wgrpc.WebhookServiceStub(server.channel)
    deadline = time.monotonic() + 30
    while True:
        listed = await stub.ListGatewayEvents(
            wpb.ListGatewayEventsRequest(gateway="square", page_size=50), metadata=TENANT_AUTH
        )
        statuses = [e.status for e in listed.gateway_events]
        if len(statuses) == count and wres.GATEWAY_EVENT_STATUS_RECEIVED not in statuses:
            return
        assert time.monotonic() < deadline, f"square events not applied: {statuses}"
        await asyncio.sleep(0.05)


async def test_a_square_payment_updated_webhook_completes_the_authorized_intent(
    server: Running,
) -> None:
    intent = await create(
        server,
        amount=4200,
        payment_method_id="cnon:card-nonce-ok",
        capture_method=res.CAPTURE_METHOD_MANUAL,
        confirm=True,
    )
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE
    assert intent.gateway == "square"

    event = {
        "merchant_id": "ML-RECORDED",
        "type": "payment.updated",
        "event_id": "b5d3f1a0-1111-4a7e-9d2c-000000000001",
        "created_at": "2026-12-02T12:00:00Z",
        "data": {
            "type": "payment",
            "id": "sq_pay_webhook_1",
            "object": {"payment": square_payment("COMPLETED")},
        },
    }
    assert await post_square_event(server, event) == 200

    deadline = time.monotonic() + 30
    while (current := await intent_status(server, intent.id)).status != (
        S.PAYMENT_INTENT_STATUS_SUCCEEDED
    ):
        assert time.monotonic() < deadline, f"still {S.Name(current.status)}"
        await asyncio.sleep(0.05)
    assert current.amount_received == 4200

    # The same event again (Square retries) changes nothing; an older state never wins.
    assert await post_square_event(server, event) == 200
    stale = {**event, "event_id": "b5d3f1a0-1111-4a7e-9d2c-000000000002"}
    stale["data"] = {**event["data"], "object": {"payment": square_payment("APPROVED")}}
    assert await post_square_event(server, stale) == 200
    await square_events_applied(server, 2)
    assert (await intent_status(server, intent.id)).status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
