"""``isa``: the service's command line (serve, migrate, ledger check)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Sequence
from typing import Final

from server import app, logs
from server.config import Settings, load_settings
from server.errors import ConfigError
from server.ledger.check import check_ledger
from store.db import Database
from store.migrate import applied_revisions, head_revisions, upgrade

log = logging.getLogger("isa")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="isa", description="Internal payments platform service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve gRPC and the webhook relay until stopped")
    serve.add_argument(
        "--workers", type=int, default=1, help="processes sharing the ports (SO_REUSEPORT)"
    )
    commands.add_parser("migrate", help="bring the store's schema up to date")
    ledger = commands.add_parser("ledger", help="ledger tools")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    ledger_commands.add_parser(
        "check", help="verify the ledger's invariants; exit 1 when any is broken"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"isa: configuration error: {error}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    try:
        if args.command == "migrate":
            asyncio.run(_migrate(settings))
            return 0
        if args.command == "ledger":
            return asyncio.run(_ledger_check(settings))
        if args.workers < 1:
            parser.error("--workers must be at least 1")
        return _serve_workers(settings, args.workers)
    except ConfigError as error:
        print(f"isa: configuration error: {error}", file=sys.stderr)
        return 2


async def _migrate(settings: Settings) -> None:
    db = Database(settings.database_url)
    try:
        before = await applied_revisions(db)
        await upgrade(db)
        after = await applied_revisions(db)
    finally:
        await db.dispose()
    store = db.dialect.value
    if before == after:
        log.info("store schema was already up to date", extra={"store": store})
    else:
        log.info(
            "store schema migrated",
            extra={"store": store, "from": sorted(before), "to": sorted(after)},
        )


async def _ledger_check(settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        if await applied_revisions(db) != head_revisions():
            print(
                "isa: the store's schema is not up to date: run `isa migrate` first",
                file=sys.stderr,
            )
            return 2
        report = await check_ledger(db)
    finally:
        await db.dispose()
    for problem in report.problems:
        print(f"PROBLEM: {problem}")
    verdict = "OK" if report.ok else f"BROKEN ({len(report.problems)} problems)"
    print(f"ledger {verdict}: {report.accounts_checked} accounts checked")
    return 0 if report.ok else 1


def _serve_workers(settings: Settings, workers: int) -> int:
    app.check_exposure(settings)
    if workers == 1:
        asyncio.run(_serve(settings, reuse_port=False, announce=True))
        return 0
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(settings, index == 0), name=f"isa-worker-{index}")
        for index in range(workers)
    ]
    for process in processes:
        process.start()

    def forward(signum: int, _frame: object) -> None:
        for process in processes:
            if process.pid is not None and process.is_alive():
                os.kill(process.pid, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    for process in processes:
        process.join()
    return max((process.exitcode or 0) for process in processes)


def _worker(settings: Settings, announce: bool) -> None:
    logs.configure(settings.log_level)
    asyncio.run(_serve(settings, reuse_port=True, announce=announce))


async def _serve(settings: Settings, *, reuse_port: bool, announce: bool) -> None:
    runtime = await app.start(settings, reuse_port=reuse_port)
    _tune_gc()
    log.info("serving", extra={"pid": os.getpid(), "grpc_port": runtime.grpc_port})
    if announce:
        _announce(settings, runtime)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await stopping.wait()
    log.info("shutting down", extra={"grace_seconds": settings.shutdown_grace_seconds})
    await runtime.stop()


#: Allocations between young-generation collections (CPython's default is 700).
GC_YOUNG_THRESHOLD: Final = 20_000


def _tune_gc() -> None:
    """Keep the cyclic garbage collector off the request path.

    Every call allocates thousands of short-lived objects (messages, coroutines, rows),
    so at the default threshold the collector ran several times a second under load,
    each time walking everything the server built at start-up (measured: ~3% of the
    server's CPU). What exists once the server is up lives as long as it does: frozen,
    the collector never looks at it again; and a higher threshold collects the young
    generation less often (refcounting frees almost all of it anyway).
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def _announce(settings: Settings, runtime: app.Runtime) -> None:
    grpc_host, _ = app.split_address(settings.grpc_addr)
    relay_host, _ = app.split_address(settings.relay_addr)
    lines = [
        f"isa: gRPC on {grpc_host}:{runtime.grpc_port}, relay on http://{relay_host}:{runtime.relay_port}",
        f"isa: store {runtime.db.dialect.value}, gateways {', '.join(settings.gateways)}",
    ]
    if settings.dev_token is not None:
        # The development token exists to be typed into grpcurl; it is printed on purpose.
        lines.append(
            f"isa: development client token: {settings.dev_token.reveal()} "
            "(send 'authorization: Bearer <token>')"
        )
    print("\n".join(lines), flush=True)
