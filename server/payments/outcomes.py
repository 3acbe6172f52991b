"""Who hears that a payment intent reached a terminal outcome, and when.

Other domains (the ledger's deposits and credit purchases) act on a payment's end: a
charge that succeeded credits a wallet, one that failed releases what was pending. They
subscribe here; :class:`PaymentIntentService` announces every terminal change inside the
transaction that records it — whether it came from our own gateway call, 3-D Secure
completion, an inbound gateway webhook or the reconciler — so the subscriber's change
commits (or rolls back) together with the intent's. Announcements can repeat (a gateway
may report the same end twice); subscribers must treat a repeat as a no-op.

Refunds are announced the same way, at three points (:class:`RefundStage`): REQUESTED
inside the transaction that records a new refund, before any gateway is asked (a
subscriber may refuse the refund by raising a ``DomainError``: the refund is then never
recorded and nothing reaches the gateway), then SUCCEEDED or FAILED inside the
transaction that records the refund's end. A refund made outside the service (the
gateway's dashboard) is announced ADOPTED instead of REQUESTED, once, when its first
webhook records it. The deposit or credit purchase an intent
paid for takes its money or credits back this way (``server.ledger_payments``).

Disputes too (:class:`DisputeStage`): a chargeback WITHDRAWN the disputed amount when it
opened, then it was REINSTATED (won) or LOST. An inquiry moves no money and is never
announced; one that escalates is WITHDRAWN then.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from store.disputes import DisputeRecord
from store.payments import PaymentIntentRecord, RefundRecord


class IntentOutcome(enum.Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # declined, 3-D Secure failed, or an ACH debit returned
    CANCELED = "canceled"


class RefundStage(enum.Enum):
    REQUESTED = "requested"  # recorded, not yet sent: a subscriber may still refuse it
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # refused or declined by the gateway: nothing was refunded
    #: Made at the gateway (a dashboard) and recorded afterwards, in the transaction that
    #: records it: the money is already gone, so a subscriber takes back what it still
    #: can and must not refuse. SUCCEEDED or FAILED follow as for our own refunds.
    ADOPTED = "adopted"


class DisputeStage(enum.Enum):
    """What a dispute's latest stage did to the disputed money."""

    #: A chargeback opened (or an inquiry escalated): the gateway took the disputed
    #: amount back while the dispute is decided.
    WITHDRAWN = "withdrawn"
    #: The dispute was won: the gateway gave the withdrawn amount back.
    REINSTATED = "reinstated"
    #: The dispute was lost: the withdrawn amount is gone for good.
    LOST = "lost"


#: The payment events that end an intent, and the outcome each means.
_TERMINAL_EVENTS: Final = {
    "payment.succeeded": IntentOutcome.SUCCEEDED,
    "payment.failed": IntentOutcome.FAILED,
    "payment.canceled": IntentOutcome.CANCELED,
}

#: Called in the transaction recording the intent's terminal change.
IntentOutcomeListener = Callable[
    [AsyncSession, PaymentIntentRecord, IntentOutcome], Awaitable[None]
]

#: Called in the transaction recording the refund's request or end.
RefundListener = Callable[
    [AsyncSession, PaymentIntentRecord, RefundRecord, RefundStage], Awaitable[None]
]

#: Called in the transaction recording the dispute's new stage.
DisputeListener = Callable[
    [AsyncSession, PaymentIntentRecord, DisputeRecord, DisputeStage], Awaitable[None]
]


class IntentOutcomes:
    """The subscribers to terminal intent outcomes (wired once, in ``server.app``)."""

    def __init__(self) -> None:
        self._listeners: list[IntentOutcomeListener] = []
        self._refund_listeners: list[RefundListener] = []
        self._dispute_listeners: list[DisputeListener] = []

    def subscribe(self, listener: IntentOutcomeListener) -> None:
        self._listeners.append(listener)

    def subscribe_refunds(self, listener: RefundListener) -> None:
        self._refund_listeners.append(listener)

    def subscribe_disputes(self, listener: DisputeListener) -> None:
        self._dispute_listeners.append(listener)

    async def announce(
        self, session: AsyncSession, intent: PaymentIntentRecord, event_type: str
    ) -> None:
        """Tell every subscriber when ``event_type`` (just recorded) ends the intent."""
        outcome = _TERMINAL_EVENTS.get(event_type)
        if outcome is None:
            return
        for listener in self._listeners:
            await listener(session, intent, outcome)

    async def announce_refund(
        self,
        session: AsyncSession,
        intent: PaymentIntentRecord,
        refund: RefundRecord,
        stage: RefundStage,
    ) -> None:
        """Tell every refund subscriber; at REQUESTED one may refuse by raising."""
        for listener in self._refund_listeners:
            await listener(session, intent, refund, stage)

    async def announce_dispute(
        self,
        session: AsyncSession,
        intent: PaymentIntentRecord,
        dispute: DisputeRecord,
        stage: DisputeStage,
    ) -> None:
        """Tell every dispute subscriber what the dispute's new stage did to the money."""
        for listener in self._dispute_listeners:
            await listener(session, intent, dispute, stage)
