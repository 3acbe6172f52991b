"""The one idempotency mechanism every mutating RPC goes through (API.md).

A call's effect and its answer commit in one transaction, keyed by (client, key) with
the request's hash. A repeat with the same request gets the stored answer; the same key
with another request is refused (``IDEMPOTENCY_KEY_REUSED``); a repeat while the first
is still running is told to retry (``IDEMPOTENCY_KEY_IN_USE``). Concurrent repeats are
caught three times over: in this process (a set of keys in flight), across processes on
PostgreSQL (a transaction-scoped advisory lock), and finally by the primary key, whose
conflict rolls the loser's effect back — so exactly one effect ever commits.

Answers are opaque bytes here: the servicer supplies ``encode``/``decode``, so this
layer stays free of protobuf.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import IdempotencyKeyInUse, IdempotencyKeyReused
from store.db import Database
from store.idempotency import IN_FLIGHT, IdempotencyRecord, IdempotencyRecords
from store.models import utcnow

T = TypeVar("T")
Effect = Callable[[AsyncSession], Awaitable[T]]


@dataclass(frozen=True, slots=True, kw_only=True)
class IdempotentCall:
    """Who asked, with which key, for what (method and a hash of the request)."""

    client_id: str
    key: str
    method: str
    request_hash: str


class _KeyTakenMeanwhile(Exception):
    """Another process committed the same key first; our transaction must roll back."""


class Idempotency:
    def __init__(self, db: Database, *, retention: dt.timedelta) -> None:
        self._db = db
        self._retention = retention
        self._in_flight: set[tuple[str, str]] = set()

    async def run(
        self,
        call: IdempotentCall | None,
        effect: Effect[T],
        *,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T:
        """Run ``effect`` once per (client, key); replay its answer to repeats.

        With no call (the caller sent no key where one is optional) the effect simply
        runs in its own transaction.
        """
        if call is None:
            async with self._db.write() as session:
                return await effect(session)
        slot = (call.client_id, call.key)
        if slot in self._in_flight:
            raise self.in_use(call)
        self._in_flight.add(slot)
        try:
            return await self._run_once(call, effect, encode=encode, decode=decode)
        except _KeyTakenMeanwhile:
            async with self._db.read() as session:
                record = await IdempotencyRecords(session).find(call.client_id, call.key)
            if record is None:  # taken, then purged: vanishingly rare; ask for a retry
                raise self.in_use(call) from None
            return self._replay(call, record, decode)
        finally:
            self._in_flight.discard(slot)

    async def _run_once(
        self,
        call: IdempotentCall,
        effect: Effect[T],
        *,
        encode: Callable[[T], bytes],
        decode: Callable[[bytes], T],
    ) -> T:
        async with self._db.write() as session:
            records = IdempotencyRecords(session)
            if not await records.lock_key(call.client_id, call.key):
                raise self.in_use(call)
            now = utcnow()
            record = await records.find(call.client_id, call.key)
            if record is not None and record.expire_time > now:
                return self._replay(call, record, decode)
            if record is not None:
                await records.delete(call.client_id, call.key)
            result = await effect(session)
            stored = await records.insert_completed(
                client_id=call.client_id,
                key=call.key,
                method=call.method,
                request_hash=call.request_hash,
                response=encode(result),
                now=now,
                expire_time=now + self._retention,
            )
            if not stored:
                raise _KeyTakenMeanwhile
            return result

    async def store(self, session: AsyncSession, call: IdempotentCall, response: bytes) -> bool:
        """Store an answer in the caller's transaction (beside the effect it answers for);
        False when a concurrent repeat stored one first (then :meth:`replay` returns it)."""
        now = utcnow()
        return await IdempotencyRecords(session).insert_completed(
            client_id=call.client_id,
            key=call.key,
            method=call.method,
            request_hash=call.request_hash,
            response=response,
            now=now,
            expire_time=now + self._retention,
        )

    async def replay(self, call: IdempotentCall | None, decode: Callable[[bytes], T]) -> T | None:
        """The stored answer when this is a repeat, else None; raises on key reuse.

        For calls with an outside side effect, checked *before* the effect runs (the
        effect then goes through :meth:`run`, which stores its answer).
        """
        if call is None:
            return None
        async with self._db.read() as session:
            record = await IdempotencyRecords(session).find(call.client_id, call.key)
        if record is None or record.expire_time <= utcnow():
            return None
        return self._replay(call, record, decode)

    async def forget(self, call: IdempotentCall | None) -> None:
        """Release a key whose stored answer no longer holds (the call's effect was
        undone: e.g. nothing was charged), so a retry with it runs afresh."""
        if call is None:
            return
        async with self._db.write() as session:
            await IdempotencyRecords(session).delete(call.client_id, call.key)

    async def replay_in(
        self, session: AsyncSession, call: IdempotentCall | None, decode: Callable[[bytes], T]
    ) -> T | None:
        """:meth:`replay` inside the caller's own (write) transaction.

        For a call whose first step is a write anyway: the lookup joins it instead of
        costing a read transaction of its own, and sees what that transaction sees.
        """
        if call is None:
            return None
        record = await IdempotencyRecords(session).find(call.client_id, call.key)
        if record is None or record.expire_time <= utcnow():
            return None
        return self._replay(call, record, decode)

    def _replay(
        self, call: IdempotentCall, record: IdempotencyRecord, decode: Callable[[bytes], T]
    ) -> T:
        if record.method != call.method or record.request_hash != call.request_hash:
            raise IdempotencyKeyReused(
                f"idempotency key {call.key!r} was used for a different request; "
                "use a new key for a new request",
                metadata={"idempotency_key": call.key, "first_request": record.method},
            )
        if record.status == IN_FLIGHT or record.response is None:
            raise self.in_use(call)
        return decode(record.response)

    @staticmethod
    def in_use(call: IdempotentCall) -> IdempotencyKeyInUse:
        """The caller's own key is busy (said in its words, never an inner key's)."""
        return IdempotencyKeyInUse(
            f"a request with idempotency key {call.key!r} is still running; retry shortly",
            metadata={"idempotency_key": call.key},
        )

    async def purge_expired(self) -> int:
        """Drop records past retention (a background job calls this periodically)."""
        total = 0
        while True:
            async with self._db.write() as session:
                purged = await IdempotencyRecords(session).purge_expired(utcnow())
            total += purged
            if purged == 0:
                return total
