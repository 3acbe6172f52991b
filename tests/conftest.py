"""Shared fixtures: every integration test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``ISA_TEST_DATABASE_URL`` (default: the local ``test`` database,
trust auth). Each test gets a freshly migrated, empty schema. When PostgreSQL cannot be
reached the PostgreSQL half is skipped and the run says so — except with ``CI=true``,
where it fails: CI never passes on half the suite.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Final

import asyncpg
import grpc
import pytest

from isa.payment.v1 import payment_service_pb2_grpc
from server import app
from server.config import Settings, load_settings
from store.db import Database
from store.migrate import upgrade

PG_URL = os.environ.get(
    "ISA_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI") == "true"

#: Clients of the test clients file: (id, token, services).
TENANT = ("tenant-portal", "tenant-token", None)
OTHER_TENANT = ("other-tenant", "other-token", None)
#: The operator client (``"operator": true``): it also sees the gateway events no client owns.
OPERATOR = ("ops-console", "operator-token", None)
BILLING_JOB = ("billing-job", "billing-token", ["isa.billing.v1.BillingService"])

_skipped_postgres: list[str] = []


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@cache
def postgres_unreachable_reason() -> str | None:
    async def probe() -> None:
        connection = await asyncpg.connect(_dsn(PG_URL), timeout=5)
        await connection.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"{PG_URL} unreachable ({type(error).__name__}: {error})"
    return None


async def reset_postgres_schema(url: str) -> None:
    connection = await asyncpg.connect(_dsn(url))
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store of each kind; PostgreSQL's schema is dropped and recreated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/isa.db"
    reason = postgres_unreachable_reason()
    if reason is not None:
        if IN_CI:
            pytest.fail(f"CI=true but PostgreSQL is unreachable: {reason}")
        _skipped_postgres.append(reason)
        pytest.skip(f"PostgreSQL half skipped: {reason}")
    return PG_URL


@pytest.fixture
async def migrated_url(database_url: str) -> str:
    if database_url.startswith("postgresql"):
        await reset_postgres_schema(database_url)
    db = Database(database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    return database_url


@pytest.fixture
async def db(migrated_url: str) -> AsyncIterator[Database]:
    database = Database(migrated_url)
    yield database
    await database.dispose()


@pytest.fixture
def clients_file(tmp_path: Path) -> Path:
    path = tmp_path / "clients.json"
    entries = []
    for client_id, token, services in (TENANT, OTHER_TENANT, BILLING_JOB, OPERATOR):
        entry: dict[str, object] = {"id": client_id, "token": token}
        entry["services"] = services if services is not None else list(app.NOT_YET)
        if client_id == OPERATOR[0]:
            entry["operator"] = True
        entries.append(entry)
    path.write_text(json.dumps({"clients": entries}))
    return path


#: A fixed Fernet key for the test servers (configured clients make ISA_ENCRYPTION_KEY required).
TEST_ENCRYPTION_KEY = "KWVhc7LdzZ5Lw1ymmwBTzrtKq0rmxpm8XxG07dr3A9c="


def settings_for(url: str, **env: str) -> Settings:
    return load_settings(
        {
            "ISA_DATABASE_URL": url,
            "ISA_GRPC_ADDR": "127.0.0.1:0",
            "ISA_RELAY_ADDR": "127.0.0.1:0",
            "ISA_ENCRYPTION_KEY": TEST_ENCRYPTION_KEY,
            **env,
        }
    )


@dataclass
class Running:
    """A started server and a channel to it."""

    runtime: app.Runtime
    channel: grpc.aio.Channel

    @property
    def relay_url(self) -> str:
        return f"http://127.0.0.1:{self.runtime.relay_port}"

    def payments(self) -> payment_service_pb2_grpc.PaymentServiceStub:
        return payment_service_pb2_grpc.PaymentServiceStub(self.channel)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


TENANT_AUTH = bearer(TENANT[1])
OTHER_AUTH = bearer(OTHER_TENANT[1])
BILLING_AUTH = bearer(BILLING_JOB[1])
OPERATOR_AUTH = bearer(OPERATOR[1])


async def start_running(settings: Settings) -> Running:
    runtime = await app.start(settings)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{runtime.grpc_port}")
    return Running(runtime=runtime, channel=channel)


#: Relay loops that look for work every 50 ms, so a test's webhook is applied and its
#: callback delivered promptly.
QUICK_RELAY: Final = {"ISA_GATEWAY_EVENT_POLL_SECONDS": "0.05", "ISA_WEBHOOK_POLL_SECONDS": "0.05"}


async def serving(settings: Settings) -> AsyncIterator[Running]:
    """Run a server for a fixture's lifetime: yields it, then stops it."""
    running = await start_running(settings)
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


@pytest.fixture
async def server(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """The real server on ephemeral ports, with the test clients file."""
    async for running in serving(settings_for(migrated_url, ISA_CLIENTS_FILE=str(clients_file))):
        yield running


@pytest.fixture
async def quick_relay_server(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """:func:`server` whose relay applies webhooks and delivers callbacks promptly."""
    settings = settings_for(migrated_url, ISA_CLIENTS_FILE=str(clients_file), **QUICK_RELAY)
    async for running in serving(settings):
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped_postgres:
        terminalreporter.write_line(
            f"NOTE: the PostgreSQL half was skipped ({len(_skipped_postgres)} tests): "
            f"{_skipped_postgres[0]}",
            yellow=True,
            bold=True,
        )
