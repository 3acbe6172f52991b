"""Refunding the payment that funded a deposit or a credit purchase, over gRPC, on SQLite
and PostgreSQL.

The refund takes the money (or the credits) back in the transaction that records the
refund, before the gateway is asked; it is refused, with nothing written and nothing
sent, when they are gone; a failed refund gives them back. `isa ledger check` holds
after each.
"""

from __future__ import annotations

import datetime as dt

import grpc
import pytest
from sqlalchemy import update

from gateways.errors import GatewayRejected, OutcomeUnknown
from gateways.router import Router
from gateways.types import RefundRequest, RefundResult
from isa.credit.v1 import credit_service_pb2 as cpb
from isa.credit.v1 import resources_pb2 as cres
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.wallet.v1 import resources_pb2 as wres
from isa.wallet.v1 import wallet_service_pb2 as wpb
from server.ledger.credits import CreditService
from server.ledger.packages import DEFAULT_PACKAGES
from server.ledger.wallets import WalletService
from server.ledger_payments import IntentPayments
from server.payments.intents import PaymentIntentService
from server.payments.outcomes import IntentOutcomes
from store.ledger_models import CreditTransactionRow
from tests.conftest import TENANT_AUTH, Running
from tests.integration.test_deposits_and_purchases import (
    available_credits,
    balances,
    credits,
    deposit,
    deposit_request,
    events,
    history,
    intent,
    key,
    new_wallet,
    purchase,
    purchase_request,
    sandbox_gateway,
    saved_method,
    wallets,
)
from tests.ledger_support import assert_ledger_ok, error_reason

W = wres.WalletTransactionStatus


async def refund(
    server: Running, intent_id: str, amount: int | None = None, idempotency_key: str = ""
) -> res.Refund:
    request = pb.CreateRefundRequest(
        payment_intent_id=intent_id, idempotency_key=idempotency_key or key()
    )
    if amount is not None:
        request.amount = amount
    return (await server.payments().CreateRefund(request, metadata=TENANT_AUTH)).refund


async def refunds_of(server: Running, intent_id: str) -> list[res.Refund]:
    response = await server.payments().ListRefunds(
        pb.ListRefundsRequest(payment_intent_id=intent_id), metadata=TENANT_AUTH
    )
    return list(response.refunds)


async def funded_wallet(server: Running, amount: int = 2_500) -> tuple[str, wres.WalletTransaction]:
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    done = await deposit(server, deposit_request(wallet_id, method, amount=amount))
    assert done.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    return wallet_id, done


def refund_lines(lines: list[wres.WalletTransaction]) -> list[wres.WalletTransaction]:
    return [t for t in lines if t.type == wres.WALLET_TRANSACTION_TYPE_REFUND]


def count_gateway_refunds(
    server: Running, monkeypatch: pytest.MonkeyPatch, fail: bool = False
) -> list[RefundRequest]:
    """Record every refund the sandbox gateway is asked for (and refuse them if ``fail``)."""
    gateway = sandbox_gateway(server)
    real = gateway.refund
    asked: list[RefundRequest] = []

    async def refund(request: RefundRequest) -> RefundResult:
        asked.append(request)
        if fail:
            raise GatewayRejected("sandbox", "the card account is closed", code="card_closed")
        return await real(request)

    monkeypatch.setattr(gateway, "refund", refund)
    return asked


# --- wallet deposits --------------------------------------------------------------------


