"""Sends the sandbox's webhooks to the relay, signed, like a provider would.

:meth:`SandboxWebhooks.emit` never blocks its caller (an RPC): it schedules the
delivery and returns. A delivery is retried a few times with a growing pause; one that
still fails, or is dropped at shutdown, is logged with its event id and type — never
lost silently. The relay deduplicates by event id, so a retry is harmless.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Mapping
from typing import Any, Final

import aiohttp

from gateways.webhooks.sandbox import sandbox_signature

log = logging.getLogger("isa.sandbox.webhooks")

ATTEMPTS: Final = 6
FIRST_PAUSE_SECONDS: Final = 0.25
TIMEOUT_SECONDS: Final = 10.0


class SandboxWebhooks:
    def __init__(
        self,
        secret: str,
        *,
        url: str | None = None,
        attempts: int = ATTEMPTS,
        first_pause: float = FIRST_PAUSE_SECONDS,
    ) -> None:
        self._secret = secret
        #: Where to POST (the relay's /webhooks/sandbox); set once the relay listens.
        self.url = url
        self._attempts = attempts
        self._first_pause = first_pause
        self._http: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def emit(self, event: Mapping[str, Any]) -> None:
        """Schedule the delivery of ``event`` (its ``id`` is the webhook id) and return."""
        if self.url is None:
            log.error(
                "sandbox webhook %s (%s) not sent: no relay URL is set", event["id"], event["type"]
            )
            return
        task = asyncio.get_running_loop().create_task(self._deliver(self.url, dict(event)))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _deliver(self, url: str, event: dict[str, Any]) -> None:
        body = json.dumps(event, separators=(",", ":")).encode()
        pause = self._first_pause
        problem = ""
        for attempt in range(1, self._attempts + 1):
            now = int(dt.datetime.now(dt.UTC).timestamp())
            headers = {
                "content-type": "application/json",
                "webhook-id": str(event["id"]),
                "webhook-timestamp": str(now),
                "webhook-signature": sandbox_signature(self._secret, str(event["id"]), now, body),
            }
            try:
                async with self._session().post(url, data=body, headers=headers) as response:
                    if 200 <= response.status < 300:
                        return
                    problem = f"HTTP {response.status}"
                    if response.status in (400, 401, 404, 413):
                        break  # refused for good (bad secret, no such route): retrying won't help
            except (aiohttp.ClientError, TimeoutError) as error:
                problem = f"{type(error).__name__}: {error}"
            if attempt < self._attempts:
                await asyncio.sleep(pause)
                pause *= 2
        log.error(
            "sandbox webhook %s (%s) was not delivered to %s: %s",
            event["id"],
            event["type"],
            url,
            problem,
        )

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS))
        return self._http

    async def drain(self, within: float) -> None:
        """Wait (up to ``within`` seconds) for the deliveries in flight."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=within)

    async def close(self) -> None:
        left = list(self._pending)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)
        if left:
            log.error("%d sandbox webhooks dropped at shutdown, undelivered", len(left))
        if self._http is not None:
            await self._http.close()
            self._http = None
