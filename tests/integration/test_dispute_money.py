"""What a chargeback does to the money a payment funded, and to refunds of it.

A chargeback withdraws the disputed amount while it is decided: a wallet deposit's money
is held out of the wallet (what was spent meanwhile is advanced and owed, as for a
refund made at the gateway), a credit purchase's share of credits is revoked. A lost
dispute sends the held money out for good; a won one gives it, and the credits, back.
An inquiry moves nothing until it escalates. A charged-back payment cannot be refunded.
"""

from __future__ import annotations

import itertools

import grpc
import pytest

from isa.credit.v1 import resources_pb2 as cres
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.wallet.v1 import resources_pb2 as wres
from isa.wallet.v1 import wallet_service_pb2 as wpb
from tests.conftest import TENANT_AUTH, Running
from tests.integration.test_deposit_refunds import (
    credit_history,
    funded_wallet,
    refund,
    refund_lines,
)
from tests.integration.test_deposits_and_purchases import (
    available_credits,
    balances,
    history,
    key,
    new_wallet,
    purchase,
    purchase_request,
    saved_method,
    wallets,
)
from tests.integration.test_disputes import announced, open_dispute, sandbox
from tests.integration.test_outside_refunds import succeeded_sum, system_balances
from tests.integration.test_payment_gateway_events import get_intent, post_sandbox, settled
from tests.integration.test_payments import create, events
from tests.integration.test_surface import error_info
from tests.ledger_support import assert_ledger_ok

D = res.DisputeStatus
W = wres.WalletTransactionStatus
_events = itertools.count(1)


@pytest.fixture
def server(quick_relay_server: Running) -> Running:
    return quick_relay_server


async def close_dispute(server: Running, dispute_id: str, *, won: bool) -> res.Dispute:
    answer = await sandbox(server).CloseTestDispute(
        sb.CloseTestDisputeRequest(dispute_id=dispute_id, won=won, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    return answer.dispute


async def spend(server: Running, wallet_id: str, amount: int) -> str:
    """Move ``amount`` out of the wallet to a new one; the other wallet's id."""
    other = await new_wallet(server, owner="bob")
    await wallets(server).Transfer(
        wpb.TransferRequest(
            from_wallet_id=wallet_id,
            to_wallet_id=other,
            amount=amount,
            currency="usd",
            idempotency_key=key(),
        ),
        metadata=TENANT_AUTH,
    )
    return other


async def report_dispute(
    server: Running,
    intent: res.PaymentIntent,
    dispute_reference: str,
    status: str,
    amount: int,
    event_type: str = "charge.dispute.created",
) -> None:
    """Post the sandbox gateway's signed webhook of a dispute's stage; wait for it."""
    stored = await post_sandbox(
        server,
        f"evt_dispute_{next(_events)}",
        event_type,
        object="dispute",
        id=dispute_reference,
        payment_intent=intent.gateway_reference,
        amount=amount,
        currency="usd",
        status=status,
        reason="fraudulent",
    )
    await settled(server, stored)


async def wallet_events(server: Running, line_id: str) -> list[str]:
    return [kind for kind in await events(server, line_id) if kind.startswith("wallet.")]


# --- wallet deposits --------------------------------------------------------------------


async def test_a_lost_chargeback_of_a_deposit_takes_its_money_out_of_the_wallet(
    server: Running,
) -> None:
    wallet_id, done = await funded_wallet(server, amount=2_500)
    clearing_before, _ = await system_balances(server)

    opened = await open_dispute(server, done.payment_intent_id, amount=1_000)
    assert opened.status == D.DISPUTE_STATUS_NEEDS_RESPONSE
    # Withdrawn while it is decided: held, no longer spendable.
    assert await balances(server, wallet_id) == ({"usd": 1_500}, {"usd": 1_000})
    [held] = refund_lines(await history(server, wallet_id))
    assert (held.status, held.amount) == (W.WALLET_TRANSACTION_STATUS_PENDING, -1_000)
    assert opened.id in held.description
    assert "chargeback" in held.description
    assert (held.dispute_id, held.refund_id, held.gateway_reference) == (opened.id, "", "")
    assert done.id in held.description
    await assert_ledger_ok(server.runtime.db)

    lost = await close_dispute(server, opened.id, won=False)
    assert lost.status == D.DISPUTE_STATUS_LOST
    assert await balances(server, wallet_id) == ({"usd": 1_500}, {"usd": 0})
    [gone] = refund_lines(await history(server, wallet_id))
    assert (gone.id, gone.status, gone.amount) == (
        held.id,
        W.WALLET_TRANSACTION_STATUS_SUCCEEDED,
        -1_000,
    )
    assert gone.balance_after == 1_500
    assert await wallet_events(server, gone.id) == ["wallet.deposit.charged_back"]
    assert (await system_balances(server))[0] == clearing_before + 1_000
    assert succeeded_sum(await history(server, wallet_id)) == 1_500
    await assert_ledger_ok(server.runtime.db)


async def test_a_won_chargeback_gives_the_deposit_its_money_back(server: Running) -> None:
    wallet_id, done = await funded_wallet(server, amount=2_500)
    clearing_before, _ = await system_balances(server)
    opened = await open_dispute(server, done.payment_intent_id)  # all of it
    assert opened.amount == 2_500
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 2_500})

    won = await close_dispute(server, opened.id, won=True)
    assert won.status == D.DISPUTE_STATUS_WON
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    [back] = refund_lines(await history(server, wallet_id))
    assert (back.status, back.amount) == (W.WALLET_TRANSACTION_STATUS_FAILED, -2_500)
    assert back.last_error.code == "dispute_won"
    assert opened.id in back.last_error.message
    assert await system_balances(server) == (clearing_before, 0)
    assert await announced(server, opened.id) == ["dispute.created", "dispute.closed"]
    await assert_ledger_ok(server.runtime.db)


