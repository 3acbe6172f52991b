"""Per-call facts the interceptors learn and the servicers need: who, which request."""

from __future__ import annotations

from contextvars import ContextVar

from server.config import Client

current_client: ContextVar[Client | None] = ContextVar("current_client", default=None)
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")


def caller() -> Client:
    """The authenticated client of this call (the auth interceptor guarantees one)."""
    client = current_client.get()
    if client is None:
        raise RuntimeError("no authenticated client in this call's context")
    return client
