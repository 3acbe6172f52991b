"""Payment intents and refunds: frozen records, keyset pages, and named updates.

Every state change is a named method (``record_authorized``, ``record_decline`` …) so
the store says exactly which facts a transition writes; the domain decides *whether* a
transition is legal, under the row lock that ``get_for_update`` takes.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import utcnow
from store.payment_models import PaymentIntentRow, RefundRow

S = TypeVar("S", bound=Select[Any])


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
class LastError:
    code: str
    decline_code: str = ""
    message: str = ""


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


class PaymentIntents:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, intent: PaymentIntentRecord, *, create_key: str | None) -> None:
        """Insert; :class:`DuplicateCreateKey` when a concurrent create took the key first."""
        self._session.add(
            PaymentIntentRow(
                id=intent.id,
                client_id=intent.client_id,
                create_key=create_key,
                amount=intent.amount,
                currency=intent.currency,
                status=intent.status.value,
                capture_method=intent.capture_method.value,
                amount_capturable=0,
                amount_received=0,
                amount_refunded=0,
                customer_id=intent.customer_id,
                payment_method_id=intent.payment_method_id,
                gateway="",
                requested_gateway=intent.requested_gateway,
                gateway_reference="",
                client_secret=intent.client_secret,
                next_action_url="",
                last_error_code="",
                last_error_decline_code="",
                last_error_message="",
                application_fee_amount=intent.application_fee_amount,
                commission_bps=intent.commission_bps,
                destination_account_id=intent.destination_account_id,
                destination_amount=intent.destination_amount,
                description=intent.description,
                return_url=intent.return_url,
                cancellation_reason="",
                metadata_=dict(intent.metadata),
                attempt_operation=intent.attempt.operation if intent.attempt else "",
                attempt_key=intent.attempt.key if intent.attempt else "",
                attempt_amount=intent.attempt.amount if intent.attempt else 0,
                attempt_state=intent.attempt.state.value if intent.attempt else "",
                create_time=intent.create_time,
                update_time=intent.update_time,
            )
        )
        try:
            await self._session.flush()
        except IntegrityError:
            raise DuplicateCreateKey(create_key or intent.id) from None

    @staticmethod
    def _locked(query: S) -> S:
        # PostgreSQL: SELECT … FOR UPDATE. SQLite writes are already serialised (one writer
        # connection, BEGIN IMMEDIATE) and SQLAlchemy emits no FOR UPDATE there.
        return query.with_for_update()

    async def get(self, client_id: str, intent_id: str) -> PaymentIntentRecord | None:
        row = await self._session.scalar(
            select(PaymentIntentRow).where(
                PaymentIntentRow.id == intent_id, PaymentIntentRow.client_id == client_id
            )
        )
        return None if row is None else _intent(row)

    async def _row_for_update(self, intent_id: str) -> PaymentIntentRow:
        row = await self._session.scalar(
            self._locked(select(PaymentIntentRow).where(PaymentIntentRow.id == intent_id))
        )
        if row is None:
            raise LookupError(intent_id)
        return row

    async def get_for_update(self, client_id: str, intent_id: str) -> PaymentIntentRecord | None:
        """Read the intent and hold its row lock until the transaction ends."""
        row = await self._session.scalar(
            self._locked(
                select(PaymentIntentRow).where(
                    PaymentIntentRow.id == intent_id, PaymentIntentRow.client_id == client_id
                )
            )
        )
        return None if row is None else _intent(row)

    async def get_for_update_any(self, intent_id: str) -> PaymentIntentRecord | None:
        """Lock an intent by id alone (the reconciler and gateway updates act for any client)."""
        row = await self._session.scalar(
            self._locked(select(PaymentIntentRow).where(PaymentIntentRow.id == intent_id))
        )
        return None if row is None else _intent(row)

    async def find_by_create_key(
        self, client_id: str, create_key: str
    ) -> PaymentIntentRecord | None:
        row = await self._session.scalar(
            self._locked(
                select(PaymentIntentRow).where(
                    PaymentIntentRow.client_id == client_id,
                    PaymentIntentRow.create_key == create_key,
                )
            )
        )
        return None if row is None else _intent(row)

    async def find_by_gateway_reference(
        self, gateway: str, gateway_reference: str
    ) -> PaymentIntentRecord | None:
        """The intent a gateway event is about, locked (for the relay's updates)."""
        row = await self._session.scalar(
            self._locked(
                select(PaymentIntentRow).where(
                    PaymentIntentRow.gateway == gateway,
                    PaymentIntentRow.gateway_reference == gateway_reference,
                )
            )
        )
        return None if row is None else _intent(row)

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
        """Update a row this transaction has locked (it is in the session: no second read)."""
        row = await self._session.get(PaymentIntentRow, intent_id)
        if row is None:
            raise LookupError(intent_id)
        for name, value in values.items():
            setattr(row, name, value)
        row.update_time = utcnow()
        await self._session.flush()
        return _intent(row)

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

    async def record_attempt_unknown(self, intent_id: str, gateway: str) -> PaymentIntentRecord:
        return await self._apply(
            intent_id, attempt_state=AttemptState.UNKNOWN.value, gateway=gateway
        )

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
        row = await self._row_for_update(intent_id)
        return await self._apply(intent_id, amount_refunded=row.amount_refunded + amount)

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
                gateway_reference="",
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
