"""Relay rows: HTTP, so they are driven by their own load process, ``python -m bench.relay``.

- ``relay GET /healthz``: the relay's empty request, the floor for the relay rows.
- ``relay POST /webhooks/sandbox``: signed sandbox webhooks, each a new event, verified
  and stored (acknowledged 200); ratio to ``GET /healthz`` on the same relay.
- ``relay outbound deliveries``: an endpoint pointing at a receiver in the load process,
  a batch of outbox events written at once, and the time until every signed delivery
  arrived; latency is event creation → receipt. Ratio to ``receiver POST (direct)``: the
  same receiver POSTed to directly by the load process, the floor a delivery can reach.

Each prints one JSON :class:`bench.load.Measurement` line, like ``bench.load``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Final

import aiohttp
import grpc
from aiohttp import web

from bench.harness import TOKEN, BenchError, Server
from bench.load import Measurement, Tally, percentile
from bench.rows import Caller, Rpc, bearer
from isa.webhook.v1 import resources_pb2 as resources
from isa.webhook.v1 import webhook_service_pb2 as webhooks
from server.events import record_event
from store.db import Database

HEALTHZ: Final = "relay GET /healthz"
INBOUND: Final = "relay POST /webhooks/sandbox"
DIRECT: Final = "receiver POST (direct)"
OUTBOUND: Final = "relay outbound deliveries"
ROWS: Final = (HEALTHZ, INBOUND, DIRECT, OUTBOUND)
#: Row → the row its ratio is measured against.
BASIS: Final = {INBOUND: HEALTHZ, OUTBOUND: DIRECT}
#: The sandbox's development webhook secret (the bench server runs with the defaults).
SANDBOX_SECRET: Final = "whsec_" + base64.b64encode(b"isa-sandbox-webhook-secret").decode()
OUTBOUND_EVENTS: Final = 2000
OUTBOUND_DEADLINE_SECONDS: Final = 120.0
#: How long the harness waits for the accepted webhooks to be applied after the row.
APPLY_DEADLINE_SECONDS: Final = 120.0
APPLY_POLL_SECONDS: Final = 0.25
REPO_ROOT: Final = Path(__file__).resolve().parent.parent

CREATE_ENDPOINT: Final = Rpc(
    "/isa.webhook.v1.WebhookService/CreateEndpoint", webhooks.CreateEndpointResponse
)
DELETE_ENDPOINT: Final = Rpc(
    "/isa.webhook.v1.WebhookService/DeleteEndpoint", webhooks.DeleteEndpointResponse
)
LIST_GATEWAY_EVENTS: Final = Rpc(
    "/isa.webhook.v1.WebhookService/ListGatewayEvents", webhooks.ListGatewayEventsResponse
)


def sandbox_request(index: int, prefix: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(
        {
            "id": f"sbx_{prefix}_{index}",
            "type": "payment_intent.succeeded",
            "data": {"object": {"id": f"pi_{prefix}_{index}", "amount": 1999}},
        }
    ).encode()
    stamp = int(time.time())
    message_id = f"msg_{prefix}_{index}"
    key = base64.b64decode(SANDBOX_SECRET.removeprefix("whsec_"))
    digest = hmac.new(key, f"{message_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    return body, {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
    }


def summarize(row: str, tally: Tally, seconds: float, concurrency: int) -> Measurement:
    ms = sorted(value * 1000 for value in tally.latencies)
    return Measurement(
        row=row,
        ok=len(ms),
        errors=sum(tally.codes.values()),
        error_codes=dict(tally.codes),
        error_samples=tally.samples,
        seconds=seconds,
        throughput=len(ms) / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(ms, 0.50),
        p99_ms=percentile(ms, 0.99),
        mean_ms=sum(ms) / len(ms) if ms else None,
        max_ms=ms[-1] if ms else None,
        concurrency=concurrency,
        channels=1,
    )


Send = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


async def drive_http(
    row: str, send: Send, *, concurrency: int, duration: float, warmup: float
) -> Measurement:
    """``concurrency`` requests in flight; those started inside the window are counted."""
    tally = Tally()
    start = time.perf_counter() + warmup
    stop = start + duration
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def caller(slot: int) -> None:
            index = slot
            while (began := time.perf_counter()) < stop:
                try:
                    status = await send(http, index)
                except (aiohttp.ClientError, TimeoutError) as error:
                    status, detail = 0, f"{type(error).__name__}: {error}"
                else:
                    detail = f"HTTP {status}"
                index += concurrency
                if began < start:
                    continue
                if 200 <= status < 300:
                    tally.latencies.append(time.perf_counter() - began)
                else:
                    name = f"HTTP_{status}"
                    tally.codes[name] += 1
                    tally.samples.setdefault(name, detail[:300])

        await asyncio.gather(*(caller(slot) for slot in range(concurrency)))
    return summarize(row, tally, time.perf_counter() - start, concurrency)


class Sink:
    """The local receiver: answers 204 and notes when each event id arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.expected = 0
        self.done = asyncio.Event()
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def _hook(self, request: web.Request) -> web.Response:
        await request.read()
        message_id = request.headers.get("webhook-id", "")
        if message_id:
            self.arrivals.setdefault(message_id, time.time())
            if self.expected and len(self.arrivals) >= self.expected:
                self.done.set()
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = next(int(address[1]) for address in self.runner.addresses)
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


