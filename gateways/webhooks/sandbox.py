"""The sandbox simulator signs its webhooks the Standard Webhooks way, like our own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping

from gateways.webhooks import (
    MAX_EVENT_TYPE,
    VerifiedWebhook,
    WebhookRejected,
    bad_signature,
    missing,
    parse_json,
    text_field,
)


def sandbox_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` keyed by the decoded whsec_."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


class SandboxVerifier:
    gateway = "sandbox"

    def __init__(
        self, secret: str, *, tolerance_seconds: int = 300, clock: Callable[[], float] = time.time
    ) -> None:
        self._secret = secret
        self._tolerance = tolerance_seconds
        self._clock = clock

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook:
        message_id = headers.get("webhook-id") or ""
        stamp = headers.get("webhook-timestamp") or ""
        signatures = headers.get("webhook-signature") or ""
        for name, value in (
            ("webhook-id", message_id),
            ("webhook-timestamp", stamp),
            ("webhook-signature", signatures),
        ):
            if not value:
                raise missing(name)
        if not stamp.isdigit():
            raise WebhookRejected(400, "webhook-timestamp is not a number")
        expected = sandbox_signature(self._secret, message_id, int(stamp), body).encode()
        matched = False
        for candidate in signatures.split(" "):
            matched |= hmac.compare_digest(expected, candidate.encode())
        if not matched:
            raise bad_signature()
        if abs(self._clock() - int(stamp)) > self._tolerance:
            raise WebhookRejected(401, "timestamp outside the tolerance")
        event = parse_json(body)
        return VerifiedWebhook(
            gateway=self.gateway,
            event_id=text_field(event, "id", what="event id"),
            type=text_field(event, "type", what="event type", limit=MAX_EVENT_TYPE),
            body=body,
        )
