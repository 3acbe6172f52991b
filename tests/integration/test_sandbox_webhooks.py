"""The sandbox's webhook sender: signed like Standard Webhooks, retried, failures logged."""

from __future__ import annotations

import logging

import pytest
import standardwebhooks
from aiohttp import web

from gateways.sandbox.events import payment_event
from gateways.sandbox.webhooks import SandboxWebhooks
from gateways.types import ChargeResult, Outcome
from server.relay_config import SANDBOX_WEBHOOK_SECRET
from tests.contract.peers import free_port
from tests.webhook_support import Receiver


async def test_delivered_signed_after_the_receiver_fails_once() -> None:
    async def flaky(_request: web.Request, count: int) -> web.StreamResponse:
        return web.Response(status=503 if count == 1 else 200)

    receiver = await Receiver(respond=flaky).start()
    sender = SandboxWebhooks(SANDBOX_WEBHOOK_SECRET, url=receiver.url, first_pause=0.01)
    event = payment_event(ChargeResult(outcome=Outcome.SUCCEEDED, gateway_reference="pi_s"))
    assert event is not None
    try:
        sender.emit(event)
        await sender.drain(within=10)
    finally:
        await sender.close()
        await receiver.stop()
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == event["id"]
    verified = standardwebhooks.Webhook(SANDBOX_WEBHOOK_SECRET).verify(second.body, second.headers)
    assert verified == event


async def test_an_undeliverable_webhook_is_logged_not_lost_silently(
    caplog: pytest.LogCaptureFixture,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/webhooks/sandbox"
    sender = SandboxWebhooks(SANDBOX_WEBHOOK_SECRET, url=nowhere, attempts=2, first_pause=0.01)
    event = payment_event(ChargeResult(outcome=Outcome.CANCELED, gateway_reference="pi_s"))
    assert event is not None
    with caplog.at_level(logging.ERROR, logger="isa.sandbox.webhooks"):
        sender.emit(event)
        await sender.drain(within=10)
        await sender.close()
    [record] = caplog.records
    assert event["id"] in record.getMessage()
    assert "payment_intent.canceled" in record.getMessage()
