"""Test helpers for the relay: a local receiver, a settable clock, endpoint/event setup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from server.events import record_event
from server.webhooks.endpoints import Endpoint, EndpointService, NewEndpoint
from store.db import Database
from store.events import EventRecord


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes


Responder = Callable[[web.Request, int], Awaitable[web.StreamResponse]]


async def _ok(_request: web.Request, _count: int) -> web.StreamResponse:
    return web.Response(status=204)


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers as told."""

    respond: Responder = _ok
    received: list[Received] = field(default_factory=list)
    runner: web.AppRunner | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.received.append(Received(headers=dict(request.headers), body=body))
        return await self.respond(request, len(self.received))

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        app.router.add_post("/other", self._handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        for address in self.runner.addresses:
            self.port = int(address[1])
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def create_endpoint(db: Database, client_id: str, url: str, **fields: object) -> Endpoint:
    async with db.write() as session:
        return await EndpointService(db).create(
            session,
            client_id,
            NewEndpoint(url=url, **fields),  # type: ignore[arg-type]
        )


async def emit(
    db: Database, client_id: str, event_type: str = "payment.succeeded", **data: object
) -> EventRecord:
    async with db.write() as session:
        return await record_event(
            session,
            client_id=client_id,
            event_type=event_type,
            resource_id=str(data.get("id", "pi_test")),
            data={"id": "pi_test", **data},
        )
