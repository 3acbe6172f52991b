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
import hmac
import logging
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

    def client_for(self, authorization: str | None) -> Client | None:
        """The configured client whose token the ``authorization`` header bears."""
        scheme, _, token = (authorization or "").partition(" ")
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
            request_id = given[:MAX_REQUEST_ID_LENGTH] if given else uuid.uuid4().hex
            current_request_id.set(request_id)
            context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
            started = time.perf_counter()
            code = _OK
            client = None
            try:
                client = client_for(authorization)
                if client is None:
                    await context.abort_with_status(_UNAUTHENTICATED)
                elif not client.may_call(service):
                    await context.abort_with_status(_not_allowed(client, service))
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


async def mapping_errors(behavior: Behavior, request: Any, context: Context) -> Any:
    """Run ``behavior`` within the call's deadline; every failure becomes a status the
    caller can act on (aborting the call with it)."""
    deadline = asyncio.timeout(context.time_remaining())
    try:
        async with deadline:
            return await behavior(request, context)
    except DomainError as error:
        await context.abort_with_status(status_for(error))
    except (AbortError, asyncio.CancelledError):
        raise
    except TimeoutError:
        if not deadline.expired():
            await _abort_unexpected(context)
        await context.abort_with_status(
            rich_status(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                "DEADLINE_EXCEEDED",
                "the deadline passed before the call finished; "
                "retry with the same idempotency key to learn its outcome",
            )
        )
    except Exception:
        await _abort_unexpected(context)


async def _abort_unexpected(context: Context) -> None:
    """Log the traceback under a fresh correlation id; send the caller only the id."""
    correlation_id = uuid.uuid4().hex
    log.exception(
        "unexpected error",
        extra={"correlation_id": correlation_id, "request_id": current_request_id.get()},
    )
    await context.abort_with_status(internal_status(correlation_id))
