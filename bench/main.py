"""``python -m bench``: every store, every row, one table (TESTING.md, "The benchmark").

Each store gets a fresh database, ``isa migrate``, then ``isa serve`` (one worker) for
every row and, for the ``workers`` comparison, a second start with ``--workers 2``. Each
row is measured by its own load process (:mod:`bench.load`). Exit status: 0 when every
selected row was measured (rows with call errors are flagged, not fatal), 1 when a
server or a load process failed, 2 for bad options.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import asyncpg

from bench import harness, relay, report, rows
from bench.harness import BenchError, Server, Store
from bench.load import Measurement
from bench.report import Entry
from bench.rows import Row
from bench.seed import STORE_URL_VARIABLE

REPO_ROOT: Final = Path(__file__).resolve().parent.parent
STORES: Final = ("sqlite", "postgresql")
#: Time a load process may spend beyond warm-up and measurement (start-up, setup).
LOAD_SLACK_SECONDS: Final = 90.0
QUICK_DURATION: Final = 1.0
QUICK_WARMUP: Final = 0.5
#: The pseudo-row that measures the relay's HTTP surface (bench/relay.py).
RELAY: Final = "relay"


@dataclass(frozen=True, slots=True)
class Options:
    """The run's choices, fixed before the first server starts and recorded in the JSON."""

    stores: tuple[str, ...]
    rows: tuple[Row, ...]
    workers: bool
    duration: float
    warmup: float
    concurrency: int
    channels: int
    quick: bool
    relay: bool = False

    def settings(self) -> dict[str, Any]:
        return {
            "stores": list(self.stores),
            "rows": [row.name for row in self.rows]
            + ([rows.WORKERS] if self.workers else [])
            + ([RELAY] if self.relay else []),
            "duration_s": self.duration,
            "warmup_s": self.warmup,
            "concurrency": self.concurrency,
            "channels": self.channels,
            "quick": self.quick,
            "call_timeout_s": rows.CALL_TIMEOUT_SECONDS,
        }


@dataclass(slots=True)
class Run:
    """What the run found so far: table entries, fatal failures, skipped stores."""

    options: Options
    entries: list[Entry] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def fail(self, reason: str) -> None:
        progress(f"FAILED: {reason}")
        self.failures.append(reason)


def progress(message: str) -> None:
    """Progress goes to stderr so that stdout carries the table alone."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _names(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_options(argv: Sequence[str] | None) -> Options:
    row_names = [row.name for row in rows.ROWS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--stores", default=",".join(STORES), help="comma-separated: sqlite,postgresql"
    )
    parser.add_argument(
        "--rows",
        default=",".join([*row_names, rows.WORKERS, RELAY]),
        help=f"comma-separated subset of {', '.join(row_names)}, {rows.WORKERS} "
        f"(the baseline {rows.BASELINE} always runs; {rows.WORKERS} repeats the selected "
        "worker-comparison rows under --workers 2)",
    )
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per row")
    parser.add_argument("--warmup", type=float, default=1.0, help="uncounted seconds before")
    parser.add_argument("--concurrency", type=int, default=32, help="calls in flight")
    parser.add_argument("--channels", type=int, default=8, help="client connections per row")
    parser.add_argument("--quick", action="store_true", help="1 s per row: a smoke run")
    args = parser.parse_args(argv)
    stores = _names(args.stores)
    wanted = _names(args.rows)
    unknown = [name for name in stores if name not in STORES] + [
        name for name in wanted if name not in {*row_names, rows.WORKERS, RELAY}
    ]
    if unknown:
        parser.error(f"unknown store or row: {', '.join(unknown)}")
    if args.concurrency < 1 or args.channels < 1 or args.duration <= 0 or args.warmup < 0:
        parser.error("--concurrency and --channels must be >= 1, --duration > 0, --warmup >= 0")
    return Options(
        stores=tuple(stores),
        rows=tuple(row for row in rows.ROWS if row.name == rows.BASELINE or row.name in wanted),
        workers=rows.WORKERS in wanted,
        duration=QUICK_DURATION if args.quick else args.duration,
        warmup=min(args.warmup, QUICK_WARMUP) if args.quick else args.warmup,
        concurrency=args.concurrency,
        channels=args.channels,
        quick=args.quick,
        relay=RELAY in wanted,
    )


def load(server: Server, row: Row, options: Options) -> Measurement:
    """One row in its own process; a crash or a hang becomes a :class:`BenchError`."""
    command = [
        sys.executable, "-m", "bench.load", row.name,
        "--target", server.target, "--token", harness.TOKEN,
        "--concurrency", str(options.concurrency), "--duration", str(options.duration),
        "--warmup", str(options.warmup), "--channels", str(options.channels),
        *(("--burst", str(row.burst)) if row.burst else ()),
        *(("--server-pid", str(server.pid)) if server.pid is not None else ()),
    ]  # fmt: skip
    budget = options.warmup + options.duration + LOAD_SLACK_SECONDS
    try:
        done = subprocess.run(
            command,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=budget,
            check=False,
            # Rows whose setup seeds what no RPC can make yet (funded wallets, long
            # histories) write it straight into the server's store.
            env={**os.environ, STORE_URL_VARIABLE: server.store.url},
        )
    except subprocess.TimeoutExpired:
        raise BenchError(f"load process for {row.name} ran over {budget:.0f}s; killed") from None
    if done.returncode != 0:
        tail = "\n".join(f"    {line}" for line in done.stderr.splitlines()[-12:])
        raise BenchError(f"load process for {row.name} exited {done.returncode}:\n{tail}")
    try:
        return Measurement.from_json(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError, TypeError) as error:
        raise BenchError(f"load process for {row.name} printed no result: {error!r}") from None


#: A row's outcome: its measurement, or why there is none.
Outcome = Measurement | str


def measure_rows(server: Server, chosen: Sequence[Row], run: Run) -> dict[str, Outcome]:
    """Every chosen row against one server; a server that dies ends the store's rows."""
    measured: dict[str, Outcome] = {}
    for row in chosen:
        where = f"{server.store.name} {row.name}"
        progress(f"{where} (--workers {server.workers})")
        try:
            measured[row.name] = load(server, row, run.options)
        except BenchError as error:
            measured[row.name] = str(error)
            run.fail(f"{where}: {error}")
        try:
            server.check_alive()
        except BenchError as error:
            run.fail(f"{where}: the server died during the row: {error}")
            break
    return measured


