"""Which endpoint hears which event: event-type filters and gateway-forwarding patterns.

A pattern is an exact type, ``*``, or a trailing wildcard (``invoice.*``). Endpoints
subscribe to our own events with ``event_types`` (empty means all) and to raw gateway
events with ``forward_gateway_events`` (``<gateway>.<type>`` patterns; empty means
none). Forwarded events carry the type ``gateway.<gateway>.<type>`` and are matched
only by the forwarding patterns, so "all events" never includes raw gateway payloads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

from gateways.webhooks.registry import WEBHOOK_GATEWAYS

__all__ = ["WEBHOOK_GATEWAYS"]

#: The event types of API.md and every other type the service writes: an endpoint may
#: name any of them (a type missing here could only be had through "*" or a prefix).
KNOWN_EVENT_TYPES: Final = frozenset(
    {
        "payment.created",
        "payment.requires_capture",
        "payment_method.attached",
        "payment_method.detached",
        "connected_account.created",
        "connected_account.updated",
        "checkout.session.created",
        "checkout.session.completed",
        "checkout.session.expired",
        "bank_account.verification_failed",
        "payment.succeeded",
        "payment.failed",
        "payment.requires_action",
        "payment.canceled",
        "payment.processing",
        "refund.created",
        "refund.succeeded",
        "refund.failed",
        "subscription.created",
        "subscription.updated",
        "subscription.canceled",
        "subscription.past_due",
        "invoice.created",
        "invoice.paid",
        "invoice.payment_failed",
        "wallet.deposit.succeeded",
        "wallet.deposit.failed",
        "wallet.deposit.refunded",
        "wallet.deposit.charged_back",
        "wallet.transfer.completed",
        "wallet.withdrawal.succeeded",
        "wallet.withdrawal.failed",
        "credit.granted",
        "credit.purchased",
        "credit.purchase_failed",
        "credit.expired",
        "brokerage.order.filled",
        "bank_account.verified",
        "dispute.created",
        "dispute.updated",
        "dispute.closed",
    }
)
GATEWAY_EVENT_PREFIX: Final = "gateway."
_PATTERN: Final = re.compile(r"^[a-z0-9_:]+(\.[a-z0-9_:]+)*(\.\*)?$|^\*$", re.IGNORECASE)


def matches(pattern: str, event_type: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def event_type_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid ``event_types`` entry, or None."""
    if not _PATTERN.match(pattern):
        return "must be an event type such as 'payment.succeeded', '*' or 'invoice.*'"
    if pattern == "*":
        return None
    if not any(matches(pattern, known) for known in KNOWN_EVENT_TYPES):
        return f"unknown event type {pattern!r}"
    return None


def forward_pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a valid ``forward_gateway_events`` entry, or None."""
    if not _PATTERN.match(pattern):
        return "must be '<gateway>.<type>' such as 'stripe.*' or 'plaid.TRANSFER_EVENTS_UPDATE'"
    gateway = pattern.split(".", 1)[0]
    if pattern != "*" and gateway not in WEBHOOK_GATEWAYS:
        return f"unknown gateway {gateway!r}; one of {', '.join(WEBHOOK_GATEWAYS)}"
    return None


def forwarded_type(gateway: str, gateway_type: str) -> str:
    return f"{GATEWAY_EVENT_PREFIX}{gateway}.{gateway_type}"


def subscribed(
    event_types: Iterable[str], forward_gateway_events: Iterable[str], event_type: str
) -> bool:
    """Whether an endpoint with these filters receives an event of ``event_type``."""
    if event_type.startswith(GATEWAY_EVENT_PREFIX):
        raw = event_type[len(GATEWAY_EVENT_PREFIX) :]
        return any(matches(p, raw) for p in forward_gateway_events)
    patterns = list(event_types)
    return not patterns or any(matches(p, event_type) for p in patterns)
