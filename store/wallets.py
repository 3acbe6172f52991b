"""Wallets, their history lines and transfers; another client's ids are not found."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.ledger_models import WalletRow, WalletTransactionRow, WalletTransferRow


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
    error_message: str = ""
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
        error_message=row.error_message,
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


def _transaction_values(record: WalletTransactionRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "client_id": record.client_id,
        "wallet_id": record.wallet_id,
        "type": record.type,
        "status": record.status,
        "amount": record.amount,
        "currency": record.currency,
        "balance_after": record.balance_after,
        "payment_method_id": record.payment_method_id,
        "payment_reference": record.payment_reference,
        "transfer_id": record.transfer_id,
        "counterparty_wallet_id": record.counterparty_wallet_id,
        "description": record.description,
        "error_message": record.error_message,
        "metadata_": dict(record.metadata),
        "create_time": record.create_time,
        "update_time": record.update_time,
    }


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
        rows = await self._session.scalars(
            select(WalletRow.id).where(
                WalletRow.id.in_(list(wallet_ids)), WalletRow.client_id == client_id
            )
        )
        return set(rows)


class WalletTransactions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_all(self, records: Sequence[WalletTransactionRecord]) -> None:
        await self._session.execute(
            insert(WalletTransactionRow), [_transaction_values(r) for r in records]
        )

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

    async def record_outcome(
        self,
        transaction_id: str,
        *,
        status: str,
        balance_after: int,
        error_message: str,
        now: dt.datetime,
    ) -> None:
        await self._session.execute(
            update(WalletTransactionRow)
            .where(WalletTransactionRow.id == transaction_id)
            .values(
                status=status,
                balance_after=balance_after,
                error_message=error_message,
                update_time=now,
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
    ) -> list[WalletTransactionRecord]:
        """Newest first, keyset by id on (wallet_id, id): a page costs the same at any depth."""
        query = select(WalletTransactionRow).where(
            WalletTransactionRow.wallet_id == wallet_id,
            WalletTransactionRow.client_id == client_id,
        )
        if currency is not None:
            query = query.where(WalletTransactionRow.currency == currency)
        if type is not None:
            query = query.where(WalletTransactionRow.type == type)
        if before_id is not None:
            query = query.where(WalletTransactionRow.id < before_id)
        rows = await self._session.scalars(
            query.order_by(WalletTransactionRow.id.desc()).limit(limit)
        )
        return [_transaction(row) for row in rows]


class WalletTransfers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: WalletTransferRecord) -> WalletTransferRecord:
        await self._session.execute(
            insert(WalletTransferRow).values(
                id=record.id,
                client_id=record.client_id,
                from_wallet_id=record.from_wallet_id,
                to_wallet_id=record.to_wallet_id,
                amount=record.amount,
                currency=record.currency,
                note=record.note,
                status=record.status,
                from_transaction_id=record.from_transaction_id,
                to_transaction_id=record.to_transaction_id,
                metadata_=dict(record.metadata),
                create_time=record.create_time,
                update_time=record.update_time,
            )
        )
        return record
