"""The relay's HTTP app: inbound gateway webhooks, health, readiness and metrics."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from server.metrics import CONTENT_TYPE, Metrics
from store.db import Database
from webhook_relay.inbound import InboundWebhooks

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DB_KEY = web.AppKey("db", Database)
METRICS_KEY = web.AppKey("metrics", Metrics)


@web.middleware
async def _count(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    route = request.match_info.route.resource
    name = route.canonical if route is not None else "unmatched"
    request.app[METRICS_KEY].http_requests.labels(name, str(response.status)).inc()
    return response


async def healthz(_request: web.Request) -> web.Response:
    """Alive: the process answers. Says nothing about the store."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Ready: the store answers, so webhooks can be persisted."""
    reachable = await request.app[DB_KEY].ping()
    request.app[METRICS_KEY].store_up.set(1 if reachable else 0)
    if not reachable:
        return web.json_response({"status": "unavailable", "store": "unreachable"}, status=503)
    return web.json_response({"status": "ok", "store": "reachable"})


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def create_app(
    db: Database,
    metrics_registry: Metrics,
    inbound: InboundWebhooks | None = None,
    *,
    max_body_bytes: int = 1024 * 1024,
) -> web.Application:
    app = web.Application(middlewares=[_count], client_max_size=max_body_bytes)
    app[DB_KEY] = db
    app[METRICS_KEY] = metrics_registry
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if inbound is not None:
        app.router.add_post("/webhooks/{gateway}", inbound.handle)
    return app
