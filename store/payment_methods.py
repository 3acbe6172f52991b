"""Saved payment methods, gateway customers, checkout sessions and connected accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from store.models import utcnow
from store.payment_models import (
    CheckoutSessionRow,
    ConnectedAccountRow,
    GatewayCustomerRow,
    PaymentMethodRow,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentMethodRecord:
    id: str
    client_id: str
    customer_id: str
    gateway: str
    gateway_reference: str
    type: str
    brand: str = ""
    last4: str = ""
    exp_month: int = 0
    exp_year: int = 0
    is_default: bool = False
    metadata: dict[str, str] = field(default_factory=dict)
    bank_name: str = ""
    account_type: str = ""
    verification_status: str = "verified"  # pending | verified | failed
    create_time: dt.datetime
    update_time: dt.datetime
    detach_time: dt.datetime | None = None


def _method(row: PaymentMethodRow) -> PaymentMethodRecord:
    return PaymentMethodRecord(
        id=row.id,
        client_id=row.client_id,
        customer_id=row.customer_id,
        gateway=row.gateway,
        gateway_reference=row.gateway_reference,
        type=row.type,
        brand=row.brand,
        last4=row.last4,
        exp_month=row.exp_month,
        exp_year=row.exp_year,
        is_default=row.is_default,
        metadata=dict(row.metadata_ or {}),
        bank_name=row.bank_name,
        account_type=row.account_type,
        verification_status=row.verification_status,
        create_time=row.create_time,
        update_time=row.update_time,
        detach_time=row.detach_time,
    )


class PaymentMethods:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, method: PaymentMethodRecord) -> PaymentMethodRecord:
        if method.is_default:
            await self._session.execute(
                update(PaymentMethodRow)
                .where(
                    PaymentMethodRow.client_id == method.client_id,
                    PaymentMethodRow.customer_id == method.customer_id,
                )
                .values(is_default=False)
            )
        self._session.add(
            PaymentMethodRow(
                id=method.id,
                client_id=method.client_id,
                customer_id=method.customer_id,
                gateway=method.gateway,
                gateway_reference=method.gateway_reference,
                type=method.type,
                brand=method.brand,
                last4=method.last4,
                exp_month=method.exp_month,
                exp_year=method.exp_year,
                is_default=method.is_default,
                metadata_=dict(method.metadata),
                bank_name=method.bank_name,
                account_type=method.account_type,
                verification_status=method.verification_status,
                create_time=method.create_time,
                update_time=method.update_time,
                detach_time=None,
            )
        )
        await self._session.flush()
        return method

    async def get(self, client_id: str, method_id: str) -> PaymentMethodRecord | None:
        row = await self._session.scalar(
            select(PaymentMethodRow).where(
                PaymentMethodRow.id == method_id, PaymentMethodRow.client_id == client_id
            )
        )
        return None if row is None else _method(row)

    async def get_for_update(self, client_id: str, method_id: str) -> PaymentMethodRecord | None:
        row = await self._session.scalar(
            select(PaymentMethodRow)
            .where(PaymentMethodRow.id == method_id, PaymentMethodRow.client_id == client_id)
            .with_for_update()
        )
        return None if row is None else _method(row)

    async def record_verification(self, method_id: str, status: str) -> PaymentMethodRecord:
        row = await self._session.get_one(PaymentMethodRow, method_id)
        row.verification_status = status
        row.update_time = utcnow()
        await self._session.flush()
        return _method(row)

    async def record_detach(self, method_id: str) -> PaymentMethodRecord:
        row = await self._session.get_one(PaymentMethodRow, method_id)
        now = utcnow()
        row.customer_id = ""
        row.is_default = False
        row.detach_time = now
        row.update_time = now
        await self._session.flush()
        return _method(row)

    async def page(
        self,
        client_id: str,
        customer_id: str,
        *,
        before_id: str | None,
        limit: int,
        gateway: str | None = None,
        type_: str | None = None,
    ) -> list[PaymentMethodRecord]:
        query = select(PaymentMethodRow).where(
            PaymentMethodRow.client_id == client_id, PaymentMethodRow.customer_id == customer_id
        )
        if gateway is not None:
            query = query.where(PaymentMethodRow.gateway == gateway)
        if type_ is not None:
            query = query.where(PaymentMethodRow.type == type_)
        if before_id is not None:
            query = query.where(PaymentMethodRow.id < before_id)
        rows = await self._session.scalars(query.order_by(PaymentMethodRow.id.desc()).limit(limit))
        return [_method(row) for row in rows]


class GatewayCustomers:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def find(self, customer_id: str, gateway: str) -> str | None:
        row = await self._session.get(GatewayCustomerRow, (customer_id, gateway))
        return None if row is None else row.gateway_reference

    async def add(self, customer_id: str, gateway: str, gateway_reference: str) -> None:
        self._session.add(
            GatewayCustomerRow(
                customer_id=customer_id,
                gateway=gateway,
                gateway_reference=gateway_reference,
                create_time=utcnow(),
            )
        )
        await self._session.flush()


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutSessionRecord:
    id: str
    client_id: str
    customer_id: str
    mode: str
    status: str
    currency: str
    line_items: list[dict[str, object]]
    amount_total: int
    success_url: str
    cancel_url: str
    url: str
    gateway: str
    gateway_reference: str
    payment_intent_id: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    expire_time: dt.datetime
    create_time: dt.datetime
    update_time: dt.datetime


def _session_record(row: CheckoutSessionRow) -> CheckoutSessionRecord:
    return CheckoutSessionRecord(
        id=row.id,
        client_id=row.client_id,
        customer_id=row.customer_id,
        mode=row.mode,
        status=row.status,
        currency=row.currency,
        line_items=list(row.line_items or []),
        amount_total=row.amount_total,
        success_url=row.success_url,
        cancel_url=row.cancel_url,
        url=row.url,
        gateway=row.gateway,
        gateway_reference=row.gateway_reference,
        payment_intent_id=row.payment_intent_id,
        metadata=dict(row.metadata_ or {}),
        expire_time=row.expire_time,
        create_time=row.create_time,
        update_time=row.update_time,
    )


class CheckoutSessions:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: CheckoutSessionRecord) -> CheckoutSessionRecord:
        self._session.add(
            CheckoutSessionRow(
                id=record.id,
                client_id=record.client_id,
                customer_id=record.customer_id,
                mode=record.mode,
                status=record.status,
                currency=record.currency,
                line_items=list(record.line_items),
                amount_total=record.amount_total,
                success_url=record.success_url,
                cancel_url=record.cancel_url,
                url=record.url,
                gateway=record.gateway,
                gateway_reference=record.gateway_reference,
                payment_intent_id=record.payment_intent_id,
                metadata_=dict(record.metadata),
                expire_time=record.expire_time,
                create_time=record.create_time,
                update_time=record.update_time,
            )
        )
        await self._session.flush()
        return record

    async def get(self, client_id: str, session_id: str) -> CheckoutSessionRecord | None:
        row = await self._session.scalar(
            select(CheckoutSessionRow).where(
                CheckoutSessionRow.id == session_id, CheckoutSessionRow.client_id == client_id
            )
        )
        return None if row is None else _session_record(row)

    async def find_by_gateway_reference(
        self, gateway: str, gateway_reference: str, *, lock: bool = True
    ) -> CheckoutSessionRecord | None:
        """Locked unless asked not to: the caller is about to record what the gateway
        says of it."""
        query = select(CheckoutSessionRow).where(
            CheckoutSessionRow.gateway == gateway,
            CheckoutSessionRow.gateway_reference == gateway_reference,
        )
        row = await self._session.scalar(query.with_for_update() if lock else query)
        return None if row is None else _session_record(row)

    async def lapsed(
        self,
        gateway: str,
        now: dt.datetime,
        *,
        after: CheckoutSessionRecord | None = None,
        limit: int,
    ) -> list[CheckoutSessionRecord]:
        """``gateway``'s OPEN sessions past their expire_time, by (expire_time, id) from
        just past ``after``: a sweep pages on past the ones it leaves open. The WHERE
        and the order are ix_checkout_sessions_gateway_status_expire_time_id's."""
        row = CheckoutSessionRow
        query = select(row).where(
            row.gateway == gateway, row.status == "open", row.expire_time <= now
        )
        if after is not None:
            query = query.where(tuple_(row.expire_time, row.id) > (after.expire_time, after.id))
        rows = await self._session.scalars(query.order_by(row.expire_time, row.id).limit(limit))
        return [_session_record(found) for found in rows]

    async def get_for_update(self, client_id: str, session_id: str) -> CheckoutSessionRecord | None:
        row = await self._session.scalar(
            select(CheckoutSessionRow)
            .where(CheckoutSessionRow.id == session_id, CheckoutSessionRow.client_id == client_id)
            .with_for_update()
        )
        return None if row is None else _session_record(row)

    async def update(
        self, session_id: str, *, status: str, payment_intent_id: str
    ) -> CheckoutSessionRecord:
        """Change a session this transaction has locked (so its row is already loaded);
        returns it as it now stands."""
        row = await self._session.get_one(CheckoutSessionRow, session_id)
        row.status = status
        row.payment_intent_id = payment_intent_id
        row.update_time = utcnow()
        await self._session.flush()
        return _session_record(row)


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectedAccountRecord:
    id: str
    client_id: str
    owner_ref: str
    email: str
    name: str
    country: str
    business_type: str
    commission_bps: int
    status: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    onboarding_url: str
    gateway: str
    gateway_reference: str
    metadata: dict[str, str] = field(default_factory=dict)
    create_time: dt.datetime
    update_time: dt.datetime


