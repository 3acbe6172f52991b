"""Square's webhook events read into domain updates (the same tables as API answers).

A ``payment.created`` / ``payment.updated`` event carries the whole Payment under
``data.object.payment``, a ``refund.created`` / ``refund.updated`` the whole
PaymentRefund under ``data.object.refund``; the state is read from that object, never
guessed from the event's type. A status we do not know, an object without an id, or any
other event type reads as None.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

from gateways.square.gateway import PAYMENT_STATUSES, REFUND_STATUSES, charge_result, refund_result
from gateways.types import DisputeResult, DisputeStatus
from gateways.updates import GatewayUpdate

PAYMENT_EVENTS: Final = frozenset({"payment.created", "payment.updated"})
REFUND_EVENTS: Final = frozenset({"refund.created", "refund.updated"})
#: A Dispute under ``data.object.object``; ``dispute.state.changed`` is the older name.
DISPUTE_EVENTS: Final = frozenset(
    {"dispute.created", "dispute.state.updated", "dispute.state.changed"}
)
#: Square's dispute states in the shared (Stripe's) vocabulary; ACCEPTED is the seller
#: conceding: the cardholder keeps the money, as when the dispute is lost.
DISPUTE_STATES: Final = {
    "INQUIRY_EVIDENCE_REQUIRED": DisputeStatus.WARNING_NEEDS_RESPONSE,
    "INQUIRY_PROCESSING": DisputeStatus.WARNING_UNDER_REVIEW,
    "INQUIRY_CLOSED": DisputeStatus.WARNING_CLOSED,
    "EVIDENCE_REQUIRED": DisputeStatus.NEEDS_RESPONSE,
    "PROCESSING": DisputeStatus.UNDER_REVIEW,
    "WON": DisputeStatus.WON,
    "LOST": DisputeStatus.LOST,
    "ACCEPTED": DisputeStatus.LOST,
}


def _object(event: Mapping[str, Any], kind: str, statuses: frozenset[str]) -> dict[str, Any] | None:
    data = event.get("data")
    wrapper = data.get("object") if isinstance(data, dict) else None
    found = wrapper.get(kind) if isinstance(wrapper, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("id"), str) or not found["id"]:
        return None
    return found if found.get("status") in statuses else None


def _dispute(event: Mapping[str, Any]) -> GatewayUpdate | None:
    data = event.get("data")
    wrapper = data.get("object") if isinstance(data, dict) else None
    dispute = wrapper.get("object") if isinstance(wrapper, dict) else None
    if not isinstance(dispute, dict):
        return None
    reference = dispute.get("id") or dispute.get("dispute_id")
    status = DISPUTE_STATES.get(str(dispute.get("state")))
    payment = (dispute.get("disputed_payment") or {}).get("payment_id")
    money = dispute.get("amount_money") or {}
    if not reference or status is None or not payment or "amount" not in money:
        return None
    due = dispute.get("due_at")
    return GatewayUpdate(
        dispute=DisputeResult(
            gateway_reference=str(reference),
            payment_reference=str(payment),
            amount=int(money["amount"]),
            currency=str(money.get("currency") or "").lower(),
            status=status,
            reason=str(dispute.get("reason") or "").lower(),
            evidence_due_time=dt.datetime.fromisoformat(due) if due else None,
        )
    )


def square_update(event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None:
    """The update a Square event carries, or None when it carries none we apply."""
    try:
        if event_type in PAYMENT_EVENTS:
            payment = _object(event, "payment", PAYMENT_STATUSES)
            return None if payment is None else GatewayUpdate(payment=charge_result(payment))
        if event_type in REFUND_EVENTS:
            refund = _object(event, "refund", REFUND_STATUSES)
            return None if refund is None else GatewayUpdate(refunds=(refund_result(refund),))
        if event_type in DISPUTE_EVENTS:
            return _dispute(event)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a malformed object is not an update
    return None
