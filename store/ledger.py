"""The ledger posting primitive: balanced transfers of immutable entries.

``post`` writes one transfer: each leg updates its account's balance column and appends
an entry carrying the balance after it, all in the caller's transaction. Legs are
applied in account-id order, so on PostgreSQL every transaction takes its row locks in
one global order (no deadlocks) and each ``UPDATE … RETURNING`` reads the committed
balance under the lock (no lost updates). A user account is debited only where its
balance covers the amount; the database's CHECK constraint backs that up.

Hand-written Core statements, not ORM objects: a posting is a handful of round trips.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.ledger_models import USER_KINDS, LedgerAccountRow, LedgerEntryRow
from store.raw import DriverSql

CREDITS = "credits"


class AccountKind(enum.Enum):
    USER_WALLET = "user_wallet"
    USER_PENDING = "user_pending"
    USER_CREDITS = "user_credits"
    USER_CREDITS_RESERVED = "user_credits_reserved"
    GATEWAY_CLEARING = "gateway_clearing"
    REVENUE = "revenue"
    FEES = "fees"
    ESCROW = "escrow"
    CREDITS_ISSUED = "credits_issued"
    CREDITS_CONSUMED = "credits_consumed"
    EXPIRED_CREDITS = "expired_credits"
    #: What wallet owners owe: ACH deposits the bank returned, and refunds of deposits
    #: made at the gateway (a dashboard), after the money was spent.
    #: Its (negative) balance is the platform's to collect.
    RETURNED_DEBITS = "returned_debits"

    @property
    def is_user(self) -> bool:
        return self.value in USER_KINDS


#: The owner id of system accounts (one set per client and currency).
SYSTEM_OWNER = "system"


@functools.lru_cache(maxsize=65_536)
def _account_id(client_id: str, owner_id: str, kind: str, currency: str) -> str:
    key = f"{client_id}\x00{owner_id}\x00{kind}\x00{currency}"
    return "la_" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class AccountRef:
    """Names an account; its id is derived, so postings never look an account up."""

    client_id: str
    owner_id: str
    kind: AccountKind
    currency: str

    @property
    def id(self) -> str:
        return _account_id(self.client_id, self.owner_id, self.kind.value, self.currency)

    @classmethod
    def system(cls, client_id: str, kind: AccountKind, currency: str) -> AccountRef:
        return cls(client_id, SYSTEM_OWNER, kind, currency)


@dataclass(frozen=True, slots=True)
class Leg:
    account: AccountRef
    amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountBalance:
    id: str
    owner_id: str
    kind: AccountKind
    currency: str
    balance: int
    update_time: dt.datetime


class Overdraft(Exception):
    """The leg would take a user account below zero; nothing of the transfer is kept."""

    def __init__(self, account: AccountRef, wanted: int) -> None:
        super().__init__(f"account {account.id} cannot cover {wanted}")
        self.account = account
        self.wanted = wanted


class UnbalancedTransfer(ValueError):
    """A programming error: legs that do not sum to zero per currency."""


def check_balanced(legs: Sequence[Leg]) -> None:
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.account.currency] += leg.amount
    unbalanced = {currency: total for currency, total in totals.items() if total}
    if unbalanced:
        raise UnbalancedTransfer(f"legs do not sum to zero: {unbalanced}")
    ids = [leg.account.id for leg in legs]
    if len(set(ids)) != len(ids):
        raise UnbalancedTransfer("an account appears twice in one transfer")


_BALANCE_SQL: Final = "SELECT balance FROM ledger_accounts WHERE id = ?"
_LOCK_BALANCE_SQL: Final = _BALANCE_SQL + " FOR UPDATE"


class Ledger:
    """Postings and balance reads inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    @property
    def _postgres(self) -> bool:
        return self._session.get_bind().dialect.name == "postgresql"

    async def post(
        self, transfer_id: str, legs: Sequence[Leg], *, now: dt.datetime
    ) -> dict[str, int]:
        """Apply a balanced transfer; returns each account id's balance after it.

        Raises :class:`Overdraft` (leaving the transaction for the caller to roll back)
        when a user account cannot cover its debit.
        """
        check_balanced(legs)
        return await _post(DriverSql(self._session), transfer_id, legs, now)

    async def lock(self, account: AccountRef) -> int:
        """Lock an account's row for this transaction (PostgreSQL); returns its balance."""
        # On SQLite the single writer already excludes everyone else.
        return await self._balance(account, _LOCK_BALANCE_SQL if self._postgres else _BALANCE_SQL)

    async def balance(self, account: AccountRef) -> int:
        return await self._balance(account, _BALANCE_SQL)

    async def _balance(self, account: AccountRef, statement: str) -> int:
        found = await DriverSql(self._session).rows(statement, (account.id,))
        return int(found[0][0]) if found else 0

    async def balances_of(self, client_id: str, owner_ids: Iterable[str]) -> list[AccountBalance]:
        rows = await self._session.execute(
            select(
                LedgerAccountRow.id,
                LedgerAccountRow.owner_id,
                LedgerAccountRow.kind,
                LedgerAccountRow.currency,
                LedgerAccountRow.balance,
                LedgerAccountRow.update_time,
            ).where(
                LedgerAccountRow.client_id == client_id,
                LedgerAccountRow.owner_id.in_(list(owner_ids)),
            )
        )
        return [
            AccountBalance(
                id=row.id,
                owner_id=row.owner_id,
                kind=AccountKind(row.kind),
                currency=row.currency,
                balance=int(row.balance),
                update_time=row.update_time,
            )
            for row in rows
        ]