async def test_a_full_refund_takes_the_deposit_back_out_of_the_wallet(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = count_gateway_refunds(server, monkeypatch)
    wallet_id, done = await funded_wallet(server)
    refunded = await refund(server, done.payment_intent_id)
    assert (refunded.status, refunded.amount) == (res.REFUND_STATUS_SUCCEEDED, 2_500)
    assert len(asked) == 1
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    lines = await history(server, wallet_id)
    [line] = refund_lines(lines)
    assert (line.status, line.amount, line.balance_after) == (
        W.WALLET_TRANSACTION_STATUS_SUCCEEDED,
        -2_500,
        0,
    )
    assert refunded.id in line.description
    assert (line.refund_id, line.dispute_id, line.gateway_reference) == (refunded.id, "", "")
    assert done.id in line.description
    assert line.payment_method_id == done.payment_method_id
    assert [t for t, _ in await events(server, line.id)] == ["wallet.deposit.refunded"]
    paid = await intent(server, done.payment_intent_id)
    assert paid.amount_refunded == 2_500
    # The deposit itself stays what it was: settled; the refund is its own line.
    assert [t.id for t in lines if t.type == wres.WALLET_TRANSACTION_TYPE_DEPOSIT] == [done.id]
    await assert_ledger_ok(server.runtime.db)


async def test_partial_refunds_move_only_their_amount_and_never_more_than_was_paid(
    server: Running,
) -> None:
    wallet_id, done = await funded_wallet(server, amount=10_000)
    first = await refund(server, done.payment_intent_id, amount=3_000)
    assert first.status == res.REFUND_STATUS_SUCCEEDED
    assert await balances(server, wallet_id) == ({"usd": 7_000}, {"usd": 0})
    second = await refund(server, done.payment_intent_id, amount=2_000)
    assert second.status == res.REFUND_STATUS_SUCCEEDED
    assert await balances(server, wallet_id) == ({"usd": 5_000}, {"usd": 0})
    lines = refund_lines(await history(server, wallet_id))
    assert sorted(line.amount for line in lines) == [-3_000, -2_000]
    assert sorted(line.balance_after for line in lines) == [5_000, 7_000]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refund(server, done.payment_intent_id, amount=5_001)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await balances(server, wallet_id) == ({"usd": 5_000}, {"usd": 0})
    rest = await refund(server, done.payment_intent_id)
    assert (rest.status, rest.amount) == (res.REFUND_STATUS_SUCCEEDED, 5_000)
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_a_refund_of_spent_deposit_funds_is_refused_and_nothing_is_sent_or_written(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet_id, done = await funded_wallet(server, amount=5_000)
    other = await new_wallet(server, owner="bob")
    moved = await wallets(server).Transfer(
        wpb.TransferRequest(
            from_wallet_id=wallet_id,
            to_wallet_id=other,
            amount=4_000,
            currency="usd",
            idempotency_key=key(),
        ),
        metadata=TENANT_AUTH,
    )
    assert moved.transfer.id
    asked = count_gateway_refunds(server, monkeypatch)
    before = await history(server, wallet_id)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refund(server, done.payment_intent_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "DEPOSIT_FUNDS_SPENT"
    assert done.id in (caught.value.details() or "")
    assert asked == []
    assert await refunds_of(server, done.payment_intent_id) == []
    assert await history(server, wallet_id) == before
    assert await balances(server, wallet_id) == ({"usd": 1_000}, {"usd": 0})
    assert (await intent(server, done.payment_intent_id)).amount_refunded == 0
    # What the wallet still holds can be refunded.
    part = await refund(server, done.payment_intent_id, amount=1_000)
    assert part.status == res.REFUND_STATUS_SUCCEEDED
    assert len(asked) == 1
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_a_refund_the_gateway_refuses_restores_the_funds(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet_id, done = await funded_wallet(server)
    asked = count_gateway_refunds(server, monkeypatch, fail=True)
    failed = await refund(server, done.payment_intent_id)
    assert failed.status == res.REFUND_STATUS_FAILED
    assert len(asked) == 1
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    [line] = refund_lines(await history(server, wallet_id))
    assert (line.status, line.amount, line.balance_after) == (
        W.WALLET_TRANSACTION_STATUS_FAILED,
        -2_500,
        2_500,
    )
    assert "card account is closed" in line.last_error.message
    assert await events(server, line.id) == []
    await assert_ledger_ok(server.runtime.db)
    # The money is still there, so once the gateway takes refunds again one goes through.
    monkeypatch.undo()
    again = await refund(server, done.payment_intent_id)
    assert again.status == res.REFUND_STATUS_SUCCEEDED
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    assert len(refund_lines(await history(server, wallet_id))) == 2
    await assert_ledger_ok(server.runtime.db)


async def test_replaying_a_refund_moves_the_money_once(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet_id, done = await funded_wallet(server, amount=4_000)
    asked = count_gateway_refunds(server, monkeypatch)
    same = key()
    first = await refund(server, done.payment_intent_id, amount=1_500, idempotency_key=same)
    again = await refund(server, done.payment_intent_id, amount=1_500, idempotency_key=same)
    assert again == first
    assert len(asked) == 1
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    assert len(refund_lines(await history(server, wallet_id))) == 1
    await assert_ledger_ok(server.runtime.db)


async def test_a_refund_of_a_plain_payment_touches_no_wallet(server: Running) -> None:
    wallet_id, _ = await funded_wallet(server)
    stub = server.payments()
    paid = (
        await stub.CreatePaymentIntent(
            pb.CreatePaymentIntentRequest(
                amount=1_000,
                currency="usd",
                payment_method_id="pm_card_visa",
                confirm=True,
                idempotency_key=key(),
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert (await refund(server, paid.id)).status == res.REFUND_STATUS_SUCCEEDED
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


# --- credit purchases -------------------------------------------------------------------


async def credit_history(server: Running) -> list[cres.CreditTransaction]:
    response = await credits(server).ListCreditTransactions(
        cpb.ListCreditTransactionsRequest(owner_id="ana"), metadata=TENANT_AUTH
    )
    return list(response.credit_transactions)


async def test_refunding_an_unused_credit_purchase_revokes_its_credits(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))
    assert await available_credits(server) == 100
    asked = count_gateway_refunds(server, monkeypatch)
    refunded = await refund(server, bought.payment_intent_id)
    assert (refunded.status, refunded.amount) == (res.REFUND_STATUS_SUCCEEDED, bought.amount)
    assert len(asked) == 1
    assert await available_credits(server) == 0
    revoked = [
        t for t in await credit_history(server) if t.type == cres.CREDIT_TRANSACTION_TYPE_REFUND
    ]
    assert [(t.amount, t.balance_after, t.purchase_id) for t in revoked] == [(-100, 0, bought.id)]
    await assert_ledger_ok(server.runtime.db)


async def test_a_credit_purchase_refund_is_refused_once_credits_were_used_or_in_part(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))
    asked = count_gateway_refunds(server, monkeypatch)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refund(server, bought.payment_intent_id, amount=bought.amount // 2)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "PARTIAL_REFUND_NOT_SUPPORTED"
    await credits(server).ConsumeCredits(
        cpb.ConsumeCreditsRequest(owner_id="ana", amount=1, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refund(server, bought.payment_intent_id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "PURCHASED_CREDITS_CONSUMED"
    assert asked == []
    assert await refunds_of(server, bought.payment_intent_id) == []
    assert await available_credits(server) == 99
    await assert_ledger_ok(server.runtime.db)


async def test_a_credit_purchase_refund_the_gateway_refuses_restores_the_credits(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))
    count_gateway_refunds(server, monkeypatch, fail=True)
    failed = await refund(server, bought.payment_intent_id)
    assert failed.status == res.REFUND_STATUS_FAILED
    assert await available_credits(server) == 100
    lines = [
        t.amount
        for t in await credit_history(server)
        if t.type == cres.CREDIT_TRANSACTION_TYPE_REFUND
    ]
    assert sorted(lines) == [-100, 100]
    await assert_ledger_ok(server.runtime.db)


def reconciler(server: Running) -> PaymentIntentService:
    """The reconciler as the server wires it: same store, gateways and listeners."""
    db = server.runtime.db
    outcomes = IntentOutcomes()
    service = PaymentIntentService(db, Router(server.runtime.gateways), outcomes)
    ledger = IntentPayments(db, service, WalletService(db), CreditService(db, DEFAULT_PACKAGES))
    outcomes.subscribe(ledger.on_intent_outcome)
    outcomes.subscribe_refunds(ledger.on_refund)
    return service


async def test_a_refund_whose_answer_is_lost_keeps_the_funds_held_until_it_settles(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    wallet_id, done = await funded_wallet(server)
    gateway = sandbox_gateway(server)
    real = gateway.refund

    async def lost(request: RefundRequest) -> RefundResult:
        await real(request)  # the refund happens; its answer does not arrive
        raise OutcomeUnknown("sandbox", "timed out")

    monkeypatch.setattr(gateway, "refund", lost)
    pending = await refund(server, done.payment_intent_id)
    assert pending.status == res.REFUND_STATUS_PENDING
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 2_500})
    [line] = refund_lines(await history(server, wallet_id))
    assert line.status == W.WALLET_TRANSACTION_STATUS_PENDING
    monkeypatch.undo()
    assert await reconciler(server).reconcile(stale_after=dt.timedelta(0)) == 1
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    [line] = refund_lines(await history(server, wallet_id))
    assert line.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    await assert_ledger_ok(server.runtime.db)


async def test_paying_a_failed_deposits_leftover_intent_refunds_it_without_touching_the_wallet(
    server: Running,
) -> None:
    wallet_id = await new_wallet(server)
    failed = await deposit(
        server, deposit_request(wallet_id, await saved_method(server, "pm_card_chargeDeclined"))
    )
    assert failed.status == W.WALLET_TRANSACTION_STATUS_FAILED
    await server.payments().ConfirmPaymentIntent(
        pb.ConfirmPaymentIntentRequest(
            id=failed.payment_intent_id, payment_method_id="pm_card_visa", idempotency_key=key()
        ),
        metadata=TENANT_AUTH,
    )
    [scheduled] = await refunds_of(server, failed.payment_intent_id)
    assert (scheduled.status, scheduled.amount) == (res.REFUND_STATUS_PENDING, 2_500)
    assert await reconciler(server).reconcile(stale_after=dt.timedelta(0)) == 1
    [sent] = await refunds_of(server, failed.payment_intent_id)
    assert sent.status == res.REFUND_STATUS_SUCCEEDED
    assert (await intent(server, failed.payment_intent_id)).amount_refunded == 2_500
    assert await balances(server, wallet_id) == ({}, {"usd": 0})
    assert refund_lines(await history(server, wallet_id)) == []
    await assert_ledger_ok(server.runtime.db)


async def test_a_refund_revoked_before_lines_named_their_refund_is_still_restored(
    server: Running,
) -> None:
    """A REFUND credit line written before it carried its refund's id (a refund still
    pending at an upgrade) is found by its reason, so the refund's failure restores it."""
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))
    db = server.runtime.db
    service = CreditService(db, DEFAULT_PACKAGES)
    async with db.write() as session:
        line = await service.revoke_purchase(session, bought.id, "re_legacy", bought.amount)
        assert line is not None
        await session.execute(  # as the previous release wrote it: no metadata
            update(CreditTransactionRow)
            .where(CreditTransactionRow.id == line.id)
            .values(metadata_={})
        )
    assert await available_credits(server) == 0
    async with db.write() as session:
        assert await service.restore_purchase(session, bought.id, "re_legacy") is not None
    assert await available_credits(server) == 100
    async with db.write() as session:  # told twice: restored once
        assert await service.restore_purchase(session, bought.id, "re_legacy") is None
    assert await available_credits(server) == 100
    await assert_ledger_ok(db)
