"""Raw card numbers are found in any field, and ids or keys are not mistaken for them."""

from __future__ import annotations

import random
import uuid

import pytest
from google.protobuf.message import Message

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from server.errors import InvalidInput
from server.servicers.card_guard import looks_like_card_number, refuse_unsafe_strings
from server.servicers.support import Checks


@pytest.mark.parametrize(
    "text",
    [
        "4242424242424242",
        "4242 4242 4242 4242",
        "pay with 4000-0025-0000-3155 please",
        "x4000000000000002y",
        "3782 822463 10005",
        "5555555555554444",
        "2223003122003222",  # Mastercard's 2-series
        "3056930009020004",  # Diners
        "3566002020360505",  # JCB
        "6011111111111117",  # Discover
        "6200000000000005",  # UnionPay
        "4222222222222",  # 13-digit Visa
    ],
)
def test_card_numbers_are_found(text: str) -> None:
    assert looks_like_card_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "pm_card_visa",
        "tok_1f2e3d",
        "4242424242424241",  # fails Luhn
        "order-1234567890123",  # no issuer starts with 1
        "bench-pi-391827364512-57",
        "142424242424242428",  # a card inside a longer number is a longer number
        "pi_01jd8x7m3k5v2p9q8r7s6t5u4w",
        "order-20261204123453",  # Luhn-valid, but a date: no issuer starts with 20
        "run-3312345678901238",  # Luhn-valid, but no issuer starts with 33
    ],
)
def test_ids_and_keys_are_not_cards(text: str) -> None:
    assert not looks_like_card_number(text)


def test_every_field_is_named_and_no_value_is_echoed() -> None:
    checks = Checks()
    request = pb.CreateCheckoutSessionRequest(
        metadata={"note": "4242424242424242"},
        line_items=res.CheckoutLineItems(
            items=[res.CheckoutLineItem(description="card 4000 0025 0000 3155", quantity=1)]
        ),
        success_url="https://x.example/ok",
    )
    refuse_unsafe_strings(checks, request)
    with pytest.raises(Exception) as caught:
        checks.raise_if_any()
    fields = {v.field for v in caught.value.violations}  # type: ignore[attr-defined]
    assert fields == {"metadata['note']", "line_items.items[0].description"}
    assert "4242" not in str(caught.value)


def _uuid4_hex_keys(count: int) -> list[str]:
    """Keys the way clients make them (``uuid4().hex``), from a fixed seed."""
    draw = random.Random(20261204)
    return [uuid.UUID(int=draw.getrandbits(128), version=4).hex for _ in range(count)]


def test_a_hex_key_is_never_taken_for_a_card() -> None:
    keys = _uuid4_hex_keys(20_000)
    # About one in a thousand holds a Luhn-valid, issuer-prefixed run between letters:
    # as free text that is flagged, as a key it is part of the key.
    assert any(looks_like_card_number(key) for key in keys)
    for key in keys:
        checks = Checks()
        refuse_unsafe_strings(checks, pb.CreatePaymentIntentRequest(idempotency_key=key))
        checks.raise_if_any()


@pytest.mark.parametrize(
    "request_",
    [
        pb.CreatePaymentIntentRequest(idempotency_key="order-4242424242424242"),
        pb.CreatePaymentIntentRequest(idempotency_key="4000 0025 0000 3155"),
        pb.GetPaymentIntentRequest(id="4242424242424242"),
        pb.CreatePaymentIntentRequest(customer_id="cus-4242424242424242"),
    ],
)
def test_a_card_number_set_apart_in_an_identifier_is_still_refused(request_: Message) -> None:
    checks = Checks()
    refuse_unsafe_strings(checks, request_)
    with pytest.raises(InvalidInput):
        checks.raise_if_any()


def test_free_text_stays_strict_about_runs_touching_letters() -> None:
    checks = Checks()
    refuse_unsafe_strings(checks, pb.CreatePaymentIntentRequest(description="x4242424242424242y"))
    with pytest.raises(InvalidInput):
        checks.raise_if_any()
