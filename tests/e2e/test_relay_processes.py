"""Delivery across real `isa serve` processes: shared work, and a relay killed mid-delivery.

The processes run as operators run them; the receiver is an HTTP server in this test.
Each test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, select

from store.db import Database
from store.webhook_models import WebhookDeliveryAttemptRow, WebhookDeliveryRow
from tests.webhook_support import Receiver, create_endpoint, emit

CLIENT = "tenant-portal"


async def start_relay(
    url: str, tmp_path: Path, name: str, **env: str
) -> asyncio.subprocess.Process:
    environment = {
        **os.environ,
        "ISA_DATABASE_URL": url,
        "ISA_GRPC_ADDR": "127.0.0.1:0",
        "ISA_RELAY_ADDR": "127.0.0.1:0",
        "ISA_DATA_DIR": str(tmp_path / name),
        "ISA_WEBHOOK_POLL_SECONDS": "0.05",
        "ISA_LOG_LEVEL": "WARNING",
        **env,
    }
    log = (tmp_path / f"{name}.log").open("w")
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "server", "serve", env=environment, stdout=log, stderr=log
    )


async def stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.kill()
        await process.wait()


async def until(check: Callable[[], Awaitable[bool]], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("not reached before the deadline")
        await asyncio.sleep(0.1)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = await Receiver().start()
    yield running
    await running.stop()


async def succeeded(db: Database) -> int:
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count()).where(WebhookDeliveryRow.status == "succeeded")
            )
            or 0
        )


async def test_two_relay_processes_deliver_each_event_once_per_endpoint(
    db: Database, migrated_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    for _ in range(2):
        await create_endpoint(db, CLIENT, receiver.url)
    events = [await emit(db, CLIENT, n=n) for n in range(100)]
    relays = [
        await start_relay(migrated_url, tmp_path, f"relay{i}", ISA_WEBHOOK_BATCH="4")
        for i in range(2)
    ]
    try:

        async def all_done() -> bool:
            return await succeeded(db) == 200

        await until(all_done)
    finally:
        for relay in relays:
            await stop(relay)
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 200
    assert {i: ids.count(i) for i in set(ids)} == {e.id: 2 for e in events}


async def test_relay_killed_mid_delivery_loses_nothing(
    db: Database, migrated_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    arrived = asyncio.Event()

    async def first_hangs(_request: web.Request, count: int) -> web.StreamResponse:
        if count == 1:
            arrived.set()
            await asyncio.Event().wait()
        return web.Response(status=200)

    receiver.respond = first_hangs
    await create_endpoint(db, CLIENT, receiver.url)
    event = await emit(db, CLIENT)
    settings = {"ISA_WEBHOOK_TIMEOUT_SECONDS": "5", "ISA_WEBHOOK_LEASE_SECONDS": "6"}
    doomed = await start_relay(migrated_url, tmp_path, "doomed", **settings)
    try:
        await asyncio.wait_for(arrived.wait(), timeout=60)
        doomed.send_signal(signal.SIGKILL)
        await doomed.wait()
    finally:
        await stop(doomed)
    restarted = await start_relay(migrated_url, tmp_path, "restarted", **settings)
    try:

        async def delivered() -> bool:
            return await succeeded(db) == 1

        await until(delivered)
    finally:
        await stop(restarted)
    assert [r.headers["webhook-id"] for r in receiver.received] == [event.id, event.id]
    async with db.read() as session:
        attempts = await session.scalar(select(func.count()).select_from(WebhookDeliveryAttemptRow))
    assert attempts == 1  # the killed attempt left no outcome; the restart's is recorded
