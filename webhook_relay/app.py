"""The relay's HTTP app: inbound gateway webhooks, health, readiness, metrics, and the
sandbox's stand-in 3-D Secure page."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Final

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


#: What a browser sent to a sandbox 3-D Secure ``redirect_url`` sees: the simulator has
#: no issuer page to show, so it says how the challenge is finished instead.
SANDBOX_AUTHENTICATION_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox 3-D Secure</title></head>
<body><h1>Sandbox 3-D Secure</h1>
<p>This page stands in for the card issuer's 3-D Secure challenge of sandbox payment
<code>{reference}</code>. Nothing is decided here: pass or fail the challenge by calling
<code>isa.sandbox.v1.SandboxService/CompleteAuthentication</code> with the payment
intent's id (<code>pi_…</code>) and <code>succeed: true</code> or <code>false</code>.</p>
</body></html>
"""


async def sandbox_authentication(request: web.Request) -> web.Response:
    reference = html.escape(request.match_info["reference"][:100])
    return web.Response(
        text=SANDBOX_AUTHENTICATION_PAGE.format(reference=reference), content_type="text/html"
    )


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def create_app(
    db: Database,
    metrics_registry: Metrics,
    inbound: InboundWebhooks | None = None,
    *,
    max_body_bytes: int = 1024 * 1024,
    sandbox: bool = False,
) -> web.Application:
    app = web.Application(middlewares=[_count], client_max_size=max_body_bytes)
    app[DB_KEY] = db
    app[METRICS_KEY] = metrics_registry
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if inbound is not None:
        app.router.add_post("/webhooks/{gateway}", inbound.handle)
    if sandbox:
        app.router.add_get("/sandbox/authenticate/{reference}", sandbox_authentication)
    return app
