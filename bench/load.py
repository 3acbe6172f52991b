"""The load process: ``python -m bench.load ROW --target HOST:PORT ...`` prints one JSON line.

It runs apart from the server and from the harness so that neither the harness's work
nor the server's shares its event loop or its GIL. ``concurrency`` calls are always in
flight, spread over several channels (one TCP connection each) so that ``--workers N``
servers, which share the port through SO_REUSEPORT, see their connections spread too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Final

import grpc
from google.protobuf.message import Message

from bench.cpu import ServerClock, WindowCpu, spent
from bench.rows import CALL_TIMEOUT_SECONDS, Caller, Fixtures, Row, bearer, by_name, serialize

Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one row measured; the harness reads it back from the JSON line."""

    row: str
    ok: int
    errors: int
    error_codes: dict[str, int]
    error_samples: dict[str, str]
    seconds: float
    throughput: float
    p50_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    max_ms: float | None
    concurrency: int
    channels: int
    #: A burst row's every round, in seconds (``seconds`` is their median).
    rounds_seconds: list[float] = field(default_factory=list)
    #: The server's CPU per OK call over the window, all its threads (bench.cpu).
    server_us_per_call: float | None = None
    #: The share of the window the server's main thread was on a CPU (bench.cpu).
    server_main_busy: float | None = None

    @classmethod
    def from_json(cls, text: str) -> Measurement:
        data: dict[str, Any] = json.loads(text)
        return cls(**data)


@dataclass(slots=True)
class Tally:
    """Every measured call: latencies of the OK ones, and each failure by status code."""

    latencies: list[float] = field(default_factory=list)
    codes: Counter[str] = field(default_factory=Counter)
    samples: dict[str, str] = field(default_factory=dict)

    def failed(self, error: grpc.aio.AioRpcError) -> None:
        name = error.code().name
        self.codes[name] += 1
        self.samples.setdefault(name, str(error.details())[:300])


@dataclass(frozen=True, slots=True)
class Window:
    """Calls that start in ``[start, stop)`` are counted; earlier ones are the warm-up."""

    start: float
    stop: float


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence (no interpolation to flatter it)."""
    if not ordered:
        return None
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def summarize(
    row: Row, tally: Tally, seconds: float, concurrency: int, channels: int
) -> Measurement:
    ordered = sorted(tally.latencies)
    ms = [value * 1000 for value in ordered]
    ok = len(ms)
    return Measurement(
        row=row.name,
        ok=ok,
        errors=sum(tally.codes.values()),
        error_codes=dict(tally.codes),
        error_samples=tally.samples,
        seconds=seconds,
        throughput=ok / seconds if seconds > 0 else 0.0,
        p50_ms=percentile(ms, 0.50),
        p99_ms=percentile(ms, 0.99),
        mean_ms=sum(ms) / ok if ok else None,
        max_ms=ms[-1] if ms else None,
        concurrency=concurrency,
        channels=channels,
    )


@dataclass(frozen=True, slots=True)
class Drive:
    """What every in-flight caller shares: the row, its fixtures, the window, the tally."""

    row: Row
    fixtures: Fixtures
    metadata: Metadata
    window: Window
    tally: Tally
    stride: int

    async def caller(self, slot: int, method: Any) -> None:
        """One call at a time until the window closes; call ``index`` is unique per run."""
        window, tally = self.window, self.tally
        index = slot
        while (began := time.perf_counter()) < window.stop:
            request: Message = self.row.request(index, self.fixtures)
            index += self.stride
            try:
                await method(request, metadata=self.metadata, timeout=CALL_TIMEOUT_SECONDS)
            except grpc.aio.AioRpcError as error:
                if began >= window.start:
                    tally.failed(error)
                continue
            if began >= window.start:
                tally.latencies.append(time.perf_counter() - began)


class SetupError(RuntimeError):
    """The row's setup call failed: the row cannot be measured, the run must say why."""


async def set_up(row: Row, caller: Caller) -> Fixtures:
    if row.setup is None:
        return {}
    try:
        return await row.setup(caller)
    except grpc.aio.AioRpcError as error:
        raise SetupError(
            f"setup of {row.name} failed: {error.code().name}: {error.details()}"
        ) from None


def _open_channels(target: str, count: int) -> list[grpc.aio.Channel]:
    """Separate connections: a local subchannel pool stops gRPC from sharing one."""
    options = [("grpc.use_local_subchannel_pool", 1)]
    return [grpc.aio.insecure_channel(target, options=options) for _ in range(count)]


async def _server_cpu(clock: ServerClock | None, window: Window) -> WindowCpu | None:
    """The server's CPU from the window's start to its end (sampled by this loop)."""
    if clock is None:
        return None
    await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
    before, began = clock.sample(), time.perf_counter()
    await asyncio.sleep(max(0.0, window.stop - time.perf_counter()))
    return spent(before, clock.sample(), time.perf_counter() - began)


def _with_cpu(measured: Measurement, cpu: WindowCpu | None) -> Measurement:
    if cpu is None or measured.ok == 0:
        return measured
    return replace(
        measured,
        server_us_per_call=cpu.cpu_seconds * 1e6 / measured.ok,
        server_main_busy=cpu.main_busy,
    )


