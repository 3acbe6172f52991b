"""Square's webhook events read as payment updates (gateways/square/events.py).

The events are shaped as Square's OpenAPI description defines PaymentUpdatedEvent and
RefundUpdatedEvent (../shared/specs/square-connect-api.json): the object sits under
``data.object.payment`` / ``data.object.refund``.
"""

from __future__ import annotations

from typing import Any

import pytest

from gateways.square.events import square_update
from gateways.types import Outcome
from gateways.wiring import PAYMENT_UPDATE_READERS


def event(kind: str, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "merchant_id": "ML1",
        "type": event_type,
        "event_id": "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc",
        "created_at": "2026-12-02T12:00:00.000Z",
        "data": {"type": kind, "id": obj.get("id", ""), "object": {kind: obj}},
    }


def payment(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY",
        "status": status,
        "amount_money": {"amount": 1500, "currency": "USD"},
        **extra,
    }


@pytest.mark.parametrize(
    ("status", "outcome", "capturable", "received"),
    [
        ("APPROVED", Outcome.REQUIRES_CAPTURE, 1500, 0),
        ("COMPLETED", Outcome.SUCCEEDED, 0, 1500),
        ("CANCELED", Outcome.CANCELED, 0, 0),
        ("FAILED", Outcome.DECLINED, 0, 0),
        ("PENDING", Outcome.PROCESSING, 0, 0),
    ],
)
def test_a_payment_event_reads_as_its_payments_state(
    status: str, outcome: Outcome, capturable: int, received: int
) -> None:
    update = square_update("payment.updated", event("payment", "payment.updated", payment(status)))
    assert update is not None
    assert update.payment is not None
    assert update.payment.outcome is outcome
    assert update.payment.gateway_reference == "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY"
    assert (update.payment.amount_capturable, update.payment.amount_received) == (
        capturable,
        received,
    )
    assert update.refunds == ()


def test_a_failed_payment_carries_the_decline_reason() -> None:
    failed = payment(
        "FAILED",
        card_details={
            "status": "FAILED",
            "errors": [{"category": "PAYMENT_METHOD_ERROR", "code": "INSUFFICIENT_FUNDS"}],
        },
    )
    update = square_update("payment.updated", event("payment", "payment.updated", failed))
    assert update is not None
    assert update.payment is not None
    assert update.payment.error is not None
    assert update.payment.error.code == "card_declined"
    assert update.payment.error.decline_code == "insufficient_funds"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("COMPLETED", Outcome.SUCCEEDED),
        ("PENDING", Outcome.PROCESSING),
        ("REJECTED", Outcome.DECLINED),
        ("FAILED", Outcome.DECLINED),
    ],
)
def test_a_refund_event_reads_as_its_refunds_state(status: str, outcome: Outcome) -> None:
    refund = {"id": "rf_1", "status": status, "payment_id": "R2B3", "amount_money": {}}
    update = square_update("refund.updated", event("refund", "refund.updated", refund))
    assert update is not None
    assert update.payment is None
    [result] = update.refunds
    assert (result.gateway_reference, result.outcome) == ("rf_1", outcome)


@pytest.mark.parametrize(
    "body",
    [
        event("payment", "payment.updated", payment("SOMETHING_NEW")),  # never guessed
        event("payment", "payment.updated", {"status": "COMPLETED"}),  # no id
        event("refund", "payment.updated", {"id": "rf_1", "status": "COMPLETED"}),  # wrong kind
        {"type": "payment.updated", "data": {}},
        {"type": "payment.updated", "data": {"object": {"payment": "R2B3"}}},
        {"type": "payment.updated", "data": "nothing"},
    ],
)
def test_unknown_or_malformed_objects_are_no_update(body: dict[str, Any]) -> None:
    assert square_update("payment.updated", body) is None


def test_other_event_types_are_no_update_and_the_relay_has_the_reader() -> None:
    body = event("payment", "payment.updated", payment("COMPLETED"))
    assert square_update("customer.created", body) is None
    assert square_update("dispute.created", body) is None
    assert PAYMENT_UPDATE_READERS["square"] is square_update


@pytest.mark.parametrize("event_type", ["refund.created", "refund.updated"])
def test_a_refund_event_says_how_much_of_which_payment(event_type: str) -> None:
    refund = {
        "id": "rf_2",
        "status": "PENDING",
        "payment_id": "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY",
        "amount_money": {"amount": 700, "currency": "CAD"},
    }
    update = square_update(event_type, event("refund", event_type, refund))
    assert update is not None
    [result] = update.refunds
    assert (result.amount, result.currency, result.payment_reference) == (
        700,
        "cad",
        "R2B3Z8WMVt3EAmzYWLZvz7Y69EbZY",
    )
