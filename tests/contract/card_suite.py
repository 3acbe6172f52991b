"""The card-payments contract every adapter passes (sandbox, Stripe via localstripe).

Each test takes a ``card_gateway`` fixture (the adapter under test), ``cards`` (a test
token per behaviour: visa, declined, insufficient_funds), ``peer_lacks`` (behaviours the
peer cannot simulate: such tests are reported XFAIL with the reason, never as passes)
and a ``keys`` factory of fresh idempotency keys. They assert only what the Protocol
promises.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable

import pytest

from gateways.errors import GatewayRejected
from gateways.protocols import CardPayments
from gateways.types import (
    CancelRequest,
    CaptureRequest,
    ChargeRequest,
    Outcome,
    RefundRequest,
    RefundRetrieveRequest,
    RetrieveRequest,
)

Keys = Callable[[], str]


@pytest.fixture
def keys() -> Keys:
    run = uuid.uuid4().hex[:8]
    counter = itertools.count()
    return lambda: f"contract-{run}-{next(counter)}"


Cards = dict[str, str]


def lacking(peer_lacks: frozenset[str], behaviour: str) -> None:
    if behaviour in peer_lacks:
        pytest.xfail(f"the test peer cannot simulate: {behaviour}")


def charge(keys: Keys, method: str, **fields: object) -> ChargeRequest:
    values: dict[str, object] = {
        "amount": 2999,
        "currency": "usd",
        "payment_method": method,
        "idempotency_key": keys(),
        **fields,
    }
    return ChargeRequest(**values)  # type: ignore[arg-type]


async def test_a_visa_charge_succeeds_in_full(
    card_gateway: CardPayments, cards: Cards, keys: Keys
) -> None:
    result = await card_gateway.charge(charge(keys, cards["visa"]))
    assert result.outcome is Outcome.SUCCEEDED
    assert result.amount_received == 2999
    assert result.gateway_reference
    assert result.error is None


async def test_a_declined_card_is_an_answer_with_its_code(
    card_gateway: CardPayments, cards: Cards, peer_lacks: frozenset[str], keys: Keys
) -> None:
    lacking(peer_lacks, "declines")
    result = await card_gateway.charge(charge(keys, cards["declined"]))
    assert result.outcome is Outcome.DECLINED
    assert result.error is not None
    assert result.error.code == "card_declined"
    assert result.amount_received == 0


async def test_insufficient_funds_carries_its_decline_code(
    card_gateway: CardPayments, cards: Cards, peer_lacks: frozenset[str], keys: Keys
) -> None:
    lacking(peer_lacks, "declines")
    result = await card_gateway.charge(charge(keys, cards["insufficient_funds"]))
    assert result.outcome is Outcome.DECLINED
    assert result.error is not None
    assert result.error.decline_code == "insufficient_funds"


async def test_the_same_key_returns_the_same_payment(
    card_gateway: CardPayments, cards: Cards, peer_lacks: frozenset[str], keys: Keys
) -> None:
    lacking(peer_lacks, "idempotent replays")
    request = charge(keys, cards["visa"])
    first = await card_gateway.charge(request)
    again = await card_gateway.charge(request)
    assert again.gateway_reference == first.gateway_reference


async def test_manual_capture_authorizes_then_captures_in_part(
    card_gateway: CardPayments, cards: Cards, keys: Keys
) -> None:
    authorized = await card_gateway.charge(charge(keys, cards["visa"], manual_capture=True))
    assert authorized.outcome is Outcome.REQUIRES_CAPTURE
    assert authorized.amount_capturable == 2999
    captured = await card_gateway.capture(
        CaptureRequest(
            gateway_reference=authorized.gateway_reference,
            amount=2000,
            currency="usd",
            idempotency_key=keys(),
        )
    )
    assert captured.outcome is Outcome.SUCCEEDED
    assert captured.amount_received == 2000
    fetched = await card_gateway.retrieve(
        RetrieveRequest(gateway_reference=authorized.gateway_reference)
    )
    assert fetched.outcome is Outcome.SUCCEEDED


async def test_an_authorization_can_be_canceled(
    card_gateway: CardPayments, cards: Cards, keys: Keys
) -> None:
    authorized = await card_gateway.charge(charge(keys, cards["visa"], manual_capture=True))
    canceled = await card_gateway.cancel(
        CancelRequest(gateway_reference=authorized.gateway_reference, idempotency_key=keys())
    )
    assert canceled.outcome is Outcome.CANCELED


async def test_partial_refunds_add_up_to_the_amount_received(
    card_gateway: CardPayments, cards: Cards, keys: Keys
) -> None:
    paid = await card_gateway.charge(charge(keys, cards["visa"]))
    for amount in (1000, 1999):
        refund = await card_gateway.refund(
            RefundRequest(
                gateway_reference=paid.gateway_reference,
                amount=amount,
                currency="usd",
                idempotency_key=keys(),
            )
        )
        assert refund.outcome is Outcome.SUCCEEDED
        assert refund.gateway_reference


async def test_refunding_more_than_received_is_refused(
    card_gateway: CardPayments, cards: Cards, peer_lacks: frozenset[str], keys: Keys
) -> None:
    lacking(peer_lacks, "refund limits")
    paid = await card_gateway.charge(charge(keys, cards["visa"]))
    with pytest.raises(GatewayRejected):
        await card_gateway.refund(
            RefundRequest(
                gateway_reference=paid.gateway_reference,
                amount=3000,
                currency="usd",
                idempotency_key=keys(),
            )
        )


async def test_a_refund_reads_back_as_the_gateway_holds_it(
    card_gateway: CardPayments, cards: Cards, peer_lacks: frozenset[str], keys: Keys
) -> None:
    """What the reconciler reads of a refund left pending (its webhook lost)."""
    lacking(peer_lacks, "reading back what was made")
    paid = await card_gateway.charge(charge(keys, cards["visa"]))
    made = await card_gateway.refund(
        RefundRequest(
            gateway_reference=paid.gateway_reference,
            amount=1000,
            currency="usd",
            idempotency_key=keys(),
        )
    )
    read = await card_gateway.retrieve_refund(
        RefundRetrieveRequest(gateway_reference=made.gateway_reference)
    )
    assert read.gateway_reference == made.gateway_reference
    assert read.outcome is made.outcome
    assert (read.amount, read.currency) == (1000, "usd")
    assert read.payment_reference == paid.gateway_reference


async def test_reading_an_unknown_refund_is_refused(
    card_gateway: CardPayments, peer_lacks: frozenset[str]
) -> None:
    lacking(peer_lacks, "reading back what was made")
    with pytest.raises(GatewayRejected):
        await card_gateway.retrieve_refund(
            RefundRetrieveRequest(gateway_reference="re_never_made_here")
        )
