"""WebhookService over gRPC: endpoints per client, secrets shown once, idempotent changes,
events and deliveries as a consumer lists them, and the server's own worker delivering."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import grpc
import pytest
import standardwebhooks
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask

from isa.webhook.v1 import resources_pb2 as resources
from isa.webhook.v1 import webhook_service_pb2 as pb
from isa.webhook.v1 import webhook_service_pb2_grpc
from store.db import Database
from tests.conftest import OTHER_AUTH, TENANT, TENANT_AUTH, Running
from tests.integration.test_customers import field_violations
from tests.polling import eventually, until
from tests.webhook_support import Receiver, emit


def stub(server: Running) -> webhook_service_pb2_grpc.WebhookServiceStub:
    return webhook_service_pb2_grpc.WebhookServiceStub(server.channel)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    running = await Receiver().start()
    yield running
    await running.stop()


async def create(server: Running, url: str, **fields: object) -> resources.Endpoint:
    response = await stub(server).CreateEndpoint(
        pb.CreateEndpointRequest(url=url, **fields),  # type: ignore[arg-type]
        metadata=TENANT_AUTH,
    )
    return response.endpoint


async def test_created_endpoint_shows_its_secret_once(server: Running) -> None:
    created = await create(
        server,
        "https://tenant.example.com/hooks",
        event_types=["payment.succeeded", "invoice.*"],
        forward_gateway_events=["stripe.*"],
        description="portal",
        metadata={"team": "billing"},
    )
    assert created.id.startswith("we_")
    assert created.secret.startswith("whsec_")
    assert created.status == resources.ENDPOINT_STATUS_ENABLED
    fetched = (
        await stub(server).GetEndpoint(pb.GetEndpointRequest(id=created.id), metadata=TENANT_AUTH)
    ).endpoint
    assert fetched.secret == ""
    assert list(fetched.event_types) == ["payment.succeeded", "invoice.*"]
    assert list(fetched.forward_gateway_events) == ["stripe.*"]
    assert dict(fetched.metadata) == {"team": "billing"}
    listed = await stub(server).ListEndpoints(pb.ListEndpointsRequest(), metadata=TENANT_AUTH)
    assert [e.id for e in listed.endpoints] == [created.id]
    assert listed.endpoints[0].secret == ""


async def test_endpoints_are_scoped_to_their_client(server: Running) -> None:
    mine = await create(server, "https://tenant.example.com/hooks")
    for call, request in (
        (stub(server).GetEndpoint, pb.GetEndpointRequest(id=mine.id)),
        (stub(server).DeleteEndpoint, pb.DeleteEndpointRequest(id=mine.id)),
        (stub(server).RotateEndpointSecret, pb.RotateEndpointSecretRequest(id=mine.id)),
        (stub(server).UpdateEndpoint, pb.UpdateEndpointRequest(id=mine.id, description="x")),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(request, metadata=OTHER_AUTH)  # type: ignore[operator]
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await stub(server).ListEndpoints(pb.ListEndpointsRequest(), metadata=OTHER_AUTH)
    assert list(listed.endpoints) == []


async def test_bad_endpoint_requests_name_every_bad_field(server: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).CreateEndpoint(
            pb.CreateEndpointRequest(
                url="http://tenant.example.com/hooks",
                event_types=["payment.succeeded", "nonsense.happened"],
                forward_gateway_events=["bitbank.*"],
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = field_violations(caught.value)
    assert set(violations) == {"url", "event_types[1]", "forward_gateway_events[0]"}
    assert "https" in violations["url"]


async def test_create_is_idempotent_with_a_key(server: Running) -> None:
    request = pb.CreateEndpointRequest(url="https://a.example.com/h", idempotency_key="ep-1")
    first = await stub(server).CreateEndpoint(request, metadata=TENANT_AUTH)
    again = await stub(server).CreateEndpoint(request, metadata=TENANT_AUTH)
    assert again == first
    listed = await stub(server).ListEndpoints(pb.ListEndpointsRequest(), metadata=TENANT_AUTH)
    assert len(listed.endpoints) == 1
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).CreateEndpoint(
            pb.CreateEndpointRequest(url="https://b.example.com/h", idempotency_key="ep-1"),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_update_changes_only_the_masked_fields(server: Running) -> None:
    created = await create(
        server, "https://a.example.com/h", event_types=["payment.*"], description="first"
    )
    updated = (
        await stub(server).UpdateEndpoint(
            pb.UpdateEndpointRequest(
                id=created.id,
                description="",
                event_types=[],
                status=resources.ENDPOINT_STATUS_DISABLED,
                update_mask=FieldMask(paths=["description", "status"]),
            ),
            metadata=TENANT_AUTH,
        )
    ).endpoint
    assert updated.description == ""
    assert list(updated.event_types) == ["payment.*"]
    assert updated.status == resources.ENDPOINT_STATUS_DISABLED
    assert updated.secret == ""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).UpdateEndpoint(
            pb.UpdateEndpointRequest(id=created.id, update_mask=FieldMask(paths=["secret"])),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_rotate_returns_a_new_secret_and_delete_forgets_the_endpoint(
    server: Running,
) -> None:
    created = await create(server, "https://a.example.com/h")
    rotated = (
        await stub(server).RotateEndpointSecret(
            pb.RotateEndpointSecretRequest(id=created.id, previous_secret_ttl=Duration(seconds=60)),
            metadata=TENANT_AUTH,
        )
    ).endpoint
    assert rotated.secret.startswith("whsec_")
    assert rotated.secret != created.secret
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).RotateEndpointSecret(
            pb.RotateEndpointSecretRequest(
                id=created.id, previous_secret_ttl=Duration(seconds=8 * 86400)
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    deleted = await stub(server).DeleteEndpoint(
        pb.DeleteEndpointRequest(id=created.id), metadata=TENANT_AUTH
    )
    assert deleted.endpoint.id == created.id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).GetEndpoint(pb.GetEndpointRequest(id=created.id), metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_the_server_delivers_events_and_lists_them_with_their_attempts(
    server: Running, receiver: Receiver, migrated_url: str
) -> None:
    created = await create(server, receiver.url, event_types=["payment.*"])
    db = Database(migrated_url)
    try:
        event = await emit(db, TENANT[0], amount=500)
        await emit(db, "other-tenant")
    finally:
        await db.dispose()
    await until(lambda: len(receiver.received) >= 1)
    got = receiver.received[0]
    assert standardwebhooks.Webhook(created.secret).verify(got.body, got.headers)["id"] == event.id

    events = await stub(server).ListEvents(
        pb.ListEventsRequest(type="payment.succeeded"), metadata=TENANT_AUTH
    )
    assert [e.id for e in events.events] == [event.id]
    assert events.events[0].payload == event.payload
    fetched = await stub(server).GetEvent(pb.GetEventRequest(id=event.id), metadata=TENANT_AUTH)
    assert fetched.event.resource_id == "pi_test"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).GetEvent(pb.GetEventRequest(id=event.id), metadata=OTHER_AUTH)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND

    async def delivered() -> pb.ListDeliveriesResponse | None:
        listing = await stub(server).ListDeliveries(
            pb.ListDeliveriesRequest(endpoint_id=created.id), metadata=TENANT_AUTH
        )
        succeeded = listing.deliveries[0].status == resources.DELIVERY_STATUS_SUCCEEDED
        return listing if succeeded else None

    listing = await eventually(delivered, seconds=10)
    [delivery] = listing.deliveries
    assert delivery.event_id == event.id
    for status, expected in (
        (resources.DELIVERY_STATUS_SUCCEEDED, [delivery.id]),
        (resources.DELIVERY_STATUS_FAILED, []),
    ):
        filtered = await stub(server).ListDeliveries(
            pb.ListDeliveriesRequest(event_id=event.id, status=status), metadata=TENANT_AUTH
        )
        assert [d.id for d in filtered.deliveries] == expected
    assert [a.response_code for a in delivery.attempts] == [204]
    assert delivery.attempts[0].time.seconds > 0

    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.relay_url}/metrics") as response,
    ):
        metrics = await response.text()
    assert 'isa_relay_delivery_attempts_total{outcome="succeeded"} 1.0' in metrics
    assert "isa_relay_outbox_depth" in metrics
    assert "isa_relay_delivery_seconds_count 1.0" in metrics

    replay = await stub(server).ReplayEvent(
        pb.ReplayEventRequest(event_id=event.id, idempotency_key="replay-1"), metadata=TENANT_AUTH
    )
    assert [d.status for d in replay.deliveries] == [resources.DELIVERY_STATUS_PENDING]
    await until(lambda: len(receiver.received) >= 2)
    assert receiver.received[1].headers["webhook-id"] == event.id


async def test_replay_to_a_disabled_endpoint_is_refused(server: Running, migrated_url: str) -> None:
    created = await create(server, "https://a.example.com/h")
    await stub(server).UpdateEndpoint(
        pb.UpdateEndpointRequest(id=created.id, status=resources.ENDPOINT_STATUS_DISABLED),
        metadata=TENANT_AUTH,
    )
    db = Database(migrated_url)
    try:
        event = await emit(db, TENANT[0])
    finally:
        await db.dispose()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).ReplayEvent(
            pb.ReplayEventRequest(event_id=event.id, endpoint_id=created.id),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_endpoints_page_newest_first_and_unknown_filters_are_refused(
    server: Running, migrated_url: str
) -> None:
    created = [(await create(server, f"https://e{i}.example.com/h")).id for i in range(5)]
    first = await stub(server).ListEndpoints(
        pb.ListEndpointsRequest(page_size=2), metadata=TENANT_AUTH
    )
    assert [e.id for e in first.endpoints] == created[::-1][:2]
    seen = [e.id for e in first.endpoints]
    token = first.next_page_token
    while token:
        page = await stub(server).ListEndpoints(
            pb.ListEndpointsRequest(page_size=2, page_token=token), metadata=TENANT_AUTH
        )
        seen += [e.id for e in page.endpoints]
        token = page.next_page_token
    assert seen == created[::-1]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).ListEndpoints(
            pb.ListEndpointsRequest(page_token="not-a-token"), metadata=TENANT_AUTH
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).ListDeliveries(
            pb.ListDeliveriesRequest(endpoint_id="we_unknown"), metadata=TENANT_AUTH
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("wanted", "types"),
    [
        ("payment.*", ["payment.failed", "payment.succeeded"]),
        ("payment_method.*", ["payment_method.attached"]),
        (
            "*",
            [
                "payment_method.attached",
                "wallet.deposit.failed",
                "payment.failed",
                "payment.succeeded",
            ],
        ),
        ("wallet.deposit.failed", ["wallet.deposit.failed"]),
        ("credit.*", []),
    ],
)
async def test_events_are_listed_by_the_patterns_endpoints_subscribe_with(
    server: Running, migrated_url: str, wanted: str, types: list[str]
) -> None:
    db = Database(migrated_url)
    try:
        for event_type in (
            "payment.succeeded",
            "payment.failed",
            "wallet.deposit.failed",
            "payment_method.attached",
        ):
            await emit(db, TENANT[0], event_type)
        await emit(db, "other-tenant", "payment.failed")
    finally:
        await db.dispose()
    listed = await stub(server).ListEvents(pb.ListEventsRequest(type=wanted), metadata=TENANT_AUTH)
    assert [e.type for e in listed.events] == types  # newest first, the caller's only
