"""The service as an operator runs it: `isa migrate`, `isa serve`, signals."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import payment_service_pb2_grpc as pb_grpc

ISA = [sys.executable, "-m", "server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ISA_DATABASE_URL": f"sqlite:///{tmp_path}/isa.db",
        "ISA_GRPC_ADDR": f"127.0.0.1:{free_port()}",
        "ISA_RELAY_ADDR": f"127.0.0.1:{free_port()}",
        "ISA_DATA_DIR": str(tmp_path / "data"),
        "ISA_SHUTDOWN_GRACE_SECONDS": "2",
    }


def wait_serving(address: str, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                answer = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise AssertionError(f"{address} never answered SERVING")


@pytest.fixture
def serve(env: dict[str, str]) -> Iterator[subprocess.Popen[str]]:
    subprocess.run([*ISA, "migrate"], env=env, check=True, capture_output=True)
    process = subprocess.Popen(
        [*ISA, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(10)


def test_serve_prints_the_dev_token_and_stops_gracefully_on_sigterm(
    serve: subprocess.Popen[str], env: dict[str, str]
) -> None:
    wait_serving(env["ISA_GRPC_ADDR"])
    with grpc.insecure_channel(env["ISA_GRPC_ADDR"]) as channel:
        stub = pb_grpc.PaymentServiceStub(channel)
        created = stub.CreateCustomer(
            pb.CreateCustomerRequest(name="Ana"), metadata=(("authorization", "Bearer dev-token"),)
        )
        assert created.customer.id.startswith("cus_")
    serve.send_signal(signal.SIGTERM)
    stdout, stderr = serve.communicate(timeout=20)
    assert serve.returncode == 0, stderr
    assert "development client token: dev-token" in stdout
    assert "shutting down" in stderr
    assert "Traceback" not in stderr


def test_sigint_stops_it_too(serve: subprocess.Popen[str], env: dict[str, str]) -> None:
    wait_serving(env["ISA_GRPC_ADDR"])
    serve.send_signal(signal.SIGINT)
    serve.communicate(timeout=20)
    assert serve.returncode == 0


def wait_for_lines(path: Path, text: str, count: int, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count(text) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} never had {count} lines with {text!r}")


def test_two_workers_share_the_port(env: dict[str, str], tmp_path: Path) -> None:
    subprocess.run([*ISA, "migrate"], env=env, check=True, capture_output=True)
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*ISA, "serve", "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        try:
            wait_for_lines(log_path, '"message": "serving"', 2)
            wait_serving(env["ISA_GRPC_ADDR"])
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    stderr = log_path.read_text()
    assert process.returncode == 0, stderr
    assert stderr.count('"shutting down"') == 2
    assert "Traceback" not in stderr


def test_refuses_to_listen_beyond_loopback_with_only_the_dev_client(env: dict[str, str]) -> None:
    exposed = {**env, "ISA_GRPC_ADDR": f"0.0.0.0:{free_port()}"}
    result = subprocess.run(
        [*ISA, "serve"], env=exposed, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 2
    assert "ISA_CLIENTS_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_configuration_is_a_clear_message(env: dict[str, str]) -> None:
    result = subprocess.run(
        [*ISA, "migrate"],
        env={**env, "ISA_GATEWAYS": "venmo"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown gateways: venmo" in result.stderr


def run_isa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ISA, *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_migrate_says_what_it_did_and_ledger_check_needs_it_first(env: dict[str, str]) -> None:
    """An unmigrated store is an operator's mistake to name, not a traceback to read."""
    unmigrated = run_isa(env, "ledger", "check")
    assert unmigrated.returncode == 2
    assert "run `isa migrate` first" in unmigrated.stderr
    assert "Traceback" not in unmigrated.stderr
    assert "store schema migrated" in run_isa(env, "migrate").stderr
    assert "already up to date" in run_isa(env, "migrate").stderr
    checked = run_isa(env, "ledger", "check")
    assert (checked.returncode, checked.stdout.strip()) == (0, "ledger OK: 0 accounts checked")
