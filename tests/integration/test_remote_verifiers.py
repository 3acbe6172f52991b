"""Plaid and PayPal verify through the provider: a local peer stands in for each API.

Plaid: the peer serves ``/webhook_verification_key/get`` with the public JWK of a key the
test signs with (ES256), as Plaid does. PayPal: the peer serves the OAuth token and
``/v1/notifications/verify-webhook-signature`` endpoints with PayPal's request and
answer shapes. No store is involved, so these run once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from gateways.webhooks import VerifierUnavailable, WebhookRejected
from gateways.webhooks.paypal import PayPalVerifier
from gateways.webhooks.plaid import PlaidVerifier

PLAID_BODY = json.dumps(
    {
        "webhook_type": "TRANSFER",
        "webhook_code": "TRANSFER_EVENTS_UPDATE",
        "environment": "sandbox",
    },
    indent="\t",
).encode()


@dataclass
class Peer:
    runner: web.AppRunner
    url: str
    calls: list[dict[str, Any]] = field(default_factory=list)


async def serve(app: web.Application) -> Peer:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = next(int(a[1]) for a in runner.addresses)
    return Peer(runner=runner, url=f"http://127.0.0.1:{port}")


@dataclass
class PlaidKeys:
    private: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    kid: str = "6c5516e1-92dc-479e-a8ff-5a51992e0001"

    def jwk(self) -> dict[str, Any]:
        key: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        return {
            **key,
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
            "created_at": 1560466150,
            "expired_at": None,
        }

    def token(self, body: bytes, *, iat: float | None = None, kid: str | None = None) -> str:
        claims = {
            "iat": int(time.time() if iat is None else iat),
            "request_body_sha256": hashlib.sha256(body).hexdigest(),
        }
        return jwt.encode(claims, self.private, algorithm="ES256", headers={"kid": kid or self.kid})


@pytest.fixture
async def plaid() -> AsyncIterator[tuple[Peer, PlaidKeys]]:
    keys = PlaidKeys()
    calls: list[dict[str, Any]] = []

    async def key_get(request: web.Request) -> web.Response:
        document = await request.json()
        calls.append(document)
        if document.get("client_id") != "client" or document.get("secret") != "secret":
            return web.json_response({"error_code": "INVALID_API_KEYS"}, status=400)
        if document.get("key_id") != keys.kid:
            return web.json_response(
                {"error_code": "INVALID_WEBHOOK_VERIFICATION_KEY_ID"}, status=400
            )
        return web.json_response({"key": keys.jwk(), "request_id": "req"})

    app = web.Application()
    app.router.add_post("/webhook_verification_key/get", key_get)
    peer = await serve(app)
    peer.calls = calls
    yield peer, keys
    await peer.runner.cleanup()


def plaid_verifier(peer: Peer) -> PlaidVerifier:
    return PlaidVerifier(client_id="client", secret="secret", host=peer.url)


async def test_plaid_verifies_the_jwt_and_caches_the_key(plaid: tuple[Peer, PlaidKeys]) -> None:
    peer, keys = plaid
    verifier = plaid_verifier(peer)
    try:
        for _ in range(2):
            verified = await verifier.verify(
                PLAID_BODY, {"Plaid-Verification": keys.token(PLAID_BODY)}
            )
    finally:
        await verifier.close()
    assert verified.type == "TRANSFER_EVENTS_UPDATE"
    assert verified.event_id == "sha256:" + hashlib.sha256(PLAID_BODY).hexdigest()
    assert len(peer.calls) == 1  # cached by kid


@pytest.mark.parametrize(
    "case", ["tampered-body", "stale", "other-key", "unknown-kid", "missing-header", "not-jwt"]
)
async def test_plaid_rejects(plaid: tuple[Peer, PlaidKeys], case: str) -> None:
    peer, keys = plaid
    body = PLAID_BODY
    token = keys.token(body, iat=time.time() - 301 if case == "stale" else None)
    if case == "tampered-body":
        body = body.replace(b"sandbox", b"production")
    if case == "other-key":
        token = PlaidKeys().token(body)
    if case == "unknown-kid":
        token = keys.token(body, kid="nope")
    headers = {"Plaid-Verification": token}
    if case == "missing-header":
        headers = {}
    if case == "not-jwt":
        headers = {"Plaid-Verification": "abc"}
    verifier = plaid_verifier(peer)
    try:
        with pytest.raises(WebhookRejected) as caught:
            await verifier.verify(body, headers)
    finally:
        await verifier.close()
    assert caught.value.status in (400, 401)
    if case != "not-jwt":
        assert caught.value.status == 401


async def test_plaid_unreachable_is_unavailable_not_rejected() -> None:
    verifier = PlaidVerifier(client_id="client", secret="secret", host="http://127.0.0.1:9")
    try:
        with pytest.raises(VerifierUnavailable):
            await verifier.verify(PLAID_BODY, {"Plaid-Verification": PlaidKeys().token(PLAID_BODY)})
    finally:
        await verifier.close()


PAYPAL_EVENT = {
    "id": "WH-2WR32451HC0233532-67976317FL4543714",
    "event_type": "PAYMENT.CAPTURE.COMPLETED",
    "resource": {"id": "42311647XV020574X", "status": "COMPLETED"},
}
PAYPAL_HEADERS = {
    "PAYPAL-TRANSMISSION-ID": "69cd13f0-d67a-11e5-baa3-778b53f4ae55",
    "PAYPAL-TRANSMISSION-TIME": "2026-11-23T12:00:00Z",
    "PAYPAL-CERT-URL": "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42",
    "PAYPAL-AUTH-ALGO": "SHA256withRSA",
    "PAYPAL-TRANSMISSION-SIG": "good-signature",
}


@pytest.fixture
async def paypal() -> AsyncIterator[Peer]:
    calls: list[dict[str, Any]] = []

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        assert form["grant_type"] == "client_credentials"
        assert request.headers["Authorization"].startswith("Basic ")
        return web.json_response(
            {"access_token": "A21AA", "token_type": "Bearer", "expires_in": 32400}
        )

    async def verify(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != "Bearer A21AA":
            return web.json_response({}, status=401)
        document = await request.json()
        calls.append(document)
        ok = (
            document["transmission_sig"] == "good-signature"
            and document["webhook_id"] == "WH-ID"
            and document["webhook_event"]["id"] == PAYPAL_EVENT["id"]
        )
        return web.json_response({"verification_status": "SUCCESS" if ok else "FAILURE"})

    app = web.Application()
    app.router.add_post("/v1/oauth2/token", token)
    app.router.add_post("/v1/notifications/verify-webhook-signature", verify)
    peer = await serve(app)
    peer.calls = calls
    yield peer
    await peer.runner.cleanup()


def paypal_verifier(base: str) -> PayPalVerifier:
    return PayPalVerifier(client_id="id", secret="secret", webhook_id="WH-ID", api_base=base)


async def test_paypal_asks_paypal_and_accepts_success(paypal: Peer) -> None:
    verifier = paypal_verifier(paypal.url)
    try:
        verified = await verifier.verify(json.dumps(PAYPAL_EVENT).encode(), PAYPAL_HEADERS)
    finally:
        await verifier.close()
    assert (verified.event_id, verified.type) == (PAYPAL_EVENT["id"], "PAYMENT.CAPTURE.COMPLETED")
    [call] = paypal.calls
    assert call["transmission_id"] == PAYPAL_HEADERS["PAYPAL-TRANSMISSION-ID"]
    assert call["cert_url"] == PAYPAL_HEADERS["PAYPAL-CERT-URL"]


@pytest.mark.parametrize("case", ["bad-signature", "tampered-event", "missing-header"])
async def test_paypal_rejects(paypal: Peer, case: str) -> None:
    headers = dict(PAYPAL_HEADERS)
    event = dict(PAYPAL_EVENT)
    if case == "bad-signature":
        headers["PAYPAL-TRANSMISSION-SIG"] = "forged"
    if case == "tampered-event":
        event["id"] = "WH-FORGED"
    if case == "missing-header":
        del headers["PAYPAL-TRANSMISSION-SIG"]
    verifier = paypal_verifier(paypal.url)
    try:
        with pytest.raises(WebhookRejected) as caught:
            await verifier.verify(json.dumps(event).encode(), headers)
    finally:
        await verifier.close()
    assert caught.value.status == 401


async def test_paypal_unreachable_is_unavailable() -> None:
    verifier = paypal_verifier("http://127.0.0.1:9")
    try:
        with pytest.raises(VerifierUnavailable):
            await verifier.verify(json.dumps(PAYPAL_EVENT).encode(), PAYPAL_HEADERS)
    finally:
        await verifier.close()
