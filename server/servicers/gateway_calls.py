"""Idempotent execution for RPCs whose effect includes a gateway call.

The gateway call cannot sit inside the transaction that stores the answer (it is an
outside side effect, and holding a write transaction across it would serialise every
payment behind the slowest gateway). So: replay a stored answer if there is one; else
run the domain action — which records its own recovery point and reaches the gateway
with a key derived from the caller's — and store its answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message

from server.context import caller
from server.idempotency import Idempotency, IdempotentCall
from server.servicers.support import request_hash, run_idempotent

M = TypeVar("M", bound=Message)


async def run_gateway_idempotent(
    idempotency: Idempotency,
    request: Message,
    key: str,
    response_type: type[M],
    action: Callable[[], Awaitable[M]],
) -> M:
    call = None
    if key:
        call = IdempotentCall(
            client_id=caller().id,
            key=key,
            method=request.DESCRIPTOR.full_name,
            request_hash=request_hash(request),
        )
    stored = await idempotency.replay(call, response_type.FromString)
    if stored is not None:
        return stored
    response = await action()

    async def answer(_session: object) -> M:
        return response

    return await run_idempotent(idempotency, request, key, response_type, answer)
