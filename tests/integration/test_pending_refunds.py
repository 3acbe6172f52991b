"""Refunds a gateway left pending are looked up when their webhook does not come.

Square answers every refund PENDING and says how it ended by webhook only. Here no
webhook ever reaches the relay; a recording server stands in for connect.squareup.com
(the official SDK talks to it over real HTTP), and the reconciler's look at the refund
settles it as Square reports it, once, with the same effects as the webhook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from tests.conftest import TENANT_AUTH, Running
from tests.contract.peers import Recorded, RecordingStripe
from tests.integration.test_payment_faults import reconciler
from tests.integration.test_payments import create, events, key
from tests.integration.test_square_webhooks import square_server

PAYMENT_ID = "sq_pay_pending_refund"
REFUND_ID = "sq_refund_pending_1"
NOW = dt.timedelta(0)


class SquareRefunds:
    """Square's side: one completed payment; its refund's status is the test's to set."""

    def __init__(self) -> None:
        self.refund_status = "PENDING"
        self.answered_id = REFUND_ID

    def refund(self) -> dict[str, Any]:
        return {
            "id": self.answered_id,
            "status": self.refund_status,
            "payment_id": PAYMENT_ID,
            "amount_money": {"amount": 1500, "currency": "USD"},
        }

    def answer(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        if request.method == "POST" and request.path == "/v2/payments":
            money = {"amount": 4200, "currency": "USD"}
            payment = {"id": PAYMENT_ID, "status": "COMPLETED", "amount_money": money}
            return 200, {"payment": {**payment, "total_money": money}}
        if request.method == "POST" and request.path == "/v2/refunds":
            return 200, {"refund": {**self.refund(), "id": REFUND_ID, "status": "PENDING"}}
        if request.method == "GET" and request.path == f"/v2/refunds/{REFUND_ID}":
            return 200, {"refund": self.refund()}
        return 404, {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "NOT_FOUND"}]}


@pytest.fixture
def square_side() -> SquareRefunds:
    return SquareRefunds()


@pytest.fixture
async def square(square_side: SquareRefunds) -> AsyncIterator[RecordingStripe]:
    fake = RecordingStripe(reply=square_side.answer)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def server(
    migrated_url: str, clients_file: Path, square: RecordingStripe
) -> AsyncIterator[Running]:
    async with square_server(migrated_url, clients_file, square.base) as running:
        yield running


def lookups(square: RecordingStripe) -> int:
    return sum(
        1 for r in square.requests if (r.method, r.path) == ("GET", f"/v2/refunds/{REFUND_ID}")
    )


async def pending_refund(server: Running) -> tuple[res.PaymentIntent, res.Refund]:
    intent = await create(server, amount=4200, payment_method_id="cnon:card-nonce-ok", confirm=True)
    assert intent.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    refund = (
        await server.payments().CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, amount=1500, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    ).refund
    assert refund.status == res.REFUND_STATUS_PENDING
    return intent, refund


async def current(server: Running, refund_id: str) -> res.Refund:
    answer = await server.payments().GetRefund(
        pb.GetRefundRequest(id=refund_id), metadata=TENANT_AUTH
    )
    return answer.refund


async def refunded(server: Running, intent_id: str) -> int:
    answer = await server.payments().GetPaymentIntent(
        pb.GetPaymentIntentRequest(id=intent_id), metadata=TENANT_AUTH
    )
    return answer.payment_intent.amount_refunded


async def test_a_refund_square_completed_without_a_webhook_succeeds_on_a_look(
    server: Running, square: RecordingStripe, square_side: SquareRefunds
) -> None:
    intent, refund = await pending_refund(server)

    # Still pending at Square: asked, nothing changes and nothing is announced.
    assert await reconciler(server).reconcile(pending_refund_look=NOW) == 0
    assert lookups(square) == 1
    assert (await current(server, refund.id)).status == res.REFUND_STATUS_PENDING
    assert "refund.succeeded" not in await events(server, refund.id)

    square_side.refund_status = "COMPLETED"
    assert await reconciler(server).reconcile(pending_refund_look=NOW) == 1
    settled = await current(server, refund.id)
    assert settled.status == res.REFUND_STATUS_SUCCEEDED
    assert await refunded(server, intent.id) == 1500
    assert (await events(server, refund.id)).count("refund.succeeded") == 1

    # Settled refunds are never asked about again, nor applied twice.
    assert await reconciler(server).reconcile(pending_refund_look=NOW) == 0
    assert lookups(square) == 2
    assert await refunded(server, intent.id) == 1500


async def test_a_refund_square_failed_without_a_webhook_fails_on_a_look(
    server: Running, square: RecordingStripe, square_side: SquareRefunds
) -> None:
    intent, refund = await pending_refund(server)
    square_side.refund_status = "FAILED"
    assert await reconciler(server).reconcile(pending_refund_look=NOW) == 1
    failed = await current(server, refund.id)
    assert failed.status == res.REFUND_STATUS_FAILED
    assert failed.last_error.code == "refund_failed"
    assert await refunded(server, intent.id) == 0
    assert (await events(server, refund.id)).count("refund.failed") == 1


async def test_a_pending_refund_waits_a_period_for_its_webhook_before_a_look(
    server: Running, square: RecordingStripe, square_side: SquareRefunds
) -> None:
    _, refund = await pending_refund(server)
    square_side.refund_status = "COMPLETED"
    assert await reconciler(server).reconcile() == 0  # just made: its webhook may yet come
    assert lookups(square) == 0
    # Looked at and still pending, it waits a period again before the next look.
    square_side.refund_status = "PENDING"
    await reconciler(server).reconcile(pending_refund_look=NOW)
    assert await reconciler(server).reconcile(pending_refund_look=dt.timedelta(minutes=1)) == 0
    assert lookups(square) == 1
    assert (await current(server, refund.id)).status == res.REFUND_STATUS_PENDING


async def test_an_answer_about_another_refund_is_not_applied(
    server: Running, square: RecordingStripe, square_side: SquareRefunds
) -> None:
    intent, refund = await pending_refund(server)
    square_side.refund_status, square_side.answered_id = "COMPLETED", "sq_refund_someone_else"
    assert await reconciler(server).reconcile(pending_refund_look=NOW) == 0
    assert (await current(server, refund.id)).status == res.REFUND_STATUS_PENDING
    assert await refunded(server, intent.id) == 0
