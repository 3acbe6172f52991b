"""The store itself: migrations match the models, and the outbox records events."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from server.events import record_event
from store.db import Database
from store.events import Events
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


async def test_gateway_events_find_their_payment_and_refund_through_an_index(db: Database) -> None:
    """Each gateway webhook looks its row up by the provider's id, in the write
    transaction: without the index that is a scan of every payment the service holds."""
    lookups = {
        "payment_intents": "ix_payment_intents_gateway_gateway_reference",
        "refunds": "ix_refunds_gateway_gateway_reference",
    }
    async with db.write_engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:  # on an empty table the planner would rightly prefer a scan
            await connection.exec_driver_sql("SET enable_seqscan = off")
        for table, index in lookups.items():
            where = "gateway = 'stripe' AND gateway_reference = 'pi_123'"
            explain = "EXPLAIN" if postgres else "EXPLAIN QUERY PLAN"
            query = f"{explain} SELECT id FROM {table} WHERE {where}"
            rows = await connection.exec_driver_sql(query)
            plan = " ".join(str(column) for row in rows for column in row)
            assert index in plan, f"{table} lookup by gateway reference: {plan}"
