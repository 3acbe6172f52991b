"""The store itself: migrations match the models, and the outbox records events."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from server.events import record_event
from store.db import Database
from store.events import Events
from store.payment_models import PaymentIntentRow, RefundRow
from store.schema import metadata


async def test_migrations_create_exactly_the_models_schema(db: Database) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with db.write_engine.connect() as connection:
        diff = await connection.run_sync(differences)
    assert diff == [], "models and migrations disagree: write a migration"


async def test_an_event_commits_with_its_change_and_not_without(db: Database) -> None:
    async with db.write() as session:
        event = await record_event(
            session,
            client_id="c1",
            event_type="payment.succeeded",
            resource_id="pi_1",
            data={"id": "pi_1", "amount": 1000},
        )

    class ChangeFailed(Exception):
        pass

    try:
        async with db.write() as session:
            await record_event(
                session, client_id="c1", event_type="payment.failed", resource_id="pi_2", data={}
            )
            raise ChangeFailed
    except ChangeFailed:
        pass
    async with db.read() as session:
        events = await Events(session).page("c1", before_id=None, limit=10)
    assert [e.id for e in events] == [event.id]
    body = json.loads(events[0].payload)
    assert body["id"] == event.id
    assert body["type"] == "payment.succeeded"
    assert body["data"] == {"id": "pi_1", "amount": 1000}
    assert body["timestamp"].endswith("Z")


async def test_gateway_events_find_their_rows_through_an_index(db: Database) -> None:
    """Each gateway webhook looks its row (payment, refund, checkout session, connected
    account) up by the provider's id, in the write transaction: without the index that
    is a scan of every such row the service holds."""
    lookups = {
        "payment_intents": ("ix_payment_intents_gateway_gateway_reference",),
        # PostgreSQL may prefer the unique one for a literal reference (it is not empty)
        "refunds": ("ix_refunds_gateway_gateway_reference", "uq_refunds_gateway_gateway_reference"),
        "checkout_sessions": ("ix_checkout_sessions_gateway_gateway_reference",),
        "connected_accounts": ("ix_connected_accounts_gateway_gateway_reference",),
    }
    async with db.write_engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # on an empty table the planner would rightly prefer a scan
            await connection.exec_driver_sql("SET enable_seqscan = off")
        for table, indexes in lookups.items():
            where = "gateway = 'stripe' AND gateway_reference = 'pi_123'"
            explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
            query = f"{explain} SELECT id FROM {table} WHERE {where}"
            rows = await connection.exec_driver_sql(query)
            plan = " ".join(str(column) for row in rows for column in row)
            assert any(index in plan for index in indexes), f"{table} lookup: {plan}"


async def test_the_checkout_expiry_sweep_finds_lapsed_sessions_through_an_index(
    db: Database,
) -> None:
    """The sweep looks every half minute: without the index, a scan of every session."""
    index = "ix_checkout_sessions_gateway_status_expire_time_id"
    async with db.write_engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # on an empty table the planner would rightly prefer a scan
            await connection.exec_driver_sql("SET enable_seqscan = off")
        explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
        query = (
            f"{explain} SELECT id FROM checkout_sessions WHERE gateway = 'sandbox'"
            " AND status = 'open' AND expire_time <= CURRENT_TIMESTAMP"
            " ORDER BY expire_time, id LIMIT 100"
        )
        rows = await connection.exec_driver_sql(query)
        plan = " ".join(str(column) for row in rows for column in row)
    assert index in plan, plan


async def test_a_gateway_refund_is_recorded_once_and_unsent_refunds_are_not_constrained(
    db: Database,
) -> None:
    """Two refund rows for one gateway refund are refused by the database itself; any
    number of refunds not yet sent (no gateway reference) are fine."""
    now = dt.datetime.now(dt.UTC)
    async with db.write() as session:
        intent = PaymentIntentRow(
            id="pi_unique",
            client_id="c1",
            amount=1000,
            currency="usd",
            status="succeeded",
            capture_method="automatic",
            amount_received=1000,
            gateway="stripe",
            gateway_reference="pi_gw",
            client_secret="secret",
            create_time=now,
            update_time=now,
        )
        session.add(intent)
        for n, reference in enumerate(["", "", "re_gw"]):
            session.add(refund_row(f"re_{n}", reference, now))
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            session.add(refund_row("re_again", "re_gw", now))
    async with db.read() as session:
        count = await session.scalar(select(func.count()).select_from(RefundRow))
    assert count == 3


def refund_row(refund_id: str, reference: str, now: dt.datetime) -> RefundRow:
    return RefundRow(
        id=refund_id,
        client_id="c1",
        payment_intent_id="pi_unique",
        amount=100,
        currency="usd",
        status="pending" if not reference else "succeeded",
        gateway="stripe",
        gateway_reference=reference,
        attempt_key=f"key-{refund_id}",
        attempt_state="open" if not reference else "done",
        create_time=now,
        update_time=now,
    )
