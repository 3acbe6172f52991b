"""Server lifecycle: prepare a store, migrate it, start ``isa serve``, wait, stop.

The server runs exactly as a user runs it (the ``isa`` script of this virtualenv), in
its own session so that a Ctrl-C meant for the harness reaches it only through an
orderly SIGTERM. Its stdout and stderr go to a log file under ``bench/results/``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import asyncpg
import grpc
from grpc_health.v1 import health_pb2
from sqlalchemy.engine import URL, make_url

from bench.rows import serialize

HOST: Final = "127.0.0.1"
TOKEN: Final = "bench-dev-token"
POSTGRES_PORT: Final = 5432
POSTGRES_USER: Final = "postgres"
POSTGRES_DB: Final = "isa_bench"
MIGRATE_TIMEOUT: Final = 120.0
START_TIMEOUT: Final = 30.0
STOP_TIMEOUT: Final = 30.0
PROBE_INTERVAL: Final = 0.1
#: Fresh connections probed under ``--workers N``: each may land on any worker.
WORKER_PROBES: Final = 8
LOG_TAIL_LINES: Final = 15


class BenchError(RuntimeError):
    """A failure that makes the run exit non-zero: the message says what and where."""


@dataclass(frozen=True, slots=True)
class Store:
    """A store the server runs on: its name in the table and its ``ISA_DATABASE_URL``."""

    name: str
    url: str


def free_port() -> int:
    """A port nobody listens on now (the OS picks it; ``--workers`` needs a fixed one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def isa_command() -> list[str]:
    """The ``isa`` script beside this interpreter: the command users type."""
    script = Path(sys.executable).with_name("isa")
    if not script.exists():
        raise BenchError(f"{script} not found: run 'make setup' first")
    return [str(script)]


def server_env(
    store: Store,
    workdir: Path,
    grpc_port: int,
    relay_port: int,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The user's environment minus any ``ISA_*`` setting that would change what we measure
    (plus a row's own ``extra`` settings, such as injected gateway latency)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ISA_")}
    env.update(
        ISA_DATABASE_URL=store.url,
        ISA_GRPC_ADDR=f"{HOST}:{grpc_port}",
        ISA_RELAY_ADDR=f"{HOST}:{relay_port}",
        ISA_PUBLIC_RELAY_URL=f"http://{HOST}:{relay_port}",
        ISA_DEV_TOKEN=TOKEN,
        ISA_DATA_DIR=str(workdir / "data"),
        ISA_LOG_LEVEL=os.environ.get("ISA_LOG_LEVEL", "INFO"),
    )
    env.update(extra or {})
    return env


def log_tail(path: Path) -> str:
    """The log's name and its last lines: usually the traceback that explains a failure."""
    lines = path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
    return f"{path}:\n" + "\n".join(f"    {line}" for line in lines)


def migrate(store: Store, workdir: Path, log_path: Path) -> None:
    """``isa migrate``, as ``make run`` does before serving."""
    env = server_env(store, workdir, 0, 0)
    with log_path.open("ab") as log:
        try:
            done = subprocess.run(
                [*isa_command(), "migrate"],
                env=env,
                cwd=workdir,
                stdout=log,
                stderr=log,
                timeout=MIGRATE_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise BenchError(
                f"isa migrate ({store.name}) took over {MIGRATE_TIMEOUT:.0f}s"
            ) from None
    if done.returncode != 0:
        raise BenchError(
            f"isa migrate ({store.name}) exited {done.returncode}; {log_tail(log_path)}"
        )


class Server:
    """One ``isa serve [--workers N]`` process and the address the load should call."""

    def __init__(
        self,
        store: Store,
        workdir: Path,
        log_path: Path,
        workers: int,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self._extra_env = dict(extra_env or {})
        self.workers = workers
        self.log_path = log_path
        self.grpc_port = free_port()
        self._relay_port = free_port()
        self._workdir = workdir
        self._process: subprocess.Popen[bytes] | None = None
        self._exit_reported = False

    @property
    def target(self) -> str:
        return f"{HOST}:{self.grpc_port}"

    @property
    def relay_url(self) -> str:
        return f"http://{HOST}:{self._relay_port}"

    @property
    def label(self) -> str:
        return f"isa serve --workers {self.workers} ({self.store.name})"

    def start(self) -> None:
        env = server_env(
            self.store, self._workdir, self.grpc_port, self._relay_port, self._extra_env
        )
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [*isa_command(), "serve", "--workers", str(self.workers)],
                env=env,
                cwd=self._workdir,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        """The ``isa serve`` process (with ``--workers N``, the workers' parent)."""
        return None if self._process is None else self._process.pid

    def exit_code(self) -> int | None:
        """``None`` while running; the exit status once the process has ended."""
        return None if self._process is None else self._process.poll()

    def check_alive(self) -> None:
        code = self.exit_code()
        if code is not None:
            self._exit_reported = True
            raise BenchError(f"{self.label} exited with status {code}; {log_tail(self.log_path)}")

    def wait_ready(self) -> None:
        """Health SERVING on every probed connection, and one listener per worker, in time."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self.check_alive()
            if listeners(self.grpc_port) >= self.workers and all_serving(
                self.target, WORKER_PROBES if self.workers > 1 else 1
            ):
                return
            time.sleep(PROBE_INTERVAL)
        raise BenchError(
            f"{self.label} was not SERVING on {self.target} within {START_TIMEOUT:.0f}s; "
            f"{log_tail(self.log_path)}"
        )

    def stop(self) -> str | None:
        """SIGTERM, as an operator stops it; returns what went wrong, if anything.

        A server that ignores SIGTERM is killed (its whole session: the workers too).
        """
        process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)
            return f"{self.label} ignored SIGTERM for {STOP_TIMEOUT:.0f}s; killed"
        if code != 0 and not self._exit_reported:
            return f"{self.label} exited with status {code}; {log_tail(self.log_path)}"
        return None


@contextmanager
def running(server: Server, on_stop_problem: Callable[[str], None]) -> Iterator[Server]:
    """A started, ready server, stopped however the block ends.

    A problem while stopping is handed to ``on_stop_problem`` rather than raised, so it
    never hides the exception that ended the block.
    """
    try:
        server.start()
        server.wait_ready()
        yield server
    finally:
        problem = server.stop()
        if problem is not None:
            on_stop_problem(problem)


def listeners(port: int) -> int:
    """Listening sockets on ``port``: under SO_REUSEPORT, one per worker that has bound.

    gRPC binds 127.0.0.1 as an IPv4-mapped IPv6 socket, so both tables count. Where /proc
    is not readable, the health probes alone decide.
    """
    suffix = f":{port:04X}"
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            return sys.maxsize
        count += sum(1 for line in lines if _listens_on(line.split(), suffix))
    return count


def _listens_on(fields: list[str], suffix: str) -> bool:
    """A /proc/net/tcp row: ``sl local remote state ...``; state 0A is LISTEN."""
    return len(fields) > 3 and fields[1].endswith(suffix) and fields[3] == "0A"


def all_serving(target: str, probes: int) -> bool:
    """``Health/Check`` answers SERVING on ``probes`` fresh connections."""
    return asyncio.run(_all_serving(target, probes))


async def _all_serving(target: str, probes: int) -> bool:
    options = [("grpc.use_local_subchannel_pool", 1)]
    for _ in range(probes):
        async with grpc.aio.insecure_channel(target, options=options) as channel:
            check = channel.unary_unary(
                "/grpc.health.v1.Health/Check",
                request_serializer=serialize,
                response_deserializer=health_pb2.HealthCheckResponse.FromString,
            )
            try:
                answer = await check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
            except grpc.aio.AioRpcError:
                return False
            if answer.status != health_pb2.HealthCheckResponse.SERVING:
                return False
    return True


def postgres_url() -> str:
    """``ISA_BENCH_DATABASE_URL`` if set (so parallel runs use their own database)."""
    return os.environ.get("ISA_BENCH_DATABASE_URL") or (
        f"postgresql+asyncpg://{POSTGRES_USER}@{HOST}:{POSTGRES_PORT}/{POSTGRES_DB}"
    )


def postgres_store() -> Store:
    """Drop and recreate the bench database; raises ``OSError``/``PostgresError`` if unreachable."""
    url = postgres_url()
    asyncio.run(_recreate_database(make_url(url)))
    return Store("postgresql", url)


#: asyncpg ships no annotations; this is the one signature the harness relies on.
_connect: Callable[..., Awaitable[Any]] = asyncpg.connect


async def _recreate_database(url: URL) -> None:
    name = url.database or POSTGRES_DB
    if not name.replace("_", "").isalnum():
        raise BenchError(f"bench database name {name!r} must be letters, digits and _")
    connection = await _connect(
        host=url.host or HOST,
        port=url.port or POSTGRES_PORT,
        user=url.username or POSTGRES_USER,
        password=url.password,
        database="postgres",
        timeout=5,
    )
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def sqlite_store(workdir: Path) -> Store:
    return Store("sqlite", f"sqlite:///{workdir / 'isa.db'}")
