"""Idempotent execution for RPCs whose effect includes a gateway call.

The gateway call cannot sit inside the transaction that stores the answer (it is an
outside side effect, and holding a write transaction across it would serialise every
payment behind the slowest gateway). So: replay a stored answer if there is one; else
run the domain action — which records its own recovery point and reaches the gateway
with a key derived from the caller's — and store its answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from server.idempotency import Idempotency, IdempotentCall
from server.servicers.support import idempotent_call, run_idempotent

M = TypeVar("M", bound=Message)
T = TypeVar("T")

#: What the domain calls inside its last write transaction with the resource it answers.
Finish = Callable[[AsyncSession, T], Awaitable[None]]


#: What the domain calls first inside its first write transaction (may end the call).
Check = Callable[[AsyncSession], Awaitable[None]]


class _Replayed(Exception):
    """A stored answer found inside the domain's first transaction: the call ends with it."""

    def __init__(self, response: Message) -> None:
        super().__init__("replayed")
        self.response = response


async def run_finishing(
    idempotency: Idempotency,
    request: Message,
    key: str,
    response_type: type[M],
    *,
    respond: Callable[[T], M],
    action: Callable[[Finish[T]], Awaitable[T]],
) -> M:
    """Like :func:`run_gateway_idempotent`, but the answer is stored in the domain's own
    last transaction (the one recording the gateway's result): one commit fewer, and the
    result and its answer commit together."""
    call = idempotent_call(request, key)
    stored = await idempotency.replay(call, response_type.FromString)
    if stored is not None:
        return stored
    return await _finishing(idempotency, call, response_type, respond, action)


async def run_checked_finishing(
    idempotency: Idempotency,
    request: Message,
    key: str,
    response_type: type[M],
    *,
    respond: Callable[[T], M],
    action: Callable[[Check, Finish[T]], Awaitable[T]],
) -> M:
    """:func:`run_finishing` for a domain action whose first step is a write transaction
    before any gateway call: the stored answer is looked for inside that transaction
    (``check``) rather than in a read of its own. Same answers, one transaction fewer."""
    call = idempotent_call(request, key)

    async def check(session: AsyncSession) -> None:
        stored = await idempotency.replay_in(session, call, response_type.FromString)
        if stored is not None:
            raise _Replayed(stored)

    try:
        return await _finishing(
            idempotency, call, response_type, respond, lambda finish: action(check, finish)
        )
    except _Replayed as replayed:
        return cast(M, replayed.response)


async def _finishing(
    idempotency: Idempotency,
    call: IdempotentCall | None,
    response_type: type[M],
    respond: Callable[[T], M],
    action: Callable[[Finish[T]], Awaitable[T]],
) -> M:
    """Run the action; store its answer in the action's last transaction (``finish``)."""
    answers: list[M] = []
    taken: list[bool] = []

    async def finish(session: AsyncSession, value: T) -> None:
        response = respond(value)
        answers.append(response)
        if call is not None and not await idempotency.store(
            session, call, response.SerializeToString(deterministic=True)
        ):
            taken.append(True)

    value = await action(finish)
    if taken:  # a concurrent repeat answered first: every caller gets that one answer
        first = await idempotency.replay(call, response_type.FromString)
        if first is not None:
            return first
    return answers[-1] if answers else respond(value)


async def run_gateway_idempotent(
    idempotency: Idempotency,
    request: Message,
    key: str,
    response_type: type[M],
    action: Callable[[], Awaitable[M]],
) -> M:
    stored = await idempotency.replay(idempotent_call(request, key), response_type.FromString)
    if stored is not None:
        return stored
    response = await action()

    async def answer(_session: object) -> M:
        return response

    return await run_idempotent(idempotency, request, key, response_type, answer)
