"""`Database.write()` under concurrency: group commit on SQLite, plain on PostgreSQL.

Whatever the store, a caller's write is durable when write() returns, a failing write
takes nobody else's with it, and a caller that gives up never stalls the others.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from server.errors import StoreUnavailable
from store.customers import CustomerRecord, Customers
from store.db import Database
from store.ids import new_id
from store.migrate import upgrade
from store.models import CustomerRow, utcnow


def customer(name: str) -> CustomerRecord:
    now = utcnow()
    return CustomerRecord(
        id=new_id("cus"),
        client_id="c1",
        external_ref="",
        email="",
        name=name,
        create_time=now,
        update_time=now,
    )


async def names(db: Database) -> set[str]:
    async with db.read() as session:
        return set(await session.scalars(select(CustomerRow.name)))


async def add(db: Database, name: str, *, fail: bool = False) -> None:
    async with db.write() as session:
        await Customers(session).add(customer(name))
        if fail:
            raise ValueError(f"{name} fails after writing")


async def test_concurrent_writes_all_commit(db: Database) -> None:
    await asyncio.gather(*(add(db, f"n{i}") for i in range(200)))
    assert await names(db) == {f"n{i}" for i in range(200)}


async def test_a_failing_write_takes_only_itself_back(db: Database) -> None:
    results = await asyncio.gather(
        *(add(db, f"n{i}", fail=i % 3 == 0) for i in range(60)), return_exceptions=True
    )
    failed = {i for i, result in enumerate(results) if isinstance(result, ValueError)}
    assert failed == {i for i in range(60) if i % 3 == 0}
    assert await names(db) == {f"n{i}" for i in range(60) if i % 3 != 0}


async def test_a_write_refused_by_a_constraint_takes_only_itself_back(db: Database) -> None:
    taken = customer("first")
    async with db.write() as session:
        await Customers(session).add(taken)

    async def add_taken_id(name: str) -> None:
        async with db.write() as session:
            await Customers(session).add(
                CustomerRecord(**{**vars_of(customer(name)), "id": taken.id})
            )

    results = await asyncio.gather(
        *(add_taken_id(f"n{i}") if i % 4 == 0 else add(db, f"n{i}") for i in range(40)),
        return_exceptions=True,
    )
    refused = {i for i, result in enumerate(results) if isinstance(result, IntegrityError)}
    assert refused == {i for i in range(40) if i % 4 == 0}
    assert [r for r in results if r is not None and not isinstance(r, IntegrityError)] == []
    assert await names(db) == {"first"} | {f"n{i}" for i in range(40) if i % 4 != 0}


async def test_objects_left_unflushed_are_refused_with_their_own_write(db: Database) -> None:
    """A unit that only adds ORM objects learns of their constraint failure itself."""
    taken = customer("first")
    async with db.write() as session:
        await Customers(session).add(taken)

    async def add_unflushed(name: str, *, clash: bool) -> None:
        record = customer(name)
        async with db.write() as session:
            session.add(
                CustomerRow(
                    id=taken.id if clash else record.id,
                    client_id=record.client_id,
                    external_ref="",
                    email="",
                    name=name,
                    metadata_={},
                    create_time=record.create_time,
                    update_time=record.update_time,
                )
            )

    results = await asyncio.gather(
        *(add_unflushed(f"n{i}", clash=i % 5 == 0) for i in range(30)), return_exceptions=True
    )
    refused = {i for i, result in enumerate(results) if isinstance(result, IntegrityError)}
    assert refused == {i for i in range(30) if i % 5 == 0}
    assert await names(db) == {"first"} | {f"n{i}" for i in range(30) if i % 5 != 0}


def vars_of(record: CustomerRecord) -> dict[str, object]:
    return {name: getattr(record, name) for name in record.__dataclass_fields__}


async def test_a_caller_that_gives_up_does_not_stall_the_rest(db: Database) -> None:
    gate = asyncio.Event()

    async def slow() -> None:
        async with db.write() as session:
            await Customers(session).add(customer("slow"))
            await gate.wait()

    holder = asyncio.create_task(slow())
    await asyncio.sleep(0)  # let it take the writer
    impatient = asyncio.create_task(add(db, "impatient"))
    patient = asyncio.create_task(add(db, "patient"))
    await asyncio.sleep(0.05)
    impatient.cancel()
    gate.set()
    await asyncio.wait_for(asyncio.gather(holder, patient), 10)
    (outcome,) = await asyncio.gather(impatient, return_exceptions=True)
    # SQLite: it was still queued behind the holder, so it was cancelled there.
    # PostgreSQL: nothing queued it, so it may well have finished first.
    assert outcome is None or isinstance(outcome, asyncio.CancelledError)
    assert ("impatient" in await names(db)) == (outcome is None)
    assert {"slow", "patient"} <= await names(db)


async def test_write_transactions_do_not_nest(db: Database) -> None:
    async def nested() -> None:
        async with db.write(), db.write():
            pass

    with pytest.raises(RuntimeError, match="do not nest"):
        await nested()


async def test_count_is_exact_after_mixed_load(db: Database) -> None:
    await asyncio.gather(
        *(add(db, f"m{i}", fail=i % 5 == 0) for i in range(100)), return_exceptions=True
    )
    async with db.read() as session:
        count = await session.scalar(select(func.count()).select_from(CustomerRow))
    assert count == 80


async def test_a_write_cut_short_by_closing_the_store_fails_its_caller(tmp_path: Path) -> None:
    """Closing a SQLite store while a caller's write holds the writer (shutdown): the
    caller is told the store is unavailable, as its write never committed, instead of
    tripping over the writer's own cancellation. (On PostgreSQL a write holds its own
    pooled connection, which closing the engine leaves alone: nothing is cut short.)"""
    db = Database(f"sqlite:///{tmp_path}/isa.db")
    await upgrade(db)
    holding, gate = asyncio.Event(), asyncio.Event()

    async def slow() -> None:
        async with db.write() as session:
            await Customers(session).add(customer("slow"))
            holding.set()
            await gate.wait()

    caller = asyncio.create_task(slow())
    await asyncio.wait_for(holding.wait(), 10)
    await db.dispose()
    gate.set()
    (outcome,) = await asyncio.wait_for(asyncio.gather(caller, return_exceptions=True), 10)
    assert isinstance(outcome, StoreUnavailable), repr(outcome)
