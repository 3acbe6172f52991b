"""Disputes: a cardholder's bank contesting one of our payments, as each gateway reports it.

The sandbox opens and decides them through SandboxService (and sends its signed
webhook too); Stripe's and Square's signed webhooks arrive at the relay. Each way the
dispute is recorded once per gateway dispute, announced (dispute.created, .updated,
.closed) and read back with GetDispute / ListDisputes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from tests.conftest import OTHER_AUTH, TENANT_AUTH, Running, serving
from tests.contract.peers import RecordingStripe, localstripe_card
from tests.integration.test_outside_refunds_gateways import (
    SQUARE_PAYMENT,
    applied,
    localstripe,  # noqa: F401  (the module's localstripe fixture)
    post_stripe_event,
    square_answer,
    stripe_server,  # noqa: F401  (the sandbox and Stripe, on localstripe)
)
from tests.integration.test_payments import create, events
from tests.integration.test_square_webhooks import post_square_event, square_settings

D = res.DisputeStatus


def sandbox(server: Running) -> sb_grpc.SandboxServiceStub:
    return sb_grpc.SandboxServiceStub(server.channel)


async def disputes_of(server: Running, intent_id: str) -> list[res.Dispute]:
    listed = await server.payments().ListDisputes(
        pb.ListDisputesRequest(payment_intent_id=intent_id), metadata=TENANT_AUTH
    )
    return list(listed.disputes)


async def announced(server: Running, dispute_id: str) -> list[str]:
    """The dispute's own events (the relayed gateway event is recorded beside them)."""
    return [kind for kind in await events(server, dispute_id) if kind.startswith("dispute.")]


async def open_dispute(server: Running, intent_id: str, **fields: Any) -> res.Dispute:
    answer = await sandbox(server).OpenTestDispute(
        sb.OpenTestDisputeRequest(payment_intent_id=intent_id, **fields), metadata=TENANT_AUTH
    )
    return answer.dispute


# --- the sandbox --------------------------------------------------------------------------


