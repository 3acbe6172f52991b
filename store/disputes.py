"""Disputes of payments: one row per gateway dispute, read back per client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.payment_models import DisputeRow


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeRecord:
    id: str
    client_id: str
    payment_intent_id: str
    amount: int
    currency: str
    status: str  # gateways.types.DisputeStatus's value
    reason: str = ""
    gateway: str
    gateway_reference: str
    evidence_due_time: dt.datetime | None = None
    create_time: dt.datetime
    update_time: dt.datetime


def _dispute(row: DisputeRow) -> DisputeRecord:
    return DisputeRecord(
        id=row.id,
        client_id=row.client_id,
        payment_intent_id=row.payment_intent_id,
        amount=row.amount,
        currency=row.currency,
        status=row.status,
        reason=row.reason,
        gateway=row.gateway,
        gateway_reference=row.gateway_reference,
        evidence_due_time=row.evidence_due_time,
        create_time=row.create_time,
        update_time=row.update_time,
    )


class Disputes:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, dispute: DisputeRecord) -> DisputeRecord:
        self._session.add(
            DisputeRow(
                id=dispute.id,
                client_id=dispute.client_id,
                payment_intent_id=dispute.payment_intent_id,
                amount=dispute.amount,
                currency=dispute.currency,
                status=dispute.status,
                reason=dispute.reason,
                gateway=dispute.gateway,
                gateway_reference=dispute.gateway_reference,
                evidence_due_time=dispute.evidence_due_time,
                create_time=dispute.create_time,
                update_time=dispute.update_time,
            )
        )
        await self._session.flush()
        return dispute

    async def save(self, dispute: DisputeRecord) -> DisputeRecord:
        """Store what the gateway says of a dispute now (its id and payment never change)."""
        await self._session.execute(
            update(DisputeRow)
            .where(DisputeRow.id == dispute.id)
            .values(
                amount=dispute.amount,
                status=dispute.status,
                reason=dispute.reason,
                evidence_due_time=dispute.evidence_due_time,
                update_time=dispute.update_time,
            )
        )
        return dispute

    async def find_by_gateway_reference(
        self, gateway: str, gateway_reference: str
    ) -> DisputeRecord | None:
        """The dispute a gateway event is about, locked until the transaction ends."""
        row = await self._session.scalar(
            select(DisputeRow)
            .where(DisputeRow.gateway == gateway, DisputeRow.gateway_reference == gateway_reference)
            .with_for_update()
        )
        return None if row is None else _dispute(row)

    async def first_of_payment(
        self, payment_intent_id: str, statuses: Collection[str]
    ) -> DisputeRecord | None:
        """The payment's oldest dispute in one of ``statuses``, if any."""
        row = await self._session.scalar(
            select(DisputeRow)
            .where(
                DisputeRow.payment_intent_id == payment_intent_id,
                DisputeRow.status.in_(list(statuses)),
            )
            .order_by(DisputeRow.id)
            .limit(1)
        )
        return None if row is None else _dispute(row)

    async def get(self, client_id: str, dispute_id: str) -> DisputeRecord | None:
        row = await self._session.scalar(
            select(DisputeRow).where(DisputeRow.id == dispute_id, DisputeRow.client_id == client_id)
        )
        return None if row is None else _dispute(row)

    async def page(
        self,
        client_id: str,
        *,
        before_id: str | None,
        limit: int,
        payment_intent_id: str | None = None,
    ) -> list[DisputeRecord]:
        query = select(DisputeRow).where(DisputeRow.client_id == client_id)
        if payment_intent_id is not None:
            query = query.where(DisputeRow.payment_intent_id == payment_intent_id)
        if before_id is not None:
            query = query.where(DisputeRow.id < before_id)
        rows = await self._session.scalars(query.order_by(DisputeRow.id.desc()).limit(limit))
        return [_dispute(row) for row in rows]
