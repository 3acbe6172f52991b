"""Cross-cutting concerns of every RPC, as grpc.aio server interceptors.

Order, outermost first: request context (request id, one structured log line per
call), authentication (bearer token → configured client → allowed services), errors
(deadline, domain error → rich status, anything unexpected → INTERNAL with a
correlation id). Health and reflection are open to all and stay out of the way.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final, TypeAlias, cast

import grpc
from grpc.aio import AbortError, ServicerContext

from server.config import Client, token_digest
from server.context import current_client, current_request_id
from server.errors import DomainError
from server.metrics import Metrics
from server.status import internal_status, rich_status, status_for

log = logging.getLogger("isa.rpc")

OPEN_SERVICES: Final = frozenset(
    {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "grpc.reflection.v1.ServerReflection",
    }
)
REQUEST_ID_HEADER: Final = "x-request-id"

Context: TypeAlias = "ServicerContext[Any, Any]"
MethodHandler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Behavior: TypeAlias = "Callable[[Any, Context], Awaitable[Any]]"
Continuation: TypeAlias = "Callable[[grpc.HandlerCallDetails], Awaitable[MethodHandler]]"


def _service_of(method: str) -> str:
    return method.split("/")[1] if method.count("/") == 2 else ""


def _metadata_value(metadata: Iterable[tuple[str, Any]] | None, name: str) -> str | None:
    for key, value in metadata or ():
        if key == name:
            return value if isinstance(value, str) else None
    return None


def _wrap_unary(
    handler: MethodHandler | None, wrap: Callable[[Behavior], Behavior]
) -> MethodHandler | None:
    """Replace a unary-unary handler's behavior; other kinds (health, reflection) pass."""
    if handler is None or handler.unary_unary is None:
        return handler
    return grpc.unary_unary_rpc_method_handler(
        cast(Any, wrap(cast(Behavior, handler.unary_unary))),  # the stub knows sync ones only
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


class RequestContextInterceptor(grpc.aio.ServerInterceptor):
    """Gives each call a request id (the caller's ``x-request-id`` or a new one), echoes
    it in trailing metadata, logs one structured line per call and counts it."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def intercept_service(  # type: ignore[override]  # None: no such method
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> MethodHandler | None:
        method = handler_call_details.method
        handler: MethodHandler | None = await continuation(handler_call_details)
        if _service_of(method) in OPEN_SERVICES:
            return handler
        given = _metadata_value(handler_call_details.invocation_metadata, REQUEST_ID_HEADER)
        request_id = given[:100] if given else uuid.uuid4().hex

        def wrap(behavior: Behavior) -> Behavior:
            async def logged(request: Any, context: Context) -> Any:
                current_request_id.set(request_id)
                context.set_trailing_metadata(((REQUEST_ID_HEADER, request_id),))
                started = time.perf_counter()
                code = grpc.StatusCode.OK
                try:
                    return await behavior(request, context)
                except AbortError:
                    code = context.code()
                    raise
                except asyncio.CancelledError:
                    code = grpc.StatusCode.CANCELLED
                    raise
                finally:
                    elapsed = time.perf_counter() - started
                    code_name = getattr(code, "name", str(code))
                    self._metrics.rpcs.labels(method, code_name).inc()
                    self._metrics.rpc_latency.labels(method).observe(elapsed)
                    client = current_client.get()
                    log.info(
                        "rpc",
                        extra={
                            "rpc_method": method,
                            "code": code_name,
                            "duration_ms": round(elapsed * 1000, 2),
                            "request_id": request_id,
                            "client_id": client.id if client else None,
                        },
                    )

            return logged

        return _wrap_unary(handler, wrap)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """``authorization: Bearer <token>`` → a configured client allowed this service."""

    def __init__(self, clients: Iterable[Client]) -> None:
        self._clients = tuple(clients)

    def _client_for(self, token: str) -> Client | None:
        digest = token_digest(token)
        found = None
        for client in self._clients:  # compare all, in constant time each
            if hmac.compare_digest(client.token_sha256, digest):
                found = client
        return found

    async def intercept_service(  # type: ignore[override]  # None: no such method
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> MethodHandler | None:
        service = _service_of(handler_call_details.method)
        handler: MethodHandler | None = await continuation(handler_call_details)
        if service in OPEN_SERVICES or handler is None:
            return handler
        header = _metadata_value(handler_call_details.invocation_metadata, "authorization")
        scheme, _, token = (header or "").partition(" ")
        client = self._client_for(token.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            return _rejecting(
                handler,
                rich_status(
                    grpc.StatusCode.UNAUTHENTICATED,
                    "UNAUTHENTICATED",
                    "missing or unknown bearer token: send 'authorization: Bearer <token>'",
                ),
            )
        if not client.may_call(service):
            return _rejecting(
                handler,
                rich_status(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "SERVICE_NOT_ALLOWED",
                    f"client {client.id!r} may not call {service}",
                    metadata={"client_id": client.id, "service": service},
                ),
            )

        def wrap(behavior: Behavior) -> Behavior:
            async def authenticated(request: Any, context: Context) -> Any:
                current_client.set(client)
                return await behavior(request, context)

            return authenticated

        return _wrap_unary(handler, wrap)


def _rejecting(handler: MethodHandler, status: grpc.Status) -> MethodHandler | None:
    def wrap(_behavior: Behavior) -> Behavior:
        async def reject(_request: Any, context: Context) -> Any:
            await context.abort_with_status(status)

        return reject

    return _wrap_unary(handler, wrap)


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    """Honours the deadline and turns every failure into a status the caller can act on."""

    async def intercept_service(  # type: ignore[override]  # None: no such method
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> MethodHandler | None:
        handler: MethodHandler | None = await continuation(handler_call_details)
        if _service_of(handler_call_details.method) in OPEN_SERVICES:
            return handler
        return _wrap_unary(handler, _mapping_errors)


def _mapping_errors(behavior: Behavior) -> Behavior:
    async def mapped(request: Any, context: Context) -> Any:
        remaining = context.time_remaining()
        deadline = asyncio.timeout(remaining)
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

    return mapped


async def _abort_unexpected(context: Context) -> None:
    """Log the traceback under a fresh correlation id; send the caller only the id."""
    correlation_id = uuid.uuid4().hex
    log.exception(
        "unexpected error",
        extra={"correlation_id": correlation_id, "request_id": current_request_id.get()},
    )
    await context.abort_with_status(internal_status(correlation_id))
