"""Providers' webhook events read into domain updates (no store, no network)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from gateways.sandbox.events import payment_event, refund_event, sandbox_update
from gateways.square.events import square_update
from gateways.stripe.events import stripe_update
from gateways.types import (
    AccountResult,
    ChargeResult,
    CheckoutCompletion,
    DisputeResult,
    DisputeStatus,
    Outcome,
    PaymentError,
    RefundResult,
)


def stripe_event(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"id": "evt_1", "object": "event", "type": event_type, "data": {"object": obj}}


@pytest.mark.parametrize(
    ("event_type", "status", "outcome"),
    [
        ("payment_intent.succeeded", "succeeded", Outcome.SUCCEEDED),
        ("payment_intent.payment_failed", "requires_payment_method", Outcome.DECLINED),
        ("payment_intent.canceled", "canceled", Outcome.CANCELED),
        ("payment_intent.requires_action", "requires_action", Outcome.REQUIRES_ACTION),
        ("payment_intent.amount_capturable_updated", "requires_capture", Outcome.REQUIRES_CAPTURE),
        ("payment_intent.processing", "processing", Outcome.PROCESSING),
    ],
)
def test_stripe_payment_intent_events(event_type: str, status: str, outcome: Outcome) -> None:
    intent = {
        "id": "pi_1",
        "object": "payment_intent",
        "status": status,
        "amount": 500,
        "amount_received": 500 if status == "succeeded" else 0,
        "amount_capturable": 500 if status == "requires_capture" else 0,
        "last_payment_error": {"code": "card_declined", "decline_code": "insufficient_funds"}
        if status == "requires_payment_method"
        else None,
    }
    update = stripe_update(event_type, stripe_event(event_type, intent))
    assert update is not None
    assert update.payment is not None
    assert update.payment.outcome is outcome
    assert update.payment.gateway_reference == "pi_1"
    assert update.payment.amount_received == intent["amount_received"]
    assert update.payment.amount_capturable == intent["amount_capturable"]
    if outcome is Outcome.DECLINED:
        assert update.payment.error == PaymentError(
            code="card_declined", decline_code="insufficient_funds", message="The payment failed."
        )


def test_stripe_refunds_from_a_refund_or_a_refunded_charge() -> None:
    update = stripe_update(
        "refund.updated",
        stripe_event("refund.updated", {"id": "re_1", "object": "refund", "status": "failed"}),
    )
    assert update is not None
    assert [(r.gateway_reference, r.outcome) for r in update.refunds] == [
        ("re_1", Outcome.DECLINED)
    ]
    charge = {
        "id": "ch_1",
        "object": "charge",
        "refunds": {
            "data": [
                {"id": "re_1", "object": "refund", "status": "succeeded"},
                {"id": "re_2", "object": "refund", "status": "pending"},
            ]
        },
    }
    update = stripe_update("charge.refunded", stripe_event("charge.refunded", charge))
    assert update is not None
    assert [(r.gateway_reference, r.outcome) for r in update.refunds] == [
        ("re_1", Outcome.SUCCEEDED),
        ("re_2", Outcome.PROCESSING),
    ]


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("customer.created", {"id": "cus_1", "object": "customer"}),
        ("payment_intent.created", {"id": "pi_1", "object": "payment_intent"}),
        ("payment_intent.succeeded", {"id": "ch_1", "object": "charge"}),
        ("payment_intent.succeeded", {"object": "payment_intent", "status": "succeeded"}),
        ("payment_intent.succeeded", {"id": "pi_1", "status": "succeeded", "amount": "x"}),
        ("payment_intent.processing", {"id": "pi_1", "status": "requires_confirmation"}),
        ("payment_intent.succeeded", {"id": "pi_1"}),
        ("charge.refunded", {"id": "ch_1", "object": "charge", "refunds": "nope"}),
    ],
)
def test_stripe_events_that_carry_no_update(event_type: str, obj: dict[str, Any]) -> None:
    assert stripe_update(event_type, stripe_event(event_type, obj)) is None


def test_stripe_event_without_data_carries_no_update() -> None:
    assert stripe_update("payment_intent.succeeded", {"id": "evt_1"}) is None


@pytest.mark.parametrize(
    "result",
    [
        ChargeResult(outcome=Outcome.SUCCEEDED, gateway_reference="pi_s", amount_received=700),
        ChargeResult(
            outcome=Outcome.REQUIRES_CAPTURE, gateway_reference="pi_s", amount_capturable=9
        ),
        ChargeResult(
            outcome=Outcome.DECLINED,
            gateway_reference="pi_s",
            error=PaymentError(code="authentication_failed", message="3-D Secure failed"),
        ),
        ChargeResult(outcome=Outcome.CANCELED, gateway_reference="pi_s"),
    ],
)
def test_sandbox_events_read_back_as_what_they_announce(result: ChargeResult) -> None:
    event = payment_event(result)
    assert event is not None
    assert event["id"].startswith("evt_sandbox_")
    update = sandbox_update(event["type"], event)
    assert update is not None
    assert update.payment == result


def test_sandbox_refund_event_and_contradictions() -> None:
    refund = RefundResult(outcome=Outcome.SUCCEEDED, gateway_reference="re_s")
    event = refund_event(refund)
    assert event is not None
    update = sandbox_update(event["type"], event)
    assert update is not None
    assert update.refunds == (refund,)
    succeeded = payment_event(ChargeResult(outcome=Outcome.SUCCEEDED, gateway_reference="pi_s"))
    assert succeeded is not None
    assert sandbox_update("payment_intent.payment_failed", succeeded) is None
    assert payment_event(ChargeResult(outcome=Outcome.UNKNOWN, gateway_reference="pi_s")) is None


def test_stripe_refund_events_say_how_much_of_which_payment() -> None:
    refund = {
        "id": "re_1",
        "object": "refund",
        "status": "succeeded",
        "amount": 1200,
        "currency": "EUR",
        "payment_intent": "pi_1",
        "charge": "ch_1",
    }
    for event_type in ("refund.created", "refund.updated"):
        update = stripe_update(event_type, stripe_event(event_type, refund))
        assert update is not None
        assert update.refunds == (
            RefundResult(
                outcome=Outcome.SUCCEEDED,
                gateway_reference="re_1",
                amount=1200,
                currency="eur",
                payment_reference="pi_1",
            ),
        )
    expanded = {**refund, "payment_intent": {"id": "pi_2", "object": "payment_intent"}}
    update = stripe_update("refund.updated", stripe_event("refund.updated", expanded))
    assert update is not None
    assert update.refunds[0].payment_reference == "pi_2"


def test_stripe_charge_refunded_lends_its_payment_intent_to_listed_refunds() -> None:
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_9",
        "refunds": {
            "data": [
                {"id": "re_1", "object": "refund", "status": "succeeded", "amount": 300},
                {"id": "re_2", "status": "pending", "amount": 5, "payment_intent": "pi_other"},
            ]
        },
    }
    update = stripe_update("charge.refunded", stripe_event("charge.refunded", charge))
    assert update is not None
    assert [(r.gateway_reference, r.amount, r.payment_reference) for r in update.refunds] == [
        ("re_1", 300, "pi_9"),
        ("re_2", 5, "pi_other"),
    ]
    # Since API version 2022-11-15 the refunds are listed only when expanded.
    unexpanded = {**charge, "refunds": None, "amount_refunded": 300}
    assert stripe_update("charge.refunded", stripe_event("charge.refunded", unexpanded)) is None


def test_sandbox_refund_events_carry_amount_currency_and_payment() -> None:
    refund = RefundResult(
        outcome=Outcome.DECLINED,
        gateway_reference="re_s",
        error=PaymentError(code="refund_failed", message="card closed"),
        amount=250,
        currency="usd",
        payment_reference="pi_s",
    )
    event = refund_event(refund)
    assert event is not None
    assert event["data"]["object"]["payment_intent"] == "pi_s"
    update = sandbox_update(event["type"], event)
    assert update is not None
    assert update.refunds == (refund,)


def test_a_stripe_account_updated_event_carries_the_accounts_state() -> None:
    account = {
        "id": "acct_1",
        "object": "account",
        "charges_enabled": True,
        "payouts_enabled": False,
        "details_submitted": True,
        "requirements": {"disabled_reason": None},
    }
    update = stripe_update("account.updated", stripe_event("account.updated", account))
    assert update is not None
    assert update.account == AccountResult(
        gateway_reference="acct_1",
        charges_enabled=True,
        payouts_enabled=False,
        details_submitted=True,
    )
    wrong = stripe_update(
        "account.updated", stripe_event("account.updated", {"id": "x"} | {"object": "customer"})
    )
    assert wrong is None


def test_a_paid_stripe_checkout_carries_its_payment_and_an_unpaid_one_nothing() -> None:
    session = {
        "id": "cs_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "payment_intent": {"id": "pi_1", "object": "payment_intent"},
        "amount_total": 3000,
        "currency": "usd",
    }
    update = stripe_update("checkout.session.completed", stripe_event("x", session))
    assert update is not None
    assert update.checkout == CheckoutCompletion(
        gateway_reference="cs_1", payment_reference="pi_1", amount_received=3000, currency="usd"
    )
    unpaid = session | {"payment_status": "unpaid"}  # a delayed method: not yet
    assert stripe_update("checkout.session.completed", stripe_event("x", unpaid)) is None
    subscription = session | {"mode": "subscription"}
    assert stripe_update("checkout.session.completed", stripe_event("x", subscription)) is None


def test_a_stripe_dispute_event_reads_as_a_dispute() -> None:
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 500,
        "currency": "EUR",
        "payment_intent": {"id": "pi_1", "object": "payment_intent"},  # expanded
        "reason": "Fraudulent",
        "status": "warning_needs_response",
        "evidence_details": {"due_by": 1_800_000_000},
    }
    update = stripe_update(
        "charge.dispute.created", stripe_event("charge.dispute.created", dispute)
    )
    assert update is not None
    assert update.dispute == DisputeResult(
        gateway_reference="dp_1",
        payment_reference="pi_1",
        amount=500,
        currency="eur",
        status=DisputeStatus.WARNING_NEEDS_RESPONSE,
        reason="fraudulent",
        evidence_due_time=dt.datetime.fromtimestamp(1_800_000_000, dt.UTC),
    )


@pytest.mark.parametrize(
    "change",
    [
        {"status": "charge_refunded"},  # a status we do not know is never guessed at
        {"payment_intent": None},  # a charge without a PaymentIntent is not ours
        {"object": "charge"},
        {"amount": None},
    ],
)
def test_a_stripe_dispute_event_we_cannot_read_is_no_update(change: dict[str, Any]) -> None:
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 500,
        "currency": "usd",
        "payment_intent": "pi_1",
        "status": "needs_response",
        **change,
    }
    event = stripe_event("charge.dispute.updated", dispute)
    assert stripe_update("charge.dispute.updated", event) is None


@pytest.mark.parametrize(
    ("state", "status"),
    [
        ("INQUIRY_EVIDENCE_REQUIRED", DisputeStatus.WARNING_NEEDS_RESPONSE),
        ("INQUIRY_CLOSED", DisputeStatus.WARNING_CLOSED),
        ("EVIDENCE_REQUIRED", DisputeStatus.NEEDS_RESPONSE),
        ("PROCESSING", DisputeStatus.UNDER_REVIEW),
        ("WON", DisputeStatus.WON),
        ("ACCEPTED", DisputeStatus.LOST),
    ],
)
def test_square_dispute_states_map_onto_the_shared_stages(
    state: str, status: DisputeStatus
) -> None:
    dispute = {
        "id": "sq_dp_1",
        "amount_money": {"amount": 700, "currency": "USD"},
        "state": state,
        "disputed_payment": {"payment_id": "sq_pay_1"},
    }
    event = {"type": "dispute.state.updated", "data": {"object": {"object": dispute}}}
    update = square_update("dispute.state.updated", event)
    assert update is not None
    assert update.dispute is not None
    assert (update.dispute.status, update.dispute.amount, update.dispute.currency) == (
        status,
        700,
        "usd",
    )
    assert square_update("dispute.state.updated", {"data": {"object": {"object": {}}}}) is None
