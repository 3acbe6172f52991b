"""Random sequences of money moves; after every step the ledger's invariants hold and
every balance equals what a simple model of the rules predicts.

Each example runs under a fresh client id on one migrated store (SQLite and
PostgreSQL), through the production write path (group commit on SQLite). Deposits go
through the real payment path: a payment intent on the sandbox gateway charging a saved
card that succeeds, declines, or waits for 3-D Secure (completed or failed later, which
the ledger hears through the payments domain's outcome listener).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from gateways.registry import Registry
from gateways.router import Router
from gateways.sandbox import SandboxConfig, SandboxGateway
from server.errors import InsufficientCredits, InsufficientFunds
from server.ledger.check import check_ledger
from server.ledger.credits import (
    CreditService,
    NewConsumption,
    NewGrant,
    NewReservation,
)
from server.ledger.packages import DEFAULT_PACKAGES
from server.ledger.wallets import NewMovement, NewTransfer, NewWallet, WalletService
from server.ledger_payments import IntentPayments
from server.payments.customers import CustomerService, NewCustomer
from server.payments.intents import PaymentIntentService
from server.payments.methods import NewPaymentMethod, PaymentMethodService
from server.payments.outcomes import IntentOutcomes
from store.db import Database
from store.last_error import LastError

WALLETS = 3
OWNERS = 2
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
RETURNED = LastError(code="bank_account_returned", decline_code="R01", message="returned")
_clients = itertools.count()
T = TypeVar("T")

amounts = st.integers(min_value=1, max_value=500)
wallet = st.integers(min_value=0, max_value=WALLETS - 1)
owner = st.integers(min_value=0, max_value=OWNERS - 1)
hours = st.integers(min_value=1, max_value=48)
operation = st.one_of(
    st.tuples(st.just("deposit"), wallet, amounts, st.sampled_from(["settle", "fail", "pending"])),
    st.tuples(st.just("finish_deposit"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("transfer"), wallet, wallet, amounts),
    st.tuples(st.just("withdraw"), wallet, amounts),
    st.tuples(st.just("finish_withdrawal"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("grant"), owner, amounts, st.one_of(st.none(), hours)),
    st.tuples(st.just("consume"), owner, amounts),
    st.tuples(st.just("reserve"), owner, amounts, hours),
    st.tuples(st.just("commit"), st.integers(0, 20), st.integers(0, 500)),
    st.tuples(st.just("release"), st.integers(0, 20)),
    st.tuples(st.just("advance"), hours),
)


class Writes:
    """Each step in its own write transaction (group-committed on SQLite)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with self._db.write() as session:
            return await work(session)


#: The saved card a deposit's outcome calls for.
CARDS = {
    "settle": "pm_card_visa",
    "fail": "pm_card_chargeDeclined",
    "pending": "pm_card_authenticationRequired",
}


@dataclass
class Payments:
    """The production wiring of deposits to PaymentService, over the sandbox gateway."""

    port: IntentPayments
    intents: PaymentIntentService
    methods: PaymentMethodService
    cards: dict[str, str] = field(default_factory=dict)  # outcome -> saved pm_ id

    @classmethod
    def over(cls, db: Database, wallets: WalletService, credits: CreditService) -> Payments:
        outcomes = IntentOutcomes()
        router = Router(Registry([SandboxGateway(SandboxConfig())]))
        intents = PaymentIntentService(db, router, outcomes)
        port = IntentPayments(db, intents, wallets, credits)
        outcomes.subscribe(port.on_intent_outcome)
        return cls(port=port, intents=intents, methods=PaymentMethodService(db, router))

    async def save_cards(self, db: Database, client: str) -> None:
        async with db.write() as session:
            customer = await CustomerService(db).create(session, client, NewCustomer(name="p"))
        for outcome, token in CARDS.items():
            saved = await self.methods.attach(
                client,
                f"{client}-{outcome}",
                NewPaymentMethod(customer_id=customer.id, gateway="sandbox", token=token),
            )
            self.cards[outcome] = saved.id


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Lot:
    remaining: int
    expires: dt.datetime | None
    order: int


