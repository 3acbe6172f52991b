"""The card-payments contract, run over the Stripe adapter's real SDK calls to localstripe.

localstripe 1.15.10 simulates PaymentIntents, manual and partial capture, cancel,
refunds, customers and payment methods. It does not simulate card declines on
PaymentIntents, Idempotency-Key replays, or refund limits: those tests report XFAIL
here (they run for real against the sandbox, and the decline and key handling of the
adapter are checked against recorded HTTP in test_stripe_http.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from gateways.protocols import CardPayments
from gateways.stripe import StripeConfig, StripeGateway
from gateways.types import AttachRequest, CustomerRequest, DetachRequest, MethodType
from server.config import Secret
from tests.contract.card_suite import *  # noqa: F403  (the shared contract tests)
from tests.contract.card_suite import Keys
from tests.contract.peers import localstripe_card, start_localstripe


@pytest.fixture(scope="session")
def localstripe() -> Iterator[str]:
    yield from start_localstripe()


@pytest.fixture
async def stripe_gateway(localstripe: str) -> AsyncIterator[StripeGateway]:
    gateway = StripeGateway(StripeConfig(api_key=Secret("sk_test_contract"), api_base=localstripe))
    yield gateway
    await gateway.close()


@pytest.fixture
def card_gateway(stripe_gateway: StripeGateway) -> CardPayments:
    return stripe_gateway


@pytest.fixture
def cards(localstripe: str) -> dict[str, str]:
    return {
        "visa": localstripe_card(localstripe, "4242424242424242"),
        "declined": localstripe_card(localstripe, "4000000000000002"),
        "insufficient_funds": localstripe_card(localstripe, "4000000000009995"),
    }


@pytest.fixture
def peer_lacks() -> frozenset[str]:
    return frozenset({"declines", "idempotent replays", "refund limits"})


async def test_a_card_is_saved_on_a_customer_then_detached(
    stripe_gateway: StripeGateway, cards: dict[str, str], keys: Keys
) -> None:
    customer = await stripe_gateway.create_customer(
        CustomerRequest(email="ana@example.com", idempotency_key=keys())
    )
    assert customer.startswith("cus_")
    saved = await stripe_gateway.attach(
        AttachRequest(token=cards["visa"], customer_reference=customer, idempotency_key=keys())
    )
    assert saved.type is MethodType.CARD
    assert (saved.brand, saved.last4, saved.exp_year) == ("visa", "4242", 2040)
    await stripe_gateway.detach(
        DetachRequest(gateway_reference=saved.gateway_reference, idempotency_key=keys())
    )
