"""Linked bank accounts' credentials and verification bookkeeping (``bank_accounts``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from store.bank_models import BankAccountRow
from store.models import utcnow
from store.payment_models import PaymentIntentRow, PaymentMethodRow

#: ``next_action_url`` of an intent waiting for its bank account's micro-deposits to be
#: verified: the action has no URL, and this marks which action it is (the API shows it
#: as next_action VERIFY_MICRODEPOSITS). Not a URL any browser is sent to.
VERIFY_MICRODEPOSITS_ACTION: Final = "isa:verify_microdeposits"


@dataclass(frozen=True, slots=True, kw_only=True)
class BankAccountRecord:
    """``access_token_ciphertext`` is the encrypted access token; excluded from repr."""

    payment_method_id: str
    access_token_ciphertext: str = field(repr=False)
    account_id: str
    item_reference: str
    holder_name: str = ""
    verification: str
    microdeposit_attempts: int = 0
    create_time: dt.datetime
    update_time: dt.datetime


def _record(row: BankAccountRow) -> BankAccountRecord:
    return BankAccountRecord(
        payment_method_id=row.payment_method_id,
        access_token_ciphertext=row.access_token_ciphertext,
        account_id=row.account_id,
        item_reference=row.item_reference,
        holder_name=row.holder_name,
        verification=row.verification,
        microdeposit_attempts=row.microdeposit_attempts,
        create_time=row.create_time,
        update_time=row.update_time,
    )


class BankAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: BankAccountRecord) -> BankAccountRecord:
        self._session.add(
            BankAccountRow(
                payment_method_id=account.payment_method_id,
                access_token_ciphertext=account.access_token_ciphertext,
                account_id=account.account_id,
                item_reference=account.item_reference,
                holder_name=account.holder_name,
                verification=account.verification,
                microdeposit_attempts=account.microdeposit_attempts,
                create_time=account.create_time,
                update_time=account.update_time,
            )
        )
        await self._session.flush()
        return account

    async def get(self, payment_method_id: str) -> BankAccountRecord | None:
        row = await self._session.get(BankAccountRow, payment_method_id)
        return None if row is None else _record(row)

    async def record_verification(
        self, payment_method_id: str, *, verification: str, attempted: bool
    ) -> BankAccountRecord:
        row = await self._session.get_one(BankAccountRow, payment_method_id)
        row.verification = verification
        row.microdeposit_attempts += 1 if attempted else 0
        row.update_time = utcnow()
        await self._session.flush()
        return _record(row)

    async def find_by_account(
        self, account_id: str, *, gateway: str | None = None
    ) -> list[tuple[str, BankAccountRecord]]:
        """(client_id, account) of every linked account with the gateway's account id
        ``account_id`` (on ``gateway`` when given), oldest link first."""
        query = (
            select(PaymentMethodRow.client_id, BankAccountRow)
            .join(PaymentMethodRow, PaymentMethodRow.id == BankAccountRow.payment_method_id)
            .where(BankAccountRow.account_id == account_id)
            .order_by(BankAccountRow.payment_method_id)
        )
        if gateway is not None:
            query = query.where(PaymentMethodRow.gateway == gateway)
        rows = await self._session.execute(query)
        return [(client_id, _record(row)) for client_id, row in rows.all()]

    async def intents_awaiting_verification(
        self, client_id: str, payment_method_id: str
    ) -> list[str]:
        """Ids of the intents paused until this bank account is verified."""
        ids = await self._session.scalars(
            select(PaymentIntentRow.id).where(
                PaymentIntentRow.client_id == client_id,
                PaymentIntentRow.payment_method_id == payment_method_id,
                PaymentIntentRow.status == "requires_action",
                PaymentIntentRow.next_action_url == VERIFY_MICRODEPOSITS_ACTION,
            )
        )
        return list(ids)
