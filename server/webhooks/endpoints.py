"""Endpoints of each client: create (secret shown once), change, rotate, delete."""

from __future__ import annotations

import dataclasses
import datetime as dt
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import NotFound
from server.pagination import Page, PageRequest, page_of
from server.webhooks.signing import new_secret
from store.db import Database
from store.ids import new_id
from store.models import utcnow
from store.webhooks import DISABLED, ENABLED, EndpointRecord, WebhookDeliveries, WebhookEndpoints

Endpoint = EndpointRecord
Clock = Callable[[], dt.datetime]

DEFAULT_PREVIOUS_SECRET_TTL: Final = dt.timedelta(hours=24)
MAX_PREVIOUS_SECRET_TTL: Final = dt.timedelta(days=7)


def unroutable_address(host: str) -> bool:
    """An address literal no consumer's endpoint lives at: link-local (where cloud
    metadata services answer, 169.254.169.254), unspecified, multicast or reserved.
    False for a name (the relay checks what it resolves to when it connects)."""
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
            host.split("%", 1)[0]  # an IPv6 zone ("fe80::1%eth0") names no other address
        )
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return (
        address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NewEndpoint:
    url: str
    event_types: tuple[str, ...] = ()
    forward_gateway_events: tuple[str, ...] = ()
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointChanges:
    """Fields to change; None leaves a field as it is."""

    url: str | None = None
    event_types: tuple[str, ...] | None = None
    forward_gateway_events: tuple[str, ...] | None = None
    description: str | None = None
    enabled: bool | None = None
    metadata: dict[str, str] | None = None


class EndpointService:
    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock

    async def create(self, session: AsyncSession, client_id: str, new: NewEndpoint) -> Endpoint:
        now = self._clock()
        return await WebhookEndpoints(session).add(
            Endpoint(
                id=new_id("we"),
                client_id=client_id,
                url=new.url,
                secret=new_secret(),
                previous_secret=None,
                previous_secret_expire_time=None,
                event_types=new.event_types,
                forward_gateway_events=new.forward_gateway_events,
                status=ENABLED,
                disabled_reason="",
                description=new.description,
                metadata=dict(new.metadata),
                failing_since=None,
                create_time=now,
                update_time=now,
            )
        )

    async def get(self, client_id: str, endpoint_id: str) -> Endpoint:
        async with self._db.read() as session:
            endpoint = await WebhookEndpoints(session).get(client_id, endpoint_id)
        if endpoint is None:
            raise NotFound("endpoint", endpoint_id)
        return endpoint

    async def list(self, client_id: str, page: PageRequest) -> Page[Endpoint]:
        async with self._db.read() as session:
            rows = await WebhookEndpoints(session).page(
                client_id, before_id=page.before_id, limit=page.size + 1
            )
        return page_of(rows, page)

    async def _locked(self, session: AsyncSession, client_id: str, endpoint_id: str) -> Endpoint:
        endpoint = await WebhookEndpoints(session).get(client_id, endpoint_id, for_update=True)
        if endpoint is None:
            raise NotFound("endpoint", endpoint_id)
        return endpoint

    async def update(
        self, session: AsyncSession, client_id: str, endpoint_id: str, changes: EndpointChanges
    ) -> Endpoint:
        endpoint = await self._locked(session, client_id, endpoint_id)
        now = self._clock()
        updated = dataclasses.replace(endpoint, update_time=now)
        if changes.url is not None:
            updated = dataclasses.replace(updated, url=changes.url)
        if changes.event_types is not None:
            updated = dataclasses.replace(updated, event_types=changes.event_types)
        if changes.forward_gateway_events is not None:
            updated = dataclasses.replace(
                updated, forward_gateway_events=changes.forward_gateway_events
            )
        if changes.description is not None:
            updated = dataclasses.replace(updated, description=changes.description)
        if changes.metadata is not None:
            updated = dataclasses.replace(updated, metadata=dict(changes.metadata))
        if changes.enabled is True and endpoint.status != ENABLED:
            updated = dataclasses.replace(
                updated, status=ENABLED, disabled_reason="", failing_since=None
            )
        elif changes.enabled is False and endpoint.status != DISABLED:
            updated = dataclasses.replace(updated, status=DISABLED, disabled_reason="by the client")
            await WebhookDeliveries(session).fail_pending_of_endpoint(endpoint_id, now)
        return await WebhookEndpoints(session).save(updated)

    async def delete(self, session: AsyncSession, client_id: str, endpoint_id: str) -> Endpoint:
        endpoint = await self._locked(session, client_id, endpoint_id)
        await WebhookDeliveries(session).drop_pending_of_endpoint(endpoint_id)
        await WebhookEndpoints(session).delete(endpoint_id)
        return endpoint

    async def rotate_secret(
        self,
        session: AsyncSession,
        client_id: str,
        endpoint_id: str,
        previous_secret_ttl: dt.timedelta = DEFAULT_PREVIOUS_SECRET_TTL,
    ) -> Endpoint:
        """A new secret; the old one keeps signing alongside it for ``previous_secret_ttl``."""
        endpoint = await self._locked(session, client_id, endpoint_id)
        now = self._clock()
        keep = previous_secret_ttl > dt.timedelta(0)
        rotated = dataclasses.replace(
            endpoint,
            secret=new_secret(),
            previous_secret=endpoint.secret if keep else None,
            previous_secret_expire_time=now + previous_secret_ttl if keep else None,
            update_time=now,
        )
        return await WebhookEndpoints(session).save(rotated)
