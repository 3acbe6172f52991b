"""Plaid: ``Plaid-Verification`` is an ES256 JWT whose ``request_body_sha256`` claim is the
SHA-256 of the raw body; its key (by ``kid``) comes from ``/webhook_verification_key/get``
and is cached. Tokens older than five minutes are refused (Plaid's guidance)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

import aiohttp
import jwt
from jwt.algorithms import ECAlgorithm

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

HEADER: Final = "Plaid-Verification"
HOSTS: Final = {
    "sandbox": "https://sandbox.plaid.com",
    "development": "https://development.plaid.com",
    "production": "https://production.plaid.com",
}


class PlaidVerifier:
    gateway = "plaid"

    def __init__(
        self,
        *,
        client_id: str,
        secret: str,
        host: str,
        max_age_seconds: int = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client_id = client_id
        self._secret = secret
        self._host = host.rstrip("/")
        self._max_age = max_age_seconds
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._http: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def _key(self, kid: str) -> Any:
        if kid in self._keys:
            return self._keys[kid]
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        try:
            async with self._http.post(
                f"{self._host}/webhook_verification_key/get",
                json={"client_id": self._client_id, "secret": self._secret, "key_id": kid},
            ) as response:
                if response.status >= 500:
                    raise VerifierUnavailable(f"Plaid answered {response.status}")
                document = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise VerifierUnavailable(f"Plaid's key endpoint: {type(exc).__name__}") from exc
        jwk = document.get("key") if isinstance(document, dict) else None
        if not isinstance(jwk, dict):
            raise WebhookRejected(401, "unknown key id")
        expired_at = jwk.get("expired_at")
        if expired_at and float(expired_at) <= self._clock():
            raise WebhookRejected(401, "the signing key has expired")
        key = ECAlgorithm(ECAlgorithm.SHA256).from_jwk(json.dumps(jwk))
        if not expired_at:
            self._keys[kid] = key
        return key

    async def verify(self, body: bytes, headers: Mapping[str, str]) -> VerifiedWebhook:
        token = headers.get(HEADER)
        if not token:
            raise missing(HEADER)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise WebhookRejected(400, f"{HEADER} is not a JWT") from None
        kid = header.get("kid")
        if header.get("alg") != "ES256" or not isinstance(kid, str) or not kid:
            raise WebhookRejected(401, f"{HEADER} must be ES256 with a kid")
        key = await self._key(kid)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=["ES256"],
                options={"require": ["iat"], "verify_iat": False, "verify_exp": False},
            )
        except jwt.PyJWTError:
            raise bad_signature() from None
        issued = claims.get("iat")
        if not isinstance(issued, int | float) or self._clock() - issued > self._max_age:
            raise WebhookRejected(401, "token is older than five minutes")
        claimed = claims.get("request_body_sha256")
        actual = hashlib.sha256(body).hexdigest()
        if not isinstance(claimed, str) or not hmac.compare_digest(
            claimed.encode(), actual.encode()
        ):
            raise bad_signature()
        event = parse_json(body)
        # Plaid sends no event id; a redelivery repeats the same body, so its hash is one.
        return VerifiedWebhook(
            gateway=self.gateway,
            event_id=f"sha256:{actual}",
            type=text_field(event, "webhook_code", what="webhook code", limit=MAX_EVENT_TYPE),
            body=body,
        )
