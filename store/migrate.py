"""Apply the Alembic migrations: ``isa migrate``, ``make run`` and the tests use this."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from server.config import async_url
from store.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", async_url(url))
    return config


async def upgrade(db: Database, revision: str = "heads") -> None:
    """Bring the store's schema to ``revision`` (every head) in one transaction.

    "heads", not "head": work developed in parallel may add migration branches; each
    applies on its own until a merge revision joins them.
    """
    config = alembic_config(db.url)

    def run(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    async with db.write_engine.begin() as connection:
        await connection.run_sync(run)


def head_revisions() -> frozenset[str]:
    """The revisions a current schema is at (every head of the migration scripts)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def applied_revisions(db: Database) -> frozenset[str]:
    """The revisions the store's schema is at: empty for a store never migrated."""

    def read(connection: Connection) -> frozenset[str]:
        return frozenset(MigrationContext.configure(connection).get_current_heads())

    async with db.write_engine.connect() as connection:
        return await connection.run_sync(read)
