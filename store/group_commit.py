"""Group commit for SQLite's single writer: one transaction, one fsync, many callers.

SQLite has one writer at a time and every COMMIT waits for fsync, so committing each
call on its own caps writes at a few hundred per second however cheap the work is.
Here concurrent write units queue for the writer task, which runs each in its own
SAVEPOINT of a shared transaction, one after another, and commits the batch once. A
unit's failure rolls back only its savepoint. A caller is answered only after the batch
it belongs to has committed, so nothing is acknowledged that is not durable; if the
commit fails, every unit of the batch fails and its callers may retry (with their
idempotency keys, safely).

A unit must not wait on anything slow while it holds the session (a gateway call, a
user): the whole batch would wait with it.

The savepoints are SQLite's own, issued on the connection's sqlite3 handle: most units
write through hand-written SQL (``store.raw``) and never touch the ORM, and SQLAlchemy's
nested transaction around each of them cost more than their statements. What SQLAlchemy
did for units that do use the ORM is kept where it matters: their pending objects are
flushed inside their own savepoint, before it is released (so a constraint failure is
theirs alone), each flush runs in a nested session transaction (a failed flush cannot
poison the batch's session), and after a unit is undone the session forgets every
object it held (none of them may be believed any more).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from store.sqlite_inline import sqlite_handle

MAX_BATCH: Final = 64
#: The name of each unit's savepoint (units run one after another, never nested).
_UNIT_SAVEPOINT: Final = "isa_unit"


class UnitSession(Session):
    """The batch's session: an ORM flush runs in its own nested transaction, so a flush
    that fails (a constraint) rolls back only itself and leaves the session usable."""

    def flush(self, objects: Any = None) -> None:
        if self._is_clean():
            return
        # begin_nested() would flush first, outside the savepoint: while it takes its
        # snapshot, the session says it is already flushing.
        self._flushing = True
        try:
            nested = self.begin_nested()
        finally:
            self._flushing = False
        with nested:
            super().flush(objects)


@dataclass(eq=False)
class _Unit:
    """One caller's write: handed the session, reports how its body ended."""

    ready: asyncio.Future[AsyncSession]
    done: asyncio.Future[BaseException | None]
    committed: asyncio.Future[None] = field(init=False)

    def __post_init__(self) -> None:
        self.committed = self.ready.get_loop().create_future()
        # A caller cancelled while it waited (shutdown) never reads how its batch ended;
        # that failure is no news to anyone, so asyncio must not log it as unretrieved.
        self.ready.add_done_callback(_retrieved)
        self.committed.add_done_callback(_retrieved)


def _report(unit: _Unit, error: BaseException | None) -> None:
    """Tell the writer how the unit's body ended, unless the writer stopped waiting
    (:meth:`GroupCommitWriter.close` cancelled it mid-unit; the batch is failing)."""
    if not unit.done.done():
        unit.done.set_result(error)


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _kept(unit: _Unit) -> bool:
    """Whether the unit ran and its body finished without an error."""
    return (
        unit.ready.done()
        and not unit.ready.cancelled()
        and unit.ready.exception() is None
        and unit.done.done()
        and unit.done.result() is None
    )


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)


class GroupCommitWriter:
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        *,
        translate: Callable[[BaseException], BaseException],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._factory = factory
        self._translate = translate
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Unit] | None = None
        self._task: asyncio.Task[None] | None = None

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[AsyncSession]:
        """A session inside this caller's savepoint; returns once the batch committed."""
        loop = asyncio.get_running_loop()
        unit = _Unit(ready=loop.create_future(), done=loop.create_future())
        self._queue_for(loop).put_nowait(unit)
        try:
            session = await unit.ready
        except asyncio.CancelledError:
            if unit.ready.done() and not unit.ready.cancelled():
                _report(unit, asyncio.CancelledError())  # handed over just now
            raise
        try:
            yield session
            await session.flush()  # the unit's own objects, inside its own savepoint
        except BaseException as error:
            _report(unit, error)
            raise
        _report(unit, None)
        await asyncio.shield(unit.committed)

    def _queue_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[_Unit]:
        if self._queue is None or self._task is None or self._task.done():
            self._queue = asyncio.Queue()
            self._task = loop.create_task(self._run(self._queue), name="sqlite-group-commit")
        return self._queue

    async def _run(self, queue: asyncio.Queue[_Unit]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self._max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            await self._commit_batch(queue, batch)

    async def _commit_batch(self, queue: asyncio.Queue[_Unit], batch: list[_Unit]) -> None:
        units = list(batch)  # grows with late arrivals that join this commit
        try:
            async with self._factory() as session, session.begin():
                index = 0
                while index < len(units):
                    await self._run_unit(session, units[index])
                    index += 1
                    if index == len(units) and len(units) < self._max_batch and not queue.empty():
                        units.append(queue.get_nowait())
        except BaseException as error:
            stopped = isinstance(error, asyncio.CancelledError)  # close(): the writer stops
            self._fail(units, self._translate(_closed() if stopped else error))
            if stopped:
                raise
            return
        for unit in units:
            if _kept(unit):
                _settle(unit.committed, None)

    @staticmethod
    def _fail(units: list[_Unit], failure: BaseException) -> None:
        """The batch did not commit: fail whoever is still waiting on it."""
        for unit in units:
            if not unit.ready.done():
                unit.ready.set_exception(failure)  # never started: BEGIN failed
            else:  # its work, if it kept any, was lost with the batch
                _settle(unit.committed, failure)

    async def _run_unit(self, session: AsyncSession, unit: _Unit) -> None:
        """Hand the session over inside a savepoint; keep or undo what the unit did."""
        if unit.ready.done():  # its caller gave up while queued
            return
        conn = await sqlite_handle(session)
        if unit.ready.done():  # its caller gave up while the handle was fetched
            return
        conn.execute(f"SAVEPOINT {_UNIT_SAVEPOINT}")
        unit.ready.set_result(session)
        if await unit.done is None:
            conn.execute(f"RELEASE {_UNIT_SAVEPOINT}")
            return
        conn.execute(f"ROLLBACK TO {_UNIT_SAVEPOINT}")
        conn.execute(f"RELEASE {_UNIT_SAVEPOINT}")
        session.expunge_all()

    async def close(self) -> None:
        """Stop the writer; calls still queued fail rather than wait forever."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        queue, self._task, self._queue = self._queue, None, None
        while queue is not None and not queue.empty():
            unit = queue.get_nowait()
            if not unit.ready.done():
                unit.ready.set_exception(self._translate(_closed()))


def _closed() -> ConnectionError:
    """Why the calls that :meth:`GroupCommitWriter.close` cut short failed."""
    return ConnectionError("store closed")
