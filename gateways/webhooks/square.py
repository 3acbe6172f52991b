"""Square: ``x-square-hmacsha256-signature``, base64 HMAC-SHA256 of notification URL + body."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from typing import Final

from gateways.webhooks import (
    MAX_EVENT_TYPE,
    VerifiedWebhook,
    bad_signature,
    missing,
    parse_json,
    text_field,
)

HEADER: Final = "x-square-hmacsha256-signature"


class SquareVerifier:
    gateway = "square"

    def __init__(self, signature_key: str, *, notification_url: str) -> None:
        self._key = signature_key.encode()
        self._url = notification_url.encode()

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook:
        header = headers.get(HEADER)
        if not header:
            raise missing(HEADER)
        digest = hmac.new(self._key, self._url + body, hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest), header.strip().encode()):
            raise bad_signature()
        event = parse_json(body)
        return VerifiedWebhook(
            gateway=self.gateway,
            event_id=text_field(event, "event_id", what="event id"),
            type=text_field(event, "type", what="event type", limit=MAX_EVENT_TYPE),
            body=body,
        )
