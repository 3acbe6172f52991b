"""The sandbox's webhooks: what it sends for an asynchronous change, and reading them back.

The simulator speaks Stripe's event shape (``payment_intent.*`` / ``refund.updated``
with the object's state in ``data.object``), so consumers and the relay treat it like
a provider's test mode. :func:`payment_event` writes one; :func:`sandbox_update` reads
one into the domain's terms.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from typing import Any, Final

from gateways.types import ChargeResult, Outcome, PaymentError, RefundResult
from gateways.updates import GatewayUpdate

_PAYMENT_TYPES: Final = {
    Outcome.SUCCEEDED: "payment_intent.succeeded",
    Outcome.REQUIRES_CAPTURE: "payment_intent.amount_capturable_updated",
    Outcome.REQUIRES_ACTION: "payment_intent.requires_action",
    Outcome.PROCESSING: "payment_intent.processing",
    Outcome.CANCELED: "payment_intent.canceled",
    Outcome.DECLINED: "payment_intent.payment_failed",
}
_REFUND_STATUS: Final = {
    Outcome.SUCCEEDED: "succeeded",
    Outcome.PROCESSING: "pending",
    Outcome.DECLINED: "failed",
}


def _envelope(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_sandbox_{secrets.token_hex(12)}",
        "object": "event",
        "type": event_type,
        "created": int(time.time()),
        "data": {"object": obj},
    }


def payment_event(result: ChargeResult) -> dict[str, Any] | None:
    """The event announcing a payment's new state (None for UNKNOWN: nothing to say)."""
    event_type = _PAYMENT_TYPES.get(result.outcome)
    if event_type is None:
        return None
    error = result.error
    return _envelope(
        event_type,
        {
            "id": result.gateway_reference,
            "object": "payment_intent",
            "status": result.outcome.value,
            "amount_capturable": result.amount_capturable,
            "amount_received": result.amount_received,
            "next_action_url": result.redirect_url,
            "last_payment_error": None
            if error is None
            else {"code": error.code, "decline_code": error.decline_code, "message": error.message},
        },
    )


def refund_event(result: RefundResult) -> dict[str, Any] | None:
    status = _REFUND_STATUS.get(result.outcome)
    if status is None:
        return None
    return _envelope(
        "refund.updated",
        {"id": result.gateway_reference, "object": "refund", "status": status},
    )


def _error(value: object) -> PaymentError | None:
    if not isinstance(value, dict):
        return None
    return PaymentError(
        code=str(value.get("code") or "payment_failed"),
        decline_code=str(value.get("decline_code") or ""),
        message=str(value.get("message") or ""),
    )


def sandbox_update(event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None:
    """Read a sandbox event; None for anything that is not a payment or refund change."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str) or not obj["id"]:
        return None
    try:
        if event_type in _PAYMENT_TYPES.values() and obj.get("object") == "payment_intent":
            outcome = Outcome(str(obj.get("status")))
            if _PAYMENT_TYPES.get(outcome) != event_type:
                return None  # a type that contradicts its object: not trusted
            return GatewayUpdate(
                payment=ChargeResult(
                    outcome=outcome,
                    gateway_reference=obj["id"],
                    amount_capturable=int(obj.get("amount_capturable") or 0),
                    amount_received=int(obj.get("amount_received") or 0),
                    redirect_url=str(obj.get("next_action_url") or ""),
                    error=_error(obj.get("last_payment_error")),
                )
            )
        if event_type == "refund.updated" and obj.get("object") == "refund":
            by_status = {status: outcome for outcome, status in _REFUND_STATUS.items()}
            refund_outcome = by_status.get(str(obj.get("status")))
            if refund_outcome is None:
                return None
            return GatewayUpdate(
                refunds=(RefundResult(outcome=refund_outcome, gateway_reference=obj["id"]),)
            )
    except (TypeError, ValueError):
        return None
    return None
