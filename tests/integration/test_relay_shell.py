"""The relay's HTTP surface: alive, ready (store reachable), metrics."""

from __future__ import annotations

import aiohttp

from isa.payment.v1 import payment_service_pb2 as pb
from tests.conftest import TENANT_AUTH, Running, settings_for, start_running


async def test_health_ready_and_metrics(server: Running) -> None:
    await server.payments().ListCustomers(pb.ListCustomersRequest(), metadata=TENANT_AUTH)
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.relay_url}/healthz") as response:
            assert response.status == 200
        async with http.get(f"{server.relay_url}/readyz") as response:
            assert response.status == 200
            assert (await response.json())["store"] == "reachable"
        async with http.get(f"{server.relay_url}/metrics") as response:
            assert response.status == 200
            assert response.content_type == "text/plain"
            text = await response.text()
    method = "/isa.payment.v1.PaymentService/ListCustomers"
    assert f'isa_grpc_requests_total{{code="OK",method="{method}"}} 1.0' in text
    assert "isa_relay_http_requests_total" in text


async def test_not_ready_while_the_store_is_unreachable() -> None:
    running = await start_running(settings_for("postgresql+asyncpg://postgres@127.0.0.1:9/none"))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{running.relay_url}/readyz") as response:
                assert response.status == 503
            async with http.get(f"{running.relay_url}/healthz") as response:
                assert response.status == 200
    finally:
        await running.channel.close()
        await running.runtime.stop(grace=0)
