"""Payment intents and refunds: frozen records, keyset pages, and named updates.

Every state change is a named method (``record_authorized``, ``record_decline`` …) so
the store says exactly which facts a transition writes; the domain decides *whether* a
transition is legal, under the row lock that ``get_for_update`` takes.

An intent's hot statements (create, lock, the named updates) are hand-written SQL, not
ORM units of work: a card payment runs them on every call, and through the ORM they
cost milliseconds of Python where the database needs microseconds. On SQLite they run
on the group-commit writer's own ``sqlite3`` connection inside the caller's savepoint
(``store.raw``); on PostgreSQL through the session's connection as driver SQL (no
compilation, no identity map). Both read and write rows exactly as the ORM does, so
the keyset pages and the reconciler (still ORM) see the same rows.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.last_error import LastError
from store.models import utcnow
from store.payment_models import PaymentIntentRow, RefundRow
from store.raw import DriverSql, time_of


class DuplicateCreateKey(Exception):
    """Another transaction inserted a resource under the same (client, creation key)."""


class IntentStatus(enum.Enum):
    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    REQUIRES_CONFIRMATION = "requires_confirmation"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"


class CaptureMethod(enum.Enum):
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class RefundStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class AttemptState(enum.Enum):
    NONE = ""
    OPEN = "open"  # the gateway call is running (or the process died during it)
    UNKNOWN = "unknown"  # the call timed out: reconcile with the same key
    DONE = "done"


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """The last gateway call on a resource: a recovery point."""

    operation: str
    key: str
    amount: int
    state: AttemptState


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentIntentRecord:
    id: str
    client_id: str
    amount: int
    currency: str
    status: IntentStatus
    capture_method: CaptureMethod
    amount_capturable: int = 0
    amount_received: int = 0
    amount_refunded: int = 0
    customer_id: str = ""
    payment_method_id: str = ""
    gateway: str = ""
    requested_gateway: str = ""
    gateway_reference: str = ""
    client_secret: str = ""
    next_action_url: str = ""
    payment_method_type: str = ""  # "bank_account" for ACH debits; "" for cards
    last_error: LastError | None = None
    application_fee_amount: int | None = None
    commission_bps: int | None = None
    destination_account_id: str = ""
    destination_amount: int = 0
    description: str = ""
    return_url: str = ""
    cancellation_reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    attempt: Attempt | None = None
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundRecord:
    id: str
    client_id: str
    payment_intent_id: str
    amount: int
    currency: str
    status: RefundStatus
    reason: str = ""
    gateway: str = ""
    gateway_reference: str = ""
    last_error: LastError | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    attempt: Attempt
    create_time: dt.datetime
    update_time: dt.datetime


def _intent(row: PaymentIntentRow) -> PaymentIntentRecord:
    return PaymentIntentRecord(
        id=row.id,
        client_id=row.client_id,
        amount=row.amount,
        currency=row.currency,
        status=IntentStatus(row.status),
        capture_method=CaptureMethod(row.capture_method),
        amount_capturable=row.amount_capturable,
        amount_received=row.amount_received,
        amount_refunded=row.amount_refunded,
        customer_id=row.customer_id,
        payment_method_id=row.payment_method_id,
        gateway=row.gateway,
        requested_gateway=row.requested_gateway,
        gateway_reference=row.gateway_reference,
        client_secret=row.client_secret,
        next_action_url=row.next_action_url,
        payment_method_type=row.payment_method_type,
        last_error=LastError(
            code=row.last_error_code,
            decline_code=row.last_error_decline_code,
            message=row.last_error_message,
        )
        if row.last_error_code
        else None,
        application_fee_amount=row.application_fee_amount,
        commission_bps=row.commission_bps,
        destination_account_id=row.destination_account_id,
        destination_amount=row.destination_amount,
        description=row.description,
        return_url=row.return_url,
        cancellation_reason=row.cancellation_reason,
        metadata=dict(row.metadata_ or {}),
        attempt=Attempt(
            operation=row.attempt_operation,
            key=row.attempt_key,
            amount=row.attempt_amount,
            state=AttemptState(row.attempt_state),
        )
        if row.attempt_key
        else None,
        create_time=row.create_time,
        update_time=row.update_time,
    )


def _refund(row: RefundRow) -> RefundRecord:
    return RefundRecord(
        id=row.id,
        client_id=row.client_id,
        payment_intent_id=row.payment_intent_id,
        amount=row.amount,
        currency=row.currency,
        status=RefundStatus(row.status),
        reason=row.reason,
        gateway=row.gateway,
        gateway_reference=row.gateway_reference,
        last_error=LastError(code=row.last_error_code, message=row.last_error_message)
        if row.last_error_code
        else None,
        metadata=dict(row.metadata_ or {}),
        attempt=Attempt(
            operation="refund",
            key=row.attempt_key,
            amount=row.amount,
            state=AttemptState(row.attempt_state),
        ),
        create_time=row.create_time,
        update_time=row.update_time,
    )


#: The intent columns in the order the hand-written SELECTs return them.
_INTENT_COLUMNS: Final = (
    "id",
    "client_id",
    "amount",
    "currency",
    "status",
    "capture_method",
    "amount_capturable",
    "amount_received",
    "amount_refunded",
    "customer_id",
    "payment_method_id",
    "gateway",
    "requested_gateway",
    "gateway_reference",
    "client_secret",
    "next_action_url",
    "last_error_code",
    "last_error_decline_code",
    "last_error_message",
    "application_fee_amount",
    "commission_bps",
    "destination_account_id",
    "destination_amount",
    "description",
    "return_url",
    "cancellation_reason",
    "metadata",
    "attempt_operation",
    "attempt_key",
    "attempt_amount",
    "attempt_state",
    "payment_method_type",
    "create_time",
    "update_time",
)
_RETURNING: Final = ", ".join(_INTENT_COLUMNS)
_SELECT_INTENT: Final = f"SELECT {_RETURNING} FROM payment_intents"  # noqa: S608
_INSERT_INTENT: Final = (
    f"INSERT INTO payment_intents (create_key, {_RETURNING})"  # noqa: S608
    f" VALUES ({', '.join('?' * (len(_INTENT_COLUMNS) + 1))})"
)
#: Stored values → members, for the hand-written reads (a dict lookup is a tenth of an
#: Enum call, and a card payment reads its intent back several times).
_STATUS_OF: Final = {status.value: status for status in IntentStatus}
_CAPTURE_OF: Final = {method.value: method for method in CaptureMethod}
_ATTEMPT_OF: Final = {state.value: state for state in AttemptState}
#: PostgreSQL takes the row lock; SQLite's single writer already serialises writes.
_FOR_UPDATE: Final = {"sqlite": "", "postgresql": " FOR UPDATE"}


def _intent_of(values: Sequence[Any]) -> PaymentIntentRecord:
    """A record from a hand-written SELECT's row (times as text on SQLite)."""
    (
        id_,
        client_id,
        amount,
        currency,
        status,
        capture_method,
        amount_capturable,
        amount_received,
        amount_refunded,
        customer_id,
        payment_method_id,
        gateway,
        requested_gateway,
        gateway_reference,
        client_secret,
        next_action_url,
        error_code,
        error_decline_code,
        error_message,
        application_fee_amount,
        commission_bps,
        destination_account_id,
        destination_amount,
        description,
        return_url,
        cancellation_reason,
        metadata,
        attempt_operation,
        attempt_key,
        attempt_amount,
        attempt_state,
        payment_method_type,
        create_time,
        update_time,
    ) = values
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return PaymentIntentRecord(
        id=id_,
        client_id=client_id,
        amount=amount,
        currency=currency,
        status=_STATUS_OF[status],
        capture_method=_CAPTURE_OF[capture_method],
        amount_capturable=amount_capturable,
        amount_received=amount_received,
        amount_refunded=amount_refunded,
        customer_id=customer_id,
        payment_method_id=payment_method_id,
        gateway=gateway,
        requested_gateway=requested_gateway,
        gateway_reference=gateway_reference,
        client_secret=client_secret,
        next_action_url=next_action_url,
        last_error=LastError(
            code=error_code, decline_code=error_decline_code, message=error_message
        )
        if error_code
        else None,
        application_fee_amount=application_fee_amount,
        commission_bps=commission_bps,
        destination_account_id=destination_account_id,
        destination_amount=destination_amount,
        description=description,
        return_url=return_url,
        cancellation_reason=cancellation_reason,
        metadata=dict(metadata or {}),
        attempt=Attempt(
            operation=attempt_operation,
            key=attempt_key,
            amount=attempt_amount,
            state=_ATTEMPT_OF[attempt_state],
        )
        if attempt_key
        else None,
        payment_method_type=payment_method_type,
        create_time=time_of(create_time),
        update_time=time_of(update_time),
    )


