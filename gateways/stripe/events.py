"""Stripe's webhook events read into domain updates (the same tables as API answers).

A refund event's update carries the refund's amount, currency and PaymentIntent, so a
refund made in the Stripe dashboard (one the service never asked for) can be adopted.

The state is read from the event's object, not from its type: an event type only
says which objects are worth reading. Anything else (customer.*, payment_intent.created,
…) is not about a change the payments domain tracks, and reads as None.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from gateways.stripe.gateway import account_result, charge_result, id_of, refund_result
from gateways.types import CheckoutCompletion, DisputeResult, DisputeStatus, RefundResult
from gateways.updates import GatewayUpdate

PAYMENT_EVENTS: Final = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.canceled",
        "payment_intent.requires_action",
        "payment_intent.amount_capturable_updated",
        "payment_intent.processing",
    }
)
#: The statuses a payment_intent.* event's object may carry and we read.
PAYMENT_STATUSES: Final = frozenset(
    {
        "succeeded",
        "requires_payment_method",
        "canceled",
        "requires_action",
        "requires_capture",
        "processing",
    }
)
#: Events whose object is a Refund.
REFUND_EVENTS: Final = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)
#: Events whose object is a Charge listing its refunds.
CHARGE_REFUND_EVENTS: Final = frozenset({"charge.refunded"})
#: Events whose object is a Connect account (onboarding finished, requirements due).
ACCOUNT_EVENTS: Final = frozenset({"account.updated"})
#: Events whose object is a Checkout Session the payer finished (paid at once, or a
#: delayed method's payment arriving later).
CHECKOUT_EVENTS: Final = frozenset(
    {"checkout.session.completed", "checkout.session.async_payment_succeeded"}
)

#: Events whose object is a Dispute (a chargeback, or the inquiry before one). The
#: funds_* events say money moved; the object's status says where the dispute stands.
DISPUTE_EVENTS: Final = frozenset(
    {
        "charge.dispute.created",
        "charge.dispute.updated",
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.funds_reinstated",
    }
)
_DISPUTE_STATUSES: Final = {status.value: status for status in DisputeStatus}


def _object(event: Mapping[str, Any], kind: str) -> dict[str, Any] | None:
    data = event.get("data")
    found = data.get("object") if isinstance(data, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("id"), str) or not found["id"]:
        return None
    if found.get("object", kind) != kind:
        return None
    return found


def _of_payment(refund: RefundResult, payment: object) -> RefundResult:
    """A listed refund without its payment_intent belongs to the charge's."""
    reference = id_of(payment)
    if refund.payment_reference or not reference:
        return refund
    return dataclasses.replace(refund, payment_reference=reference)


def _checkout_update(session: dict[str, Any] | None) -> GatewayUpdate | None:
    """A paid payment-mode session, with the PaymentIntent Stripe made for it."""
    if session is None or session.get("mode") != "payment":
        return None
    if session.get("payment_status") != "paid":
        return None  # a delayed method: async_payment_succeeded follows when it pays
    payment = id_of(session.get("payment_intent"))
    if not payment:
        return None
    return GatewayUpdate(
        checkout=CheckoutCompletion(
            gateway_reference=str(session["id"]),
            payment_reference=payment,
            amount_received=int(session["amount_total"]),
            currency=str(session["currency"]),
        )
    )


def dispute_update(dispute: Mapping[str, Any] | None) -> GatewayUpdate | None:
    """A Stripe-shaped Dispute object (the sandbox sends the same) of a PaymentIntent, in
    a status we know (never a guessed one)."""
    if dispute is None:
        return None
    status = _DISPUTE_STATUSES.get(str(dispute.get("status")))
    payment = id_of(dispute.get("payment_intent"))
    if status is None or not payment:
        return None
    due = (dispute.get("evidence_details") or {}).get("due_by")
    return GatewayUpdate(
        dispute=DisputeResult(
            gateway_reference=str(dispute["id"]),
            payment_reference=payment,
            amount=int(dispute["amount"]),
            currency=str(dispute["currency"]).lower(),
            status=status,
            reason=str(dispute.get("reason") or "").lower(),
            evidence_due_time=None
            if due is None
            else dt.datetime.fromtimestamp(int(due), tz=dt.UTC),
        )
    )


def stripe_update(event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None:
    """The update a Stripe event carries, or None when it carries none we apply."""
    try:
        if event_type in PAYMENT_EVENTS:
            intent = _object(event, "payment_intent")
            if intent is None or intent.get("status") not in PAYMENT_STATUSES:
                return None  # no status we can read as an outcome: never guess
            return GatewayUpdate(payment=charge_result(intent))
        if event_type in REFUND_EVENTS:
            refund = _object(event, "refund")
            return None if refund is None else GatewayUpdate(refunds=(refund_result(refund),))
        if event_type in CHARGE_REFUND_EVENTS:
            # Since API version 2022-11-15 a charge lists its refunds only when expanded:
            # then this carries nothing (the refund.* events carry each refund).
            charge = _object(event, "charge") or {}
            listed = (charge.get("refunds") or {}).get("data") or []
            payment = charge.get("payment_intent")
            refunds = tuple(
                _of_payment(refund_result(r), payment)
                for r in listed
                if isinstance(r, dict) and r.get("id")
            )
            return GatewayUpdate(refunds=refunds) if refunds else None
        if event_type in ACCOUNT_EVENTS:
            account = _object(event, "account")
            return None if account is None else GatewayUpdate(account=account_result(account))
        if event_type in CHECKOUT_EVENTS:
            return _checkout_update(_object(event, "checkout.session"))
        if event_type in DISPUTE_EVENTS:
            return dispute_update(_object(event, "dispute"))
        if event_type == "checkout.session.expired":
            expired = _object(event, "checkout.session")
            return None if expired is None else GatewayUpdate(checkout_expired=expired["id"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a malformed object is not an update
    return None
