"""The domain entry points the webhook relay will call: what a gateway says about a
payment or a refund is applied once, and never moves an intent backwards."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from gateways.registry import Registry
from gateways.router import Router
from gateways.sandbox import SandboxConfig, SandboxGateway
from gateways.types import ChargeResult, Outcome, PaymentError, RefundResult
from server.payments.intents import NewPaymentIntent, NewRefund, PaymentIntentService
from store.db import Database
from store.models import EventRow
from store.payment_models import RefundRow
from store.payments import CaptureMethod, IntentStatus, RefundStatus

CLIENT = "tenant-portal"


def service(db: Database) -> PaymentIntentService:
    return PaymentIntentService(db, Router(Registry([SandboxGateway(SandboxConfig())])))


async def event_count(db: Database, resource_id: str) -> int:
    async with db.read() as session:
        counted = await session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.resource_id == resource_id)
        )
    return int(counted or 0)


def paid(**fields: object) -> NewPaymentIntent:
    values: dict[str, object] = {
        "amount": 5000,
        "currency": "usd",
        "payment_method_id": "pm_card_visa",
        "confirm": True,
        **fields,
    }
    return NewPaymentIntent(**values)  # type: ignore[arg-type]


async def test_a_late_decline_never_undoes_a_success(db: Database) -> None:
    payments = service(db)
    intent = await payments.create(CLIENT, "k1", paid())
    assert intent.status is IntentStatus.SUCCEEDED
    before = await event_count(db, intent.id)
    late = ChargeResult(
        outcome=Outcome.DECLINED,
        gateway_reference=intent.gateway_reference,
        error=PaymentError(code="card_declined"),
    )
    async with db.write() as session:
        after = await payments.apply_gateway_payment(session, gateway="sandbox", result=late)
    assert after is not None
    assert after.status is IntentStatus.SUCCEEDED
    assert after.last_error is None
    assert await event_count(db, intent.id) == before


async def test_a_capture_seen_by_the_gateway_applies_once(db: Database) -> None:
    payments = service(db)
    intent = await payments.create(CLIENT, "k2", paid(capture_method=CaptureMethod.MANUAL))
    assert intent.status is IntentStatus.REQUIRES_CAPTURE
    captured = ChargeResult(
        outcome=Outcome.SUCCEEDED,
        gateway_reference=intent.gateway_reference,
        amount_received=4000,
    )
    for _ in range(2):
        async with db.write() as session:
            after = await payments.apply_gateway_payment(
                session, gateway="sandbox", result=captured
            )
        assert after is not None
        assert (after.status, after.amount_received) == (IntentStatus.SUCCEEDED, 4000)
    async with db.read() as session:
        succeeded = await session.scalar(
            select(func.count())
            .select_from(EventRow)
            .where(EventRow.resource_id == intent.id, EventRow.type == "payment.succeeded")
        )
    assert succeeded == 1
    stale = ChargeResult(
        outcome=Outcome.REQUIRES_CAPTURE,
        gateway_reference=intent.gateway_reference,
        amount_capturable=5000,
    )
    async with db.write() as session:
        after = await payments.apply_gateway_payment(session, gateway="sandbox", result=stale)
    assert after is not None
    assert after.status is IntentStatus.SUCCEEDED


async def test_an_unknown_reference_changes_nothing(db: Database) -> None:
    async with db.write() as session:
        found = await service(db).apply_gateway_payment(
            session,
            gateway="sandbox",
            result=ChargeResult(outcome=Outcome.SUCCEEDED, gateway_reference="pi_elsewhere"),
        )
    assert found is None


async def test_a_refund_settles_once(db: Database) -> None:
    payments = service(db)
    intent = await payments.create(CLIENT, "k3", paid())
    refund = await payments.refund(
        CLIENT, "r3", NewRefund(payment_intent_id=intent.id, amount=1000)
    )
    assert refund.status is RefundStatus.SUCCEEDED
    again = RefundResult(outcome=Outcome.SUCCEEDED, gateway_reference=refund.gateway_reference)
    failed = RefundResult(outcome=Outcome.DECLINED, gateway_reference=refund.gateway_reference)
    for result in (again, failed):
        async with db.write() as session:
            after = await payments.apply_gateway_refund(session, gateway="sandbox", result=result)
        assert after.status is RefundStatus.SUCCEEDED
    current = await payments.get(CLIENT, intent.id)
    assert current.amount_refunded == 1000


async def test_an_outside_refund_applied_twice_at_once_is_one_refund(db: Database) -> None:
    """Two relay workers applying the same refund's events at the same time (PostgreSQL:
    in parallel; the intent's row lock orders them) record it once."""
    payments = service(db)
    intent = await payments.create(CLIENT, "k4", paid())
    outside = RefundResult(
        outcome=Outcome.SUCCEEDED,
        gateway_reference="re_dashboard",
        amount=1000,
        currency="usd",
        payment_reference=intent.gateway_reference,
    )

    async def apply() -> str:
        async with db.write() as session:
            refund = await payments.adopt_gateway_refund(session, gateway="sandbox", result=outside)
        assert refund is not None
        return refund.id

    first, second = await asyncio.gather(apply(), apply())
    assert first == second
    async with db.read() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(RefundRow)
            .where(RefundRow.payment_intent_id == intent.id)
        )
    assert stored == 1
    assert await event_count(db, first) == 2  # refund.created, refund.succeeded
    assert (await payments.get(CLIENT, intent.id)).amount_refunded == 1000
    # Not about a payment of ours, or saying no payment: nothing to adopt.
    for stray in (
        RefundResult(outcome=Outcome.SUCCEEDED, gateway_reference="re_x", amount=5),
        RefundResult(
            outcome=Outcome.SUCCEEDED,
            gateway_reference="re_y",
            amount=5,
            payment_reference="pi_elsewhere",
        ),
    ):
        async with db.write() as session:
            assert (
                await payments.adopt_gateway_refund(session, gateway="sandbox", result=stray)
            ) is None
