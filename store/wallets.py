"""Wallets, their history lines and transfers; another client's ids are not found."""

from __future__ import annotations

import datetime as dt
import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.last_error import NO_ERROR, LastError, error_columns, stored_error
from store.ledger_models import (
    WalletRow,
    WalletTransactionRow,
)
from store.raw import DriverSql, db_json, json_of, time_of


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletRecord:
    id: str
    client_id: str
    owner_id: str
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletTransactionRecord:
    id: str
    client_id: str
    wallet_id: str
    type: str
    status: str
    amount: int
    currency: str
    balance_after: int
    payment_method_id: str = ""
    payment_reference: str = ""
    transfer_id: str = ""
    counterparty_wallet_id: str = ""
    description: str = ""
    #: Why the line FAILED (the payment's decline, the bank's return, ...); else None.
    last_error: LastError | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletTransferRecord:
    id: str
    client_id: str
    from_wallet_id: str
    to_wallet_id: str
    amount: int
    currency: str
    note: str
    status: str
    from_transaction_id: str
    to_transaction_id: str
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


_WALLET_COLUMNS = (
    WalletRow.id,
    WalletRow.client_id,
    WalletRow.owner_id,
    WalletRow.metadata_,
    WalletRow.create_time,
    WalletRow.update_time,
)


