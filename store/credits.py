"""Credit grants, reservations, purchases and history; another client's ids are not found."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.last_error import LastError, error_columns, stored_error
from store.ledger_models import (
    CreditGrantRow,
    CreditPurchaseRow,
    CreditReservationRow,
    CreditTransactionRow,
)
from store.raw import (
    DriverSql,
    db_json,
    json_of,
    time_of,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditGrantRecord:
    id: str
    client_id: str
    owner_id: str
    amount: int
    remaining: int
    expire_time: dt.datetime | None
    reason: str
    source: str
    purchase_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditReservationRecord:
    id: str
    client_id: str
    owner_id: str
    amount: int
    committed_amount: int
    status: str
    allocations: list[tuple[str, int]]
    expire_time: dt.datetime
    reason: str
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditTransactionRecord:
    id: str
    client_id: str
    owner_id: str
    type: str
    amount: int
    balance_after: int
    reason: str = ""
    grant_id: str = ""
    reservation_id: str = ""
    purchase_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditPurchaseRecord:
    id: str
    client_id: str
    owner_id: str
    package_id: str
    credits: int
    amount: int
    currency: str
    status: str
    payment_method_id: str = ""
    payment_reference: str = ""
    grant_id: str = ""
    #: Why the purchase FAILED (the payment's decline, nothing charged); else None.
    last_error: LastError | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


def _grant(row: CreditGrantRow) -> CreditGrantRecord:
    return CreditGrantRecord(
        id=row.id,
        client_id=row.client_id,
        owner_id=row.owner_id,
        amount=row.amount,
        remaining=row.remaining,
        expire_time=row.expire_time,
        reason=row.reason,
        source=row.source,
        purchase_id=row.purchase_id,
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


def _reservation(row: CreditReservationRow) -> CreditReservationRecord:
    return CreditReservationRecord(
        id=row.id,
        client_id=row.client_id,
        owner_id=row.owner_id,
        amount=row.amount,
        committed_amount=row.committed_amount,
        status=row.status,
        allocations=[(str(a[0]), int(a[1])) for a in row.allocations or []],
        expire_time=row.expire_time,
        reason=row.reason,
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


def _transaction(row: CreditTransactionRow) -> CreditTransactionRecord:
    return CreditTransactionRecord(
        id=row.id,
        client_id=row.client_id,
        owner_id=row.owner_id,
        type=row.type,
        amount=row.amount,
        balance_after=row.balance_after,
        reason=row.reason,
        grant_id=row.grant_id,
        reservation_id=row.reservation_id,
        purchase_id=row.purchase_id,
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


def _purchase(row: CreditPurchaseRow) -> CreditPurchaseRecord:
    return CreditPurchaseRecord(
        id=row.id,
        client_id=row.client_id,
        owner_id=row.owner_id,
        package_id=row.package_id,
        credits=row.credits,
        amount=row.amount,
        currency=row.currency,
        status=row.status,
        payment_method_id=row.payment_method_id,
        payment_reference=row.payment_reference,
        grant_id=row.grant_id,
        last_error=stored_error(row.error_code, row.error_decline_code, row.error_message),
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


_GRANT_COLUMNS = (
    "id, client_id, owner_id, amount, remaining, expire_time, reason, source, purchase_id,"
    " metadata, create_time, update_time"
)


def _raw_grant(row: Sequence[Any]) -> CreditGrantRecord:
    return CreditGrantRecord(
        id=row[0],
        client_id=row[1],
        owner_id=row[2],
        amount=int(row[3]),
        remaining=int(row[4]),
        expire_time=None if row[5] is None else time_of(row[5]),
        reason=row[6],
        source=row[7],
        purchase_id=row[8],
        metadata=json_of(row[9]),
        create_time=time_of(row[10]),
        update_time=time_of(row[11]),
    )


@functools.cache
def _spendable_sql(ranks: tuple[int, ...]) -> str:
    """``spendable_grants``' statement for sources ranked ``ranks`` (bound in that order)."""
    cases = " ".join(f"WHEN ? THEN {n}" for n in ranks)
    return (
        f"SELECT {_GRANT_COLUMNS} FROM credit_grants"  # noqa: S608
        " WHERE client_id = ? AND owner_id = ? AND remaining > 0"
        " AND (expire_time IS NULL OR expire_time > ?)"
        f" ORDER BY expire_time IS NULL, expire_time, CASE source {cases}"
        f" ELSE {len(ranks)} END, id"
    )


