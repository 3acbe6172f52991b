"""Stripe's test tokens and card numbers, and what each one does in the sandbox."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

from gateways.types import PaymentError


class Behaviour(enum.Enum):
    SUCCEED = "succeed"
    DECLINE = "decline"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    AUTHENTICATE = "authenticate"


@dataclass(frozen=True, slots=True, kw_only=True)
class TestCard:
    brand: str
    last4: str
    behaviour: Behaviour
    exp_month: int = 12
    exp_year: int = 2034


#: Stripe's PaymentMethod test tokens, usable directly as a payment method.
TEST_TOKENS: Final = {
    "pm_card_visa": TestCard(brand="visa", last4="4242", behaviour=Behaviour.SUCCEED),
    "pm_card_mastercard": TestCard(brand="mastercard", last4="4444", behaviour=Behaviour.SUCCEED),
    "pm_card_chargeDeclined": TestCard(brand="visa", last4="0002", behaviour=Behaviour.DECLINE),
    "pm_card_chargeDeclinedInsufficientFunds": TestCard(
        brand="visa", last4="9995", behaviour=Behaviour.INSUFFICIENT_FUNDS
    ),
    "pm_card_authenticationRequired": TestCard(
        brand="visa", last4="3155", behaviour=Behaviour.AUTHENTICATE
    ),
}

#: Test card numbers that CreateTestCardToken turns into tokens (and nothing else accepts).
TEST_NUMBERS: Final = {
    "4242424242424242": Behaviour.SUCCEED,
    "4111111111111111": Behaviour.SUCCEED,
    "4000000000000002": Behaviour.DECLINE,
    "4000000000009995": Behaviour.INSUFFICIENT_FUNDS,
    "4000002500003155": Behaviour.AUTHENTICATE,
}

DECLINES: Final = {
    Behaviour.DECLINE: PaymentError(
        code="card_declined", decline_code="generic_decline", message="Your card was declined."
    ),
    Behaviour.INSUFFICIENT_FUNDS: PaymentError(
        code="card_declined",
        decline_code="insufficient_funds",
        message="Your card has insufficient funds.",
    ),
}

AUTHENTICATION_FAILED: Final = PaymentError(
    code="authentication_failed",
    message="The payer did not complete 3-D Secure authentication.",
)


def luhn_ok(number: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(number)):
        digit = int(char)
        if index % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def brand_of(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:4].startswith("22"):
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"
