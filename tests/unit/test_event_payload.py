"""What an event's data holds: the resource as the consumer sees it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from server.events import event_payload

WHEN = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)


@dataclasses.dataclass(frozen=True)
class _Line:
    id: str
    client_id: str
    amount: int


def test_no_record_tells_the_consumer_whose_it_is() -> None:
    """Records carry client_id for the store; the consumer receiving the event is that
    client, so it is not news (payment intents never sent it either)."""
    body = json.loads(
        event_payload("evt_1", "wallet.deposit.failed", WHEN, _Line("wtx_1", "dev", 5))
    )
    assert body == {
        "id": "evt_1",
        "type": "wallet.deposit.failed",
        "timestamp": "2026-12-04T12:00:00Z",
        "data": {"id": "wtx_1", "amount": 5},
    }


def test_a_gateways_body_is_passed_on_as_it_is() -> None:
    body = json.loads(event_payload("evt_2", "gateway.x.y", WHEN, {"client_id": "theirs"}))
    assert body["data"] == {"client_id": "theirs"}