async def measure(
    row: Row,
    target: str,
    token: str,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    channels: int,
    server_pid: int | None = None,
) -> Measurement:
    """Run the row's setup, warm up, then count ``duration`` seconds of calls (and, given
    the server's pid, what it spent meanwhile)."""
    metadata: Metadata = bearer(token)
    opened = _open_channels(target, max(1, min(channels, concurrency)))
    try:
        fixtures = await set_up(row, Caller(opened[0], metadata))
        methods = [
            channel.unary_unary(
                row.rpc.path,
                request_serializer=serialize,
                response_deserializer=row.rpc.response.FromString,
            )
            for channel in opened
        ]
        start = time.perf_counter() + warmup
        drive = Drive(
            row=row,
            fixtures=fixtures,
            metadata=metadata,
            window=Window(start=start, stop=start + duration),
            tally=Tally(),
            stride=concurrency,
        )
        clock = None if server_pid is None else ServerClock(server_pid)
        watching = asyncio.create_task(_server_cpu(clock, drive.window))
        await asyncio.gather(
            *(drive.caller(slot, methods[slot % len(methods)]) for slot in range(concurrency))
        )
        seconds = time.perf_counter() - drive.window.start
        cpu = await watching
    finally:
        await asyncio.gather(*(channel.close() for channel in opened))
    return _with_cpu(summarize(row, drive.tally, seconds, concurrency, len(opened)), cpu)


#: Bursts per burst row: one burst is a single sample of a few hundred milliseconds, so a
#: stray scheduler hiccup moves it by a third; the row reports the median of these.
BURST_ROUNDS: Final = 3
#: Between bursts: the previous one's tail (group commit, fan-out) settles first.
BURST_PAUSE_SECONDS: Final = 0.5


async def burst(row: Row, target: str, token: str, *, calls: int, channels: int) -> Measurement:
    """``calls`` calls started at once, :data:`BURST_ROUNDS` times (fresh requests each
    time): ``seconds`` is the median round's total wall time, its latencies the row's,
    and ``rounds_seconds`` every round's, in order.

    One call first opens every channel, so the burst measures the server, not dialing.
    """
    metadata: Metadata = bearer(token)
    opened = _open_channels(target, max(1, min(channels, calls)))
    rounds: list[tuple[float, Tally]] = []
    try:
        fixtures = await set_up(row, Caller(opened[0], metadata))
        methods = [
            channel.unary_unary(
                row.rpc.path,
                request_serializer=serialize,
                response_deserializer=row.rpc.response.FromString,
            )
            for channel in opened
        ]
        await asyncio.gather(
            *(
                method(
                    row.request(BURST_ROUNDS * calls + n, fixtures), metadata=metadata, timeout=30
                )
                for n, method in enumerate(methods)
            )
        )
        for round_ in range(BURST_ROUNDS):
            await asyncio.sleep(BURST_PAUSE_SECONDS)
            rounds.append(await _one_burst(row, fixtures, methods, metadata, round_ * calls, calls))
    finally:
        await asyncio.gather(*(channel.close() for channel in opened))
    seconds, tally = sorted(rounds, key=lambda done: done[0])[len(rounds) // 2]
    measured = summarize(row, tally, seconds, calls, len(opened))
    return replace(measured, rounds_seconds=[round_seconds for round_seconds, _ in rounds])


async def _one_burst(
    row: Row,
    fixtures: Fixtures,
    methods: list[Any],
    metadata: Metadata,
    first: int,
    calls: int,
) -> tuple[float, Tally]:
    """Calls ``first`` .. ``first + calls - 1`` at once: their wall time and tally."""
    tally = Tally()

    async def one(index: int) -> None:
        began = time.perf_counter()
        try:
            await methods[index % len(methods)](
                row.request(index, fixtures),
                metadata=metadata,
                timeout=CALL_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            tally.failed(error)
            return
        tally.latencies.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(one(index) for index in range(first, first + calls)))
    return time.perf_counter() - started, tally


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("row", help="a row name from bench.rows.ROWS")
    parser.add_argument("--target", required=True, help="HOST:PORT of the gRPC server")
    parser.add_argument("--token", default="dev-token", help="the bearer token to send")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds first")
    parser.add_argument("--channels", type=int, default=8, help="connections to spread over")
    parser.add_argument(
        "--burst", type=int, default=0, help="instead: this many calls at once, one time"
    )
    parser.add_argument(
        "--server-pid", type=int, default=None, help="the server's pid: also report its CPU"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0 or args.channels < 1:
        print("bench.load: concurrency and channels must be >= 1, duration > 0", file=sys.stderr)
        return 2
    try:
        row = by_name(args.row)
        result = asyncio.run(
            burst(row, args.target, args.token, calls=args.burst, channels=args.channels)
            if args.burst
            else measure(
                row,
                args.target,
                args.token,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                channels=args.channels,
                server_pid=args.server_pid,
            )
        )
    except SetupError as error:
        print(f"bench.load: {error}", file=sys.stderr)
        return 1
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
