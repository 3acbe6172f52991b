"""Square's webhook events read into domain updates (the same tables as API answers).

A ``payment.created`` / ``payment.updated`` event carries the whole Payment under
``data.object.payment``, a ``refund.created`` / ``refund.updated`` the whole
PaymentRefund under ``data.object.refund``; the state is read from that object, never
guessed from the event's type. A status we do not know, an object without an id, or any
other event type reads as None.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gateways.square.gateway import PAYMENT_STATUSES, REFUND_STATUSES, charge_result, refund_result
from gateways.updates import GatewayUpdate

PAYMENT_EVENTS: Final = frozenset({"payment.created", "payment.updated"})
REFUND_EVENTS: Final = frozenset({"refund.created", "refund.updated"})


def _object(event: Mapping[str, Any], kind: str, statuses: frozenset[str]) -> dict[str, Any] | None:
    data = event.get("data")
    wrapper = data.get("object") if isinstance(data, dict) else None
    found = wrapper.get(kind) if isinstance(wrapper, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("id"), str) or not found["id"]:
        return None
    return found if found.get("status") in statuses else None


def square_update(event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None:
    """The update a Square event carries, or None when it carries none we apply."""
    try:
        if event_type in PAYMENT_EVENTS:
            payment = _object(event, "payment", PAYMENT_STATUSES)
            return None if payment is None else GatewayUpdate(payment=charge_result(payment))
        if event_type in REFUND_EVENTS:
            refund = _object(event, "refund", REFUND_STATUSES)
            return None if refund is None else GatewayUpdate(refunds=(refund_result(refund),))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None  # a malformed object is not an update
    return None