async def test_a_chargeback_of_a_spent_deposit_is_advanced_owed_and_won_back(
    server: Running,
) -> None:
    """The wallet holds 300 of the 1,000 disputed: all 1,000 is held (700 advanced from
    returned debits and owed); winning gives the wallet its 300 and takes the advance back."""
    wallet_id, done = await funded_wallet(server, amount=1_000)
    other = await spend(server, wallet_id, 700)
    opened = await open_dispute(server, done.payment_intent_id)
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 1_000})
    held, owed = refund_lines(await history(server, wallet_id))
    assert (held.status, held.amount) == (W.WALLET_TRANSACTION_STATUS_PENDING, -1_000)
    assert (owed.status, owed.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, 700)
    assert owed.dispute_id == opened.id
    assert opened.id in owed.description
    assert "owed" in owed.description
    assert (await system_balances(server))[1] == -700
    assert await balances(server, other) == ({"usd": 700}, {})  # the transfer stands
    await assert_ledger_ok(server.runtime.db)

    await close_dispute(server, opened.id, won=True)
    assert await balances(server, wallet_id) == ({"usd": 300}, {"usd": 0})
    lines = refund_lines(await history(server, wallet_id))
    assert sorted((t.amount, t.status) for t in lines) == [
        (-1_000, W.WALLET_TRANSACTION_STATUS_FAILED),
        (-700, W.WALLET_TRANSACTION_STATUS_SUCCEEDED),
        (700, W.WALLET_TRANSACTION_STATUS_SUCCEEDED),
    ]
    assert (await system_balances(server))[1] == 0  # nothing owed any more
    assert succeeded_sum(await history(server, wallet_id)) == 300
    await assert_ledger_ok(server.runtime.db)


async def test_a_lost_chargeback_of_a_spent_deposit_leaves_the_shortfall_owed(
    server: Running,
) -> None:
    wallet_id, done = await funded_wallet(server, amount=1_000)
    await spend(server, wallet_id, 700)
    clearing_before, _ = await system_balances(server)
    opened = await open_dispute(server, done.payment_intent_id)
    await close_dispute(server, opened.id, won=False)
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    assert await system_balances(server) == (clearing_before + 1_000, -700)
    assert succeeded_sum(await history(server, wallet_id)) == 0
    await assert_ledger_ok(server.runtime.db)