class PaymentIntents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._sql = DriverSql(session)

    async def add(self, intent: PaymentIntentRecord, *, create_key: str | None) -> None:
        """Insert; :class:`DuplicateCreateKey` when a concurrent create took the key first."""
        sql = self._sql
        attempt = intent.attempt
        try:
            await sql.rows(
                _INSERT_INTENT,
                (
                    create_key,
                    intent.id,
                    intent.client_id,
                    intent.amount,
                    intent.currency,
                    intent.status.value,
                    intent.capture_method.value,
                    0,
                    0,
                    0,
                    intent.customer_id,
                    intent.payment_method_id,
                    "",
                    intent.requested_gateway,
                    "",
                    intent.client_secret,
                    "",
                    "",
                    "",
                    "",
                    intent.application_fee_amount,
                    intent.commission_bps,
                    intent.destination_account_id,
                    intent.destination_amount,
                    intent.description,
                    intent.return_url,
                    "",
                    json.dumps(dict(intent.metadata)),
                    attempt.operation if attempt else "",
                    attempt.key if attempt else "",
                    attempt.amount if attempt else 0,
                    attempt.state.value if attempt else "",
                    intent.payment_method_type,
                    sql.time(intent.create_time),
                    sql.time(intent.update_time),
                ),
            )
        except (IntegrityError, sqlite3.IntegrityError):
            raise DuplicateCreateKey(create_key or intent.id) from None

    async def _one(
        self, where: str, params: Sequence[Any], *, lock: bool
    ) -> PaymentIntentRecord | None:
        lock_clause = _FOR_UPDATE[self._sql.dialect] if lock else ""
        found = await self._sql.rows(f"{_SELECT_INTENT} WHERE {where}{lock_clause}", params)
        return _intent_of(found[0]) if found else None

    async def get(self, client_id: str, intent_id: str) -> PaymentIntentRecord | None:
        return await self._one("id = ? AND client_id = ?", (intent_id, client_id), lock=False)

    async def get_for_update(self, client_id: str, intent_id: str) -> PaymentIntentRecord | None:
        """Read the intent and hold its row lock until the transaction ends."""
        return await self._one("id = ? AND client_id = ?", (intent_id, client_id), lock=True)

    async def get_for_update_any(self, intent_id: str) -> PaymentIntentRecord | None:
        """Lock an intent by id alone (the reconciler and gateway updates act for any client)."""
        return await self._one("id = ?", (intent_id,), lock=True)

    async def find_by_create_key(
        self, client_id: str, create_key: str
    ) -> PaymentIntentRecord | None:
        return await self._one(
            "client_id = ? AND create_key = ?", (client_id, create_key), lock=True
        )

    async def find_by_gateway_reference(
        self, gateway: str, gateway_reference: str
    ) -> PaymentIntentRecord | None:
        """The intent a gateway event is about, locked (for the relay's updates)."""
        return await self._one(
            "gateway = ? AND gateway_reference = ?", (gateway, gateway_reference), lock=True
        )

    async def page(
        self,
        client_id: str,
        *,
        before_id: str | None,
        limit: int,
        customer_id: str | None = None,
        status: IntentStatus | None = None,
    ) -> list[PaymentIntentRecord]:
        query = select(PaymentIntentRow).where(PaymentIntentRow.client_id == client_id)
        if customer_id is not None:
            query = query.where(PaymentIntentRow.customer_id == customer_id)
        if status is not None:
            query = query.where(PaymentIntentRow.status == status.value)
        if before_id is not None:
            query = query.where(PaymentIntentRow.id < before_id)
        rows = await self._session.scalars(query.order_by(PaymentIntentRow.id.desc()).limit(limit))
        return [_intent(row) for row in rows]

    async def unsettled(self, *, older_than: dt.datetime, limit: int) -> list[tuple[str, str]]:
        """(client_id, id) of intents whose last gateway call has no known outcome."""
        rows = await self._session.execute(
            select(PaymentIntentRow.client_id, PaymentIntentRow.id)
            .where(
                PaymentIntentRow.attempt_state.in_(
                    [AttemptState.UNKNOWN.value, AttemptState.OPEN.value]
                ),
                PaymentIntentRow.update_time < older_than,
            )
            .limit(limit)
        )
        return [(client_id, intent_id) for client_id, intent_id in rows.all()]

    # --- named updates -------------------------------------------------------------------

    async def _apply(self, intent_id: str, **values: object) -> PaymentIntentRecord:
        """Update a row this transaction has locked, and return it as it now stands."""
        # Column names come from the named updates below, never from a caller's input.
        assignments = "".join(f"{name} = ?, " for name in values)
        found = await self._sql.rows(
            f"UPDATE payment_intents SET {assignments}update_time = ? WHERE id = ?"  # noqa: S608
            f" RETURNING {_RETURNING}",
            (*values.values(), self._sql.time(utcnow()), intent_id),
        )
        if not found:
            raise LookupError(intent_id)
        return _intent_of(found[0])

    async def record_attempt(
        self,
        intent_id: str,
        *,
        operation: str,
        key: str,
        amount: int,
        payment_method_id: str | None = None,
        return_url: str | None = None,
        application_fee_amount: int | None = None,
        cancellation_reason: str | None = None,
    ) -> PaymentIntentRecord:
        """The recovery point, committed before the gateway is called."""
        values: dict[str, object] = {
            "attempt_operation": operation,
            "attempt_key": key,
            "attempt_amount": amount,
            "attempt_state": AttemptState.OPEN.value,
        }
        if payment_method_id is not None:
            values["payment_method_id"] = payment_method_id
        if return_url is not None:
            values["return_url"] = return_url
        if application_fee_amount is not None:
            values["application_fee_amount"] = application_fee_amount
        if cancellation_reason is not None:
            values["cancellation_reason"] = cancellation_reason
        return await self._apply(intent_id, **values)

    async def record_attempt_unknown(
        self, intent_id: str, gateway: str, *, operation: str
    ) -> PaymentIntentRecord:
        return await self._apply(
            intent_id,
            attempt_state=AttemptState.UNKNOWN.value,
            attempt_operation=operation,
            gateway=gateway,
        )

    async def discard(self, intent_id: str) -> None:
        """Delete an intent that never was (nothing refers to it yet): a row this
        transaction has locked."""
        await self._sql.rows("DELETE FROM payment_intents WHERE id = ?", (intent_id,))

    async def record_attempt_not_sent(self, intent_id: str) -> PaymentIntentRecord:
        """No gateway took the call: the attempt is void (nothing happened anywhere)."""
        return await self._apply(intent_id, attempt_key="", attempt_operation="", attempt_state="")

    async def record_requires_action(
        self, intent_id: str, *, gateway: str, gateway_reference: str, redirect_url: str
    ) -> PaymentIntentRecord:
        return await self._apply(
            intent_id,
            status=IntentStatus.REQUIRES_ACTION.value,
            gateway=gateway,
            gateway_reference=gateway_reference,
            next_action_url=redirect_url,
            last_error_code="",
            last_error_decline_code="",
            last_error_message="",
            attempt_state=AttemptState.DONE.value,
        )

    async def record_processing(
        self, intent_id: str, *, gateway: str, gateway_reference: str
    ) -> PaymentIntentRecord:
        return await self._apply(
            intent_id,
            status=IntentStatus.PROCESSING.value,
            gateway=gateway,
            gateway_reference=gateway_reference,
            next_action_url="",
            attempt_state=AttemptState.DONE.value,
        )

    async def record_authorized(
        self, intent_id: str, *, gateway: str, gateway_reference: str, amount_capturable: int
    ) -> PaymentIntentRecord:
        return await self._apply(
            intent_id,
            status=IntentStatus.REQUIRES_CAPTURE.value,
            gateway=gateway,
            gateway_reference=gateway_reference,
            amount_capturable=amount_capturable,
            next_action_url="",
            last_error_code="",
            last_error_decline_code="",
            last_error_message="",
            attempt_state=AttemptState.DONE.value,
        )

    async def record_capture(
        self,
        intent_id: str,
        *,
        gateway: str,
        gateway_reference: str,
        amount_received: int,
        application_fee_amount: int | None,
        destination_amount: int,
    ) -> PaymentIntentRecord:
        """Money received (an automatic charge, or a capture of an authorization)."""
        return await self._apply(
            intent_id,
            status=IntentStatus.SUCCEEDED.value,
            gateway=gateway,
            gateway_reference=gateway_reference,
            amount_received=amount_received,
            amount_capturable=0,
            application_fee_amount=application_fee_amount,
            destination_amount=destination_amount,
            next_action_url="",
            last_error_code="",
            last_error_decline_code="",
            last_error_message="",
            attempt_state=AttemptState.DONE.value,
        )

    async def record_decline(
        self, intent_id: str, *, gateway: str, gateway_reference: str, error: LastError
    ) -> PaymentIntentRecord:
        """Back to REQUIRES_PAYMENT_METHOD with the reason (Stripe's behaviour)."""
        return await self._apply(
            intent_id,
            status=IntentStatus.REQUIRES_PAYMENT_METHOD.value,
            gateway=gateway,
            gateway_reference=gateway_reference,
            next_action_url="",
            last_error_code=error.code,
            last_error_decline_code=error.decline_code,
            last_error_message=error.message,
            attempt_state=AttemptState.DONE.value,
        )

    async def record_cancel(self, intent_id: str, *, reason: str) -> PaymentIntentRecord:
        return await self._apply(
            intent_id,
            status=IntentStatus.CANCELED.value,
            cancellation_reason=reason,
            amount_capturable=0,
            next_action_url="",
            attempt_state=AttemptState.DONE.value,
        )

    async def record_payment_method(
        self, intent_id: str, *, payment_method_id: str
    ) -> PaymentIntentRecord:
        return await self._apply(
            intent_id,
            payment_method_id=payment_method_id,
            status=IntentStatus.REQUIRES_CONFIRMATION.value,
        )

    async def record_refunded(self, intent_id: str, *, amount: int) -> PaymentIntentRecord:
        intent = await self.get_for_update_any(intent_id)
        if intent is None:
            raise LookupError(intent_id)
        return await self._apply(intent_id, amount_refunded=intent.amount_refunded + amount)

    async def record_payment_method_type(
        self, intent_id: str, payment_method_type: str
    ) -> PaymentIntentRecord:
        return await self._apply(intent_id, payment_method_type=payment_method_type)

    async def record_reversal(self, intent_id: str, *, error: LastError) -> PaymentIntentRecord:
        """A settled payment taken back (an ACH return after settlement): nothing was
        received after all, so back to REQUIRES_PAYMENT_METHOD with the reason."""
        return await self._apply(
            intent_id,
            status=IntentStatus.REQUIRES_PAYMENT_METHOD.value,
            amount_received=0,
            destination_amount=0,
            last_error_code=error.code,
            last_error_decline_code=error.decline_code,
            last_error_message=error.message,
        )


