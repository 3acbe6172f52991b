"""Idempotent execution for ledger calls that collect a payment (Deposit, PurchaseCredits).

The ledger's PENDING record and the caller's idempotency key commit together, before
the charge: from then on the key names that one record, and the charge's own key is
derived from the record's id. So every repeat of the call — after a crash, a lost
gateway answer, or simply to learn the outcome — reaches the same record and the same
payment (never a second charge), resumes the charge if it never got an answer, and
answers with the record as it stands now. When the payments side says nothing was
charged (no gateway reachable, a bad method), the record is FAILED, the key is
released and the payments side's error is raised: a retry with the key starts afresh,
as UNAVAILABLE promises.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import IdempotencyKeyInUse
from server.idempotency import Idempotency
from server.ledger.payments import ChargeNotMade
from server.servicers.support import idempotent_call

M = TypeVar("M", bound=Message)
T = TypeVar("T")


async def run_collecting(
    idempotency: Idempotency,
    request: Message,
    key: str,
    response_type: type[M],
    *,
    check: Callable[[], Awaitable[None]],
    begin: Callable[[AsyncSession], Awaitable[T]],
    collect: Callable[[str], Awaitable[T]],
    respond: Callable[[T], M],
    record_id: Callable[[M], str],
) -> M:
    """``check`` (read-only), then ``begin`` the record under the key, then ``collect``.

    Args:
        check: refuses bad input before anything is written (e.g. an unknown method).
        begin: writes the PENDING record in the key's transaction.
        collect: charges for the record by id (or resumes its charge), returns it.
        record_id: the record's id in a stored answer.
    """
    call = idempotent_call(request, key)
    first = await idempotency.replay(call, response_type.FromString)
    if first is None:
        await check()

        async def started(session: AsyncSession) -> M:
            return respond(await begin(session))

        first = await idempotency.run(
            call,
            started,
            encode=lambda response: response.SerializeToString(deterministic=True),
            decode=response_type.FromString,
        )
    try:
        return respond(await collect(record_id(first)))
    except IdempotencyKeyInUse:
        # A concurrent repeat is collecting the same record: its charge's derived key
        # is busy. Say so of the caller's key; the derived one is ours alone.
        if call is None:
            raise
        raise Idempotency.in_use(call) from None
    except ChargeNotMade as not_made:
        await idempotency.forget(call)
        raise not_made.error from None
