"""Inbound webhook verification, one module per provider, each on the raw body bytes.

A verifier checks the provider's signature (constant-time, before anything is parsed),
then names the event: the provider's own id (the dedup key) and type. It raises
:class:`WebhookRejected` for a request that must not be stored (with the HTTP status to
answer) and :class:`VerifierUnavailable` when it could not ask the provider (PayPal's
verification API, Plaid's key endpoint), so the provider retries later.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Protocol


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifiedWebhook:
    """A webhook whose signature checked out, with its provider event id and type."""

    gateway: str
    event_id: str
    type: str
    body: bytes


class WebhookRejected(Exception):
    """Not from the provider (or not readable): answer ``status``, store nothing."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class VerifierUnavailable(Exception):
    """The provider's verification service could not be asked; the sender should retry."""


class WebhookVerifier(Protocol):
    gateway: str

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook: ...


def missing(header: str) -> WebhookRejected:
    return WebhookRejected(401, f"missing {header} header")


def bad_signature() -> WebhookRejected:
    return WebhookRejected(401, "signature does not match")


def parse_json(body: bytes) -> dict[str, Any]:
    """The verified body as a JSON object (400 when it is not one)."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected(400, "body is not JSON") from None
    if not isinstance(value, dict):
        raise WebhookRejected(400, "body is not a JSON object")
    return value


#: Longest provider event id and type kept (the gateway_events columns).
MAX_EVENT_ID: Final = 255
MAX_EVENT_TYPE: Final = 200


def text_field(
    document: Mapping[str, Any], name: str, *, what: str, limit: int = MAX_EVENT_ID
) -> str:
    """A non-empty string field naming the event: its id or type, at most ``limit`` long."""
    value = document.get(name)
    if not isinstance(value, str) or not value:
        raise WebhookRejected(400, f"body has no {what} ({name!r})")
    if len(value) > limit:
        raise WebhookRejected(400, f"{what} ({name!r}) is longer than {limit} characters")
    return value
