"""The Stripe adapter's HTTP, recorded: what localstripe cannot check.

A local server stands in for api.stripe.com and records every request the official
SDK sends; tests assert method, path, form fields and headers against Stripe's
documented API (Checkout Sessions, Connect accounts and links, destination charges,
Idempotency-Key), and how Stripe's error answers map to outcomes.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateways.errors import GatewayAuthError, GatewayUnavailable, OutcomeUnknown
from gateways.stripe import StripeConfig, StripeGateway
from gateways.types import (
    AccountLinkRequest,
    AccountRequest,
    CaptureRequest,
    ChargeRequest,
    CheckoutRequest,
    LineItem,
    Outcome,
    RefundRequest,
)
from server.config import Secret
from tests.contract.peers import Recorded, RecordingStripe, free_port

Reply = Callable[[Recorded], tuple[int, dict[str, Any]]]
LATER = int(time.time()) + 3600


def ok(body: dict[str, Any]) -> Reply:
    return lambda _request: (200, body)


@pytest.fixture
async def recording() -> AsyncIterator[RecordingStripe]:
    fake = RecordingStripe(reply=ok({}))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def stripe(recording: RecordingStripe) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(
        StripeConfig(api_key=Secret("sk_test_recorded"), api_base=recording.base)
    )
    yield gateway
    await gateway.close()


def only(recording: RecordingStripe) -> Recorded:
    (request,) = recording.requests
    return request


async def test_checkout_session_posts_the_documented_form(
    recording: RecordingStripe, stripe: StripeGateway
) -> None:
    recording.reply = ok(
        {
            "id": "cs_test_1",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_test_1",
            "expires_at": LATER,
        }
    )
    result = await stripe.create_checkout_session(
        CheckoutRequest(
            currency="usd",
            line_items=(LineItem(description="Rent", quantity=2, unit_amount=1500),),
            success_url="https://tenant.example/ok",
            cancel_url="https://tenant.example/cancel",
            customer_reference="cus_123",
            idempotency_key="isa-checkout-1",
        )
    )
    assert result.url == "https://checkout.stripe.com/c/pay/cs_test_1"
    assert int(result.expire_time.timestamp()) == LATER
    sent = only(recording)
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.form == {
        "mode": "payment",
        "payment_method_types[0]": "card",
        "success_url": "https://tenant.example/ok",
        "cancel_url": "https://tenant.example/cancel",
        "customer": "cus_123",
        "line_items[0][quantity]": "2",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "1500",
        "line_items[0][price_data][product_data][name]": "Rent",
    }
    assert sent.headers["idempotency-key"] == "isa-checkout-1"
    assert sent.headers["authorization"] == "Bearer sk_test_recorded"
    assert sent.headers["stripe-version"]


async def test_connect_account_and_onboarding_link(
    recording: RecordingStripe, stripe: StripeGateway
) -> None:
    def reply(request: Recorded) -> tuple[int, dict[str, Any]]:
        if request.path == "/v1/accounts":
            return 200, {
                "id": "acct_1",
                "object": "account",
                "charges_enabled": False,
                "payouts_enabled": False,
                "details_submitted": False,
            }
        return 200, {
            "object": "account_link",
            "url": "https://connect.stripe.com/setup/e/acct_1/abc",
            "expires_at": LATER,
        }

    recording.reply = reply
    account = await stripe.create_account(
        AccountRequest(
            email="expert@test.com",
            country="US",
            business_type="individual",
            idempotency_key="isa-account-1",
        )
    )
    assert account.gateway_reference == "acct_1"
    assert not account.charges_enabled
    link = await stripe.create_account_link(
        AccountLinkRequest(
            gateway_reference="acct_1",
            type="account_onboarding",
            return_url="https://tenant.example/return",
            refresh_url="https://tenant.example/refresh",
            idempotency_key="isa-link-1",
        )
    )
    assert link.url == "https://connect.stripe.com/setup/e/acct_1/abc"
    created, linked = recording.requests
    assert (created.method, created.path) == ("POST", "/v1/accounts")
    assert created.form == {
        "type": "express",
        "country": "US",
        "business_type": "individual",
        "email": "expert@test.com",
        "capabilities[card_payments][requested]": "true",
        "capabilities[transfers][requested]": "true",
    }
    assert created.headers["idempotency-key"] == "isa-account-1"
    assert (linked.method, linked.path) == ("POST", "/v1/account_links")
    assert linked.form == {
        "account": "acct_1",
        "type": "account_onboarding",
        "return_url": "https://tenant.example/return",
        "refresh_url": "https://tenant.example/refresh",
    }
    assert linked.headers["idempotency-key"] == "isa-link-1"


async def test_an_account_is_read_back_with_its_onboarding_state(
    recording: RecordingStripe, stripe: StripeGateway
) -> None:
    recording.reply = ok(
        {
            "id": "acct_1",
            "object": "account",
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": True,
            "requirements": {"disabled_reason": "rejected.fraud"},
        }
    )
    account = await stripe.retrieve_account("acct_1")
    assert account.details_submitted
    assert not account.charges_enabled
    assert account.disabled_reason == "rejected.fraud"
    sent = only(recording)
    assert (sent.method, sent.path) == ("GET", "/v1/accounts/acct_1")
    assert sent.headers["authorization"] == "Bearer sk_test_recorded"


async def test_dashboard_links_are_login_links(
    recording: RecordingStripe, stripe: StripeGateway
) -> None:
    recording.reply = ok({"object": "login_link", "url": "https://connect.stripe.com/express/x"})
    link = await stripe.create_account_link(
        AccountLinkRequest(
            gateway_reference="acct_1",
            type="account_update",
            return_url="",
            refresh_url="",
            idempotency_key="isa-login-1",
        )
    )
    assert link.url == "https://connect.stripe.com/express/x"
    sent = only(recording)
    assert (sent.method, sent.path) == ("POST", "/v1/accounts/acct_1/login_links")


def intent(status: str, **fields: Any) -> dict[str, Any]:
    return {"id": "pi_1", "object": "payment_intent", "status": status, "amount": 5000, **fields}


async def test_escrow_destination_charge_then_capture_with_fee(
    recording: RecordingStripe, stripe: StripeGateway
) -> None:
    recording.reply = ok(intent("requires_capture", amount_capturable=5000, amount_received=0))
    authorized = await stripe.charge(
        ChargeRequest(
            amount=5000,
            currency="usd",
            payment_method="pm_1",
            customer_reference="cus_1",
            manual_capture=True,
            metadata={"gig": "g1"},
            destination_reference="acct_1",
            application_fee_amount=500,
            idempotency_key="isa-charge-1",
        )
    )
    assert authorized.outcome is Outcome.REQUIRES_CAPTURE
    assert authorized.amount_capturable == 5000
    recording.reply = ok(intent("succeeded", amount_capturable=0, amount_received=4000))
    captured = await stripe.capture(
        CaptureRequest(
            gateway_reference="pi_1",
            amount=4000,
            currency="usd",
            application_fee_amount=400,
            idempotency_key="isa-capture-1",
        )
    )
    assert (captured.outcome, captured.amount_received) == (Outcome.SUCCEEDED, 4000)
    created, capture = recording.requests
    assert (created.method, created.path) == ("POST", "/v1/payment_intents")
    assert created.form == {
        "amount": "5000",
        "currency": "usd",
        "payment_method": "pm_1",
        "payment_method_types[0]": "card",
        "confirm": "true",
        "capture_method": "manual",
        "customer": "cus_1",
        "metadata[gig]": "g1",
        "transfer_data[destination]": "acct_1",
        "application_fee_amount": "500",
    }
    assert created.headers["idempotency-key"] == "isa-charge-1"
    assert (capture.method, capture.path) == ("POST", "/v1/payment_intents/pi_1/capture")
    assert capture.form == {"amount_to_capture": "4000", "application_fee_amount": "400"}
    assert capture.headers["idempotency-key"] == "isa-capture-1"


@pytest.mark.parametrize("destination", [True, False])
async def test_a_destination_charges_refund_reverses_the_transfer_and_the_fee(
    recording: RecordingStripe, stripe: StripeGateway, destination: bool
) -> None:
    """Stripe's default leaves the connected account its whole share and the platform
    paying the refund; a destination charge's refund asks for both back, in proportion."""
    recording.reply = ok(
        {
            "id": "re_1",
            "object": "refund",
            "status": "succeeded",
            "amount": 1500,
            "currency": "usd",
            "payment_intent": "pi_1",
        }
    )
    refunded = await stripe.refund(
        RefundRequest(
            gateway_reference="pi_1",
            amount=1500,
            currency="usd",
            reason="requested_by_customer",
            idempotency_key="isa-refund-1",
            reverse_transfer=destination,
        )
    )
    assert (refunded.outcome, refunded.gateway_reference) == (Outcome.SUCCEEDED, "re_1")
    sent = only(recording)
    assert (sent.method, sent.path) == ("POST", "/v1/refunds")
    reversal = {"reverse_transfer": "true", "refund_application_fee": "true"}
    assert sent.form == {
        "payment_intent": "pi_1",
        "amount": "1500",
        "reason": "requested_by_customer",
        **(reversal if destination else {}),
    }
    assert sent.headers["idempotency-key"] == "isa-refund-1"


