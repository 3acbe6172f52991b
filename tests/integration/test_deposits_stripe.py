"""Deposit and PurchaseCredits on the Stripe adapter (the real SDK against localstripe)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.wallet.v1 import resources_pb2 as wres
from server.ledger_payments import LEDGER_REFERENCE
from tests.conftest import TENANT_AUTH, Running, settings_for, start_running
from tests.contract.peers import localstripe_card, start_localstripe
from tests.integration.test_deposits_and_purchases import (
    balances,
    deposit,
    deposit_request,
    intent,
    new_wallet,
)
from tests.integration.test_payment_gateway_events import localstripe_call
from tests.integration.test_payments import new_customer
from tests.ledger_support import assert_ledger_ok


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    yield from start_localstripe()


@pytest.fixture
async def stripe(migrated_url: str, clients_file: Path, localstripe: str) -> AsyncIterator[Running]:
    running = await start_running(
        settings_for(
            migrated_url,
            ISA_CLIENTS_FILE=str(clients_file),
            ISA_GATEWAYS="stripe,sandbox",
            ISA_STRIPE_API_KEY="sk_test_isa",
            ISA_STRIPE_API_BASE=localstripe,
        )
    )
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


async def stripe_method(server: Running, localstripe: str, number: str) -> str:
    token = await asyncio.to_thread(localstripe_card, localstripe, number)
    saved = await server.payments().AttachPaymentMethod(
        pb.AttachPaymentMethodRequest(
            customer_id=await new_customer(server), gateway="stripe", token=token
        ),
        metadata=TENANT_AUTH,
    )
    return str(saved.payment_method.id)


async def test_a_deposit_paid_on_stripe_is_available_and_linked_at_stripe(
    stripe: Running, localstripe: str
) -> None:
    method = await stripe_method(stripe, localstripe, "4242424242424242")
    wallet_id = await new_wallet(stripe)
    done = await deposit(stripe, deposit_request(wallet_id, method, amount=1_234))
    assert done.status == wres.WALLET_TRANSACTION_STATUS_SUCCEEDED
    assert await balances(stripe, wallet_id) == ({"usd": 1_234}, {"usd": 0})
    paid = await intent(stripe, done.payment_intent_id)
    assert (paid.gateway, paid.status) == ("stripe", res.PAYMENT_INTENT_STATUS_SUCCEEDED)
    remote = await asyncio.to_thread(
        localstripe_call, localstripe, "GET", f"/v1/payment_intents/{paid.gateway_reference}"
    )
    assert (remote["amount"], remote["status"]) == (1_234, "succeeded")
    assert remote["metadata"][LEDGER_REFERENCE] == done.id
    await assert_ledger_ok(stripe.runtime.db)
    # PurchaseCredits is not run here: it describes the charge ("100 credits (…)"), and
    # localstripe refuses a description on payment intents (Stripe itself takes it).