async def outbound(
    target: str, token: str, database_url: str, *, concurrency: int, events: int
) -> list[Measurement]:
    """The receiver's direct floor, then deliveries of ``events`` outbox events."""
    sink = Sink()
    await sink.start()
    try:

        async def direct(http: aiohttp.ClientSession, index: int) -> int:
            async with http.post(
                sink.url, data=b'{"bench":true}', headers={"webhook-id": f"direct_{index}"}
            ) as response:
                return response.status

        floor = await drive_http(DIRECT, direct, concurrency=concurrency, duration=2, warmup=0.5)
        sink.arrivals.clear()

        async with bench_endpoint(target, token, sink.url):
            tally, seconds = await deliveries(database_url, sink, events)
        return [floor, summarize(OUTBOUND, tally, seconds, concurrency)]
    finally:
        await sink.stop()


@contextlib.asynccontextmanager
async def bench_endpoint(target: str, token: str, url: str) -> AsyncIterator[None]:
    """An endpoint for the receiver, deleted when the row ends: left behind, it would
    keep receiving every later row's events at a receiver that is gone, and those
    failing deliveries and their retries would be measured as part of those rows."""
    async with grpc.aio.insecure_channel(target) as channel:
        caller = Caller(channel, bearer(token))
        created = await caller.call(
            CREATE_ENDPOINT, webhooks.CreateEndpointRequest(url=url, description="bench")
        )
        try:
            yield
        finally:
            await caller.call(
                DELETE_ENDPOINT, webhooks.DeleteEndpointRequest(id=created.endpoint.id)
            )


async def deliveries(database_url: str, sink: Sink, events: int) -> tuple[Tally, float]:
    """Write ``events`` outbox events straight into the store, then wait for the sink to
    receive them: each one's latency, and the time until the last arrived."""
    db = Database(database_url)
    created: dict[str, float] = {}
    try:
        sink.expected = events
        async with db.write() as session:
            for index in range(events):
                event = await record_event(
                    session,
                    client_id="dev",
                    event_type="payment.succeeded",
                    resource_id=f"pi_bench_{index}",
                    data={"id": f"pi_bench_{index}", "amount": 1999},
                )
                created[event.id] = event.create_time.timestamp()
        began = time.time()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sink.done.wait(), timeout=OUTBOUND_DEADLINE_SECONDS)
        seconds = max(sink.arrivals.values(), default=began) - began
    finally:
        await db.dispose()
    tally = Tally()
    for event_id, made in created.items():
        arrived = sink.arrivals.get(event_id)
        if arrived is None:
            tally.codes["NOT_DELIVERED"] += 1
            tally.samples.setdefault("NOT_DELIVERED", f"{event_id} never arrived")
        else:
            tally.latencies.append(max(arrived - made, 0.0))
    return tally, seconds


