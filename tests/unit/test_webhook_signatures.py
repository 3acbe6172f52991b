"""Signatures, in and out: providers' published vectors where they exist, vectors made with
the providers' own SDK helpers where they do not, and every way a request must fail."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
import standardwebhooks
import stripe
from square.utils.webhooks_helper import verify_signature as square_verify_signature

from gateways.webhooks import WebhookRejected
from gateways.webhooks.coinbase import CoinbaseVerifier
from gateways.webhooks.sandbox import SandboxVerifier
from gateways.webhooks.square import SquareVerifier
from gateways.webhooks.stripe import StripeVerifier
from server.webhooks import signing
from server.webhooks.matching import event_type_problem, forward_pattern_problem, subscribed
from store.ids import new_id
from store.webhooks import id_floor
from webhook_relay.delivery import retry_after

# --- Standard Webhooks (outbound) -------------------------------------------------------

# The spec's reference libraries' test vector (secret, id, timestamp, payload → signature).
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TIMESTAMP = 1614265330
SW_PAYLOAD = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_outbound_signature_matches_the_standard_webhooks_vector() -> None:
    assert signing.sign(SW_SECRET, SW_ID, SW_TIMESTAMP, SW_PAYLOAD) == SW_SIGNATURE
    library = standardwebhooks.Webhook(SW_SECRET).sign(
        SW_ID, dt.datetime.fromtimestamp(SW_TIMESTAMP, tz=dt.UTC), SW_PAYLOAD.decode()
    )
    assert library == SW_SIGNATURE


def test_outbound_headers_verify_with_the_library_and_rotation_signs_twice() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    body = b'{"id":"evt_1","type":"payment.succeeded"}'
    headers = signing.headers([new, old], "evt_1", int(time.time()), body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        assert standardwebhooks.Webhook(secret).verify(body, headers)["id"] == "evt_1"
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(signing.new_secret()).verify(body, headers)


def test_secrets_are_whsec_and_random() -> None:
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_")
    assert first != second
    assert len(signing.secret_key(first)) == 24


# --- Stripe ------------------------------------------------------------------------------

STRIPE_SECRET = "whsec_test_secret"
STRIPE_BODY = json.dumps({"id": "evt_test_webhook", "object": "event", "type": "charge.succeeded"})


def stripe_header(
    body: str = STRIPE_BODY, secret: str = STRIPE_SECRET, at: int | None = None
) -> str:
    return str(stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=at))


async def test_stripe_accepts_a_header_made_by_the_stripe_sdk() -> None:
    verified = await StripeVerifier(STRIPE_SECRET).verify(
        STRIPE_BODY.encode(), {"Stripe-Signature": stripe_header()}
    )
    assert (verified.event_id, verified.type) == ("evt_test_webhook", "charge.succeeded")


async def test_stripe_accepts_any_of_several_v1_signatures() -> None:
    header = stripe_header()
    stamp, good = header.split(",")
    several = f"{stamp},v1={'0' * 64},{good},v0=ignored"
    stripe.WebhookSignature.verify_header(STRIPE_BODY, several, STRIPE_SECRET, 300)
    verified = await StripeVerifier(STRIPE_SECRET).verify(
        STRIPE_BODY.encode(), {"Stripe-Signature": several}
    )
    assert verified.event_id == "evt_test_webhook"


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (STRIPE_BODY, {"Stripe-Signature": stripe_header(secret="whsec_wrong")}, 401),
        (STRIPE_BODY + " ", {"Stripe-Signature": stripe_header()}, 401),
        (STRIPE_BODY, {"Stripe-Signature": stripe_header(at=int(time.time()) - 301)}, 401),
        (STRIPE_BODY, {}, 401),
        (STRIPE_BODY, {"Stripe-Signature": "t=abc"}, 400),
    ],
    ids=["wrong-secret", "tampered-body", "stale-timestamp", "missing-header", "malformed"],
)
async def test_stripe_rejects(body: str, headers: dict[str, str], status: int) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await StripeVerifier(STRIPE_SECRET).verify(body.encode(), headers)
    assert caught.value.status == status


async def test_stripe_and_the_sdk_agree_on_a_stale_timestamp() -> None:
    header = stripe_header(at=int(time.time()) - 301)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(STRIPE_BODY, header, STRIPE_SECRET, 300)


# --- Square ------------------------------------------------------------------------------

# Square's published vector (the one its SDKs' webhooks-helper tests use).
SQUARE_BODY = (
    '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification",'
    '"event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f",'
    '"created_at":"2022-07-13T20:30:59.037339943Z",'
    '"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}'
)
SQUARE_SIGNATURE = "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4="
SQUARE_KEY = "Ibxx_5AKakO-3qeNVR61Dw"
SQUARE_URL = "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9"


async def test_square_accepts_its_published_vector() -> None:
    assert square_verify_signature(
        request_body=SQUARE_BODY,
        signature_header=SQUARE_SIGNATURE,
        signature_key=SQUARE_KEY,
        notification_url=SQUARE_URL,
    )
    verified = await SquareVerifier(SQUARE_KEY, notification_url=SQUARE_URL).verify(
        SQUARE_BODY.encode(), {"x-square-hmacsha256-signature": SQUARE_SIGNATURE}
    )
    assert verified.event_id == "ac3ac95b-f97d-458c-a6e6-18981597e05f"
    assert verified.type == "webhooks.test_notification"


async def test_square_accepts_its_published_escaped_characters_vector() -> None:
    body = '{"data":{"type":"webhooks","id":">id<"},"event_id":"e1","type":"t"}'
    url = "https://webhook.site/webhooks"
    digest = hmac.new(b"signature-key", (url + body).encode(), hashlib.sha256).digest()
    signature = base64.b64encode(digest).decode()
    assert square_verify_signature(
        request_body=body,
        signature_header=signature,
        signature_key="signature-key",
        notification_url=url,
    )
    published = '{"data":{"type":"webhooks","id":">id<"}}'
    assert square_verify_signature(
        request_body=published,
        signature_header="Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
        signature_key="signature-key",
        notification_url=url,
    )
    verified = await SquareVerifier("signature-key", notification_url=url).verify(
        body.encode(), {"x-square-hmacsha256-signature": signature}
    )
    assert verified.event_id == "e1"


@pytest.mark.parametrize(
    ("body", "headers", "key", "url"),
    [
        (SQUARE_BODY, {"x-square-hmacsha256-signature": SQUARE_SIGNATURE}, "wrong-key", SQUARE_URL),
        (
            SQUARE_BODY + " ",
            {"x-square-hmacsha256-signature": SQUARE_SIGNATURE},
            SQUARE_KEY,
            SQUARE_URL,
        ),
        (
            SQUARE_BODY,
            {"x-square-hmacsha256-signature": SQUARE_SIGNATURE},
            SQUARE_KEY,
            SQUARE_URL + "x",
        ),
        (SQUARE_BODY, {}, SQUARE_KEY, SQUARE_URL),
    ],
    ids=["wrong-key", "tampered-body", "other-notification-url", "missing-header"],
)
async def test_square_rejects(body: str, headers: dict[str, str], key: str, url: str) -> None:
    assert not square_verify_signature(
        request_body=body,
        signature_header=headers.get("x-square-hmacsha256-signature", ""),
        signature_key=key,
        notification_url=url,
    )
    with pytest.raises(WebhookRejected) as caught:
        await SquareVerifier(key, notification_url=url).verify(body.encode(), headers)
    assert caught.value.status == 401


# --- Coinbase Commerce --------------------------------------------------------------------

COINBASE_SECRET = "coinbase-shared-secret"
COINBASE_BODY = json.dumps(
    {
        "id": 1,
        "scheduled_for": "2026-11-23T12:00:00Z",
        "event": {"id": "24934862-d980-46cb-9402-43c81b0cdba6", "type": "charge:confirmed"},
    }
).encode()


def coinbase_signature(body: bytes, secret: str = COINBASE_SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def test_coinbase_accepts_its_hex_hmac() -> None:
    verified = await CoinbaseVerifier(COINBASE_SECRET).verify(
        COINBASE_BODY, {"X-CC-Webhook-Signature": coinbase_signature(COINBASE_BODY)}
    )
    assert (verified.event_id, verified.type) == (
        "24934862-d980-46cb-9402-43c81b0cdba6",
        "charge:confirmed",
    )


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (COINBASE_BODY, {"X-CC-Webhook-Signature": coinbase_signature(COINBASE_BODY, "wrong")}),
        (COINBASE_BODY + b" ", {"X-CC-Webhook-Signature": coinbase_signature(COINBASE_BODY)}),
        (COINBASE_BODY, {}),
    ],
    ids=["wrong-secret", "tampered-body", "missing-header"],
)
async def test_coinbase_rejects(body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected) as caught:
        await CoinbaseVerifier(COINBASE_SECRET).verify(body, headers)
    assert caught.value.status == 401


# --- Sandbox (Standard Webhooks) ------------------------------------------------------------

SANDBOX_SECRET = signing.new_secret()


def sandbox_headers(
    body: bytes, secret: str = SANDBOX_SECRET, at: float | None = None
) -> dict[str, str]:
    when = dt.datetime.fromtimestamp(time.time() if at is None else at, tz=dt.UTC)
    signature = standardwebhooks.Webhook(secret).sign("msg_1", when, body.decode())
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signature,
    }


async def test_sandbox_accepts_what_the_standard_webhooks_library_signs() -> None:
    body = b'{"id":"sbx_evt_1","type":"payment_intent.succeeded"}'
    verified = await SandboxVerifier(SANDBOX_SECRET).verify(body, sandbox_headers(body))
    assert (verified.event_id, verified.type) == ("sbx_evt_1", "payment_intent.succeeded")


@pytest.mark.parametrize("case", ["wrong-secret", "tampered-body", "stale", "missing-header"])
async def test_sandbox_rejects(case: str) -> None:
    body = b'{"id":"sbx_evt_1","type":"payment_intent.succeeded"}'
    headers = sandbox_headers(
        body,
        secret=signing.new_secret() if case == "wrong-secret" else SANDBOX_SECRET,
        at=time.time() - 301 if case == "stale" else None,
    )
    if case == "tampered-body":
        body = body.replace(b"succeeded", b"failed")
    if case == "missing-header":
        del headers["webhook-signature"]
    with pytest.raises(WebhookRejected) as caught:
        await SandboxVerifier(SANDBOX_SECRET).verify(body, headers)
    assert caught.value.status == 401


# --- Filters and Retry-After -------------------------------------------------------------------


def test_subscriptions_match_exact_wildcard_and_forwarded_types() -> None:
    assert subscribed([], [], "payment.succeeded")
    assert subscribed(["invoice.*"], [], "invoice.paid")
    assert not subscribed(["invoice.*"], [], "payment.succeeded")
    assert not subscribed(["*"], [], "gateway.stripe.charge.succeeded")
    assert subscribed([], ["stripe.charge.*"], "gateway.stripe.charge.succeeded")
    assert not subscribed([], ["plaid.*"], "gateway.stripe.charge.succeeded")


def test_unknown_event_types_and_gateways_are_named() -> None:
    assert event_type_problem("payment.succeeded") is None
    assert event_type_problem("invoice.*") is None
    assert event_type_problem("*") is None
    assert event_type_problem("nonsense.happened") == "unknown event type 'nonsense.happened'"
    assert forward_pattern_problem("stripe.*") is None
    assert forward_pattern_problem("plaid.TRANSFER_EVENTS_UPDATE") is None
    assert forward_pattern_problem("bitbank.*") is not None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
    assert retry_after("120", now) == dt.timedelta(seconds=120)
    assert retry_after("Mon, 23 Nov 2026 12:02:00 GMT", now) == dt.timedelta(seconds=120)
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


def test_id_floor_orders_below_every_id_made_from_then_on() -> None:
    before = dt.datetime.now(dt.UTC) - dt.timedelta(milliseconds=2)
    made = new_id("evt")
    assert id_floor("evt", before) < made
    assert id_floor("evt", dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)) > made


async def test_an_overlong_event_type_is_refused_before_anything_is_stored() -> None:
    body = json.dumps({"id": "evt_long", "type": "x" * 201})
    header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
    with pytest.raises(WebhookRejected) as caught:
        await StripeVerifier(STRIPE_SECRET).verify(body.encode(), {"Stripe-Signature": header})
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "event_type",
    [
        "payment.created",
        "payment.requires_capture",
        "payment.processing",
        "payment_method.attached",
        "payment_method.detached",
        "connected_account.created",
        "checkout.session.created",
        "bank_account.verified",
        "bank_account.verification_failed",
        "refund.failed",
        "wallet.deposit.refunded",
    ],
)
def test_an_endpoint_can_name_every_event_type_the_service_writes(event_type: str) -> None:
    """Beyond API.md's list: a type the service writes but endpoints may not name could
    only be had through '*' or a prefix."""
    assert event_type_problem(event_type) is None
