"""``POST /webhooks/{gateway}``: verify on the raw bytes, store once, answer fast.

Nothing is parsed before the signature checks out, and nothing is stored unless it
does: a missing or wrong signature answers 401 (400 for a malformed one), a body over
the limit 413, an unknown gateway 404. A verified event is stored (deduplicated by the
provider's id) and acknowledged 200; it is applied asynchronously.
"""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from gateways.webhooks import VerifierUnavailable, WebhookRejected, WebhookVerifier
from gateways.webhooks.registry import WEBHOOK_GATEWAYS
from server.errors import StoreUnavailable
from server.metrics import Metrics
from server.webhooks.inbound import GatewayEventService


class InboundWebhooks:
    def __init__(
        self,
        verifiers: Mapping[str, WebhookVerifier],
        events: GatewayEventService,
        metrics: Metrics,
        *,
        max_body_bytes: int,
    ) -> None:
        self._verifiers = verifiers
        self._events = events
        self._metrics = metrics
        self._max_body = max_body_bytes

    def _count(self, gateway: str, outcome: str) -> None:
        self._metrics.inbound.labels(gateway, outcome).inc()

    async def handle(self, request: web.Request) -> web.Response:
        gateway = request.match_info["gateway"]
        if gateway not in WEBHOOK_GATEWAYS:
            return web.json_response({"error": f"unknown gateway {gateway!r}"}, status=404)
        self._count(gateway, "received")
        if request.content_length is not None and request.content_length > self._max_body:
            self._count(gateway, "too_large")
            return web.json_response({"error": "body too large"}, status=413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            self._count(gateway, "too_large")
            return web.json_response({"error": "body too large"}, status=413)
        verifier = self._verifiers.get(gateway)
        if verifier is None:
            self._count(gateway, "rejected")
            return web.json_response(
                {"error": f"webhooks from {gateway!r} are not configured on this relay"},
                status=401,
            )
        try:
            verified = await verifier.verify(body, request.headers)
            raw = body.decode("utf-8")
        except WebhookRejected as rejected:
            self._count(gateway, "rejected")
            return web.json_response({"error": rejected.reason}, status=rejected.status)
        except UnicodeDecodeError:
            self._count(gateway, "rejected")
            return web.json_response({"error": "body is not UTF-8"}, status=400)
        except VerifierUnavailable:
            return web.json_response({"error": "verification unavailable; retry later"}, status=503)
        self._count(gateway, "verified")
        try:
            stored = await self._events.store(
                gateway=gateway, gateway_event_id=verified.event_id, type=verified.type, raw=raw
            )
        except StoreUnavailable:
            # Not stored, so not acknowledged: the gateway retries later.
            return web.json_response({"error": "store unavailable; retry later"}, status=503)
        if stored.duplicate:
            self._count(gateway, "duplicate")
        return web.json_response({"id": stored.id, "duplicate": stored.duplicate})