_DEBIT_SQL = (
    "UPDATE ledger_accounts SET balance = balance + ?, update_time = ?"
    " WHERE id = ? AND balance >= ? RETURNING balance"
)
_UPSERT_SQL = (
    "INSERT INTO ledger_accounts (id, client_id, owner_id, kind, currency, balance, create_time,"
    " update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
    " balance = ledger_accounts.balance + excluded.balance, update_time = excluded.update_time"
    " RETURNING balance"
)
_ENTRY_SQL = (
    "INSERT INTO ledger_entries (transfer_id, account_id, currency, amount, balance_after,"
    " create_time) VALUES (?, ?, ?, ?, ?, ?)"
)


async def _post(
    sql: DriverSql, transfer_id: str, legs: Sequence[Leg], now: dt.datetime
) -> dict[str, int]:
    """``Ledger.post`` in hand-written SQL on either store (store.raw): SQLite's writer
    connection inside the caller's savepoint, or PostgreSQL's driver. Through SQLAlchemy's
    Core the upsert alone (its ``excluded`` namespace is rebuilt, column by column, for
    every statement) cost more than the database's whole work. Accounts are moved in id
    order, so concurrent postings take their row locks in one order; the entries follow
    in the legs' order."""
    stamp = sql.time(now)
    moving = [(leg.account.id, leg) for leg in legs if leg.amount]
    after: dict[str, int] = {}
    for account_id, leg in sorted(moving, key=_first):
        found = await sql.rows(*_account_move(account_id, leg, stamp))
        if not found:
            raise Overdraft(leg.account, -leg.amount)
        after[account_id] = int(found[0][0])
    if moving:
        await sql.rows(_entries_sql(len(moving)), _entry_values(transfer_id, moving, after, stamp))
    return after


def _account_move(account_id: str, leg: Leg, stamp: object) -> tuple[str, tuple[object, ...]]:
    """The one statement that moves an account by its leg, and its parameters.

    A user account's debit happens only where the balance covers it (under the row lock
    the check and the write are one step): no row comes back when it does not. Anything
    else is an upsert, which creates the account on its first movement.
    """
    account, amount = leg.account, leg.amount
    if amount < 0 and account.kind.is_user:
        return _DEBIT_SQL, (amount, stamp, account_id, -amount)
    return _UPSERT_SQL, (
        account_id,
        account.client_id,
        account.owner_id,
        account.kind.value,
        account.currency,
        amount,
        stamp,
        stamp,
    )


def _entry_values(
    transfer_id: str, moving: Sequence[tuple[str, Leg]], after: dict[str, int], stamp: object
) -> list[object]:
    """One multi-row INSERT's parameters: a single statement is cheaper than executemany's
    per-row calls."""
    values: list[object] = []
    for account_id, leg in moving:
        values.extend(
            (transfer_id, account_id, leg.account.currency, leg.amount, after[account_id], stamp)
        )
    return values


def _first(pair: tuple[str, Leg]) -> str:
    return pair[0]


@functools.cache
def _entries_sql(count: int) -> str:
    return _ENTRY_SQL + ", (?, ?, ?, ?, ?, ?)" * (count - 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """One way the ledger is inconsistent, for ``isa ledger check``."""

    what: str
    detail: str


class LedgerAudit:
    """Whole-ledger checks (full scans: an operator's tool, not a request path)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def currency_totals(self) -> dict[str, int]:
        rows = await self._session.execute(
            select(LedgerAccountRow.currency, func.sum(LedgerAccountRow.balance)).group_by(
                LedgerAccountRow.currency
            )
        )
        return {row[0]: int(row[1] or 0) for row in rows}

    async def balance_mismatches(self) -> list[tuple[str, int, int]]:
        """(account id, balance column, sum of entries) where the two differ."""
        sums = (
            select(
                LedgerEntryRow.account_id.label("account_id"),
                func.sum(LedgerEntryRow.amount).label("total"),
            )
            .group_by(LedgerEntryRow.account_id)
            .subquery()
        )
        rows = await self._session.execute(
            select(LedgerAccountRow.id, LedgerAccountRow.balance, sums.c.total).join(
                sums, sums.c.account_id == LedgerAccountRow.id, isouter=True
            )
        )
        return [
            (row[0], int(row[1]), int(row[2] or 0))
            for row in rows
            if int(row[1]) != int(row[2] or 0)
        ]

    async def orphan_entry_accounts(self) -> list[str]:
        rows = await self._session.scalars(
            select(LedgerEntryRow.account_id)
            .where(LedgerEntryRow.account_id.not_in(select(LedgerAccountRow.id)))
            .distinct()
        )
        return list(rows)

    async def unbalanced_transfers(self) -> list[tuple[str, str, int]]:
        rows = await self._session.execute(
            select(
                LedgerEntryRow.transfer_id, LedgerEntryRow.currency, func.sum(LedgerEntryRow.amount)
            )
            .group_by(LedgerEntryRow.transfer_id, LedgerEntryRow.currency)
            .having(func.sum(LedgerEntryRow.amount) != 0)
        )
        return [(row[0], row[1], int(row[2])) for row in rows]

    async def negative_user_accounts(self) -> list[tuple[str, int]]:
        rows = await self._session.execute(
            select(LedgerAccountRow.id, LedgerAccountRow.balance).where(
                LedgerAccountRow.kind.in_(USER_KINDS), LedgerAccountRow.balance < 0
            )
        )
        return [(row[0], int(row[1])) for row in rows]