class Refunds:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, refund: RefundRecord, *, create_key: str | None) -> RefundRecord:
        self._session.add(
            RefundRow(
                id=refund.id,
                client_id=refund.client_id,
                create_key=create_key,
                payment_intent_id=refund.payment_intent_id,
                amount=refund.amount,
                currency=refund.currency,
                status=refund.status.value,
                reason=refund.reason,
                gateway=refund.gateway,
                gateway_reference=refund.gateway_reference,
                last_error_code="",
                last_error_message="",
                metadata_=dict(refund.metadata),
                attempt_key=refund.attempt.key,
                attempt_state=refund.attempt.state.value,
                create_time=refund.create_time,
                update_time=refund.update_time,
            )
        )
        await self._session.flush()
        return refund

    async def get(self, client_id: str, refund_id: str) -> RefundRecord | None:
        row = await self._session.scalar(
            select(RefundRow).where(RefundRow.id == refund_id, RefundRow.client_id == client_id)
        )
        return None if row is None else _refund(row)

    async def find_by_create_key(self, client_id: str, create_key: str) -> RefundRecord | None:
        row = await self._session.scalar(
            select(RefundRow).where(
                RefundRow.client_id == client_id, RefundRow.create_key == create_key
            )
        )
        return None if row is None else _refund(row)

    async def find_by_gateway_reference(
        self, gateway: str, gateway_reference: str
    ) -> RefundRecord | None:
        row = await self._session.scalar(
            select(RefundRow)
            .where(RefundRow.gateway == gateway, RefundRow.gateway_reference == gateway_reference)
            .with_for_update()
        )
        return None if row is None else _refund(row)

    async def unanswered(self, payment_intent_id: str) -> list[RefundRecord]:
        """The intent's refunds whose gateway call has no recorded answer yet (open or
        unknown): the gateway may know them by a reference we have not stored."""
        rows = await self._session.scalars(
            select(RefundRow).where(
                RefundRow.payment_intent_id == payment_intent_id,
                RefundRow.attempt_state.in_([AttemptState.OPEN.value, AttemptState.UNKNOWN.value]),
            )
        )
        return [_refund(row) for row in rows]

    async def committed_amount(self, payment_intent_id: str) -> int:
        """Pending plus succeeded refunds: what a new refund must fit beside."""
        rows = await self._session.scalars(
            select(RefundRow.amount).where(
                RefundRow.payment_intent_id == payment_intent_id,
                RefundRow.status.in_([RefundStatus.PENDING.value, RefundStatus.SUCCEEDED.value]),
            )
        )
        return sum(rows)

    async def page(
        self,
        client_id: str,
        *,
        before_id: str | None,
        limit: int,
        payment_intent_id: str | None = None,
    ) -> list[RefundRecord]:
        query = select(RefundRow).where(RefundRow.client_id == client_id)
        if payment_intent_id is not None:
            query = query.where(RefundRow.payment_intent_id == payment_intent_id)
        if before_id is not None:
            query = query.where(RefundRow.id < before_id)
        rows = await self._session.scalars(query.order_by(RefundRow.id.desc()).limit(limit))
        return [_refund(row) for row in rows]

    async def unsettled(self, *, older_than: dt.datetime, limit: int) -> list[tuple[str, str]]:
        rows = await self._session.execute(
            select(RefundRow.client_id, RefundRow.id)
            .where(
                RefundRow.attempt_state.in_([AttemptState.UNKNOWN.value, AttemptState.OPEN.value]),
                RefundRow.update_time < older_than,
            )
            .limit(limit)
        )
        return [(client_id, refund_id) for client_id, refund_id in rows.all()]

    async def awaiting_gateway(
        self, *, older_than: dt.datetime, limit: int
    ) -> list[tuple[str, str]]:
        """(client_id, id) of refunds the gateway answered "pending" and has not settled
        since ``older_than`` (by webhook or by an earlier look), least recently first."""
        rows = await self._session.execute(
            select(RefundRow.client_id, RefundRow.id)
            .where(
                RefundRow.status == RefundStatus.PENDING.value,
                RefundRow.attempt_state == AttemptState.DONE.value,
                RefundRow.gateway_reference != "",
                RefundRow.update_time < older_than,
            )
            .order_by(RefundRow.update_time)
            .limit(limit)
        )
        return [(client_id, refund_id) for client_id, refund_id in rows.all()]

    async def _apply(self, refund_id: str, **values: object) -> RefundRecord:
        row = await self._session.scalar(
            select(RefundRow).where(RefundRow.id == refund_id).with_for_update()
        )
        if row is None:
            raise LookupError(refund_id)
        for name, value in values.items():
            setattr(row, name, value)
        row.update_time = utcnow()
        await self._session.flush()
        return _refund(row)

    async def get_for_update_any(self, refund_id: str) -> RefundRecord | None:
        row = await self._session.scalar(
            select(RefundRow).where(RefundRow.id == refund_id).with_for_update()
        )
        return None if row is None else _refund(row)

    async def get_for_update(self, client_id: str, refund_id: str) -> RefundRecord | None:
        row = await self._session.scalar(
            select(RefundRow)
            .where(RefundRow.id == refund_id, RefundRow.client_id == client_id)
            .with_for_update()
        )
        return None if row is None else _refund(row)

    async def record_unknown(self, refund_id: str) -> RefundRecord:
        return await self._apply(refund_id, attempt_state=AttemptState.UNKNOWN.value)

    async def record_succeeded(self, refund_id: str, *, gateway_reference: str) -> RefundRecord:
        return await self._apply(
            refund_id,
            status=RefundStatus.SUCCEEDED.value,
            gateway_reference=gateway_reference,
            attempt_state=AttemptState.DONE.value,
        )

    async def record_pending(self, refund_id: str, *, gateway_reference: str) -> RefundRecord:
        return await self._apply(
            refund_id, gateway_reference=gateway_reference, attempt_state=AttemptState.DONE.value
        )

    async def record_failed(
        self, refund_id: str, *, gateway_reference: str, error: LastError
    ) -> RefundRecord:
        return await self._apply(
            refund_id,
            status=RefundStatus.FAILED.value,
            gateway_reference=gateway_reference,
            last_error_code=error.code,
            last_error_message=error.message,
            attempt_state=AttemptState.DONE.value,
        )
