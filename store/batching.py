"""Write transactions, one per call or many calls per commit.

SQLite has one writer, and a commit (an fsync with ``synchronous=FULL``) costs far more
than the statements of a ledger posting. :class:`BatchWriter` lets calls that arrive
while a commit is under way share the next one: a single task takes every queued unit
of work, runs each inside its own SAVEPOINT of one transaction (a failing unit rolls
back alone and gets its own error), commits once, and only then answers each caller.
It attaches the transaction's raw sqlite3 connection to the session, so the hot
repositories can use hand-written SQL in the same transaction (``store.raw``).
Durability is unchanged — no caller hears "done" before its commit is on disk — while
throughput stops being bounded by one fsync per call.

PostgreSQL runs calls in parallel on pooled connections with row locks taken in a
fixed order (:class:`DirectWriter`); batching there would hold many unrelated rows'
locks across one long transaction and let two replicas' batches deadlock.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from store.db import Database, Dialect
from store.raw import attach_raw_sqlite

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]

MAX_BATCH: Final = 128

log = logging.getLogger("isa.store")


class Writer(Protocol):
    async def run(self, work: Work[T]) -> T:
        """Run ``work`` in a write transaction; return once that transaction committed."""
        ...


class DirectWriter:
    """One transaction per call."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def run(self, work: Work[T]) -> T:
        async with self._db.write() as session:
            return await work(session)


class _Poisoned(Exception):
    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class BatchWriter:
    """Calls queued while a commit runs share the next commit, each in a savepoint."""

    def __init__(self, db: Database, *, max_batch: int = MAX_BATCH) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: deque[tuple[Work[Any], asyncio.Future[Any]]] = deque()
        self._drainer: asyncio.Task[None] | None = None

    async def run(self, work: Work[T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((work, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(self._max_batch, len(self._queue)))]
            outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
            try:
                async with self._db.write() as session:
                    raw = await attach_raw_sqlite(session)
                    for index, (work, future) in enumerate(batch):
                        outcome = await _in_savepoint(session, raw, work, future)
                        outcomes.append(outcome)
                        if outcome[2] is not None and not session.is_active:
                            raise _Poisoned(index)
            except _Poisoned as poisoned:
                # A unit broke the ORM's transaction (a failed flush): it gets its error;
                # the others were rolled back with it and run again in the next batch.
                failed_future, _value, failure = outcomes[poisoned.index]
                if not failed_future.done() and failure is not None:
                    failed_future.set_exception(failure)
                others = batch[: poisoned.index] + batch[poisoned.index + 1 :]
                self._queue.extendleft(reversed(others))
                continue
            except BaseException as error:
                # The commit itself failed: nothing of this batch is durable.
                for _work, future in batch:
                    if not future.done():
                        future.set_exception(error)
                if not isinstance(error, Exception):
                    self._fail_queued(error)
                    raise
                continue
            _answer(outcomes)

    def _fail_queued(self, error: BaseException) -> None:
        while self._queue:
            _work, future = self._queue.popleft()
            if not future.done():
                future.set_exception(error)


def _answer(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    """After the commit: each caller hears its own result or error."""
    for future, value, failure in outcomes:
        if future.done():  # the caller gave up (cancelled); its work still committed
            continue
        if failure is not None:
            future.set_exception(failure)
        else:
            future.set_result(value)


async def _in_savepoint(
    session: AsyncSession, raw: sqlite3.Connection, work: Work[Any], future: asyncio.Future[Any]
) -> tuple[asyncio.Future[Any], Any, BaseException | None]:
    """One unit of work in its own SAVEPOINT, issued on the raw connection (microseconds,
    where the ORM's nested transaction costs hundreds). The ORM's identity map is cleared
    after each unit so that nothing a rolled-back unit loaded leaks into the next."""
    raw.execute("SAVEPOINT isa_unit")
    try:
        value = await work(session)
        await session.flush()
    except Exception as error:
        if session.is_active:  # undo just this unit
            raw.execute("ROLLBACK TO isa_unit")
            raw.execute("RELEASE isa_unit")
        # else a failed ORM flush rolled the whole transaction back; the drain loop
        # answers this unit and runs the others again.
        session.expunge_all()
        return future, None, error
    raw.execute("RELEASE isa_unit")
    session.expunge_all()
    return future, value, None


def writer_for(db: Database) -> Writer:
    """Batched commits on SQLite (one writer anyway), parallel transactions on PostgreSQL."""
    if db.dialect is Dialect.SQLITE:
        return BatchWriter(db)
    return DirectWriter(db)
