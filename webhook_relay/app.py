"""The relay's HTTP app: inbound gateway webhooks, health, readiness, metrics, and the
sandbox's stand-in 3-D Secure, checkout and onboarding pages."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from server.metrics import CONTENT_TYPE, Metrics
from server.payments.marketplace import CheckoutService, ConnectedAccountService
from store.db import Database
from webhook_relay.inbound import InboundWebhooks

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

DB_KEY = web.AppKey("db", Database)
METRICS_KEY = web.AppKey("metrics", Metrics)


@dataclass(frozen=True, slots=True)
class SandboxPages:
    """What the sandbox's hosted pages show: the sessions and accounts behind them."""

    checkout: CheckoutService
    accounts: ConnectedAccountService


SANDBOX_KEY = web.AppKey("sandbox", SandboxPages)


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


#: What a browser sent to a sandbox checkout ``url`` sees: a hosted page needs a card
#: form, and card numbers reach the simulator only through CreateTestCardToken, so the
#: page says how the payer's payment is made instead.
SANDBOX_CHECKOUT_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox checkout</title></head>
<body><h1>Sandbox checkout</h1>
<p>Checkout session <code>{session_id}</code>: {amount} (minor units, {currency}),
{status}.</p>
<p>This page stands in for the hosted payment page. Pay as the payer would by calling
<code>isa.sandbox.v1.SandboxService/CompleteCheckoutSession</code> with
<code>checkout_session_id: "{session_id}"</code> and a <code>payment_method_id</code>
such as <code>pm_card_visa</code>; the payer is then sent to the session's
<code>success_url</code>.</p>
</body></html>
"""


async def sandbox_checkout(request: web.Request) -> web.Response:
    reference = request.match_info["reference"][:100]
    found = await request.app[SANDBOX_KEY].checkout.hosted("sandbox", reference)
    if found is None:
        raise web.HTTPNotFound(text="no such sandbox checkout session\n")
    page = SANDBOX_CHECKOUT_PAGE.format(
        session_id=html.escape(found.id),
        amount=found.amount_total,
        currency=html.escape(found.currency),
        status=html.escape(found.status),
    )
    return web.Response(text=page, content_type="text/html")


#: What a browser sent to a sandbox connected account's ``onboarding_url`` sees.
SANDBOX_ONBOARDING_PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sandbox onboarding</title></head>
<body><h1>Sandbox onboarding</h1>
<p>Connected account <code>{account_id}</code> ({status}).</p>
<p>This page stands in for the gateway's hosted onboarding form. Finish it as the
account's owner would by calling
<code>isa.sandbox.v1.SandboxService/CompleteAccountOnboarding</code> with
<code>connected_account_id: "{account_id}"</code>.</p>
</body></html>
"""


async def sandbox_onboarding(request: web.Request) -> web.Response:
    reference = request.match_info["reference"][:100]
    found = await request.app[SANDBOX_KEY].accounts.hosted("sandbox", reference)
    if found is None:
        raise web.HTTPNotFound(text="no such sandbox connected account\n")
    page = SANDBOX_ONBOARDING_PAGE.format(
        account_id=html.escape(found.id), status=html.escape(found.status)
    )
    return web.Response(text=page, content_type="text/html")


async def metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


def create_app(
    db: Database,
    metrics_registry: Metrics,
    inbound: InboundWebhooks | None = None,
    *,
    max_body_bytes: int = 1024 * 1024,
    sandbox: SandboxPages | None = None,
) -> web.Application:
    app = web.Application(middlewares=[_count], client_max_size=max_body_bytes)
    app[DB_KEY] = db
    app[METRICS_KEY] = metrics_registry
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if inbound is not None:
        app.router.add_post("/webhooks/{gateway}", inbound.handle)
    if sandbox is not None:
        app[SANDBOX_KEY] = sandbox
        app.router.add_get("/sandbox/authenticate/{reference}", sandbox_authentication)
        app.router.add_get("/sandbox/checkout/{reference}", sandbox_checkout)
        app.router.add_get("/sandbox/connect/{reference}/{link_type}", sandbox_onboarding)
    return app
