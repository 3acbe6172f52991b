"""Customers of each calling client; another client's ids are simply not found."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from store.models import CustomerRow
from store.raw import DriverSql, json_of, time_of


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerRecord:
    id: str
    client_id: str
    external_ref: str
    email: str
    name: str
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime
    #: The attached method marked default (AttachPaymentMethod / ExchangeBankPublicToken
    #: ``set_as_default``); read with the customer, so it can never name a detached one.
    default_payment_method_id: str = ""


_COLUMNS: Final = (
    "c.id, c.client_id, c.external_ref, c.email, c.name, c.metadata, c.create_time,"
    " c.update_time, (SELECT m.id FROM payment_methods m WHERE m.client_id = c.client_id"
    " AND m.customer_id = c.id AND m.is_default AND m.detach_time IS NULL"
    " ORDER BY m.id DESC LIMIT 1)"
)


def _raw_customer(row: Sequence[Any]) -> CustomerRecord:
    """A record from a hand-written SELECT's row (times and JSON as text on SQLite)."""
    metadata = row[5]
    return CustomerRecord(
        id=row[0],
        client_id=row[1],
        external_ref=row[2],
        email=row[3],
        name=row[4],
        metadata=dict(json_of(metadata)),
        create_time=time_of(row[6]),
        update_time=time_of(row[7]),
        default_payment_method_id=row[8] or "",
    )


def customer_inline(
    conn: sqlite3.Connection, client_id: str, customer_id: str
) -> CustomerRecord | None:
    """GetCustomer's read on the inline reader (store.raw): one indexed lookup, no
    session (the ORM's select cost several times the whole rest of the call)."""
    row = conn.execute(_GET_SQL, (customer_id, client_id)).fetchone()
    return None if row is None else _raw_customer(row)


_GET_SQL: Final = f"SELECT {_COLUMNS} FROM customers c WHERE c.id = ? AND c.client_id = ?"  # noqa: S608


def _page_sql(
    client_id: str,
    *,
    before_id: str | None,
    limit: int,
    email: str | None,
    external_ref: str | None,
) -> tuple[str, list[Any]]:
    """ListCustomers' page as one statement for either store: newest first, keyset by id
    (the cost of a page does not grow with the table)."""
    clauses = ["c.client_id = ?"]
    values: list[Any] = [client_id]
    for clause, value in (
        ("c.email = ?", email),
        ("c.external_ref = ?", external_ref),
        ("c.id < ?", before_id),
    ):
        if value is not None:
            clauses.append(clause)
            values.append(value)
    statement = (
        f"SELECT {_COLUMNS} FROM customers c"  # noqa: S608
        f" WHERE {' AND '.join(clauses)} ORDER BY c.id DESC LIMIT ?"
    )
    return statement, [*values, limit]


def customers_page_inline(
    conn: sqlite3.Connection,
    client_id: str,
    *,
    before_id: str | None,
    limit: int,
    email: str | None = None,
    external_ref: str | None = None,
) -> list[CustomerRecord]:
    """ListCustomers' page on the inline reader (SQLite), with no session."""
    statement, values = _page_sql(
        client_id, before_id=before_id, limit=limit, email=email, external_ref=external_ref
    )
    return [_raw_customer(row) for row in conn.execute(statement, values).fetchall()]


class Customers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, customer: CustomerRecord) -> CustomerRecord:
        self._session.add(
            CustomerRow(
                id=customer.id,
                client_id=customer.client_id,
                external_ref=customer.external_ref,
                email=customer.email,
                name=customer.name,
                metadata_=dict(customer.metadata),
                create_time=customer.create_time,
                update_time=customer.update_time,
            )
        )
        await self._session.flush()
        return customer

    async def get(self, client_id: str, customer_id: str) -> CustomerRecord | None:
        """The lookup of :func:`customer_inline` through the session, as driver SQL."""
        rows = await DriverSql(self._session).rows(_GET_SQL, (customer_id, client_id))
        return _raw_customer(rows[0]) if rows else None

    async def page(
        self,
        client_id: str,
        *,
        before_id: str | None,
        limit: int,
        email: str | None = None,
        external_ref: str | None = None,
    ) -> list[CustomerRecord]:
        """The same page through the session (PostgreSQL)."""
        statement, values = _page_sql(
            client_id, before_id=before_id, limit=limit, email=email, external_ref=external_ref
        )
        rows = await DriverSql(self._session).rows(statement, values)
        return [_raw_customer(row) for row in rows]