def entry(
    store: Store, name: str, workers: int, outcome: Outcome, basis: Outcome | None, basis_name: str
) -> Entry:
    """A table line; the ratio needs both this row and its basis measured."""
    if isinstance(outcome, str):
        return Entry(store.name, name, workers, None, failure=outcome)
    return Entry(store.name, name, workers, outcome, ratio(outcome, basis), basis_name)


def burst_entry(store: Store, row: Row, outcome: Outcome) -> Entry:
    """A burst row's ratio is its total wall time over the latency injected per call."""
    if isinstance(outcome, str):
        return Entry(store.name, row.name, 1, None, failure=outcome)
    latency = row.injected_latency_ms / 1000
    wall = outcome.seconds / latency if latency > 0 else None
    return Entry(store.name, row.name, 1, outcome, wall, "wall time / injected latency")


def ratio(value: Measurement, basis: Outcome | None) -> float | None:
    if not isinstance(basis, Measurement) or basis.throughput <= 0:
        return None
    return value.throughput / basis.throughput


@contextmanager
def serving(store: Store, workdir: Path, log: Path, workers: int, run: Run) -> Iterator[Server]:
    """A ready server; a failure to stop cleanly is recorded without hiding other errors."""
    with harness.running(Server(store, workdir, log, workers), on_stop_problem=run.fail) as server:
        yield server


def bench_store(store: Store, workdir: Path, run: Run) -> None:
    """Migrate, measure every row on one worker, then the worker comparison on two."""
    options = run.options
    report.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    log = report.RESULTS_DIR / f"server-{store.name}.log"
    log.unlink(missing_ok=True)
    progress(f"{store.name}: isa migrate (server output: {log})")
    harness.migrate(store, workdir, log)
    plain = [row for row in options.rows if not row.env]
    with serving(store, workdir, log, 1, run) as server:
        single = measure_rows(server, plain, run)
        relayed = (
            relay.measure_relay(
                server,
                concurrency=options.concurrency,
                duration=options.duration,
                warmup=options.warmup,
                on_failure=run.fail,
            )
            if options.relay
            else {}
        )
    base = single.get(rows.BASELINE)
    run.entries += [
        entry(store, name, 1, outcome, base, rows.BASELINE) for name, outcome in single.items()
    ]
    run.entries += [
        entry(
            store,
            name,
            1,
            outcome,
            relayed.get(relay.BASIS.get(name, "")),
            relay.BASIS.get(name, ""),
        )
        for name, outcome in relayed.items()
    ]
    for row in (row for row in options.rows if row.env):
        server = Server(store, workdir, log, 1, extra_env=dict(row.env))
        with harness.running(server, on_stop_problem=run.fail):
            measured = measure_rows(server, [row], run)
        run.entries += [burst_entry(store, row, outcome) for outcome in measured.values()]
    compared = [row for row in options.rows if row.compare_workers]
    if not (options.workers and compared):
        return
    with serving(store, workdir, log, 2, run) as server:
        double = measure_rows(server, compared, run)
    run.entries += [
        entry(store, f"workers 2/1 {name}", 2, outcome, single.get(name), f"{name} --workers 1")
        for name, outcome in double.items()
    ]


def with_store(name: str, run: Run, body: Callable[[Store, Path], None]) -> None:
    """A fresh store in a fresh directory; PostgreSQL out of reach skips its half."""
    with tempfile.TemporaryDirectory(prefix=f"isa-bench-{name}-") as tmp:
        workdir = Path(tmp)
        if name == "sqlite":
            store = harness.sqlite_store(workdir)
        else:
            try:
                store = harness.postgres_store()
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                reason = f"{type(error).__name__}: {error}"
                print(f"PostgreSQL half skipped: {reason}", flush=True)
                run.skipped[name] = reason
                return
        try:
            body(store, workdir)
        except BenchError as error:
            run.fail(f"{name}: {error}")


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    started = dt.datetime.now(dt.UTC)
    run = Run(options)
    for name in options.stores:
        with_store(name, run, lambda store, workdir: bench_store(store, workdir, run))
    print(report.table(run.entries))
    for line in report.notes(run.entries):
        print(line)
    for name, reason in run.skipped.items():
        print(f"{name} skipped: {reason}")
    for failure in run.failures:
        print(f"FAILED: {failure}")
    path = report.write_json(run.entries, options.settings(), run.skipped, run.failures, started)
    print(f"figures: {path}")
    return 1 if run.failures else 0
