"""The outbox seen by consumers: events, their deliveries to endpoints, and replays."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import InvalidState, NotFound
from server.pagination import Page, PageRequest, page_of
from server.webhooks.matching import subscribed
from store.db import Database
from store.events import EventRecord, Events
from store.ids import new_id
from store.models import utcnow
from store.webhooks import (
    ENABLED,
    DeliveryFilter,
    DeliveryRecord,
    WebhookDeliveries,
    WebhookEndpoints,
    events_page,
)

Clock = Callable[[], dt.datetime]
Delivery = DeliveryRecord
Event = EventRecord


class DeliveryService:
    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def get_event(self, client_id: str, event_id: str) -> Event:
        async with self._db.read() as session:
            event = await Events(session).get(client_id, event_id)
        if event is None:
            raise NotFound("event", event_id)
        return event

    async def list_events(
        self, client_id: str, page: PageRequest, *, type: str | None, resource_id: str | None
    ) -> Page[Event]:
        """``type`` as endpoints subscribe: an exact type, ``'*'``, or ``'invoice.*'``."""
        exact, prefix = type, None
        if type == "*":
            exact = None
        elif type is not None and type.endswith(".*"):
            exact, prefix = None, type[:-1]
        async with self._db.read() as session:
            rows = await events_page(
                session,
                client_id,
                before_id=page.before_id,
                limit=page.size + 1,
                type=exact,
                type_prefix=prefix,
                resource_id=resource_id,
            )
        return page_of(rows, page)

    async def list_deliveries(
        self, client_id: str, page: PageRequest, where: DeliveryFilter
    ) -> Page[Delivery]:
        async with self._db.read() as session:
            if where.endpoint_id is not None and (
                await WebhookEndpoints(session).get(client_id, where.endpoint_id) is None
            ):
                raise NotFound("endpoint", where.endpoint_id)
            if where.event_id is not None and (
                await Events(session).get(client_id, where.event_id) is None
            ):
                raise NotFound("event", where.event_id)
            rows = await WebhookDeliveries(session).page(
                client_id, where, before_id=page.before_id, limit=page.size + 1
            )
        return page_of(rows, page)

    async def replay(
        self, session: AsyncSession, client_id: str, event_id: str, endpoint_id: str | None
    ) -> list[Delivery]:
        """New PENDING deliveries of the event: to one endpoint, or every subscribed one."""
        event = await Events(session).get(client_id, event_id)
        if event is None:
            raise NotFound("event", event_id)
        endpoints_repo = WebhookEndpoints(session)
        if endpoint_id is not None:
            endpoint = await endpoints_repo.get(client_id, endpoint_id)
            if endpoint is None:
                raise NotFound("endpoint", endpoint_id)
            if endpoint.status != ENABLED:
                raise InvalidState(
                    f"endpoint {endpoint_id!r} is disabled; enable it with UpdateEndpoint first",
                    metadata={"endpoint_id": endpoint_id},
                )
            targets = [endpoint]
        else:
            targets = [
                e
                for e in await endpoints_repo.enabled_of(client_id)
                if subscribed(e.event_types, e.forward_gateway_events, event.type)
            ]
        now = self._clock()
        deliveries = WebhookDeliveries(session)
        return [
            await deliveries.add_pending(
                delivery_id=new_id("del"),
                client_id=client_id,
                endpoint_id=target.id,
                event_id=event.id,
                event_type=event.type,
                now=now,
            )
            for target in targets
        ]
