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
