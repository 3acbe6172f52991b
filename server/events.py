"""Recording events: every state change a consumer cares about, in its own transaction.

The payload is built once, here, and stored byte for byte as it will be signed and
delivered: ``{"id", "type", "timestamp", "data"}`` with ``data`` the resource after the
change. Domain objects are plain dataclasses; they become JSON with snake_case names,
RFC 3339 times and enum values, the way Stripe's event bodies read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import json
from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from store.events import EventRecord, Events
from store.ids import new_id
from store.models import utcnow

Event = EventRecord


#: Exact types that are already JSON: the common case, checked first (an event is built
#: on every change; subclasses such as enums take the slower path below).
_PLAIN: Final = frozenset({str, int, float, bool, type(None)})


def _jsonable(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dt.datetime:
        return _rfc3339(value)
    if kind is dict:
        return {str(k): v if type(v) in _PLAIN else _jsonable(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        body = {}
        for name in _field_names(type(value)):
            item = getattr(value, name)
            body[name] = item if type(item) in _PLAIN else _jsonable(item)
        return body
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return _rfc3339(value)
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    return value


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


@functools.lru_cache(maxsize=64)  # a resource's create and update times are often one instant
def _rfc3339(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


#: One encoder for every payload (``json.dumps`` with options builds a new one per call).
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), sort_keys=True)


#: Fields of our records that are for us, not the consumer: whose record it is (the
#: endpoint's own client, always) is the store's partition key, never news.
_NOT_FOR_CONSUMERS: Final = ("client_id",)


def _resource(data: object) -> Any:
    """The resource as the consumer sees it: a record without our own bookkeeping."""
    body = _jsonable(data)
    if dataclasses.is_dataclass(data) and isinstance(body, dict):
        for name in _NOT_FOR_CONSUMERS:
            body.pop(name, None)
    return body


def event_payload(event_id: str, event_type: str, when: dt.datetime, data: object) -> str:
    body = {
        "id": event_id,
        "type": event_type,
        "timestamp": _jsonable(when),
        "data": _resource(data),
    }
    return _ENCODER.encode(body)


async def record_event(
    session: AsyncSession,
    *,
    client_id: str,
    event_type: str,
    resource_id: str,
    data: object,
    gateway_event_id: str | None = None,
) -> Event:
    """Append an event in the caller's transaction: it commits iff the change does."""
    event_id = new_id("evt")
    now = utcnow()
    return await Events(session).append(
        EventRecord(
            id=event_id,
            client_id=client_id,
            type=event_type,
            resource_id=resource_id,
            gateway_event_id=gateway_event_id,
            payload=event_payload(event_id, event_type, now, data),
            create_time=now,
        )
    )
