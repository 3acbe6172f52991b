"""An intent's event data is built as JSON values directly: same bytes as the generic walk."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from server.events import event_payload
from server.payments.intents import _HIDDEN_IN_EVENTS, _public
from store.last_error import LastError
from store.payments import (
    Attempt,
    AttemptState,
    CaptureMethod,
    IntentStatus,
    PaymentIntentRecord,
)

WHEN = dt.datetime(2026, 12, 2, 20, 5, 6, 123456, tzinfo=dt.UTC)


def _generic(intent: PaymentIntentRecord) -> dict[str, object]:
    """What the event used to carry: the record's public fields as they are."""
    return {
        f.name: getattr(intent, f.name)
        for f in dataclasses.fields(intent)
        if f.name not in _HIDDEN_IN_EVENTS
    }


@pytest.mark.parametrize(
    "intent",
    [
        PaymentIntentRecord(
            id="pi_1",
            client_id="c",
            amount=2999,
            currency="usd",
            status=IntentStatus.SUCCEEDED,
            capture_method=CaptureMethod.AUTOMATIC,
            amount_received=2999,
            metadata={"source": "bench", "ü": "ß"},
            attempt=Attempt(operation="confirm", key="k", amount=2999, state=AttemptState.DONE),
            create_time=WHEN,
            update_time=WHEN + dt.timedelta(microseconds=1),
        ),
        PaymentIntentRecord(
            id="pi_2",
            client_id="c",
            amount=10,
            currency="eur",
            status=IntentStatus.REQUIRES_PAYMENT_METHOD,
            capture_method=CaptureMethod.MANUAL,
            last_error=LastError(code="card_declined", decline_code="insufficient_funds"),
            application_fee_amount=3,
            commission_bps=250,
            create_time=WHEN.replace(microsecond=0),
            update_time=WHEN.astimezone(dt.timezone(dt.timedelta(hours=2))),
        ),
    ],
)
def test_event_data_is_byte_for_byte_what_the_generic_walk_gives(
    intent: PaymentIntentRecord,
) -> None:
    fast = event_payload("evt_1", "payment.succeeded", WHEN, _public(intent))
    generic = event_payload("evt_1", "payment.succeeded", WHEN, _generic(intent))
    assert fast == generic
