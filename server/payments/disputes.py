"""Disputes: a cardholder's bank contesting one of our payments (a chargeback, or the
inquiry before one), as the payment's gateway reports it.

Nobody creates a dispute through this service: the gateway opens it and tells us by
webhook; consumers learn of it from ``dispute.created`` and read it back with
GetDispute / ListDisputes. Each later webhook updates the same record
(``dispute.updated``, or ``dispute.closed`` once it is won, lost or the inquiry closed).
Webhooks may arrive out of order, so a dispute never moves back: a closed one stays
closed, a chargeback never becomes an inquiry again.

A chargeback withdraws the disputed money while it is decided and gives it back if won:
each such move is announced to the subscribers of :class:`IntentOutcomes` (the wallet
deposit or credit purchase the payment paid for takes it out, or back), in the
transaction that records the dispute's stage.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateways.types import DisputeResult, DisputeStatus
from server.errors import NotFound
from server.events import record_event
from server.pagination import Page, PageRequest, page_of
from server.payments.outcomes import DisputeStage, IntentOutcomes
from store.db import Database
from store.disputes import DisputeRecord, Disputes
from store.ids import new_id
from store.models import utcnow
from store.payments import PaymentIntentRecord, PaymentIntents

Dispute = DisputeRecord

#: The inquiry stages: a dispute in any other stage is a chargeback, which never
#: becomes an inquiry again (an older webhook saying so is stale).
_INQUIRY: Final = frozenset(
    {
        DisputeStatus.WARNING_NEEDS_RESPONSE,
        DisputeStatus.WARNING_UNDER_REVIEW,
        DisputeStatus.WARNING_CLOSED,
    }
)
#: Ends that are final: nothing the gateway says later changes them.
_FINAL: Final = frozenset({DisputeStatus.WON, DisputeStatus.LOST})
#: The chargeback stages while the gateway holds the disputed money back.
_WITHDRAWN: Final = frozenset({DisputeStatus.NEEDS_RESPONSE, DisputeStatus.UNDER_REVIEW})

log = logging.getLogger("isa.payments.disputes")


def _moves_back(current: DisputeStatus, reported: DisputeStatus) -> bool:
    if current in _FINAL:
        return True
    return current not in _INQUIRY and reported in _INQUIRY


async def charged_back(session: AsyncSession, payment_intent_id: str) -> Dispute | None:
    """The chargeback that holds or took the payment's money, if any: such a payment can
    no longer be refunded (the cardholder has it back, or will if the dispute is lost)."""
    return await Disputes(session).first_of_payment(
        payment_intent_id, [status.value for status in (*_WITHDRAWN, DisputeStatus.LOST)]
    )


def money_moved(before: DisputeStatus | None, after: DisputeStatus) -> list[DisputeStage]:
    """What going from ``before`` (None: first heard of) to ``after`` did to the money.

    A webhook can be missed, so a dispute first heard of as LOST was withdrawn as well;
    one first heard of as WON was withdrawn and given back, which nets to nothing.
    """
    withdrawn = before in _WITHDRAWN
    if after in _WITHDRAWN:
        return [] if withdrawn else [DisputeStage.WITHDRAWN]
    if after is DisputeStatus.LOST:
        return [DisputeStage.LOST] if withdrawn else [DisputeStage.WITHDRAWN, DisputeStage.LOST]
    if after is DisputeStatus.WON:
        return [DisputeStage.REINSTATED] if withdrawn else []
    return []  # an inquiry moves no money


class DisputeService:
    def __init__(self, db: Database, outcomes: IntentOutcomes | None = None) -> None:
        self._db = db
        self._outcomes = outcomes

    async def get(self, client_id: str, dispute_id: str) -> Dispute:
        async with self._db.read() as session:
            dispute = await Disputes(session).get(client_id, dispute_id)
        if dispute is None:
            raise NotFound("dispute", dispute_id)
        return dispute

    async def list(
        self, client_id: str, page: PageRequest, payment_intent_id: str | None
    ) -> Page[Dispute]:
        async with self._db.read() as session:
            rows = await Disputes(session).page(
                client_id,
                before_id=page.before_id,
                limit=page.size + 1,
                payment_intent_id=payment_intent_id,
            )
        return page_of(rows, page)

    async def record(self, gateway: str, result: DisputeResult) -> Dispute | None:
        """What the gateway just answered of a dispute, in a transaction of its own (the
        sandbox's helpers: its webhook, relayed as well, then changes nothing)."""
        async with self._db.write() as session:
            applied = await self.apply_gateway_dispute(session, gateway=gateway, result=result)
        return None if applied is None else applied[0]

    async def apply_gateway_dispute(
        self, session: AsyncSession, *, gateway: str, result: DisputeResult
    ) -> tuple[Dispute, bool] | None:
        """Record what the gateway says of a dispute, in the caller's transaction: the
        dispute and whether it changed; None when it disputes no payment of ours.

        The disputed intent's row is locked first, so the same webhook applied twice at
        once records one dispute.
        """
        intent = await PaymentIntents(session).find_by_gateway_reference(
            gateway, result.payment_reference
        )
        if intent is None:
            return None
        disputes = Disputes(session)
        now = utcnow()
        found = await disputes.find_by_gateway_reference(gateway, result.gateway_reference)
        if found is None:
            created = await disputes.add(
                DisputeRecord(
                    id=new_id("dp"),
                    client_id=intent.client_id,
                    payment_intent_id=intent.id,
                    amount=result.amount,
                    currency=result.currency or intent.currency,
                    status=result.status.value,
                    reason=result.reason,
                    gateway=gateway,
                    gateway_reference=result.gateway_reference,
                    evidence_due_time=result.evidence_due_time,
                    create_time=now,
                    update_time=now,
                )
            )
            log.warning(
                "payment intent %s disputed at %s: %d %s (%s)",
                intent.id,
                gateway,
                created.amount,
                created.currency,
                created.reason or "no reason given",
            )
            await self._event(session, "dispute.created", created)
            await self._announce(session, intent, created, None)
            return created, True
        current = DisputeStatus(found.status)
        if _moves_back(current, result.status):
            return found, False
        changed = replace(
            found,
            amount=result.amount,
            status=result.status.value,
            reason=result.reason or found.reason,
            evidence_due_time=result.evidence_due_time or found.evidence_due_time,
        )
        if changed == found:
            return found, False
        saved = await disputes.save(replace(changed, update_time=now))
        closed = result.status.closed and not current.closed
        await self._event(session, "dispute.closed" if closed else "dispute.updated", saved)
        await self._announce(session, intent, saved, current)
        return saved, True

    async def _announce(
        self,
        session: AsyncSession,
        intent: PaymentIntentRecord,
        dispute: Dispute,
        before: DisputeStatus | None,
    ) -> None:
        """Tell the money's owners (a wallet deposit, a credit purchase) what moved."""
        if self._outcomes is None:
            return
        for stage in money_moved(before, DisputeStatus(dispute.status)):
            await self._outcomes.announce_dispute(session, intent, dispute, stage)

    @staticmethod
    async def _event(session: AsyncSession, event_type: str, dispute: Dispute) -> None:
        await record_event(
            session,
            client_id=dispute.client_id,
            event_type=event_type,
            resource_id=dispute.id,
            data=dispute,
        )
