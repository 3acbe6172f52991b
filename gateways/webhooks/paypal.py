"""PayPal: the transmission headers and the event are checked by PayPal's own
``/v1/notifications/verify-webhook-signature`` API (OAuth client credentials)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Mapping
from typing import Final

import aiohttp

from gateways.webhooks import (
    MAX_EVENT_TYPE,
    VerifiedWebhook,
    VerifierUnavailable,
    WebhookRejected,
    bad_signature,
    missing,
    parse_json,
    text_field,
)

HEADERS: Final = {
    "transmission_id": "PAYPAL-TRANSMISSION-ID",
    "transmission_time": "PAYPAL-TRANSMISSION-TIME",
    "cert_url": "PAYPAL-CERT-URL",
    "auth_algo": "PAYPAL-AUTH-ALGO",
    "transmission_sig": "PAYPAL-TRANSMISSION-SIG",
}


class PayPalVerifier:
    gateway = "paypal"

    def __init__(
        self,
        *,
        client_id: str,
        secret: str,
        webhook_id: str,
        api_base: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self._basic = f"Basic {credentials}"
        self._webhook_id = webhook_id
        self._base = api_base.rstrip("/")
        self._clock = clock
        self._token: tuple[str, float] | None = None
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._http

    async def _access_token(self) -> str:
        if self._token is not None and self._token[1] > self._clock():
            return self._token[0]
        async with self._session().post(
            f"{self._base}/v1/oauth2/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": self._basic},
        ) as response:
            if response.status != 200:
                raise VerifierUnavailable(f"PayPal token endpoint answered {response.status}")
            document = await response.json(content_type=None)
        token = str(document["access_token"])
        lifetime = float(document.get("expires_in", 300))
        self._token = (token, self._clock() + max(lifetime - 60, 0))
        return token

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook:
        values = {}
        for field, header in HEADERS.items():
            value = headers.get(header)
            if not value:
                raise missing(header)
            values[field] = value
        # PayPal's API takes the event as JSON: parsing here only serves the verification.
        event = parse_json(body)
        request = {**values, "webhook_id": self._webhook_id, "webhook_event": event}
        try:
            token = await self._access_token()
            async with self._session().post(
                f"{self._base}/v1/notifications/verify-webhook-signature",
                json=request,
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                if response.status >= 500 or response.status == 401:
                    raise VerifierUnavailable(f"PayPal answered {response.status}")
                if response.status != 200:
                    raise WebhookRejected(400, f"PayPal refused to verify ({response.status})")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, KeyError, ValueError) as exc:
            raise VerifierUnavailable(f"PayPal verification: {type(exc).__name__}") from exc
        if not isinstance(answer, dict) or answer.get("verification_status") != "SUCCESS":
            raise bad_signature()
        return VerifiedWebhook(
            gateway=self.gateway,
            event_id=text_field(event, "id", what="event id"),
            type=text_field(event, "event_type", what="event type", limit=MAX_EVENT_TYPE),
            body=body,
        )
