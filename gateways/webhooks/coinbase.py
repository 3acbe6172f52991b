"""Coinbase Commerce: ``X-CC-Webhook-Signature``, hex HMAC-SHA256 of the body."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

from gateways.webhooks import (
    MAX_EVENT_TYPE,
    VerifiedWebhook,
    WebhookRejected,
    bad_signature,
    missing,
    parse_json,
    text_field,
)

HEADER: Final = "X-CC-Webhook-Signature"


class CoinbaseVerifier:
    gateway = "coinbase"

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook:
        header = headers.get(HEADER)
        if not header:
            raise missing(HEADER)
        expected = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), header.strip().lower().encode()):
            raise bad_signature()
        document = parse_json(body)
        event = document.get("event")
        if not isinstance(event, dict):
            raise WebhookRejected(400, "body has no 'event' object")
        return VerifiedWebhook(
            gateway=self.gateway,
            event_id=text_field(event, "id", what="event id"),
            type=text_field(event, "type", what="event type", limit=MAX_EVENT_TYPE),
            body=body,
        )
