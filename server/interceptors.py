"""Cross-cutting concerns of every RPC, wrapped once around each method at start-up.

In order, outermost first: request context (request id, one structured log line per
call, metrics), authentication (bearer token → configured client → allowed services),
errors (deadline, domain error → rich status, anything unexpected → INTERNAL with a
correlation id). Health and reflection are open to all and never pass through here.

These used to be three grpc.aio server interceptors. grpc runs interceptors for every
call, Health included, and each of ours rebuilt a method handler and a closure per call
to carry what it learned; under load that was a large share of a cheap call. Here the
work is the same, but :meth:`CallPolicy.wrap` builds each method's wrapper once, with
its metric children and service name resolved, and a call costs one coroutine.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import itertools
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, TypeAlias

import grpc
from grpc.aio import AbortError, ServicerContext

from server.config import Client, token_digest
from server.context import current_client, current_request_id
from server.errors import DomainError
from server.logs import CallLog
from server.metrics import Metrics
from server.status import internal_status, rich_status, status_for

log = logging.getLogger("isa.rpc")

REQUEST_ID_HEADER: Final = "x-request-id"
AUTHORIZATION_HEADER: Final = "authorization"
MAX_REQUEST_ID_LENGTH: Final = 100
#: How many distinct ``authorization`` headers :meth:`CallPolicy.client_for` remembers.
MAX_KNOWN_TOKENS: Final = 256

Context: TypeAlias = "ServicerContext[Any, Any]"
MethodHandler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Behavior: TypeAlias = "Callable[[Any, Context], Awaitable[Any]]"

_OK: Final = grpc.StatusCode.OK
_CANCELLED: Final = grpc.StatusCode.CANCELLED
_UNAUTHENTICATED: Final = rich_status(
    grpc.StatusCode.UNAUTHENTICATED,
    "UNAUTHENTICATED",
    "missing or unknown bearer token: send 'authorization: Bearer <token>'",
)


def service_of(method: str) -> str:
    """``/pkg.Service/Method`` → ``pkg.Service`` (empty for anything else)."""
    return method.split("/")[1] if method.count("/") == 2 else ""


class RequestIds:
    """Request ids for calls that bring none: 32 hex digits, unique per process run.

    A random 64-bit prefix drawn at start-up, then a counter: as unique as a uuid4 for
    correlating log lines, without drawing 16 random bytes and building a UUID per call.
    """

    def __init__(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count(int.from_bytes(os.urandom(4), "big"))

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFFFFFF:016x}"


def _not_allowed(client: Client, service: str) -> grpc.Status:
    return rich_status(
        grpc.StatusCode.PERMISSION_DENIED,
        "SERVICE_NOT_ALLOWED",
        f"client {client.id!r} may not call {service}",
        metadata={"client_id": client.id, "service": service},
    )


class CallPolicy:
    """What every call of this server shares: its clients, its metrics, its call log."""

    def __init__(self, metrics: Metrics, clients: Iterable[Client]) -> None:
        self._metrics = metrics
        self._clients = tuple(clients)
        self._call_log = CallLog(log)
        self._request_ids = RequestIds()
        self._known: dict[str, Client] = {}

    def client_for(self, authorization: str | None) -> Client | None:
        """The configured client whose token the ``authorization`` header bears.

        A header that named a client before is looked up by its exact text (clients
        send the same header on every call); any other is hashed and compared with
        every client's digest in constant time, and remembered only if it matched, so
        unknown tokens never fill the memory nor skip the comparison.
        """
        if authorization is None:
            return None
        known = self._known.get(authorization)
        if known is not None:
            return known
        found = self._match(authorization)
        if found is not None:
            if len(self._known) >= MAX_KNOWN_TOKENS:
                self._known.clear()
            self._known[authorization] = found
        return found

    def _match(self, authorization: str) -> Client | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer":
            return None
        digest = token_digest(token.strip())
        found = None
        for client in self._clients:  # compare all, in constant time each
            if hmac.compare_digest(client.token_sha256, digest):
                found = client
        return found

    def wrap(self, method: str, behavior: Behavior) -> Behavior:
        """``behavior`` (which receives the raw request) inside the request context,
        authentication and error mapping; ``method`` is the full ``/pkg.Service/Method``."""
        service = service_of(method)
        latency = self._metrics.rpc_latency.labels(method)
        counters: dict[str, Any] = {}
        rpcs = self._metrics.rpcs
        call_log = self._call_log
        client_for = self.client_for
        new_request_id = self._request_ids

        def count(code_name: str) -> None:
            counter = counters.get(code_name)
            if counter is None:
                counter = counters[code_name] = rpcs.labels(method, code_name)
            counter.inc()

        async def call(request: Any, context: Context) -> Any:
            given = authorization = None
            for key, value in context.invocation_metadata() or ():
                if key == REQUEST_ID_HEADER:
                    given = value if isinstance(value, str) else None
                elif key == AUTHORIZATION_HEADER:
                    authorization = value if isinstance(value, str) else None
            request_id = given[:MAX_REQUEST_ID_LENGTH] if given else new_request_id()
            current_request_id.set(request_id)
            context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
            started = time.perf_counter()
            code = _OK
            client = None
            try:
                client = client_for(authorization)
                if client is None:
                    await _abort(context, _UNAUTHENTICATED)
                elif not client.may_call(service):
                    await _abort(context, _not_allowed(client, service))
                current_client.set(client)
                return await mapping_errors(behavior, request, context)
            except AbortError:
                code = context.code()
                raise
            except asyncio.CancelledError:
                code = _CANCELLED
                raise
            finally:
                elapsed = time.perf_counter() - started
                code_name = getattr(code, "name", str(code))
                count(code_name)
                latency.observe(elapsed)
                call_log.emit(method, code_name, elapsed, request_id, client)

        return call


_TIMER_CONTEXT: Final = contextvars.Context()


class _Deadline:
    """What ``asyncio.timeout`` does for a call, without its context manager: a timer
    that cancels the call's task when the deadline passes (a timeout costs a
    ``Timeout`` and two coroutines per call besides the timer)."""

    __slots__ = ("_cancelling", "_handle", "_task", "expired", "passed")

    def __init__(self, remaining: float) -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task(loop)
        assert task is not None  # a call always runs in its own task
        self._task = task
        self._cancelling = task.cancelling()
        self.expired = False  # the timer fired
        self.passed = False  # ... and it is why the call was cancelled
        # The timer only cancels the task: it needs no copy of the call's context.
        self._handle = loop.call_at(loop.time() + remaining, self._expire, context=_TIMER_CONTEXT)

    def _expire(self) -> None:
        self.expired = True
        self._task.cancel()

    def disarm(self) -> None:
        self._handle.cancel()
        if self.expired:  # take back our cancellation, as asyncio.timeout does
            self.passed = self._task.uncancel() <= self._cancelling


_DEADLINE_EXCEEDED: Final = rich_status(
    grpc.StatusCode.DEADLINE_EXCEEDED,
    "DEADLINE_EXCEEDED",
    "the deadline passed before the call finished; "
    "retry with the same idempotency key to learn its outcome",
)


async def mapping_errors(behavior: Behavior, request: Any, context: Context) -> Any:
    """Run ``behavior`` within the call's deadline; every failure becomes a status the
    caller can act on (aborting the call with it)."""
    remaining: float | None = context.time_remaining()  # None: the call has no deadline
    deadline = None if remaining is None else _Deadline(remaining)
    try:
        try:
            return await behavior(request, context)
        finally:
            if deadline is not None:
                deadline.disarm()
    except DomainError as error:
        await _abort(context, status_for(error))
    except AbortError:
        raise
    except asyncio.CancelledError:
        if deadline is None or not deadline.passed:
            raise
        await _abort(context, _DEADLINE_EXCEEDED)
    except TimeoutError:
        if deadline is None or not deadline.expired:
            await _abort_unexpected(context)
        await _abort(context, _DEADLINE_EXCEEDED)
    except Exception:
        await _abort_unexpected(context)


async def _abort(context: Context, status: grpc.Status) -> None:
    """End the call with ``status``, keeping the call's request id in its trailing
    metadata: aborting replaces what ``set_trailing_metadata`` set, and an error is
    where a caller needs the id most."""
    trailing = tuple(status.trailing_metadata)
    request_id = current_request_id.get()
    if request_id:
        trailing += ((REQUEST_ID_HEADER, request_id),)
    await context.abort(status.code, status.details, trailing)


async def _abort_unexpected(context: Context) -> None:
    """Log the traceback under a fresh correlation id; send the caller only the id."""
    correlation_id = uuid.uuid4().hex
    log.exception(
        "unexpected error",
        extra={"correlation_id": correlation_id, "request_id": current_request_id.get()},
    )
    await _abort(context, internal_status(correlation_id))