def charge_request() -> ChargeRequest:
    return ChargeRequest(
        amount=1000, currency="usd", payment_method="pm_1", idempotency_key="isa-k"
    )


async def test_card_declined_is_a_decline_with_its_decline_code(
    recording: RecordingStripe, stripe: StripeGateway
) -> None:
    recording.reply = lambda _r: (
        402,
        {
            "error": {
                "type": "card_error",
                "code": "card_declined",
                "decline_code": "insufficient_funds",
                "message": "Your card has insufficient funds.",
                "payment_intent": intent("requires_payment_method"),
            }
        },
    )
    result = await stripe.charge(charge_request())
    assert result.outcome is Outcome.DECLINED
    assert result.gateway_reference == "pi_1"
    assert result.error is not None
    assert (result.error.code, result.error.decline_code) == ("card_declined", "insufficient_funds")


@pytest.mark.parametrize(
    ("status", "error_type", "raised"),
    [
        (429, "rate_limit_error", GatewayUnavailable),
        (500, "api_error", OutcomeUnknown),
        (401, "invalid_request_error", GatewayAuthError),
        # the key made something before, with other parameters: not "nothing charged"
        (400, "idempotency_error", OutcomeUnknown),
        # idempotency_key_in_use: a request with the key is still running at Stripe
        (409, "invalid_request_error", OutcomeUnknown),
    ],
)
async def test_stripe_errors_map_to_what_is_known_about_the_request(
    recording: RecordingStripe,
    stripe: StripeGateway,
    status: int,
    error_type: str,
    raised: type[Exception],
) -> None:
    recording.reply = lambda _r: (status, {"error": {"type": error_type, "message": "x"}})
    with pytest.raises(raised):
        await stripe.charge(charge_request())
    assert len(recording.requests) == 1  # the SDK does not retry on its own


async def test_connection_refused_means_nothing_was_sent() -> None:
    gateway = StripeGateway(
        StripeConfig(api_key=Secret("sk_test_x"), api_base=f"http://127.0.0.1:{free_port()}")
    )
    try:
        with pytest.raises(GatewayUnavailable):
            await gateway.charge(charge_request())
    finally:
        await gateway.close()