async def test_an_inquiry_moves_nothing_until_it_becomes_a_chargeback(server: Running) -> None:
    wallet_id, done = await funded_wallet(server, amount=2_500)
    intent = await get_intent(server, done.payment_intent_id)

    async def report(status: str) -> None:
        await report_dispute(server, intent, "dp_sandbox_inquiry", status, 2_500)

    await report("warning_needs_response")
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    assert refund_lines(await history(server, wallet_id)) == []

    await report("needs_response")  # escalated: now the money is withdrawn
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 2_500})
    await report("needs_response")  # the same again: nothing more moves
    await report("under_review")
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 2_500})
    assert len(refund_lines(await history(server, wallet_id))) == 1
    await assert_ledger_ok(server.runtime.db)


async def test_a_dispute_first_heard_of_as_lost_takes_the_money_at_once(server: Running) -> None:
    """The opening webhook was missed: the lost dispute withdraws and sends out together."""
    wallet_id, done = await funded_wallet(server, amount=2_500)
    intent = await get_intent(server, done.payment_intent_id)
    await report_dispute(
        server, intent, "dp_sandbox_lost_late", "lost", 400, "charge.dispute.closed"
    )
    assert await balances(server, wallet_id) == ({"usd": 2_100}, {"usd": 0})
    [gone] = refund_lines(await history(server, wallet_id))
    assert (gone.status, gone.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, -400)
    await assert_ledger_ok(server.runtime.db)


# --- credit purchases -------------------------------------------------------------------


async def refund_credit_lines(server: Running) -> list[tuple[int, str]]:
    return [
        (t.amount, t.reason)
        for t in await credit_history(server)
        if t.type == cres.CREDIT_TRANSACTION_TYPE_REFUND
    ]


async def test_a_chargeback_of_a_credit_purchase_revokes_its_credits_until_won(
    server: Running,
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))  # 100 for 1000
    opened = await open_dispute(server, bought.payment_intent_id, amount=500)
    assert await available_credits(server) == 50
    [(revoked, why)] = await refund_credit_lines(server)
    assert revoked == -50
    assert why.startswith(f"chargeback {opened.id} of purchase {bought.id}")
    await assert_ledger_ok(server.runtime.db)

    await close_dispute(server, opened.id, won=True)
    assert await available_credits(server) == 100
    assert sorted(amount for amount, _ in await refund_credit_lines(server)) == [-50, 50]
    assert any("was won" in why for _, why in await refund_credit_lines(server))
    await assert_ledger_ok(server.runtime.db)


async def test_a_lost_chargeback_of_a_credit_purchase_keeps_its_credits_revoked(
    server: Running,
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))
    opened = await open_dispute(server, bought.payment_intent_id)
    assert await available_credits(server) == 0
    await close_dispute(server, opened.id, won=False)
    assert await available_credits(server) == 0
    assert [amount for amount, _ in await refund_credit_lines(server)] == [-100]
    await assert_ledger_ok(server.runtime.db)


# --- refunds of disputed payments -------------------------------------------------------


async def test_a_charged_back_payment_cannot_be_refunded_as_well(server: Running) -> None:
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    opened = await open_dispute(server, intent.id, amount=1_000)
    for attempt in ("while open", "once lost"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await refund(server, intent.id, amount=500)
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION, attempt
        info = error_info(refused.value)
        assert info.reason == "PAYMENT_DISPUTED"
        assert info.metadata["dispute_id"] == opened.id
        if attempt == "while open":
            await close_dispute(server, opened.id, won=False)
    assert (await get_intent(server, intent.id)).amount_refunded == 0


async def test_after_a_won_dispute_the_payment_can_be_refunded(server: Running) -> None:
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    opened = await open_dispute(server, intent.id)
    await close_dispute(server, opened.id, won=True)
    refunded = await refund(server, intent.id, amount=500)
    assert (refunded.status, refunded.amount) == (res.REFUND_STATUS_SUCCEEDED, 500)
