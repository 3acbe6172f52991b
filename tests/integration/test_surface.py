"""What any caller sees first: the service list, health, auth, and honest UNIMPLEMENTED."""

from __future__ import annotations

import json
import logging

import grpc
import pytest
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from isa.brokerage.v1 import brokerage_service_pb2 as brokerage_pb
from isa.brokerage.v1 import brokerage_service_pb2_grpc as brokerage_grpc
from isa.payment.v1 import payment_service_pb2 as pb
from server.app import NOT_YET
from server.logs import JsonFormatter
from tests.conftest import BILLING_AUTH, TENANT_AUTH, Running, bearer
from tests.ledger_support import error_info

ISA_SERVICES = sorted(NOT_YET)


async def test_reflection_lists_every_service(server: Running) -> None:
    stub = reflection_pb2_grpc.ServerReflectionStub(server.channel)

    async def one_request():  # type: ignore[no-untyped-def]
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    responses = [response async for response in stub.ServerReflectionInfo(one_request())]
    names = sorted(s.name for s in responses[0].list_services_response.service)
    assert names == sorted(
        [*ISA_SERVICES, "grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"]
    )


async def test_reflection_describes_a_service_by_symbol(server: Running) -> None:
    """What ``grpcurl describe`` asks: the file that defines a service."""
    stub = reflection_pb2_grpc.ServerReflectionStub(server.channel)

    async def one_request():  # type: ignore[no-untyped-def]
        yield reflection_pb2.ServerReflectionRequest(
            file_containing_symbol="isa.wallet.v1.WalletService"
        )

    responses = [response async for response in stub.ServerReflectionInfo(one_request())]
    files = [
        descriptor_pb2.FileDescriptorProto.FromString(raw)
        for raw in responses[0].file_descriptor_response.file_descriptor_proto
    ]
    services = {f"{f.package}.{s.name}" for f in files for s in f.service}
    assert "isa.wallet.v1.WalletService" in services


async def test_health_watch_streams_the_current_status(server: Running) -> None:
    stub = health_pb2_grpc.HealthStub(server.channel)
    watch = stub.Watch(health_pb2.HealthCheckRequest(service="isa.wallet.v1.WalletService"))
    first = await watch.read()
    watch.cancel()
    assert first.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("service", ["", *ISA_SERVICES])
async def test_health_serves_overall_and_per_service(server: Running, service: str) -> None:
    stub = health_pb2_grpc.HealthStub(server.channel)
    answer = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_call_without_token_is_unauthenticated(server: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().ListCustomers(pb.ListCustomersRequest())
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(caught.value).reason == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    "header", ["Bearer wrong-token", "Basic dGVuYW50LXRva2Vu", "tenant-token", ""]
)
async def test_call_with_bad_credentials_is_unauthenticated(server: Running, header: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().ListCustomers(
            pb.ListCustomersRequest(), metadata=(("authorization", header),)
        )
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_token_lacking_the_service_is_permission_denied(server: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().ListCustomers(pb.ListCustomersRequest(), metadata=BILLING_AUTH)
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    info = error_info(caught.value)
    assert info.reason == "SERVICE_NOT_ALLOWED"
    assert info.metadata["service"] == "isa.payment.v1.PaymentService"


async def test_capability_not_built_yet_says_so(server: Running) -> None:
    stub = brokerage_grpc.BrokerageServiceStub(server.channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListAccounts(brokerage_pb.ListAccountsRequest(), metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "not built yet" in (caught.value.details() or "")
    info = error_info(caught.value)
    assert info.reason == "NOT_IMPLEMENTED"
    assert info.domain == "isa.payments"


async def test_request_id_is_echoed_or_made(server: Running) -> None:
    call = server.payments().ListCustomers(
        pb.ListCustomersRequest(), metadata=(*TENANT_AUTH, ("x-request-id", "req-123"))
    )
    await call
    assert ("x-request-id", "req-123") in tuple(await call.trailing_metadata())
    call = server.payments().ListCustomers(pb.ListCustomersRequest(), metadata=TENANT_AUTH)
    await call
    made = dict(await call.trailing_metadata())["x-request-id"]
    assert len(made) == 32


@pytest.mark.parametrize(
    "metadata",
    [
        pytest.param((*TENANT_AUTH, ("x-request-id", "req-err")), id="bad-input"),
        pytest.param((("x-request-id", "req-err"),), id="unauthenticated"),
    ],
)
async def test_errors_carry_the_request_id_beside_their_details(
    server: Running, metadata: tuple[tuple[str, str], ...]
) -> None:
    """A failed call is the one whose id a caller quotes: aborting must keep it."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().GetCustomer(pb.GetCustomerRequest(id=""), metadata=metadata)
    assert caught.value.code() in (
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.UNAUTHENTICATED,
    )
    trailing = tuple(caught.value.trailing_metadata() or ())
    assert ("x-request-id", "req-err") in trailing
    assert error_info(caught.value).domain == "isa.payments"


async def test_every_call_logs_one_json_line_with_its_facts(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="isa.rpc"):
        await server.payments().ListCustomers(
            pb.ListCustomersRequest(), metadata=(*TENANT_AUTH, ("x-request-id", "req-log-1"))
        )
        with pytest.raises(grpc.aio.AioRpcError):
            await server.payments().ListCustomers(
                pb.ListCustomersRequest(page_size=-1),
                metadata=(*TENANT_AUTH, ("x-request-id", "req-log-2")),
            )
        with pytest.raises(grpc.aio.AioRpcError):
            await server.payments().ListCustomers(
                pb.ListCustomersRequest(), metadata=(("x-request-id", "req-log-3"),)
            )
    lines = [
        json.loads(JsonFormatter().format(record))
        for record in caplog.records
        if record.name == "isa.rpc"
    ]
    facts = [
        (line["request_id"], line["rpc_method"], line["code"], line["client_id"]) for line in lines
    ]
    method = "/isa.payment.v1.PaymentService/ListCustomers"
    assert facts == [
        ("req-log-1", method, "OK", "tenant-portal"),
        ("req-log-2", method, "INVALID_ARGUMENT", "tenant-portal"),
        ("req-log-3", method, "UNAUTHENTICATED", None),
    ]
    assert all(line["level"] == "INFO" and line["message"] == "rpc" for line in lines)
    assert all(line["duration_ms"] >= 0 for line in lines)


async def test_unknown_method_is_unimplemented_not_unknown(server: Running) -> None:
    call = server.channel.unary_unary("/isa.payment.v1.PaymentService/NoSuchMethod")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(b"", metadata=bearer("tenant-token"))
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