@dataclass
class Model:
    """What the rules say the balances must be."""

    available: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    pending: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    lots: dict[int, list[Lot]] = field(default_factory=lambda: defaultdict(list))
    reserved: dict[str, tuple[int, int, list[tuple[Lot, int]], dt.datetime]] = field(
        default_factory=dict
    )
    open_deposits: list[tuple[str, int, int, str]] = field(default_factory=list)
    open_withdrawals: list[tuple[str, int, int]] = field(default_factory=list)

    def spendable(self, who: int, now: dt.datetime) -> list[Lot]:
        live = [
            lot
            for lot in self.lots[who]
            if lot.remaining and (lot.expires is None or lot.expires > now)
        ]
        return sorted(live, key=lambda lot: (lot.expires is None, lot.expires or START, lot.order))

    def draw(self, who: int, amount: int, now: dt.datetime) -> list[tuple[Lot, int]] | None:
        lots = self.spendable(who, now)
        if sum(lot.remaining for lot in lots) < amount:
            return None
        taken = []
        for lot in lots:
            part = min(amount, lot.remaining)
            if part:
                lot.remaining -= part
                taken.append((lot, part))
                amount -= part
        return taken

    def credits_available(self, who: int, now: dt.datetime) -> int:
        return sum(lot.remaining for lot in self.spendable(who, now))

    def credits_reserved(self, who: int, now: dt.datetime) -> int:
        return sum(
            amount
            for holder, amount, _, expires in self.reserved.values()
            if holder == who and expires > now
        )


async def apply(
    step: tuple[Any, ...],
    db: Database,
    client: str,
    wallets: WalletService,
    credits: CreditService,
    payments: Payments,
    ids: list[str],
    model: Model,
    clock: Clock,
) -> None:
    writer = Writes(db)
    kind = step[0]
    if kind == "deposit":
        _, w, amount, outcome = step
        move = NewMovement(
            wallet_id=ids[w],
            amount=amount,
            currency="usd",
            payment_method_id=payments.cards[outcome],
        )
        record = await wallets.deposit(client, move, payments.port)
        if outcome == "settle":
            assert record.status == "succeeded"
            model.available[w] += amount
        elif outcome == "fail":
            assert record.status == "failed"
        else:
            assert record.status == "pending"
            model.pending[w] += amount
            model.open_deposits.append((record.id, w, amount, record.payment_reference))
    elif kind == "finish_deposit" and model.open_deposits:
        _, index, succeeded = step
        transaction_id, w, amount, intent_id = model.open_deposits.pop(
            index % len(model.open_deposits)
        )
        await payments.intents.complete_authentication(client, intent_id, succeed=succeeded)
        finished = await wallets.get_transaction(client, transaction_id)
        assert finished.status == ("succeeded" if succeeded else "failed")
        if succeeded:
            model.available[w] += amount
        model.pending[w] -= amount
    elif kind == "transfer":
        _, a, b, amount = step
        if a == b:
            return
        new = NewTransfer(from_wallet_id=ids[a], to_wallet_id=ids[b], amount=amount, currency="usd")
        try:
            await writer.run(lambda s: wallets.transfer(s, client, new))
        except InsufficientFunds:
            assert model.available[a] < amount
        else:
            assert model.available[a] >= amount
            model.available[a] -= amount
            model.available[b] += amount
    elif kind == "withdraw":
        _, w, amount = step
        move = NewMovement(wallet_id=ids[w], amount=amount, currency="usd", payment_method_id="pm")
        try:
            record = await writer.run(lambda s: wallets.begin_withdrawal(s, client, move))
        except InsufficientFunds:
            assert model.available[w] < amount
        else:
            model.available[w] -= amount
            model.pending[w] += amount
            model.open_withdrawals.append((record.id, w, amount))
    elif kind == "finish_withdrawal" and model.open_withdrawals:
        _, index, succeeded = step
        transaction_id, w, amount = model.open_withdrawals.pop(index % len(model.open_withdrawals))
        if succeeded:
            await writer.run(lambda s: wallets.settle_withdrawal(s, transaction_id))
        else:
            await writer.run(lambda s: wallets.fail_withdrawal(s, transaction_id, RETURNED))
            model.available[w] += amount
        model.pending[w] -= amount
    elif kind == "grant":
        _, who, amount, expires_in = step
        expires = None if expires_in is None else clock.now + dt.timedelta(hours=expires_in)
        grant = NewGrant(owner_id=f"o{who}", amount=amount, expire_time=expires)
        await writer.run(lambda s: credits.grant(s, client, grant))
        model.lots[who].append(Lot(amount, expires, len(model.lots[who])))
    elif kind == "consume":
        _, who, amount = step
        expected = model.draw(who, amount, clock.now)
        spend = NewConsumption(owner_id=f"o{who}", amount=amount)
        try:
            await writer.run(lambda s: credits.consume(s, client, spend))
        except InsufficientCredits:
            assert expected is None
        else:
            assert expected is not None
    elif kind == "reserve":
        _, who, amount, ttl = step
        expected = model.draw(who, amount, clock.now)
        new = NewReservation(owner_id=f"o{who}", amount=amount, ttl=dt.timedelta(hours=ttl))
        try:
            held = await writer.run(lambda s: credits.reserve(s, client, new))
        except InsufficientCredits:
            assert expected is None
        else:
            assert expected is not None
            model.reserved[held.id] = (who, amount, expected, held.expire_time)
    elif kind in {"commit", "release"} and model.reserved:
        live = [k for k, v in model.reserved.items() if v[3] > clock.now]
        if not live:
            return
        reservation_id = live[step[1] % len(live)]
        who, amount, taken, _ = model.reserved.pop(reservation_id)
        used = min(step[2], amount) if kind == "commit" else 0
        if kind == "commit":
            await writer.run(lambda s: credits.commit_reservation(s, client, reservation_id, used))
        else:
            await writer.run(lambda s: credits.release_reservation(s, client, reservation_id))
        restore(taken, used)
    elif kind == "advance":
        clock.now += dt.timedelta(hours=step[1])
        await credits.release_lapsed_reservations()
        await credits.expire_grants()
        for reservation_id, (_who, _amount, taken, expires) in list(model.reserved.items()):
            if expires <= clock.now:
                del model.reserved[reservation_id]
                restore(taken, 0)