class Credits:
    """Named reads and writes of the credit tables inside the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    # -- grants ----------------------------------------------------------------------

    async def add_grant(self, grant: CreditGrantRecord) -> CreditGrantRecord:
        await self._session.execute(
            insert(CreditGrantRow).values(
                id=grant.id,
                client_id=grant.client_id,
                owner_id=grant.owner_id,
                amount=grant.amount,
                remaining=grant.remaining,
                expire_time=grant.expire_time,
                reason=grant.reason,
                source=grant.source,
                purchase_id=grant.purchase_id,
                metadata_=dict(grant.metadata),
                create_time=grant.create_time,
                update_time=grant.update_time,
            )
        )
        return grant

    async def spendable_grants(
        self, client_id: str, owner_id: str, now: dt.datetime, *, source_order: dict[str, int]
    ) -> list[CreditGrantRecord]:
        """Unexpired grants with credits left, in spending order: soonest expiry first
        (never-expiring last), then by source (``source_order``), then oldest first.
        On PostgreSQL their rows stay locked until the caller's transaction ends."""
        sql = DriverSql(self._session)
        statement = _spendable_sql(tuple(source_order.values()))
        if self._postgres:
            statement += " FOR UPDATE"
        rows = await sql.rows(statement, (client_id, owner_id, sql.time(now), *source_order))
        return [_raw_grant(row) for row in rows]

    async def change_remaining(self, grant_id: str, delta: int, now: dt.datetime) -> None:
        sql = DriverSql(self._session)
        await sql.rows(
            "UPDATE credit_grants SET remaining = remaining + ?, update_time = ? WHERE id = ?",
            (delta, sql.time(now), grant_id),
        )

    async def expired_grants(self, now: dt.datetime, *, limit: int) -> list[CreditGrantRecord]:
        query = (
            select(CreditGrantRow)
            .where(CreditGrantRow.expire_time <= now, CreditGrantRow.remaining > 0)
            .order_by(CreditGrantRow.expire_time, CreditGrantRow.id)
            .limit(limit)
        )
        return [_grant(row) for row in await self._session.scalars(query)]

    async def grant_for_update(self, grant_id: str) -> CreditGrantRecord | None:
        query = select(CreditGrantRow).where(CreditGrantRow.id == grant_id)
        if self._postgres:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else _grant(row)

    async def balance_view(
        self, client_id: str, owner_id: str, now: dt.datetime, soon: dt.datetime
    ) -> tuple[int, int, dt.datetime | None, int, dt.datetime | None]:
        """(available, expiring amount, its expire time, reserved, last change)."""
        live = (
            CreditGrantRow.client_id == client_id,
            CreditGrantRow.owner_id == owner_id,
            CreditGrantRow.remaining > 0,
            (CreditGrantRow.expire_time.is_(None)) | (CreditGrantRow.expire_time > now),
        )
        available = await self._session.scalar(
            select(func.coalesce(func.sum(CreditGrantRow.remaining), 0)).where(*live)
        )
        next_expiry = await self._session.scalar(
            select(func.min(CreditGrantRow.expire_time)).where(
                *live, CreditGrantRow.expire_time <= soon
            )
        )
        expiring = 0
        if next_expiry is not None:
            expiring = int(
                await self._session.scalar(
                    select(func.coalesce(func.sum(CreditGrantRow.remaining), 0)).where(
                        *live, CreditGrantRow.expire_time == next_expiry
                    )
                )
                or 0
            )
        reserved = await self._session.scalar(
            select(func.coalesce(func.sum(CreditReservationRow.amount), 0)).where(
                CreditReservationRow.client_id == client_id,
                CreditReservationRow.owner_id == owner_id,
                CreditReservationRow.status == "active",
                CreditReservationRow.expire_time > now,
            )
        )
        changed = await self._session.scalar(
            select(func.max(CreditTransactionRow.create_time)).where(
                CreditTransactionRow.client_id == client_id,
                CreditTransactionRow.owner_id == owner_id,
            )
        )
        return int(available or 0), expiring, next_expiry, int(reserved or 0), changed

    # -- reservations ----------------------------------------------------------------

    async def add_reservation(self, record: CreditReservationRecord) -> CreditReservationRecord:
        await self._session.execute(
            insert(CreditReservationRow).values(
                id=record.id,
                client_id=record.client_id,
                owner_id=record.owner_id,
                amount=record.amount,
                committed_amount=record.committed_amount,
                status=record.status,
                allocations=[[grant_id, n] for grant_id, n in record.allocations],
                expire_time=record.expire_time,
                reason=record.reason,
                metadata_=dict(record.metadata),
                create_time=record.create_time,
                update_time=record.update_time,
            )
        )
        return record

    async def reservation_for_update(
        self, client_id: str, reservation_id: str
    ) -> CreditReservationRecord | None:
        query = select(CreditReservationRow).where(
            CreditReservationRow.id == reservation_id,
            CreditReservationRow.client_id == client_id,
        )
        if self._postgres:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else _reservation(row)

    async def finish_reservation(
        self, reservation_id: str, *, status: str, committed_amount: int, now: dt.datetime
    ) -> None:
        await self._session.execute(
            update(CreditReservationRow)
            .where(CreditReservationRow.id == reservation_id)
            .values(status=status, committed_amount=committed_amount, update_time=now)
        )

    async def lapsed_reservations(self, now: dt.datetime, *, limit: int) -> list[tuple[str, str]]:
        rows = await self._session.execute(
            select(CreditReservationRow.client_id, CreditReservationRow.id)
            .where(CreditReservationRow.status == "active", CreditReservationRow.expire_time <= now)
            .order_by(CreditReservationRow.expire_time)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows]

    # -- history ---------------------------------------------------------------------

    async def add_transaction(self, record: CreditTransactionRecord) -> CreditTransactionRecord:
        sql = DriverSql(self._session)
        await sql.rows(
            "INSERT INTO credit_transactions (id, client_id, owner_id, type, amount,"
            " balance_after, reason, grant_id, reservation_id, purchase_id, metadata,"
            " create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.id, record.client_id, record.owner_id, record.type, record.amount,
                record.balance_after, record.reason, record.grant_id, record.reservation_id,
                record.purchase_id, db_json(record.metadata), sql.time(record.create_time),
                sql.time(record.update_time),
            ),
        )  # fmt: skip
        return record

    async def transactions_page(
        self,
        client_id: str,
        owner_id: str,
        *,
        before_id: str | None,
        limit: int,
        type: str | None = None,
    ) -> list[CreditTransactionRecord]:
        query = select(CreditTransactionRow).where(
            CreditTransactionRow.client_id == client_id,
            CreditTransactionRow.owner_id == owner_id,
        )
        if type is not None:
            query = query.where(CreditTransactionRow.type == type)
        if before_id is not None:
            query = query.where(CreditTransactionRow.id < before_id)
        rows = await self._session.scalars(
            query.order_by(CreditTransactionRow.id.desc()).limit(limit)
        )
        return [_transaction(row) for row in rows]

    async def purchase_transactions(
        self, purchase_id: str, type: str
    ) -> list[CreditTransactionRecord]:
        """A purchase's history lines of one type, oldest first (a handful at most)."""
        rows = await self._session.scalars(
            select(CreditTransactionRow)
            .where(
                CreditTransactionRow.purchase_id == purchase_id,
                CreditTransactionRow.type == type,
            )
            .order_by(CreditTransactionRow.id)
        )
        return [_transaction(row) for row in rows]

    # -- purchases -------------------------------------------------------------------

    async def add_purchase(self, record: CreditPurchaseRecord) -> CreditPurchaseRecord:
        values: dict[str, Any] = {
            "id": record.id,
            "client_id": record.client_id,
            "owner_id": record.owner_id,
            "package_id": record.package_id,
            "credits": record.credits,
            "amount": record.amount,
            "currency": record.currency,
            "status": record.status,
            "payment_method_id": record.payment_method_id,
            "payment_reference": record.payment_reference,
            "grant_id": record.grant_id,
            **error_columns(record.last_error),
            "metadata_": dict(record.metadata),
            "create_time": record.create_time,
            "update_time": record.update_time,
        }
        await self._session.execute(insert(CreditPurchaseRow).values(**values))
        return record

    async def purchase(self, client_id: str, purchase_id: str) -> CreditPurchaseRecord | None:
        row = await self._session.scalar(
            select(CreditPurchaseRow).where(
                CreditPurchaseRow.id == purchase_id, CreditPurchaseRow.client_id == client_id
            )
        )
        return None if row is None else _purchase(row)

    async def record_purchase_reference(self, purchase_id: str, reference: str) -> None:
        await self._session.execute(
            update(CreditPurchaseRow)
            .where(CreditPurchaseRow.id == purchase_id)
            .values(payment_reference=reference)
        )

    async def purchase_for_update(self, purchase_id: str) -> CreditPurchaseRecord | None:
        query = select(CreditPurchaseRow).where(CreditPurchaseRow.id == purchase_id)
        if self._postgres:
            query = query.with_for_update()
        row = await self._session.scalar(query)
        return None if row is None else _purchase(row)

    async def finish_purchase(
        self,
        purchase_id: str,
        *,
        status: str,
        grant_id: str,
        error: LastError | None,
        now: dt.datetime,
        payment_reference: str | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "status": status,
            "grant_id": grant_id,
            **error_columns(error),
            "update_time": now,
        }
        if payment_reference is not None:
            values["payment_reference"] = payment_reference
        await self._session.execute(
            update(CreditPurchaseRow).where(CreditPurchaseRow.id == purchase_id).values(**values)
        )
