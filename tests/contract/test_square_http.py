"""The Square adapter's HTTP, recorded: what a static mock server cannot check.

A local server stands in for connect.squareup.com and records every request the
official SDK sends; tests assert method, path and JSON body against Square's documented
API (delayed capture, partial capture through UpdatePayment, refunds, cards on file,
``idempotency_key``), and how Square's error answers map to outcomes and decline codes.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from gateways.errors import GatewayAuthError, GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.square import SquareConfig, SquareGateway
from gateways.types import (
    AttachRequest,
    CancelRequest,
    CaptureRequest,
    ChargeRequest,
    CustomerRequest,
    DetachRequest,
    Outcome,
    RefundRequest,
    RetrieveRequest,
    derive_key,
)
from server.config import Secret
from tests.contract.peers import Recorded, RecordingStripe, free_port

TOKEN = "EAAAl-recorded-access-token"
LOCATION = "L-RECORDED"
Reply = Callable[[Recorded], tuple[int, dict[str, Any]]]


def ok(body: dict[str, Any]) -> Reply:
    return lambda _request: (200, body)


def payment(status: str, amount: int = 5000, **fields: Any) -> dict[str, Any]:
    return {
        "id": "pay_1",
        "status": status,
        "amount_money": {"amount": amount, "currency": "USD"},
        "total_money": {"amount": amount, "currency": "USD"},
        "version_token": f"v-{status}-{amount}",
        **fields,
    }


@pytest.fixture
async def recording() -> AsyncIterator[RecordingStripe]:
    fake = RecordingStripe(reply=ok({}))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def square(recording: RecordingStripe) -> AsyncIterator[SquareGateway]:
    gateway = SquareGateway(
        SquareConfig(access_token=Secret(TOKEN), location_id=LOCATION, base_url=recording.base)
    )
    yield gateway
    await gateway.close()


def sent(recording: RecordingStripe) -> list[tuple[str, str, Any]]:
    """Every request as (method, path, JSON body or None)."""
    return [(r.method, r.path, json.loads(r.text) if r.text else None) for r in recording.requests]


def charge_request(**fields: Any) -> ChargeRequest:
    values: dict[str, Any] = {
        "amount": 5000,
        "currency": "usd",
        "payment_method": "cnon:card-nonce-ok",
        "idempotency_key": "isa-charge-1",
        **fields,
    }
    return ChargeRequest(**values)


async def test_manual_capture_is_a_delayed_payment_with_the_derived_key(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    recording.reply = ok({"payment": payment("APPROVED")})
    result = await square.charge(
        charge_request(manual_capture=True, customer_reference="CUS_1", description="Rent March")
    )
    assert result.outcome is Outcome.REQUIRES_CAPTURE
    assert (result.gateway_reference, result.amount_capturable, result.amount_received) == (
        "pay_1",
        5000,
        0,
    )
    assert sent(recording) == [
        (
            "POST",
            "/v2/payments",
            {
                "source_id": "cnon:card-nonce-ok",
                "idempotency_key": "isa-charge-1",
                "amount_money": {"amount": 5000, "currency": "USD"},
                "autocomplete": False,
                "customer_id": "CUS_1",
                "location_id": LOCATION,
                "note": "Rent March",
            },
        )
    ]
    assert recording.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


async def test_automatic_capture_completes_at_once(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    recording.reply = ok({"payment": payment("COMPLETED")})
    result = await square.charge(charge_request())
    assert (result.outcome, result.amount_received) == (Outcome.SUCCEEDED, 5000)
    ((_, _, body),) = sent(recording)
    assert body["autocomplete"] is True
    assert "customer_id" not in body
    assert "note" not in body


async def test_a_partial_capture_lowers_the_amount_then_completes_that_version(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    def reply(request: Recorded) -> tuple[int, dict[str, Any]]:
        if request.method == "GET":
            return 200, {"payment": payment("APPROVED")}
        if request.method == "PUT":
            return 200, {"payment": payment("APPROVED", amount=3000)}
        return 200, {"payment": payment("COMPLETED", amount=3000)}

    recording.reply = reply
    captured = await square.capture(
        CaptureRequest(
            gateway_reference="pay_1", amount=3000, currency="usd", idempotency_key="isa-cap-1"
        )
    )
    assert (captured.outcome, captured.amount_received) == (Outcome.SUCCEEDED, 3000)
    assert sent(recording) == [
        ("GET", "/v2/payments/pay_1", None),
        (
            "PUT",
            "/v2/payments/pay_1",
            {
                "idempotency_key": derive_key("isa-cap-1", "square-amount"),
                "payment": {"amount_money": {"amount": 3000, "currency": "USD"}},
            },
        ),
        ("POST", "/v2/payments/pay_1/complete", {"version_token": "v-APPROVED-3000"}),
    ]


async def test_a_full_capture_completes_without_an_update(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    def reply(request: Recorded) -> tuple[int, dict[str, Any]]:
        status = "APPROVED" if request.method == "GET" else "COMPLETED"
        return 200, {"payment": payment(status)}

    recording.reply = reply
    captured = await square.capture(
        CaptureRequest(
            gateway_reference="pay_1", amount=5000, currency="usd", idempotency_key="isa-cap-2"
        )
    )
    assert captured.outcome is Outcome.SUCCEEDED
    assert [(m, p) for m, p, _ in sent(recording)] == [
        ("GET", "/v2/payments/pay_1"),
        ("POST", "/v2/payments/pay_1/complete"),
    ]


async def test_capturing_a_completed_payment_again_completes_nothing(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    recording.reply = ok({"payment": payment("COMPLETED", amount=3000)})
    again = await square.capture(
        CaptureRequest(
            gateway_reference="pay_1", amount=3000, currency="usd", idempotency_key="isa-cap-1"
        )
    )
    assert (again.outcome, again.amount_received) == (Outcome.SUCCEEDED, 3000)
    assert [(m, p) for m, p, _ in sent(recording)] == [("GET", "/v2/payments/pay_1")]


async def test_cancel_voids_the_authorization(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    recording.reply = ok({"payment": payment("CANCELED")})
    canceled = await square.cancel(CancelRequest(gateway_reference="pay_1", idempotency_key="k"))
    assert canceled.outcome is Outcome.CANCELED
    assert [(m, p) for m, p, _ in sent(recording)] == [("POST", "/v2/payments/pay_1/cancel")]


async def test_several_partial_refunds_each_carry_their_own_key(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    answers = iter(
        [
            {"refund": {"id": "ref_1", "status": "PENDING", "payment_id": "pay_1"}},
            {"refund": {"id": "ref_2", "status": "COMPLETED", "payment_id": "pay_1"}},
        ]
    )
    recording.reply = lambda _r: (200, next(answers))
    first = await square.refund(
        RefundRequest(
            gateway_reference="pay_1",
            amount=1000,
            currency="usd",
            reason="requested_by_customer",
            idempotency_key="isa-ref-1",
        )
    )
    second = await square.refund(
        RefundRequest(
            gateway_reference="pay_1", amount=1999, currency="usd", idempotency_key="isa-ref-2"
        )
    )
    assert (first.outcome, first.gateway_reference) == (Outcome.PROCESSING, "ref_1")
    assert (second.outcome, second.gateway_reference) == (Outcome.SUCCEEDED, "ref_2")
    assert sent(recording) == [
        (
            "POST",
            "/v2/refunds",
            {
                "idempotency_key": "isa-ref-1",
                "amount_money": {"amount": 1000, "currency": "USD"},
                "payment_id": "pay_1",
                "reason": "requested_by_customer",
            },
        ),
        (
            "POST",
            "/v2/refunds",
            {
                "idempotency_key": "isa-ref-2",
                "amount_money": {"amount": 1999, "currency": "USD"},
                "payment_id": "pay_1",
            },
        ),
    ]


async def test_a_rejected_refund_is_declined(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    recording.reply = ok({"refund": {"id": "ref_3", "status": "REJECTED"}})
    refund = await square.refund(
        RefundRequest(gateway_reference="pay_1", amount=10, currency="usd", idempotency_key="k")
    )
    assert refund.outcome is Outcome.DECLINED
    assert refund.error is not None
    assert refund.error.code == "refund_failed"


@pytest.mark.parametrize(
    ("square_code", "decline_code"),
    [
        ("CARD_DECLINED", "generic_decline"),
        ("GENERIC_DECLINE", "generic_decline"),
        ("INSUFFICIENT_FUNDS", "insufficient_funds"),
        ("CVV_FAILURE", "incorrect_cvc"),
        ("ADDRESS_VERIFICATION_FAILURE", "incorrect_zip"),
        ("INVALID_EXPIRATION", "expired_card"),
        ("CARD_DECLINED_VERIFICATION_REQUIRED", "authentication_required"),
        ("A_CODE_SQUARE_ADDS_LATER", "generic_decline"),
    ],
)
async def test_card_errors_are_declines_with_stripes_codes(
    recording: RecordingStripe, square: SquareGateway, square_code: str, decline_code: str
) -> None:
    error = {"category": "PAYMENT_METHOD_ERROR", "code": square_code, "detail": "Declined."}
    failed = payment("FAILED", card_details={"status": "FAILED", "errors": [error]})
    recording.reply = lambda _r: (402, {"errors": [error], "payment": failed})
    result = await square.charge(charge_request())
    assert result.outcome is Outcome.DECLINED
    assert result.gateway_reference == "pay_1"
    assert result.amount_received == 0
    assert result.error is not None
    assert (result.error.code, result.error.decline_code) == ("card_declined", decline_code)
    assert result.error.message == "Declined."
    assert len(recording.requests) == 1


async def test_a_failed_payment_read_later_carries_its_decline(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    error = {"category": "PAYMENT_METHOD_ERROR", "code": "INSUFFICIENT_FUNDS"}
    recording.reply = ok(
        {"payment": payment("FAILED", card_details={"status": "FAILED", "errors": [error]})}
    )
    result = await square.retrieve(RetrieveRequest(gateway_reference="pay_1"))
    assert result.outcome is Outcome.DECLINED
    assert result.error is not None
    assert result.error.decline_code == "insufficient_funds"


@pytest.mark.parametrize(
    ("status", "category", "code", "raised"),
    [
        (429, "RATE_LIMIT_ERROR", "RATE_LIMITED", GatewayUnavailable),
        (500, "API_ERROR", "INTERNAL_SERVER_ERROR", OutcomeUnknown),
        (503, "API_ERROR", "SERVICE_UNAVAILABLE", OutcomeUnknown),
        (401, "AUTHENTICATION_ERROR", "UNAUTHORIZED", GatewayAuthError),
        (403, "AUTHENTICATION_ERROR", "INSUFFICIENT_SCOPES", GatewayAuthError),
        (400, "INVALID_REQUEST_ERROR", "IDEMPOTENCY_KEY_REUSED", OutcomeUnknown),
        (400, "INVALID_REQUEST_ERROR", "CARD_TOKEN_USED", GatewayRejected),
    ],
)
async def test_square_errors_map_to_what_is_known_about_the_request(
    recording: RecordingStripe,
    square: SquareGateway,
    status: int,
    category: str,
    code: str,
    raised: type[Exception],
) -> None:
    recording.reply = lambda _r: (
        status,
        {"errors": [{"category": category, "code": code, "detail": "x"}]},
    )
    with pytest.raises(raised) as caught:
        await square.charge(charge_request())
    assert len(recording.requests) == 1  # the SDK's own retries are off
    assert TOKEN not in str(caught.value)


async def test_rejections_carry_squares_code(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    recording.reply = lambda _r: (
        400,
        {"errors": [{"category": "INVALID_REQUEST_ERROR", "code": "CARD_TOKEN_USED"}]},
    )
    with pytest.raises(GatewayRejected) as used:
        await square.charge(charge_request())
    assert used.value.code == "card_token_used"
    recording.reply = lambda _r: (
        400,
        {
            "errors": [
                {
                    "category": "INVALID_REQUEST_ERROR",
                    "code": "REFUND_AMOUNT_INVALID",
                    "detail": "The requested refund amount exceeds the amount available.",
                }
            ]
        },
    )
    with pytest.raises(GatewayRejected) as too_much:
        await square.refund(
            RefundRequest(gateway_reference="p", amount=9, currency="usd", idempotency_key="k")
        )
    assert too_much.value.code == "refund_amount_invalid"
    assert "exceeds" in too_much.value.message


async def test_connection_refused_means_nothing_was_sent() -> None:
    gateway = SquareGateway(
        SquareConfig(
            access_token=Secret(TOKEN),
            location_id=LOCATION,
            base_url=f"http://127.0.0.1:{free_port()}",
        )
    )
    try:
        with pytest.raises(GatewayUnavailable):
            await gateway.charge(charge_request())
    finally:
        await gateway.close()


async def test_cards_on_file_are_created_from_a_token_and_disabled(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    def reply(request: Recorded) -> tuple[int, dict[str, Any]]:
        if request.path == "/v2/customers":
            return 200, {"customer": {"id": "CUS_1"}}
        card = {
            "id": "ccof:abc",
            "card_brand": "AMERICAN_EXPRESS",
            "last_4": "0009",
            "exp_month": 12,
            "exp_year": 2040,
            "customer_id": "CUS_1",
            "enabled": request.path == "/v2/cards",
        }
        return 200, {"card": card}

    recording.reply = reply
    customer = await square.create_customer(
        CustomerRequest(email="ana@example.com", name="Ana María López", idempotency_key="isa-c")
    )
    saved = await square.attach(
        AttachRequest(token="cnon:card-nonce-ok", customer_reference=customer, idempotency_key="s")
    )
    await square.detach(
        DetachRequest(gateway_reference=saved.gateway_reference, idempotency_key="d")
    )
    assert customer == "CUS_1"
    assert (saved.gateway_reference, saved.brand, saved.last4) == ("ccof:abc", "amex", "0009")
    assert (saved.exp_month, saved.exp_year, saved.error) == (12, 2040, None)
    assert sent(recording) == [
        (
            "POST",
            "/v2/customers",
            {
                "idempotency_key": "isa-c",
                "given_name": "Ana",
                "family_name": "María López",
                "email_address": "ana@example.com",
            },
        ),
        (
            "POST",
            "/v2/cards",
            {
                "idempotency_key": "s",
                "source_id": "cnon:card-nonce-ok",
                "card": {"customer_id": "CUS_1"},
            },
        ),
        ("POST", "/v2/cards/ccof:abc/disable", None),
    ]


async def test_a_card_refused_when_saved_is_an_answer(
    recording: RecordingStripe, square: SquareGateway
) -> None:
    error = {"category": "PAYMENT_METHOD_ERROR", "code": "CVV_FAILURE", "detail": "CVV."}
    recording.reply = lambda _r: (400, {"errors": [error]})
    saved = await square.attach(
        AttachRequest(
            token="cnon:card-nonce-rejected-cvv", customer_reference="C", idempotency_key="s"
        )
    )
    assert saved.error is not None
    assert (saved.error.code, saved.error.decline_code) == ("card_declined", "incorrect_cvc")


def test_the_access_token_never_shows_in_a_repr() -> None:
    config = SquareConfig(access_token=Secret(TOKEN), location_id=LOCATION)
    assert TOKEN not in repr(config)
    assert TOKEN not in str(config)
