"""The ledger side of deposits and withdrawals: pending, settled, failed, restored.

These drive the domain entry points the payments side calls, and the orchestration
through a PaymentPort that answers as told (the real one, over PaymentService, is
exercised in test_deposits_and_purchases.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
from sqlalchemy import text

from server.errors import InsufficientFunds
from server.ledger.payments import (
    ChargeRequest,
    PaymentOutcome,
    PaymentReference,
    PayoutRequest,
)
from server.ledger.wallets import (
    NewMovement,
    NewWallet,
    TransactionStatus,
    Wallet,
    WalletService,
)
from store.db import Database
from store.last_error import LastError
from tests.ledger_support import assert_ledger_ok, fund

CLIENT = "c1"
DECLINED = LastError(code="card_declined", decline_code="insufficient_funds", message="declined")
RETURNED = LastError(code="bank_account_returned", decline_code="R02", message="account closed")


async def new_wallet(db: Database, owner: str = "u") -> Wallet:
    async with db.write() as session:
        return await WalletService(db).create(session, CLIENT, NewWallet(owner_id=owner))


def movement(wallet_id: str, amount: int) -> NewMovement:
    return NewMovement(wallet_id=wallet_id, amount=amount, currency="usd", payment_method_id="pm_1")


async def balances(db: Database, wallet_id: str) -> tuple[dict[str, int], dict[str, int]]:
    wallet = await WalletService(db).get(CLIENT, wallet_id=wallet_id)
    return wallet.balances, wallet.pending


async def test_a_deposit_is_pending_until_settled_then_available(db: Database) -> None:
    wallets = WalletService(db)
    wallet = await new_wallet(db)
    async with db.write() as session:
        pending = await wallets.begin_deposit(session, CLIENT, movement(wallet.id, 1_000))
    assert pending.status == TransactionStatus.PENDING.value
    assert await balances(db, wallet.id) == ({}, {"usd": 1_000})
    async with db.write() as session:
        settled = await wallets.settle_deposit(session, pending.id)
    assert (settled.status, settled.balance_after) == ("succeeded", 1_000)
    assert await balances(db, wallet.id) == ({"usd": 1_000}, {"usd": 0})
    async with db.write() as session:  # the payments side repeating itself changes nothing
        await wallets.settle_deposit(session, pending.id)
    assert await balances(db, wallet.id) == ({"usd": 1_000}, {"usd": 0})
    async with db.read() as session:
        events = (await session.execute(text("SELECT type, payload FROM events"))).all()
    assert [e[0] for e in events] == ["wallet.deposit.succeeded"]
    assert json.loads(events[0][1])["data"]["id"] == pending.id
    await assert_ledger_ok(db)


async def test_a_failed_deposit_credits_nothing(db: Database) -> None:
    wallets = WalletService(db)
    wallet = await new_wallet(db)
    async with db.write() as session:
        pending = await wallets.begin_deposit(session, CLIENT, movement(wallet.id, 1_000))
    async with db.write() as session:
        failed = await wallets.fail_deposit(session, pending.id, DECLINED)
    assert (failed.status, failed.last_error) == ("failed", DECLINED)
    assert await balances(db, wallet.id) == ({}, {"usd": 0})
    async with db.write() as session:  # a late success for a failed deposit is ignored
        await wallets.settle_deposit(session, pending.id)
    assert await balances(db, wallet.id) == ({}, {"usd": 0})
    await assert_ledger_ok(db)


async def test_a_withdrawal_holds_funds_then_pays_out_or_restores(db: Database) -> None:
    wallets = WalletService(db)
    wallet = await new_wallet(db)
    await fund(db, CLIENT, wallet.id, 1_000)
    async with db.write() as session:
        paid = await wallets.begin_withdrawal(session, CLIENT, movement(wallet.id, 300))
        returned = await wallets.begin_withdrawal(session, CLIENT, movement(wallet.id, 200))
    assert await balances(db, wallet.id) == ({"usd": 500}, {"usd": 500})
    async with db.write() as session:
        done = await wallets.settle_withdrawal(session, paid.id)
        restored = await wallets.fail_withdrawal(session, returned.id, RETURNED)
    assert (done.status, done.amount) == ("succeeded", -300)
    assert (restored.status, restored.balance_after) == ("failed", 700)
    assert await balances(db, wallet.id) == ({"usd": 700}, {"usd": 0})
    await assert_ledger_ok(db)


async def test_a_withdrawal_beyond_the_balance_holds_nothing(db: Database) -> None:
    wallets = WalletService(db)
    wallet = await new_wallet(db)
    await fund(db, CLIENT, wallet.id, 100)
    with pytest.raises(InsufficientFunds):
        async with db.write() as session:
            await wallets.begin_withdrawal(session, CLIENT, movement(wallet.id, 101))
    assert await balances(db, wallet.id) == ({"usd": 100}, {"usd": 0})
    await assert_ledger_ok(db)


@dataclass
class ScriptedPayments:
    """A PaymentPort answering with a scripted outcome, recording what it was asked."""

    outcome: PaymentOutcome
    charges: list[ChargeRequest] = field(default_factory=list)
    payouts: list[PayoutRequest] = field(default_factory=list)

    async def check_method(self, client_id: str, payment_method_id: str, currency: str) -> None:
        return None

    async def check_payout_method(
        self, client_id: str, payment_method_id: str, currency: str
    ) -> None:
        return None

    async def charge(self, request: ChargeRequest) -> PaymentReference:
        self.charges.append(request)
        return PaymentReference(
            reference=f"pi_{len(self.charges)}", outcome=self.outcome, error=DECLINED
        )

    async def payout(self, request: PayoutRequest) -> PaymentReference:
        self.payouts.append(request)
        return PaymentReference(
            reference=f"po_{len(self.payouts)}", outcome=self.outcome, error=RETURNED
        )


@pytest.mark.parametrize(
    ("outcome", "status", "available", "pending"),
    [
        (PaymentOutcome.SUCCEEDED, "succeeded", {"usd": 250}, {"usd": 0}),
        (PaymentOutcome.PENDING, "pending", {}, {"usd": 250}),
        (PaymentOutcome.FAILED, "failed", {}, {"usd": 0}),
    ],
)
async def test_deposit_through_a_payment_port(
    db: Database,
    outcome: PaymentOutcome,
    status: str,
    available: dict[str, int],
    pending: dict[str, int],
) -> None:
    wallet = await new_wallet(db)
    payments = ScriptedPayments(outcome)
    record = await WalletService(db).deposit(CLIENT, movement(wallet.id, 250), payments)
    assert record.status == status
    assert record.payment_reference == "pi_1"
    [asked] = payments.charges
    assert (asked.amount, asked.reference) == (250, record.id)
    assert asked.idempotency_key == f"{record.id}:charge"
    assert await balances(db, wallet.id) == (available, pending)
    await assert_ledger_ok(db)


async def test_withdraw_through_a_payment_port_restores_on_failure(db: Database) -> None:
    wallet = await new_wallet(db)
    await fund(db, CLIENT, wallet.id, 400)
    wallets = WalletService(db)
    payments = ScriptedPayments(PaymentOutcome.FAILED)
    async with db.write() as session:
        held = await wallets.begin_withdrawal(session, CLIENT, movement(wallet.id, 150))
    assert await balances(db, wallet.id) == ({"usd": 250}, {"usd": 150})
    record = await wallets.collect_withdrawal(CLIENT, held.id, payments)
    assert (record.status, record.last_error) == ("failed", RETURNED)
    assert record.payment_reference == "po_1"
    [asked] = payments.payouts
    assert (asked.amount, asked.idempotency_key) == (150, f"{held.id}:payout")
    again = await wallets.collect_withdrawal(CLIENT, held.id, payments)
    assert again.status == "failed"
    assert len(payments.payouts) == 1  # final: not paid out again
    assert await balances(db, wallet.id) == ({"usd": 400}, {"usd": 0})
    await assert_ledger_ok(db)
