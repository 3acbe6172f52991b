"""isa.webhook.v1.WebhookService: endpoints, events, deliveries, the inbound gateway log."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Final
from urllib.parse import urlsplit

from google.protobuf.duration_pb2 import Duration
from sqlalchemy.ext.asyncio import AsyncSession

from isa.webhook.v1 import resources_pb2 as resources
from isa.webhook.v1 import webhook_service_pb2 as pb
from server.context import caller
from server.idempotency import Idempotency
from server.interceptors import Context
from server.servicers.support import Checks, page_messages, run_idempotent, timestamp
from server.webhooks.deliveries import Delivery, DeliveryService, Event
from server.webhooks.endpoints import (
    DEFAULT_PREVIOUS_SECRET_TTL,
    MAX_PREVIOUS_SECRET_TTL,
    Endpoint,
    EndpointChanges,
    EndpointService,
    NewEndpoint,
    unroutable_address,
)
from server.webhooks.inbound import GatewayEvent, GatewayEventService
from server.webhooks.matching import (
    WEBHOOK_GATEWAYS,
    event_type_problem,
    forward_pattern_problem,
)
from store import gateway_events
from store.webhooks import ENABLED, FAILED, PENDING, SUCCEEDED, DeliveryFilter

MAX_URL_LENGTH: Final = 2048
MAX_PATTERNS: Final = 100
UPDATABLE: Final = frozenset(
    {"url", "event_types", "forward_gateway_events", "description", "status", "metadata"}
)
_DELIVERY_STATUS: Final = {
    PENDING: resources.DELIVERY_STATUS_PENDING,
    SUCCEEDED: resources.DELIVERY_STATUS_SUCCEEDED,
    FAILED: resources.DELIVERY_STATUS_FAILED,
}
_DELIVERY_FILTER: Final = {value: key for key, value in _DELIVERY_STATUS.items()}

_GATEWAY_STATUS: Final = {
    gateway_events.RECEIVED: resources.GATEWAY_EVENT_STATUS_RECEIVED,
    gateway_events.UNAPPLIED: resources.GATEWAY_EVENT_STATUS_RECEIVED,
    gateway_events.PROCESSED: resources.GATEWAY_EVENT_STATUS_PROCESSED,
    gateway_events.IGNORED: resources.GATEWAY_EVENT_STATUS_IGNORED,
    gateway_events.FAILED: resources.GATEWAY_EVENT_STATUS_FAILED,
}
_GATEWAY_FILTER: Final = {
    resources.GATEWAY_EVENT_STATUS_RECEIVED: gateway_events.RECEIVED,
    resources.GATEWAY_EVENT_STATUS_PROCESSED: gateway_events.PROCESSED,
    resources.GATEWAY_EVENT_STATUS_IGNORED: gateway_events.IGNORED,
    resources.GATEWAY_EVENT_STATUS_FAILED: gateway_events.FAILED,
}


def _is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(checks: Checks, field: str, url: str) -> str:
    if not url:
        checks.fail(field, "is required (an https URL)")
        return url
    if len(url) > MAX_URL_LENGTH:
        checks.fail(field, f"must be at most {MAX_URL_LENGTH} characters")
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        checks.fail(field, "is not a valid URL")
        return url
    if parts.scheme not in {"https", "http"} or not host:
        checks.fail(
            field,
            "must be an https URL such as https://example.com/webhooks (http for localhost only)",
        )
    elif unroutable_address(host):
        checks.fail(field, "must not be a link-local, unspecified, multicast or reserved address")
    elif parts.scheme == "http" and not _is_local(host):
        checks.fail(field, "must use https (http is allowed for localhost only)")
    return url


def check_patterns(
    checks: Checks, field: str, values: list[str], *, forward: bool
) -> tuple[str, ...]:
    if len(values) > MAX_PATTERNS:
        checks.fail(field, f"may hold at most {MAX_PATTERNS} entries")
    for index, value in enumerate(values):
        problem = forward_pattern_problem(value) if forward else event_type_problem(value)
        if problem is not None:
            checks.fail(f"{field}[{index}]", problem)
    return tuple(dict.fromkeys(values))


def endpoint_message(endpoint: Endpoint, *, with_secret: bool = False) -> resources.Endpoint:
    return resources.Endpoint(
        id=endpoint.id,
        url=endpoint.url,
        secret=endpoint.secret if with_secret else "",
        event_types=endpoint.event_types,
        status=resources.ENDPOINT_STATUS_ENABLED
        if endpoint.status == ENABLED
        else resources.ENDPOINT_STATUS_DISABLED,
        description=endpoint.description,
        forward_gateway_events=endpoint.forward_gateway_events,
        metadata=endpoint.metadata,
        create_time=timestamp(endpoint.create_time),
        update_time=timestamp(endpoint.update_time),
    )


def event_message(event: Event) -> resources.Event:
    return resources.Event(
        id=event.id,
        type=event.type,
        payload=event.payload,
        resource_id=event.resource_id,
        gateway_event_id=event.gateway_event_id or "",
        create_time=timestamp(event.create_time),
        update_time=timestamp(event.create_time),
    )


def _duration(milliseconds: int) -> Duration:
    value = Duration()
    value.FromMilliseconds(milliseconds)
    return value


def delivery_message(delivery: Delivery) -> resources.Delivery:
    return resources.Delivery(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        status=_DELIVERY_STATUS[delivery.status],
        attempts=[
            resources.DeliveryAttempt(
                time=timestamp(a.time),
                response_code=a.response_code,
                latency=_duration(a.latency_ms),
                error=a.error,
            )
            for a in delivery.attempts
        ],
        next_attempt_time=timestamp(delivery.next_attempt_time)
        if delivery.status == PENDING
        else None,
        create_time=timestamp(delivery.create_time),
        update_time=timestamp(delivery.update_time),
    )


def gateway_event_message(event: GatewayEvent) -> resources.GatewayEvent:
    return resources.GatewayEvent(
        id=event.id,
        gateway=event.gateway,
        gateway_event_id=event.gateway_event_id,
        type=event.type,
        status=_GATEWAY_STATUS[event.status],
        payload=event.payload,
        error=event.error,
        resource_id=event.resource_id,
        process_time=timestamp(event.process_time),
        attempt_count=event.attempt_count,
        create_time=timestamp(event.create_time),
        update_time=timestamp(event.update_time),
    )


class WebhookServicer:
    def __init__(
        self,
        idempotency: Idempotency,
        endpoints: EndpointService,
        deliveries: DeliveryService,
        gateway_events: GatewayEventService,
    ) -> None:
        self._idempotency = idempotency
        self._endpoints = endpoints
        self._deliveries = deliveries
        self._gateway_events = gateway_events

    async def CreateEndpoint(
        self, request: pb.CreateEndpointRequest, _context: Context
    ) -> pb.CreateEndpointResponse:
        checks = Checks()
        new = NewEndpoint(
            url=check_url(checks, "url", request.url),
            event_types=check_patterns(
                checks, "event_types", list(request.event_types), forward=False
            ),
            forward_gateway_events=check_patterns(
                checks, "forward_gateway_events", list(request.forward_gateway_events), forward=True
            ),
            description=checks.text("description", request.description, max_length=500),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def create(session: AsyncSession) -> pb.CreateEndpointResponse:
            endpoint = await self._endpoints.create(session, client_id, new)
            return pb.CreateEndpointResponse(endpoint=endpoint_message(endpoint, with_secret=True))

        return await run_idempotent(
            self._idempotency, request, key, pb.CreateEndpointResponse, create
        )

    async def ListEndpoints(
        self, request: pb.ListEndpointsRequest, _context: Context
    ) -> pb.ListEndpointsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        checks.raise_if_any()
        page = await self._endpoints.list(caller().id, page_request)
        endpoints, next_page_token = page_messages(page, endpoint_message)
        return pb.ListEndpointsResponse(endpoints=endpoints, next_page_token=next_page_token)

    async def GetEndpoint(
        self, request: pb.GetEndpointRequest, _context: Context
    ) -> pb.GetEndpointResponse:
        checks = Checks()
        endpoint_id = checks.resource_id("id", request.id, prefix="we")
        checks.raise_if_any()
        endpoint = await self._endpoints.get(caller().id, endpoint_id)
        return pb.GetEndpointResponse(endpoint=endpoint_message(endpoint))

    async def UpdateEndpoint(
        self, request: pb.UpdateEndpointRequest, _context: Context
    ) -> pb.UpdateEndpointResponse:
        checks = Checks()
        endpoint_id = checks.resource_id("id", request.id, prefix="we")
        mask = set(request.update_mask.paths)
        for path in mask - UPDATABLE:
            checks.fail("update_mask", f"{path!r} cannot be changed; one of {sorted(UPDATABLE)}")
        if not mask:
            mask = {
                name
                for name, given in (
                    ("url", bool(request.url)),
                    ("event_types", bool(request.event_types)),
                    ("forward_gateway_events", bool(request.forward_gateway_events)),
                    ("description", bool(request.description)),
                    ("status", request.status != resources.ENDPOINT_STATUS_UNSPECIFIED),
                    ("metadata", bool(request.metadata)),
                )
                if given
            }
        enabled = None
        if "status" in mask:
            if request.status == resources.ENDPOINT_STATUS_UNSPECIFIED:
                checks.fail("status", "must be ENDPOINT_STATUS_ENABLED or ENDPOINT_STATUS_DISABLED")
            enabled = request.status == resources.ENDPOINT_STATUS_ENABLED
        changes = EndpointChanges(
            url=check_url(checks, "url", request.url) if "url" in mask else None,
            event_types=check_patterns(
                checks, "event_types", list(request.event_types), forward=False
            )
            if "event_types" in mask
            else None,
            forward_gateway_events=check_patterns(
                checks, "forward_gateway_events", list(request.forward_gateway_events), forward=True
            )
            if "forward_gateway_events" in mask
            else None,
            description=checks.text("description", request.description, max_length=500)
            if "description" in mask
            else None,
            enabled=enabled,
            metadata=checks.metadata("metadata", request.metadata) if "metadata" in mask else None,
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def update(session: AsyncSession) -> pb.UpdateEndpointResponse:
            endpoint = await self._endpoints.update(session, client_id, endpoint_id, changes)
            return pb.UpdateEndpointResponse(endpoint=endpoint_message(endpoint))

        return await run_idempotent(
            self._idempotency, request, key, pb.UpdateEndpointResponse, update
        )

    async def DeleteEndpoint(
        self, request: pb.DeleteEndpointRequest, _context: Context
    ) -> pb.DeleteEndpointResponse:
        checks = Checks()
        endpoint_id = checks.resource_id("id", request.id, prefix="we")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def delete(session: AsyncSession) -> pb.DeleteEndpointResponse:
            endpoint = await self._endpoints.delete(session, client_id, endpoint_id)
            return pb.DeleteEndpointResponse(endpoint=endpoint_message(endpoint))

        return await run_idempotent(
            self._idempotency, request, key, pb.DeleteEndpointResponse, delete
        )

    async def RotateEndpointSecret(
        self, request: pb.RotateEndpointSecretRequest, _context: Context
    ) -> pb.RotateEndpointSecretResponse:
        checks = Checks()
        endpoint_id = checks.resource_id("id", request.id, prefix="we")
        ttl = DEFAULT_PREVIOUS_SECRET_TTL
        asked = (
            checks.duration("previous_secret_ttl", request.previous_secret_ttl)
            if request.HasField("previous_secret_ttl")
            else None
        )
        if asked is not None:
            ttl = asked
            if not dt.timedelta(0) <= ttl <= MAX_PREVIOUS_SECRET_TTL:
                checks.fail("previous_secret_ttl", "must be between 0 and 7 days")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def rotate(session: AsyncSession) -> pb.RotateEndpointSecretResponse:
            endpoint = await self._endpoints.rotate_secret(session, client_id, endpoint_id, ttl)
            return pb.RotateEndpointSecretResponse(
                endpoint=endpoint_message(endpoint, with_secret=True)
            )

        return await run_idempotent(
            self._idempotency, request, key, pb.RotateEndpointSecretResponse, rotate
        )

    async def ListEvents(
        self, request: pb.ListEventsRequest, _context: Context
    ) -> pb.ListEventsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        event_type = checks.text("type", request.type, max_length=200)
        resource_id = checks.text("resource_id", request.resource_id, max_length=64)
        checks.raise_if_any()
        page = await self._deliveries.list_events(
            caller().id, page_request, type=event_type or None, resource_id=resource_id or None
        )
        events, next_page_token = page_messages(page, event_message)
        return pb.ListEventsResponse(events=events, next_page_token=next_page_token)

    async def GetEvent(self, request: pb.GetEventRequest, _context: Context) -> pb.GetEventResponse:
        checks = Checks()
        event_id = checks.resource_id("id", request.id, prefix="evt")
        checks.raise_if_any()
        return pb.GetEventResponse(
            event=event_message(await self._deliveries.get_event(caller().id, event_id))
        )

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, _context: Context
    ) -> pb.ListDeliveriesResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        target = request.WhichOneof("target")
        endpoint_id = (
            checks.resource_id("endpoint_id", request.endpoint_id, prefix="we")
            if target == "endpoint_id"
            else None
        )
        event_id = (
            checks.resource_id("event_id", request.event_id, prefix="evt")
            if target == "event_id"
            else None
        )
        status = None
        if request.status != resources.DELIVERY_STATUS_UNSPECIFIED:
            status = _DELIVERY_FILTER.get(request.status)
            if status is None:
                checks.fail("status", "is not a known DeliveryStatus")
        checks.raise_if_any()
        page = await self._deliveries.list_deliveries(
            caller().id,
            page_request,
            DeliveryFilter(endpoint_id=endpoint_id, event_id=event_id, status=status),
        )
        deliveries, next_page_token = page_messages(page, delivery_message)
        return pb.ListDeliveriesResponse(deliveries=deliveries, next_page_token=next_page_token)

    async def ReplayEvent(
        self, request: pb.ReplayEventRequest, _context: Context
    ) -> pb.ReplayEventResponse:
        checks = Checks()
        event_id = checks.resource_id("event_id", request.event_id, prefix="evt")
        endpoint_id = (
            checks.resource_id("endpoint_id", request.endpoint_id, prefix="we")
            if request.endpoint_id
            else None
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def replay(session: AsyncSession) -> pb.ReplayEventResponse:
            deliveries = await self._deliveries.replay(session, client_id, event_id, endpoint_id)
            return pb.ReplayEventResponse(deliveries=[delivery_message(d) for d in deliveries])

        return await run_idempotent(self._idempotency, request, key, pb.ReplayEventResponse, replay)

    async def ListGatewayEvents(
        self, request: pb.ListGatewayEventsRequest, _context: Context
    ) -> pb.ListGatewayEventsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        if request.gateway and request.gateway not in WEBHOOK_GATEWAYS:
            checks.fail("gateway", f"must be one of {', '.join(WEBHOOK_GATEWAYS)}")
        status = None
        if request.status != resources.GATEWAY_EVENT_STATUS_UNSPECIFIED:
            status = _GATEWAY_FILTER.get(request.status)
            if status is None:
                checks.fail("status", "is not a known GatewayEventStatus")
        checks.raise_if_any()
        client = caller()
        page = await self._gateway_events.list(
            client.id,
            page_request,
            include_unowned=client.operator,
            gateway=request.gateway or None,
            status=status,
        )
        gateway_events, next_page_token = page_messages(page, gateway_event_message)
        return pb.ListGatewayEventsResponse(
            gateway_events=gateway_events, next_page_token=next_page_token
        )

    async def ReprocessGatewayEvent(
        self, request: pb.ReprocessGatewayEventRequest, _context: Context
    ) -> pb.ReprocessGatewayEventResponse:
        checks = Checks()
        event_id = checks.resource_id("id", request.id, prefix="gev")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client = caller()
        prepared = await self._gateway_events.prepare_reprocess(
            client.id, event_id, include_unowned=client.operator
        )

        async def reprocess(session: AsyncSession) -> pb.ReprocessGatewayEventResponse:
            event = await self._gateway_events.reprocess(
                session, client.id, event_id, prepared, include_unowned=client.operator
            )
            return pb.ReprocessGatewayEventResponse(gateway_event=gateway_event_message(event))

        response = await run_idempotent(
            self._idempotency, request, key, pb.ReprocessGatewayEventResponse, reprocess
        )
        self._gateway_events.reprocessed(prepared)
        return response