async def run(args: argparse.Namespace) -> list[Measurement]:
    prefix = uuid.uuid4().hex[:12]
    if args.row == HEALTHZ:

        async def healthz(http: aiohttp.ClientSession, _index: int) -> int:
            async with http.get(f"{args.relay}/healthz") as response:
                await response.read()
                return response.status

        return [
            await drive_http(
                HEALTHZ,
                healthz,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
            )
        ]
    if args.row == INBOUND:

        async def inbound(http: aiohttp.ClientSession, index: int) -> int:
            body, headers = sandbox_request(index, prefix)
            async with http.post(
                f"{args.relay}/webhooks/sandbox", data=body, headers=headers
            ) as response:
                await response.read()
                return response.status

        return [
            await drive_http(
                INBOUND,
                inbound,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
            )
        ]
    return await outbound(
        args.target,
        args.token,
        args.database_url,
        concurrency=args.concurrency,
        events=args.events,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.relay", description=__doc__)
    parser.add_argument("row", choices=[HEALTHZ, INBOUND, OUTBOUND])
    parser.add_argument("--relay", required=True, help="the relay's base URL")
    parser.add_argument("--target", required=True, help="HOST:PORT of the gRPC server")
    parser.add_argument("--token", default="dev-token")
    parser.add_argument("--database-url", default="", help="the server's store (outbound)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--events", type=int, default=OUTBOUND_EVENTS)
    return parser.parse_args(argv)


def measure_relay(
    server: Server,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    on_failure: Callable[[str], None],
) -> dict[str, Measurement | str]:
    """Harness side: each relay row in its own load process against ``server``."""
    measured: dict[str, Measurement | str] = {}
    for row in (HEALTHZ, INBOUND, OUTBOUND):
        command = [
            sys.executable, "-m", "bench.relay", row,
            "--relay", server.relay_url, "--target", server.target, "--token", TOKEN,
            "--database-url", server.store.url, "--concurrency", str(concurrency),
            "--duration", str(duration), "--warmup", str(warmup),
        ]  # fmt: skip
        budget = warmup + duration + OUTBOUND_DEADLINE_SECONDS + 60
        try:
            done = subprocess.run(
                command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=budget, check=False
            )
            if done.returncode != 0:
                tail = "\n".join(f"    {line}" for line in done.stderr.splitlines()[-12:])
                raise BenchError(f"relay load for {row} exited {done.returncode}:\n{tail}")
            for line in done.stdout.strip().splitlines():
                found = Measurement.from_json(line)
                measured[found.row] = found
        except subprocess.TimeoutExpired:
            measured[row] = f"relay load for {row} ran over {budget:.0f}s; killed"
            on_failure(f"{server.store.name} {row}: {measured[row]}")
        except (BenchError, ValueError, TypeError) as error:
            measured[row] = str(error)
            on_failure(f"{server.store.name} {row}: {error}")
        if row == INBOUND:
            settle(server, on_failure)
    return measured


def settle(server: Server, on_failure: Callable[[str], None]) -> None:
    """Wait until every webhook the inbound row got accepted has been applied.

    The relay answers a webhook once it is stored and applies it in the background, so
    the row ends with a backlog; left to drain on its own, it would be applied during the
    rows after it and counted against them.
    """
    began = time.monotonic()
    try:
        left = asyncio.run(_wait_applied(server.target, began + APPLY_DEADLINE_SECONDS))
    except grpc.aio.AioRpcError as error:
        on_failure(
            f"{server.store.name} {INBOUND}: could not ask which webhooks are unapplied:"
            f" {error.code().name}: {error.details()}"
        )
        return
    took = time.monotonic() - began
    if left:
        on_failure(
            f"{server.store.name} {INBOUND}: webhooks still unapplied"
            f" {APPLY_DEADLINE_SECONDS:.0f}s after the row"
        )
    else:
        print(
            f"bench: {server.store.name}: accepted webhooks applied {took:.1f}s after the row",
            file=sys.stderr,
            flush=True,
        )


async def _wait_applied(target: str, deadline: float) -> bool:
    """Whether some gateway event is still RECEIVED (not yet applied) at ``deadline``."""
    request = webhooks.ListGatewayEventsRequest(
        page_size=1, status=resources.GATEWAY_EVENT_STATUS_RECEIVED
    )
    async with grpc.aio.insecure_channel(target) as channel:
        caller = Caller(channel, bearer(TOKEN))
        while True:
            found = await caller.call(LIST_GATEWAY_EVENTS, request)
            if not found.gateway_events or time.monotonic() >= deadline:
                return bool(found.gateway_events)
            await asyncio.sleep(APPLY_POLL_SECONDS)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    for measurement in asyncio.run(run(args)):
        print(json.dumps(asdict(measurement)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
