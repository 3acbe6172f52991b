"""Customer use cases: create, get and list a client's own customers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.pagination import Page, PageRequest, page_of
from store.customers import CustomerRecord, Customers, customer_inline, customers_page_inline
from store.db import Database
from store.ids import new_id
from store.models import utcnow
from store.raw import InlineReader

Customer = CustomerRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerFilter:
    """Exact matches; None matches everything."""

    email: str | None = None
    external_ref: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCustomer:
    external_ref: str = ""
    email: str = ""
    name: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


class CustomerService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._inline = InlineReader(db)

    async def create(self, session: AsyncSession, client_id: str, new: NewCustomer) -> Customer:
        """Insert in the caller's transaction, so it commits with the idempotency record."""
        now = utcnow()
        customer = Customer(
            id=new_id("cus"),
            client_id=client_id,
            external_ref=new.external_ref,
            email=new.email,
            name=new.name,
            metadata=dict(new.metadata),
            create_time=now,
            update_time=now,
        )
        return await Customers(session).add(customer)

    async def get(self, client_id: str, customer_id: str) -> Customer:
        conn = self._inline.connection()
        if conn is not None:  # SQLite: one indexed lookup, no session (store.raw)
            customer = customer_inline(conn, client_id, customer_id)
        else:
            async with self._db.read() as session:
                customer = await Customers(session).get(client_id, customer_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        return customer

    async def list(
        self, client_id: str, page: PageRequest, where: CustomerFilter | None = None
    ) -> Page[Customer]:
        where = where or CustomerFilter()
        conn = self._inline.connection()
        if conn is not None:  # SQLite: the page in one statement, no session
            rows = customers_page_inline(
                conn,
                client_id,
                before_id=page.before_id,
                limit=page.size + 1,
                email=where.email,
                external_ref=where.external_ref,
            )
            return page_of(rows, page)
        async with self._db.read() as session:
            rows = await Customers(session).page(
                client_id,
                before_id=page.before_id,
                limit=page.size + 1,
                email=where.email,
                external_ref=where.external_ref,
            )
        return page_of(rows, page)
