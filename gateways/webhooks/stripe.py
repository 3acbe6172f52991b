"""Stripe: ``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">[,v1=…]``."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
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

HEADER: Final = "Stripe-Signature"


class StripeVerifier:
    gateway = "stripe"

    def __init__(
        self,
        secret: str,
        *,
        tolerance_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret.encode()
        self._tolerance = tolerance_seconds
        self._clock = clock

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook:
        header = headers.get(HEADER)
        if not header:
            raise missing(HEADER)
        stamp: int | None = None
        signatures: list[str] = []
        for item in header.split(","):
            key, _, value = item.strip().partition("=")
            if key == "t" and value.isdigit():
                stamp = int(value)
            elif key == "v1" and value:
                signatures.append(value)
        if stamp is None or not signatures:
            raise WebhookRejected(400, f"{HEADER} has no timestamp or no v1 signature")
        expected = hmac.new(self._secret, f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
        matched = False
        for candidate in signatures:  # every candidate compared, constant-time each
            matched |= hmac.compare_digest(expected.encode(), candidate.encode())
        if not matched:
            raise bad_signature()
        if abs(self._clock() - stamp) > self._tolerance:
            raise WebhookRejected(401, "timestamp outside the tolerance")
        event = parse_json(body)
        return VerifiedWebhook(
            gateway=self.gateway,
            event_id=text_field(event, "id", what="event id"),
            type=text_field(event, "type", what="event type", limit=MAX_EVENT_TYPE),
            body=body,
        )