def _account(row: ConnectedAccountRow) -> ConnectedAccountRecord:
    return ConnectedAccountRecord(
        id=row.id,
        client_id=row.client_id,
        owner_ref=row.owner_ref,
        email=row.email,
        name=row.name,
        country=row.country,
        business_type=row.business_type,
        commission_bps=row.commission_bps,
        status=row.status,
        charges_enabled=row.charges_enabled,
        payouts_enabled=row.payouts_enabled,
        details_submitted=row.details_submitted,
        onboarding_url=row.onboarding_url,
        gateway=row.gateway,
        gateway_reference=row.gateway_reference,
        metadata=dict(row.metadata_ or {}),
        create_time=row.create_time,
        update_time=row.update_time,
    )


class ConnectedAccounts:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: ConnectedAccountRecord) -> ConnectedAccountRecord:
        self._session.add(
            ConnectedAccountRow(
                id=record.id,
                client_id=record.client_id,
                owner_ref=record.owner_ref,
                email=record.email,
                name=record.name,
                country=record.country,
                business_type=record.business_type,
                commission_bps=record.commission_bps,
                status=record.status,
                charges_enabled=record.charges_enabled,
                payouts_enabled=record.payouts_enabled,
                details_submitted=record.details_submitted,
                onboarding_url=record.onboarding_url,
                gateway=record.gateway,
                gateway_reference=record.gateway_reference,
                metadata_=dict(record.metadata),
                create_time=record.create_time,
                update_time=record.update_time,
            )
        )
        await self._session.flush()
        return record

    async def get(self, client_id: str, account_id: str) -> ConnectedAccountRecord | None:
        row = await self._session.scalar(
            select(ConnectedAccountRow).where(
                ConnectedAccountRow.id == account_id, ConnectedAccountRow.client_id == client_id
            )
        )
        return None if row is None else _account(row)

    async def record_onboarding_url(self, account_id: str, url: str) -> ConnectedAccountRecord:
        row = await self._session.get_one(ConnectedAccountRow, account_id)
        row.onboarding_url = url
        row.update_time = utcnow()
        await self._session.flush()
        return _account(row)

    async def find_by_gateway_reference(
        self, gateway: str, gateway_reference: str, *, lock: bool = True
    ) -> ConnectedAccountRecord | None:
        """Locked unless asked not to: the caller is about to record what the gateway
        says of it."""
        query = select(ConnectedAccountRow).where(
            ConnectedAccountRow.gateway == gateway,
            ConnectedAccountRow.gateway_reference == gateway_reference,
        )
        row = await self._session.scalar(query.with_for_update() if lock else query)
        return None if row is None else _account(row)

    async def record_state(
        self,
        account_id: str,
        *,
        status: str,
        charges_enabled: bool,
        payouts_enabled: bool,
        details_submitted: bool,
        onboarding_url: str,
    ) -> ConnectedAccountRecord:
        row = await self._session.get_one(ConnectedAccountRow, account_id)
        row.status = status
        row.charges_enabled = charges_enabled
        row.payouts_enabled = payouts_enabled
        row.details_submitted = details_submitted
        row.onboarding_url = onboarding_url
        row.update_time = utcnow()
        await self._session.flush()
        return _account(row)
