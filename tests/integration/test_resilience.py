"""Whatever anyone sends, and whatever state the store is in: a precise status."""

from __future__ import annotations

import os

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc

from isa.payment.v1 import payment_service_pb2 as pb
from server.app import NOT_YET
from server.protos import load_descriptors
from tests.conftest import TENANT_AUTH, Running, settings_for, start_running

EXPECTED_FOR_JUNK = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.OK,
}
NEVER = {grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL}


def every_method() -> list[str]:
    load_descriptors()
    pool = descriptor_pool.Default()
    return [
        f"/{name}/{method.name}"
        for name in NOT_YET
        for method in pool.FindServiceByName(name).methods
    ]


BODIES = [b"", b"\xff\xff\xff\xff", b"\x0a\x05hello", os.urandom(64), b"\x08" * 10 + b"\x80"]


async def test_no_body_on_any_method_yields_unknown_or_internal(server: Running) -> None:
    seen = set()
    for path in every_method():
        call = server.channel.unary_unary(path)
        for body in BODIES:
            try:
                await call(body, metadata=TENANT_AUTH, timeout=10)
                seen.add(grpc.StatusCode.OK)
            except grpc.aio.AioRpcError as error:
                assert error.code() not in NEVER, f"{path} answered {error.code()} to {body!r}"
                assert "Traceback" not in (error.details() or "")
                seen.add(error.code())
    assert grpc.StatusCode.INVALID_ARGUMENT in seen


async def test_undecodable_body_is_invalid_argument(server: Running) -> None:
    call = server.channel.unary_unary("/isa.payment.v1.PaymentService/CreateCustomer")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(b"\xff\xff\xff\xff", metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_unreachable_store_means_not_serving_and_unavailable(tmp_path: object) -> None:
    # Port 9 (discard) on loopback: nothing listens, so every connection is refused.
    running = await start_running(
        settings_for("postgresql+asyncpg://postgres@127.0.0.1:9/none", ISA_DEV_TOKEN="t")
    )
    try:
        health = health_pb2_grpc.HealthStub(running.channel)
        for service in ("", "isa.payment.v1.PaymentService"):
            answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
            assert answer.status == health_pb2.HealthCheckResponse.NOT_SERVING
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await running.payments().CreateCustomer(
                pb.CreateCustomerRequest(name="x"), metadata=(("authorization", "Bearer t"),)
            )
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await running.channel.close()
        await running.runtime.stop(grace=0)