def _wallet(row: Any) -> WalletRecord:
    return WalletRecord(
        id=row.id,
        client_id=row.client_id,
        owner_id=row.owner_id,
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


def _transaction(row: WalletTransactionRow) -> WalletTransactionRecord:
    return WalletTransactionRecord(
        id=row.id,
        client_id=row.client_id,
        wallet_id=row.wallet_id,
        type=row.type,
        status=row.status,
        amount=row.amount,
        currency=row.currency,
        balance_after=row.balance_after,
        payment_method_id=row.payment_method_id,
        payment_reference=row.payment_reference,
        transfer_id=row.transfer_id,
        counterparty_wallet_id=row.counterparty_wallet_id,
        description=row.description,
        last_error=stored_error(row.error_code, row.error_decline_code, row.error_message),
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


_TRANSACTION_COLUMNS = (
    "id, client_id, wallet_id, type, status, amount, currency, balance_after,"
    " payment_method_id, payment_reference, transfer_id, counterparty_wallet_id, description,"
    " error_code, error_decline_code, error_message, metadata, create_time, update_time"
)
_INSERT_TRANSACTION_SQL = (
    f"INSERT INTO wallet_transactions ({_TRANSACTION_COLUMNS})"  # noqa: S608
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_MORE_TRANSACTION_VALUES = ", (" + ", ".join("?" * 19) + ")"
_INSERT_TRANSFER_SQL = (
    "INSERT INTO wallet_transfers (id, client_id, from_wallet_id, to_wallet_id, amount,"
    " currency, note, status, from_transaction_id, to_transaction_id, metadata, create_time,"
    " update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@functools.cache
def _insert_transactions_sql(count: int) -> str:
    """One multi-row INSERT of ``count`` history lines (one statement beats executemany)."""
    return _INSERT_TRANSACTION_SQL + _MORE_TRANSACTION_VALUES * (count - 1)


@functools.cache
def _existing_wallets_sql(count: int) -> str:
    marks = ", ".join("?" * count)
    return f"SELECT id FROM wallets WHERE client_id = ? AND id IN ({marks})"  # noqa: S608


def _transaction_values(sql: DriverSql, record: WalletTransactionRecord) -> tuple[Any, ...]:
    error = record.last_error or NO_ERROR
    return (
        record.id, record.client_id, record.wallet_id, record.type, record.status,
        record.amount, record.currency, record.balance_after, record.payment_method_id,
        record.payment_reference, record.transfer_id, record.counterparty_wallet_id,
        record.description, error.code, error.decline_code, error.message,
        db_json(record.metadata), sql.time(record.create_time), sql.time(record.update_time),
    )  # fmt: skip


def _raw_transaction(row: Sequence[Any]) -> WalletTransactionRecord:
    return WalletTransactionRecord(
        id=row[0],
        client_id=row[1],
        wallet_id=row[2],
        type=row[3],
        status=row[4],
        amount=row[5],
        currency=row[6],
        balance_after=row[7],
        payment_method_id=row[8],
        payment_reference=row[9],
        transfer_id=row[10],
        counterparty_wallet_id=row[11],
        description=row[12],
        last_error=stored_error(row[13], row[14], row[15]),
        metadata=dict(json_of(row[16])),
        create_time=time_of(row[17]),
        update_time=time_of(row[18]),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class WalletView:
    """A wallet with its account balances, read in one statement."""

    wallet: WalletRecord
    accounts: list[tuple[str, str, int, dt.datetime]]  # kind, currency, balance, update_time


def wallet_view_inline(
    conn: sqlite3.Connection, client_id: str, *, wallet_id: str | None, owner_id: str | None
) -> WalletView | None:
    """GetWallet's read as one indexed join on the inline reader (store.raw)."""
    rows = conn.execute(
        _wallet_view_sql(by_id=wallet_id is not None),
        (client_id, wallet_id if wallet_id is not None else owner_id),
    ).fetchall()
    return _wallet_view(client_id, rows)


@functools.cache
def _wallet_view_sql(*, by_id: bool) -> str:
    """One text for both stores (``?`` placeholders, store.raw.DriverSql)."""
    where = "w.id = ?" if by_id else "w.owner_id = ?"
    return (
        "SELECT w.id, w.owner_id, w.metadata, w.create_time, w.update_time,"  # noqa: S608
        " a.kind, a.currency, a.balance, a.update_time FROM wallets w"
        " LEFT JOIN ledger_accounts a ON a.client_id = w.client_id AND a.owner_id = w.id"
        f" WHERE w.client_id = ? AND {where}"
    )


def _wallet_view(client_id: str, rows: Sequence[Sequence[Any]]) -> WalletView | None:
    if not rows:
        return None
    first = rows[0]
    wallet = WalletRecord(
        id=first[0],
        client_id=client_id,
        owner_id=first[1],
        metadata=dict(json_of(first[2])),
        create_time=time_of(first[3]),
        update_time=time_of(first[4]),
    )
    accounts = [(r[5], r[6], int(r[7]), time_of(r[8])) for r in rows if r[5] is not None]
    return WalletView(wallet=wallet, accounts=accounts)


def transaction_inline(
    conn: sqlite3.Connection, client_id: str, transaction_id: str
) -> WalletTransactionRecord | None:
    row = conn.execute(
        f"SELECT {_TRANSACTION_COLUMNS} FROM wallet_transactions"  # noqa: S608
        " WHERE id = ? AND client_id = ?",
        (transaction_id, client_id),
    ).fetchone()
    return None if row is None else _raw_transaction(row)


def transactions_page_inline(
    conn: sqlite3.Connection,
    client_id: str,
    wallet_id: str,
    *,
    before_id: str | None,
    limit: int,
    currency: str | None = None,
    type: str | None = None,
) -> list[WalletTransactionRecord] | None:
    """A history page (newest first, keyset on (wallet_id, id)); None: no such wallet."""
    if conn.execute(_WALLET_EXISTS_SQL, (wallet_id, client_id)).fetchone() is None:
        return None
    statement, values = _page_query(
        client_id, wallet_id, before_id=before_id, limit=limit, currency=currency, type=type
    )
    return [_raw_transaction(row) for row in conn.execute(statement, values).fetchall()]


_WALLET_EXISTS_SQL: Final = "SELECT 1 FROM wallets WHERE id = ? AND client_id = ?"


def _page_query(
    client_id: str,
    wallet_id: str,
    *,
    before_id: str | None,
    limit: int,
    currency: str | None,
    type: str | None,
) -> tuple[str, tuple[Any, ...]]:
    """A history page's statement, one text for both stores (store.raw.DriverSql)."""
    clauses = ["wallet_id = ?", "client_id = ?"]
    values: list[Any] = [wallet_id, client_id]
    for clause, value in (("currency = ?", currency), ("type = ?", type), ("id < ?", before_id)):
        if value is not None:
            clauses.append(clause)
            values.append(value)
    statement = (
        f"SELECT {_TRANSACTION_COLUMNS} FROM wallet_transactions"  # noqa: S608
        f" WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?"
    )
    return statement, (*values, limit)


async def wallet_view(
    session: AsyncSession, client_id: str, *, wallet_id: str | None, owner_id: str | None
) -> WalletView | None:
    """GetWallet's read through the session (PostgreSQL): the same join as
    :func:`wallet_view_inline`, as driver SQL (building the select cost more than it)."""
    rows = await DriverSql(session).rows(
        _wallet_view_sql(by_id=wallet_id is not None),
        (client_id, wallet_id if wallet_id is not None else owner_id),
    )
    return _wallet_view(client_id, rows)


class Wallets:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, wallet: WalletRecord) -> WalletRecord:
        await self._session.execute(
            insert(WalletRow).values(
                id=wallet.id,
                client_id=wallet.client_id,
                owner_id=wallet.owner_id,
                metadata_=dict(wallet.metadata),
                create_time=wallet.create_time,
                update_time=wallet.update_time,
            )
        )
        return wallet

    async def get(self, client_id: str, wallet_id: str) -> WalletRecord | None:
        row = (
            await self._session.execute(
                select(*_WALLET_COLUMNS).where(
                    WalletRow.id == wallet_id, WalletRow.client_id == client_id
                )
            )
        ).first()
        return None if row is None else _wallet(row)

    async def get_by_owner(self, client_id: str, owner_id: str) -> WalletRecord | None:
        row = (
            await self._session.execute(
                select(*_WALLET_COLUMNS).where(
                    WalletRow.owner_id == owner_id, WalletRow.client_id == client_id
                )
            )
        ).first()
        return None if row is None else _wallet(row)

    async def existing_ids(self, client_id: str, wallet_ids: Sequence[str]) -> set[str]:
        found = await DriverSql(self._session).rows(
            _existing_wallets_sql(len(wallet_ids)), (client_id, *wallet_ids)
        )
        return {row[0] for row in found}


class WalletTransactions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_all(self, records: Sequence[WalletTransactionRecord]) -> None:
        sql = DriverSql(self._session)
        values = [value for r in records for value in _transaction_values(sql, r)]
        await sql.rows(_insert_transactions_sql(len(records)), values)

    async def get(self, client_id: str, transaction_id: str) -> WalletTransactionRecord | None:
        row = await self._session.scalar(
            select(WalletTransactionRow).where(
                WalletTransactionRow.id == transaction_id,
                WalletTransactionRow.client_id == client_id,
            )
        )
        return None if row is None else _transaction(row)

    async def get_for_update(self, transaction_id: str) -> WalletTransactionRecord | None:
        query = select(WalletTransactionRow).where(WalletTransactionRow.id == transaction_id)
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else _transaction(row)

    async def find_by_payment_reference(
        self, reference: str, kind: str
    ) -> WalletTransactionRecord | None:
        """The ``kind`` transaction paid by the gateway's ``reference`` (a payout's transfer)."""
        if not reference:
            return None
        row = await self._session.scalar(
            select(WalletTransactionRow).where(
                WalletTransactionRow.payment_reference == reference,
                WalletTransactionRow.type == kind,
            )
        )
        return None if row is None else _transaction(row)

    async def record_outcome(
        self,
        transaction_id: str,
        *,
        status: str,
        balance_after: int,
        error: LastError | None,
        now: dt.datetime,
    ) -> None:
        await self._session.execute(
            update(WalletTransactionRow)
            .where(WalletTransactionRow.id == transaction_id)
            .values(
                status=status, balance_after=balance_after, **error_columns(error), update_time=now
            )
        )

    async def record_reference(self, transaction_id: str, reference: str) -> None:
        await self._session.execute(
            update(WalletTransactionRow)
            .where(WalletTransactionRow.id == transaction_id)
            .values(payment_reference=reference)
        )

    async def page(
        self,
        client_id: str,
        wallet_id: str,
        *,
        before_id: str | None,
        limit: int,
        currency: str | None = None,
        type: str | None = None,
    ) -> list[WalletTransactionRecord] | None:
        """Newest first, keyset by id on (wallet_id, id): a page costs the same at any
        depth. None: no such wallet. The statements of :func:`transactions_page_inline`,
        as driver SQL (building the select cost more than running it)."""
        sql = DriverSql(self._session)
        if not await sql.rows(_WALLET_EXISTS_SQL, (wallet_id, client_id)):
            return None
        statement, values = _page_query(
            client_id, wallet_id, before_id=before_id, limit=limit, currency=currency, type=type
        )
        return [_raw_transaction(row) for row in await sql.rows(statement, values)]


class WalletTransfers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: WalletTransferRecord) -> WalletTransferRecord:
        sql = DriverSql(self._session)
        await sql.rows(
            _INSERT_TRANSFER_SQL,
            (
                record.id,
                record.client_id,
                record.from_wallet_id,
                record.to_wallet_id,
                record.amount,
                record.currency,
                record.note,
                record.status,
                record.from_transaction_id,
                record.to_transaction_id,
                db_json(record.metadata),
                sql.time(record.create_time),
                sql.time(record.update_time),
            ),
        )
        return record