def restore(taken: list[tuple[Lot, int]], used: int) -> None:
    """The first ``used`` credits of a reservation were spent; the rest go back."""
    for lot, part in taken:
        consumed = min(part, used)
        used -= consumed
        lot.remaining += part - consumed


async def verify(
    db: Database,
    client: str,
    wallets: WalletService,
    credits: CreditService,
    ids: list[str],
    model: Model,
    clock: Clock,
) -> None:
    report = await check_ledger(db)
    assert report.problems == ()
    for index, wallet_id in enumerate(ids):
        found = await wallets.get(client, wallet_id=wallet_id)
        assert found.balances.get("usd", 0) == model.available[index]
        assert found.pending.get("usd", 0) == model.pending[index]
    for who in range(OWNERS):
        balance = await credits.balance(client, f"o{who}")
        assert balance.available == model.credits_available(who, clock.now)
        assert balance.reserved == model.credits_reserved(who, clock.now)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(operation, min_size=1, max_size=25))
async def test_random_money_moves_keep_the_ledger_true(
    db: Database, steps: list[tuple[Any, ...]]
) -> None:
    client = f"prop-{next(_clients)}"
    clock = Clock()
    wallets = WalletService(db)
    credits = CreditService(db, DEFAULT_PACKAGES, clock=clock)
    payments = Payments.over(db, wallets, credits)
    await payments.save_cards(db, client)
    ids = []
    for index in range(WALLETS):
        async with db.write() as session:
            ids.append((await wallets.create(session, client, NewWallet(owner_id=f"w{index}"))).id)
    model = Model()
    for step in steps:
        await apply(step, db, client, wallets, credits, payments, ids, model, clock)
        await verify(db, client, wallets, credits, ids, model, clock)
