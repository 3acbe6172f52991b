"""The store's writer (batched commits on SQLite, one transaction per call on PostgreSQL):
each caller gets its own outcome, and a failing call leaves no trace while its
neighbours in the same commit keep theirs."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from store.batching import writer_for
from store.db import Database
from store.models import CustomerRow, utcnow


def customer(customer_id: str) -> CustomerRow:
    now = utcnow()
    return CustomerRow(
        id=customer_id, client_id="c", external_ref="", email="", name="", metadata_={},
        create_time=now, update_time=now,
    )  # fmt: skip


class Refused(Exception):
    pass


async def test_each_call_keeps_its_own_outcome(db: Database) -> None:
    writer = writer_for(db)

    async def unit(index: int) -> str:
        async def work(session: AsyncSession) -> str:
            session.add(customer(f"cus_{index}"))
            await session.flush()
            if index % 3 == 0:
                raise Refused(index)
            return f"cus_{index}"

        return await writer.run(work)

    outcomes = await asyncio.gather(*(unit(i) for i in range(30)), return_exceptions=True)
    for index, outcome in enumerate(outcomes):
        if index % 3 == 0:
            assert isinstance(outcome, Refused)
        else:
            assert outcome == f"cus_{index}"
    async with db.read() as session:
        kept = set(await session.scalars(select(CustomerRow.id)))
    assert kept == {f"cus_{i}" for i in range(30) if i % 3}


async def test_a_call_that_breaks_its_transaction_does_not_take_others_down(db: Database) -> None:
    writer = writer_for(db)
    async with db.write() as session:
        session.add(customer("cus_taken"))

    async def duplicate(session: AsyncSession) -> None:
        session.add(customer("cus_taken"))
        await session.flush()  # primary key conflict: the ORM's transaction is broken

    async def fine(index: int) -> str:
        async def work(session: AsyncSession) -> str:
            session.add(customer(f"cus_ok{index}"))
            await session.flush()
            return "ok"

        return await writer.run(work)

    outcomes = await asyncio.gather(
        fine(1), writer.run(duplicate), fine(2), fine(3), return_exceptions=True
    )
    assert outcomes[0] == outcomes[2] == outcomes[3] == "ok"
    assert isinstance(outcomes[1], Exception)
    async with db.read() as session:
        count = await session.scalar(select(func.count()).select_from(CustomerRow))
    assert count == 4


@pytest.mark.parametrize("size", [1, 5])
async def test_results_arrive_only_after_the_commit(db: Database, size: int) -> None:
    writer = writer_for(db)
    seen: list[int] = []

    async def unit(index: int) -> None:
        async def work(session: AsyncSession) -> None:
            session.add(customer(f"cus_c{index}"))

        await writer.run(work)
        async with db.read() as session:  # a separate connection sees it: it is committed
            seen.append(
                int(
                    await session.scalar(
                        select(func.count()).where(CustomerRow.id == f"cus_c{index}")
                    )
                    or 0
                )
            )

    await asyncio.gather(*(unit(i) for i in range(size)))
    assert seen == [1] * size
