"""The sandbox's webhooks: what it sends for an asynchronous change, and reading them back.

The simulator speaks Stripe's event shape (``payment_intent.*`` / ``refund.updated`` /
``charge.dispute.*`` with the object's state in ``data.object``), so consumers and the
relay treat it like a provider's test mode. :func:`payment_event` writes one;
:func:`sandbox_update` reads one into the domain's terms.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from gateways.sandbox.refs import sandbox_ref
from gateways.stripe.events import dispute_update
from gateways.types import (
    BankTransferResult,
    ChargeResult,
    DisputeResult,
    Outcome,
    PaymentError,
    RefundResult,
)
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
        "id": sandbox_ref("evt", length=24),
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
            "last_payment_error": _error_object(error),
        },
    )


def _error_object(error: PaymentError | None) -> dict[str, str] | None:
    if error is None:
        return None
    return {"code": error.code, "decline_code": error.decline_code, "message": error.message}


def refund_event(result: RefundResult) -> dict[str, Any] | None:
    status = _REFUND_STATUS.get(result.outcome)
    if status is None:
        return None
    return _envelope(
        "refund.updated",
        {
            "id": result.gateway_reference,
            "object": "refund",
            "status": status,
            "amount": result.amount,
            "currency": result.currency,
            "payment_intent": result.payment_reference,
            "failure": _error_object(result.error),
        },
    )


#: The sandbox's transfer statuses (Plaid's names) by outcome, and their event types.
_TRANSFER_STATUS: Final = {
    Outcome.PROCESSING: "pending",
    Outcome.SUCCEEDED: "settled",
    Outcome.DECLINED: "returned",
}
_TRANSFER_TYPES: Final = {status: f"bank_transfer.{status}" for status in _TRANSFER_STATUS.values()}


def bank_transfer_event(result: BankTransferResult) -> dict[str, Any]:
    """The event announcing an ACH transfer's new state (Plaid would say
    ``TRANSFER_EVENTS_UPDATE`` and be asked; the simulator sends the state itself)."""
    status = _TRANSFER_STATUS.get(result.outcome, "pending")
    error = result.error
    return _envelope(
        _TRANSFER_TYPES[status],
        {
            "id": result.gateway_reference,
            "object": "bank_transfer",
            "status": status,
            "amount": result.amount,
            "authorization_id": result.authorization_reference,
            "return_code": result.return_code,
            "settled_before_return": result.settled_before_return,
            "failure": _error_object(error),
        },
    )


def _bank_transfer(event_type: str, obj: Mapping[str, Any]) -> GatewayUpdate | None:
    status = str(obj.get("status"))
    if _TRANSFER_TYPES.get(status) != event_type:
        return None  # a type that contradicts its object: not trusted
    outcome = {v: k for k, v in _TRANSFER_STATUS.items()}[status]
    return GatewayUpdate(
        bank_transfers=(
            BankTransferResult(
                outcome=outcome,
                gateway_reference=obj["id"],
                authorization_reference=str(obj.get("authorization_id") or ""),
                amount=int(obj.get("amount") or 0),
                return_code=str(obj.get("return_code") or ""),
                settled_before_return=obj.get("settled_before_return") is True,
                error=_error(obj.get("failure")),
            ),
        )
    )


def _error(value: object) -> PaymentError | None:
    if not isinstance(value, dict):
        return None
    return PaymentError(
        code=str(value.get("code") or "payment_failed"),
        decline_code=str(value.get("decline_code") or ""),
        message=str(value.get("message") or ""),
    )


_DISPUTE_TYPES: Final = frozenset({"charge.dispute.created", "charge.dispute.closed"})


def dispute_event(result: DisputeResult, *, created: bool) -> dict[str, Any]:
    """A dispute opened or decided, shaped as Stripe's ``charge.dispute.*``."""
    due = result.evidence_due_time
    return _envelope(
        "charge.dispute.created" if created else "charge.dispute.closed",
        {
            "id": result.gateway_reference,
            "object": "dispute",
            "payment_intent": result.payment_reference,
            "amount": result.amount,
            "currency": result.currency,
            "status": result.status.value,
            "reason": result.reason,
            "evidence_details": {"due_by": None if due is None else int(due.timestamp())},
        },
    )


def sandbox_update(event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None:
    """Read a sandbox event; None for anything that is not a payment, refund or bank
    transfer change."""
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
        if event_type in _DISPUTE_TYPES and obj.get("object") == "dispute":
            return dispute_update(obj)
        if event_type in _TRANSFER_TYPES.values() and obj.get("object") == "bank_transfer":
            return _bank_transfer(event_type, obj)
        if event_type == "refund.updated" and obj.get("object") == "refund":
            by_status = {status: outcome for outcome, status in _REFUND_STATUS.items()}
            refund_outcome = by_status.get(str(obj.get("status")))
            if refund_outcome is None:
                return None
            return GatewayUpdate(
                refunds=(
                    RefundResult(
                        outcome=refund_outcome,
                        gateway_reference=obj["id"],
                        error=_error(obj.get("failure"))
                        if refund_outcome is Outcome.DECLINED
                        else None,
                        amount=int(obj.get("amount") or 0),
                        currency=str(obj.get("currency") or "").lower(),
                        payment_reference=str(obj.get("payment_intent") or ""),
                    ),
                )
            )
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
    return None
