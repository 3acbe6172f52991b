"""The relay stores a provider's event-stream position with the changes read up to it."""

from __future__ import annotations

from typing import Any, cast

import pytest

from gateways.updates import GatewayUpdate
from server.payments.gateway_events import PaymentEventApplier
from server.webhooks.inbound import NormalizedGatewayEvent
from store.db import Database
from store.gateway_cursors import GatewayCursors

EVENT = NormalizedGatewayEvent(
    id="gwe_1",
    gateway="plaid",
    gateway_event_id="evt_1",
    type="TRANSFER_EVENTS_UPDATE",
    payload={"webhook_type": "TRANSFER", "webhook_code": "TRANSFER_EVENTS_UPDATE"},
    raw="{}",
)


class Rollback(Exception):
    """Raised inside the relay's transaction: whatever it wrote must be undone."""


def applier() -> PaymentEventApplier:
    # An update that carries only a position never reaches the payments domain.
    return PaymentEventApplier(cast(Any, None), lambda _type, _event: None)


async def stored(db: Database) -> int:
    async with db.read() as session:
        return await GatewayCursors(session).position("plaid")


async def apply_then_fail(db: Database, update: GatewayUpdate) -> None:
    async with db.write() as session:
        await applier().apply(session, EVENT, update)
        raise Rollback


async def test_the_position_commits_with_its_apply_and_never_moves_back(db: Database) -> None:
    assert await stored(db) == 0
    async with db.write() as session:
        await applier().apply(session, EVENT, GatewayUpdate(cursor=9))
    assert await stored(db) == 9
    async with db.write() as session:  # an older read committing late
        await applier().apply(session, EVENT, GatewayUpdate(cursor=4))
    assert await stored(db) == 9
    with pytest.raises(Rollback):
        await apply_then_fail(db, GatewayUpdate(cursor=12))
    assert await stored(db) == 9  # its changes were lost: so is the position
    async with db.write() as session:
        await applier().apply(session, EVENT, GatewayUpdate(cursor=12))
    assert await stored(db) == 12
