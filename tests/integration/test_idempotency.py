"""Idempotency as API.md specifies it: replay, reuse, concurrency, scope, retention."""

from __future__ import annotations

import asyncio
import datetime as dt

import grpc
import pytest
from sqlalchemy import func, select, update

from isa.payment.v1 import payment_service_pb2 as pb
from server.errors import IdempotencyKeyInUse
from server.idempotency import Idempotency, IdempotentCall
from store.db import Database
from store.models import CustomerRow, IdempotencyRecordRow
from tests.conftest import OTHER_AUTH, TENANT_AUTH, Running
from tests.integration.test_surface import error_info


async def count_customers(db: Database) -> int:
    async with db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(CustomerRow)) or 0)


@pytest.fixture
def request_ana() -> pb.CreateCustomerRequest:
    return pb.CreateCustomerRequest(email="ana@example.com", name="Ana", idempotency_key="key-1")


async def test_replay_returns_the_first_response_and_changes_nothing(
    server: Running, request_ana: pb.CreateCustomerRequest
) -> None:
    stub = server.payments()
    first = await stub.CreateCustomer(request_ana, metadata=TENANT_AUTH)
    again = await stub.CreateCustomer(request_ana, metadata=TENANT_AUTH)
    assert again == first
    assert await count_customers(server.runtime.db) == 1


async def test_same_key_with_another_request_is_refused(
    server: Running, request_ana: pb.CreateCustomerRequest
) -> None:
    stub = server.payments()
    await stub.CreateCustomer(request_ana, metadata=TENANT_AUTH)
    changed = pb.CreateCustomerRequest()
    changed.CopyFrom(request_ana)
    changed.name = "Someone else"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateCustomer(changed, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value).reason == "IDEMPOTENCY_KEY_REUSED"
    assert await count_customers(server.runtime.db) == 1


async def test_keys_are_scoped_per_client(
    server: Running, request_ana: pb.CreateCustomerRequest
) -> None:
    stub = server.payments()
    mine = await stub.CreateCustomer(request_ana, metadata=TENANT_AUTH)
    theirs = await stub.CreateCustomer(request_ana, metadata=OTHER_AUTH)
    assert mine.customer.id != theirs.customer.id
    assert await count_customers(server.runtime.db) == 2


async def test_concurrent_requests_with_one_key_have_exactly_one_effect(
    server: Running, request_ana: pb.CreateCustomerRequest
) -> None:
    stub = server.payments()
    results = await asyncio.gather(
        *(stub.CreateCustomer(request_ana, metadata=TENANT_AUTH) for _ in range(20)),
        return_exceptions=True,
    )
    answers = [r for r in results if isinstance(r, pb.CreateCustomerResponse)]
    refusals = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(answers) + len(refusals) == 20
    assert answers, "at least the first call must succeed"
    assert {a.customer.id for a in answers} == {answers[0].customer.id}
    for refusal in refusals:
        assert refusal.code() == grpc.StatusCode.ABORTED
        assert error_info(refusal).reason == "IDEMPOTENCY_KEY_IN_USE"
    assert await count_customers(server.runtime.db) == 1
    # Once the first has finished, a retry gets its answer.
    retried = await stub.CreateCustomer(request_ana, metadata=TENANT_AUTH)
    assert retried.customer.id == answers[0].customer.id


def _call(key: str = "shared-key") -> IdempotentCall:
    return IdempotentCall(client_id="c1", key=key, method="m", request_hash="h")


async def test_two_processes_racing_on_one_key_commit_one_effect(db: Database) -> None:
    """Two Idempotency instances stand for two server processes sharing the store."""
    first_started = asyncio.Event()
    release_first = asyncio.Event()
    effects: list[str] = []

    async def slow_effect(session: object) -> bytes:
        effects.append("first")
        first_started.set()
        await release_first.wait()
        return b"first"

    async def quick_effect(session: object) -> bytes:
        effects.append("second")
        return b"second"

    other_db = Database(db.url)  # a second process has its own engine and connections
    process_a = Idempotency(db, retention=dt.timedelta(hours=1))
    process_b = Idempotency(other_db, retention=dt.timedelta(hours=1))
    identity = {"encode": lambda b: b, "decode": lambda b: b}
    first = asyncio.create_task(process_a.run(_call(), slow_effect, **identity))  # type: ignore[arg-type]
    await asyncio.wait_for(first_started.wait(), 10)
    second = asyncio.create_task(process_b.run(_call(), quick_effect, **identity))  # type: ignore[arg-type]
    if db.dialect.value == "postgresql":
        # PostgreSQL: the advisory lock tells the second at once that the first runs.
        with pytest.raises(IdempotencyKeyInUse):
            await asyncio.wait_for(second, 10)
        release_first.set()
        assert await first == b"first"
    else:
        # SQLite: one writer; the second waits for the first to commit, then replays.
        release_first.set()
        assert await first == b"first"
        assert await asyncio.wait_for(second, 10) == b"first"
    assert effects == ["first"]
    replay = await process_b.run(_call(), quick_effect, **identity)  # type: ignore[arg-type]
    assert replay == b"first"
    assert effects == ["first"]
    await other_db.dispose()


async def test_failed_effect_leaves_no_record_and_the_key_reusable(db: Database) -> None:
    idempotency = Idempotency(db, retention=dt.timedelta(hours=1))
    identity = {"encode": lambda b: b, "decode": lambda b: b}

    async def failing(session: object) -> bytes:
        raise RuntimeError("boom")

    async def working(session: object) -> bytes:
        return b"ok"

    with pytest.raises(RuntimeError):
        await idempotency.run(_call(), failing, **identity)  # type: ignore[arg-type]
    assert await idempotency.run(_call(), working, **identity) == b"ok"  # type: ignore[arg-type]


async def test_expired_records_are_purged_and_the_key_starts_afresh(db: Database) -> None:
    idempotency = Idempotency(db, retention=dt.timedelta(hours=24))
    identity = {"encode": lambda b: b, "decode": lambda b: b}

    async def answer(value: bytes):  # type: ignore[no-untyped-def]
        async def effect(session: object) -> bytes:
            return value

        return effect

    assert await idempotency.run(_call("old"), await answer(b"one"), **identity) == b"one"  # type: ignore[arg-type]
    assert await idempotency.run(_call("fresh"), await answer(b"two"), **identity) == b"two"  # type: ignore[arg-type]
    async with db.write() as session:
        await session.execute(
            update(IdempotencyRecordRow)
            .where(IdempotencyRecordRow.key == "old")
            .values(expire_time=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    assert await idempotency.purge_expired() == 1
    async with db.read() as session:
        keys = set(await session.scalars(select(IdempotencyRecordRow.key)))
    assert keys == {"fresh"}
    assert await idempotency.run(_call("old"), await answer(b"three"), **identity) == b"three"  # type: ignore[arg-type]
