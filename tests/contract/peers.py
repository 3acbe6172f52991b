"""Test peers the contract tests start and stop: localstripe, and a recording fake."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_localstripe() -> Iterator[str]:
    """Run ``localstripe`` (PyPI) on a free port for the session; yields its base URL."""
    port = free_port()
    isolated = Path(__file__).with_name("run_localstripe.py")
    output = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen(
        [sys.executable, str(isolated), "--port", str(port)],
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                request = urllib.request.Request(
                    f"{base}/v1/customers", headers={"Authorization": "Bearer sk_test_probe"}
                )
                urllib.request.urlopen(request, timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    output.seek(0)
                    said = output.read().decode(errors="replace")[-2000:]
                    raise RuntimeError(
                        f"localstripe did not start (exit {process.poll()}): {said}"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        output.close()


def localstripe_card(base: str, number: str) -> str:
    """A PaymentMethod for a test card, made the way Stripe.js would (client side)."""
    body = (
        f"type=card&card[number]={number}&card[exp_month]=12&card[exp_year]=2040&card[cvc]=123"
    ).encode()
    request = urllib.request.Request(
        f"{base}/v1/payment_methods",
        data=body,
        headers={"Authorization": "Bearer sk_test_contract"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(json.load(response)["id"])


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    headers: dict[str, str]
    text: str = ""  # the raw body, for JSON APIs (Square)


@dataclass
class RecordingStripe:
    """A local HTTP server standing in for api.stripe.com: it records every request the
    SDK sends and answers with what ``reply`` returns: ``(status, json body)``."""

    reply: Callable[[Recorded], tuple[int, dict[str, Any]]]
    requests: list[Recorded] = field(default_factory=list)
    runner: web.AppRunner | None = None
    base: str = ""

    async def start(self) -> str:
        async def handle(request: web.Request) -> web.Response:
            text = await request.text()
            recorded = Recorded(
                method=request.method,
                path=request.path,
                form=dict(parse_qsl(text, keep_blank_values=True)),
                headers={k.lower(): v for k, v in request.headers.items()},
                text=text,
            )
            self.requests.append(recorded)
            status, body = self.reply(recorded)
            return web.json_response(body, status=status)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