async def test_a_sandbox_chargeback_is_recorded_once_announced_and_decided(
    quick_relay_server: Running,
) -> None:
    server = quick_relay_server
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    opened = await open_dispute(
        server, intent.id, reason="product_not_received", idempotency_key="d1"
    )
    assert opened.id.startswith("dp_")
    assert (opened.payment_intent_id, opened.amount, opened.currency, opened.status) == (
        intent.id,
        2999,
        "usd",
        D.DISPUTE_STATUS_NEEDS_RESPONSE,
    )
    assert (opened.reason, opened.gateway) == ("product_not_received", "sandbox")
    assert opened.gateway_reference.startswith("dp_sandbox_")
    due = opened.evidence_due_time.ToDatetime(tzinfo=dt.UTC)
    assert dt.timedelta(days=6) < due - dt.datetime.now(dt.UTC) < dt.timedelta(days=8)

    # The same key again opens no second dispute; the sandbox's own webhook, relayed
    # meanwhile, changes nothing either.
    again = await open_dispute(
        server, intent.id, reason="product_not_received", idempotency_key="d1"
    )
    assert again == opened
    await applied(server, "sandbox", 1)
    assert await disputes_of(server, intent.id) == [opened]
    fetched = await server.payments().GetDispute(
        pb.GetDisputeRequest(id=opened.id), metadata=TENANT_AUTH
    )
    assert fetched.dispute == opened
    assert await announced(server, opened.id) == ["dispute.created"]

    closed = await sandbox(server).CloseTestDispute(
        sb.CloseTestDisputeRequest(dispute_id=opened.id, won=False), metadata=TENANT_AUTH
    )
    assert closed.dispute.status == D.DISPUTE_STATUS_LOST
    assert await announced(server, opened.id) == ["dispute.created", "dispute.closed"]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await sandbox(server).CloseTestDispute(
            sb.CloseTestDisputeRequest(dispute_id=opened.id, won=True), metadata=TENANT_AUTH
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    [stored] = await disputes_of(server, intent.id)
    assert stored.status == D.DISPUTE_STATUS_LOST


async def test_a_partial_sandbox_dispute_and_the_ones_refused(server: Running) -> None:
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    partial = await open_dispute(server, intent.id, amount=1000)
    assert (partial.amount, partial.reason) == (1000, "fraudulent")
    with pytest.raises(grpc.aio.AioRpcError) as too_much:
        await open_dispute(server, intent.id, amount=3000)
    assert too_much.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "amount" in (too_much.value.details() or "")

    unpaid = await create(server, payment_method_id="pm_card_visa")
    with pytest.raises(grpc.aio.AioRpcError) as not_paid:
        await open_dispute(server, unpaid.id)
    assert not_paid.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as negative:
        await open_dispute(server, intent.id, amount=-1)
    assert negative.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await disputes_of(server, intent.id) == [partial]
    assert await disputes_of(server, unpaid.id) == []


async def test_disputes_are_read_only_by_their_own_client(server: Running) -> None:
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    opened = await open_dispute(server, intent.id)
    payments = server.payments()
    with pytest.raises(grpc.aio.AioRpcError) as hidden:
        await payments.GetDispute(pb.GetDisputeRequest(id=opened.id), metadata=OTHER_AUTH)
    assert hidden.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await payments.ListDisputes(pb.ListDisputesRequest(), metadata=OTHER_AUTH)
    assert list(listed.disputes) == []
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await payments.GetDispute(pb.GetDisputeRequest(id="re_nope"), metadata=TENANT_AUTH)
    assert malformed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as bad_filter:
        await payments.ListDisputes(
            pb.ListDisputesRequest(payment_intent_id="cus_nope"), metadata=TENANT_AUTH
        )
    assert bad_filter.value.code() == grpc.StatusCode.INVALID_ARGUMENT


# --- Stripe ---------------------------------------------------------------------------------


def stripe_dispute(intent_reference: str, status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "dp_stripe_webhook_1",
        "object": "dispute",
        "amount": 2999,
        "currency": "usd",
        "charge": "ch_webhook_1",
        "payment_intent": intent_reference,
        "reason": "fraudulent",
        "status": status,
        "evidence_details": {"due_by": 1_800_000_000},
        **extra,
    }


async def test_stripe_dispute_webhooks_open_update_and_close_one_dispute(
    stripe_server: Running,  # noqa: F811
    localstripe: str,  # noqa: F811
) -> None:
    server = stripe_server
    card = await asyncio.to_thread(localstripe_card, localstripe, "4242424242424242")
    intent = await create(server, gateway="stripe", payment_method_id=card, confirm=True)
    assert intent.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    reference = intent.gateway_reference

    await post_stripe_event(
        server, "charge.dispute.created", stripe_dispute(reference, "needs_response")
    )
    await applied(server, "stripe", 1)
    [opened] = await disputes_of(server, intent.id)
    assert (opened.status, opened.amount, opened.reason, opened.gateway_reference) == (
        D.DISPUTE_STATUS_NEEDS_RESPONSE,
        2999,
        "fraudulent",
        "dp_stripe_webhook_1",
    )
    assert opened.evidence_due_time.seconds == 1_800_000_000

    await post_stripe_event(
        server,
        "charge.dispute.updated",
        stripe_dispute(reference, "under_review"),
        event_id="evt_dispute_review",
    )
    await post_stripe_event(
        server, "charge.dispute.closed", stripe_dispute(reference, "won"), event_id="evt_won"
    )
    await applied(server, "stripe", 3)
    # Stripe retries an older event: a decided dispute never reopens.
    await post_stripe_event(
        server,
        "charge.dispute.updated",
        stripe_dispute(reference, "needs_response"),
        event_id="evt_dispute_stale",
    )
    # A dispute of a payment that is not ours is not recorded.
    await post_stripe_event(
        server,
        "charge.dispute.created",
        stripe_dispute("pi_elsewhere", "needs_response", id="dp_elsewhere"),
    )
    await applied(server, "stripe", 5)
    [won] = await disputes_of(server, intent.id)
    assert (won.id, won.status) == (opened.id, D.DISPUTE_STATUS_WON)
    assert await announced(server, opened.id) == [
        "dispute.created",
        "dispute.updated",
        "dispute.closed",
    ]
    everything = await server.payments().ListDisputes(
        pb.ListDisputesRequest(), metadata=TENANT_AUTH
    )
    assert [d.id for d in everything.disputes] == [opened.id]


# --- Square ---------------------------------------------------------------------------------


@pytest.fixture
async def square_server(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    fake = RecordingStripe(reply=square_answer)
    await fake.start()
    async for running in serving(square_settings(migrated_url, clients_file, fake.base)):
        yield running
    await fake.stop()


def square_dispute_event(event_type: str, state: str, number: int) -> dict[str, Any]:
    dispute = {
        "id": "sq_dispute_1",
        "amount_money": {"amount": 4200, "currency": "USD"},
        "reason": "NO_KNOWLEDGE",
        "state": state,
        "due_at": "2026-12-20T00:00:00Z",
        "disputed_payment": {"payment_id": SQUARE_PAYMENT},
        "card_brand": "VISA",
        "location_id": "L-RECORDED",
    }
    return {
        "merchant_id": "ML-RECORDED",
        "type": event_type,
        "event_id": f"d9e0a2b4-3333-4a7e-9d2c-00000000000{number}",
        "created_at": "2026-12-06T12:00:00Z",
        "data": {"type": "dispute", "id": dispute["id"], "object": {"object": dispute}},
    }


async def test_square_dispute_webhooks_open_and_close_a_dispute(square_server: Running) -> None:
    intent = await create(square_server, amount=4200, payment_method_id="cnon:ok", confirm=True)
    assert (intent.status, intent.gateway) == (res.PAYMENT_INTENT_STATUS_SUCCEEDED, "square")
    created = square_dispute_event("dispute.created", "EVIDENCE_REQUIRED", 1)
    assert await post_square_event(square_server, created) == 200
    await applied(square_server, "square", 1)
    [opened] = await disputes_of(square_server, intent.id)
    assert (opened.status, opened.amount, opened.currency, opened.reason) == (
        D.DISPUTE_STATUS_NEEDS_RESPONSE,
        4200,
        "usd",
        "no_knowledge",
    )
    assert opened.evidence_due_time.ToDatetime(tzinfo=dt.UTC) == dt.datetime(
        2026, 12, 20, tzinfo=dt.UTC
    )
    # The seller accepts it: the cardholder keeps the money, as when it is lost.
    accepted = square_dispute_event("dispute.state.updated", "ACCEPTED", 2)
    assert await post_square_event(square_server, accepted) == 200
    await applied(square_server, "square", 2)
    [lost] = await disputes_of(square_server, intent.id)
    assert (lost.id, lost.status) == (opened.id, D.DISPUTE_STATUS_LOST)
    assert await announced(square_server, opened.id) == ["dispute.created", "dispute.closed"]
