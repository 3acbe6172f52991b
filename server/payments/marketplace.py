"""Checkout sessions and marketplace connected accounts (sellers with a commission)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from gateways.errors import GatewayAuthError, GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.protocols import Checkout, MarketplaceAccounts
from gateways.router import Need, NoCapableGateway, Router
from gateways.types import (
    AccountLinkRequest,
    AccountRequest,
    Capability,
    CheckoutRequest,
    LineItem,
    derive_key,
)
from server.errors import FieldViolation, InvalidInput, InvalidState, NotFound, NotYetAvailable
from server.events import record_event
from server.payments.errors import CapabilityMissing, GatewayRefused
from server.payments.methods import gateway_failure
from server.payments.money import DEFAULT_COMMISSION_BPS
from store.customers import Customers
from store.db import Database
from store.ids import new_id
from store.models import utcnow
from store.payment_methods import (
    CheckoutSessionRecord,
    CheckoutSessions,
    ConnectedAccountRecord,
    ConnectedAccounts,
)

CheckoutSession = CheckoutSessionRecord
ConnectedAccount = ConnectedAccountRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class NewCheckoutSession:
    customer_id: str = ""
    mode: str = "payment"
    line_items: tuple[LineItem, ...] = ()
    plan_id: str = ""
    currency: str = "usd"
    success_url: str = ""
    cancel_url: str = ""
    gateway: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewConnectedAccount:
    owner_ref: str = ""
    email: str = ""
    name: str = ""
    country: str = "US"
    business_type: str = "individual"
    commission_bps: int | None = None
    return_url: str = ""
    refresh_url: str = ""
    gateway: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLink:
    url: str
    type: str  # onboarding | dashboard
    account_id: str
    expire_time: dt.datetime
    create_time: dt.datetime


def _pick(router: Router, need: Need, protocol: type, name: str) -> list[object]:
    try:
        return list(router.candidates(need, protocol, gateway=name or None))
    except NoCapableGateway as missing:
        if missing.unknown_name:
            raise InvalidInput([FieldViolation("gateway", missing.message)]) from None
        raise CapabilityMissing(missing.message) from None


class CheckoutService:
    def __init__(self, db: Database, router: Router) -> None:
        self._db = db
        self._router = router

    async def create(self, client_id: str, key: str, new: NewCheckoutSession) -> CheckoutSession:
        if new.mode != "payment":
            raise NotYetAvailable(
                "subscription checkout arrives with subscriptions; use mode PAYMENT with line_items"
            )
        async with self._db.read() as session:
            reference = None
            if new.customer_id and await Customers(session).get(client_id, new.customer_id) is None:
                raise NotFound("customer", new.customer_id)
        need = Need(protocol=Checkout, currency=new.currency)  # type: ignore[type-abstract]
        candidates: list[Checkout] = _pick(self._router, need, Checkout, new.gateway)  # type: ignore[assignment]
        request = CheckoutRequest(
            currency=new.currency,
            line_items=new.line_items,
            success_url=new.success_url,
            cancel_url=new.cancel_url,
            customer_reference=reference,
            metadata=new.metadata,
            idempotency_key=derive_key(client_id, key or new_id("cs"), "checkout"),
        )
        try:
            used, result = await Router.first_available(
                candidates, lambda g: g.create_checkout_session(request)
            )
        except GatewayRejected as refused:
            raise GatewayRefused(refused.message) from None
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        now = utcnow()
        record = CheckoutSession(
            id=new_id("cs"),
            client_id=client_id,
            customer_id=new.customer_id,
            mode=new.mode,
            status="open",
            currency=new.currency,
            line_items=[
                {"description": i.description, "quantity": i.quantity, "unit_amount": i.unit_amount}
                for i in new.line_items
            ],
            amount_total=sum(i.quantity * i.unit_amount for i in new.line_items),
            success_url=new.success_url,
            cancel_url=new.cancel_url,
            url=result.url,
            gateway=used.info.name,
            gateway_reference=result.gateway_reference,
            metadata=dict(new.metadata),
            expire_time=result.expire_time,
            create_time=now,
            update_time=now,
        )
        async with self._db.write() as session:
            await CheckoutSessions(session).add(record)
            await record_event(
                session,
                client_id=client_id,
                event_type="checkout.session.created",
                resource_id=record.id,
                data={"id": record.id, "url": record.url, "amount_total": record.amount_total},
            )
        return record

    async def get(self, client_id: str, session_id: str) -> CheckoutSession:
        async with self._db.read() as session:
            found = await CheckoutSessions(session).get(client_id, session_id)
        if found is None:
            raise NotFound("checkout_session", session_id)
        return found


class ConnectedAccountService:
    def __init__(self, db: Database, router: Router, *, default_return_url: str) -> None:
        self._db = db
        self._router = router
        self._default_return_url = default_return_url

    def _gateways(self, name: str) -> list[MarketplaceAccounts]:
        need = Need(
            protocol=MarketplaceAccounts,  # type: ignore[type-abstract]
            capabilities=frozenset({Capability.MARKETPLACE}),
        )
        return _pick(self._router, need, MarketplaceAccounts, name)  # type: ignore[return-value]

    async def create(self, client_id: str, key: str, new: NewConnectedAccount) -> ConnectedAccount:
        seed = key or new_id("acct")
        return_url = new.return_url or self._default_return_url
        try:
            used, created = await Router.first_available(
                self._gateways(new.gateway),
                lambda g: g.create_account(
                    AccountRequest(
                        email=new.email,
                        country=new.country,
                        business_type=new.business_type,
                        idempotency_key=derive_key(client_id, seed, "account"),
                    )
                ),
            )
            link = await used.create_account_link(
                AccountLinkRequest(
                    gateway_reference=created.gateway_reference,
                    type="account_onboarding",
                    return_url=return_url,
                    refresh_url=new.refresh_url or return_url,
                    idempotency_key=derive_key(client_id, seed, "account-link"),
                )
            )
        except GatewayRejected as refused:
            raise GatewayRefused(refused.message) from None
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        now = utcnow()
        active = created.details_submitted and created.charges_enabled
        record = ConnectedAccount(
            id=new_id("acct"),
            client_id=client_id,
            owner_ref=new.owner_ref,
            email=new.email,
            name=new.name,
            country=new.country,
            business_type=new.business_type,
            commission_bps=DEFAULT_COMMISSION_BPS
            if new.commission_bps is None
            else new.commission_bps,
            status="active" if active else "pending",
            charges_enabled=created.charges_enabled,
            payouts_enabled=created.payouts_enabled,
            details_submitted=created.details_submitted,
            onboarding_url="" if active else link.url,
            gateway=used.info.name,
            gateway_reference=created.gateway_reference,
            metadata=dict(new.metadata),
            create_time=now,
            update_time=now,
        )
        async with self._db.write() as session:
            await ConnectedAccounts(session).add(record)
            await record_event(
                session,
                client_id=client_id,
                event_type="connected_account.created",
                resource_id=record.id,
                data={"id": record.id, "status": record.status, "owner_ref": record.owner_ref},
            )
        return record

    async def get(self, client_id: str, account_id: str) -> ConnectedAccount:
        async with self._db.read() as session:
            found = await ConnectedAccounts(session).get(client_id, account_id)
        if found is None:
            raise NotFound("connected_account", account_id)
        return found

    async def create_link(
        self,
        client_id: str,
        key: str,
        account_id: str,
        *,
        type_: str,
        return_url: str,
        refresh_url: str,
    ) -> AccountLink:
        account = await self.get(client_id, account_id)
        if account.status == "rejected":
            raise InvalidState(f"connected account {account_id} was rejected")
        if type_ == "dashboard" and not account.details_submitted:
            raise InvalidState(f"connected account {account_id} has not finished onboarding")
        gateway = self._gateways(account.gateway)[0]
        return_url = return_url or self._default_return_url
        try:
            link = await gateway.create_account_link(
                AccountLinkRequest(
                    gateway_reference=account.gateway_reference,
                    type="account_onboarding" if type_ == "onboarding" else "account_update",
                    return_url=return_url,
                    refresh_url=refresh_url or return_url,
                    idempotency_key=derive_key(client_id, key or new_id("al"), "link", account_id),
                )
            )
        except GatewayRejected as refused:
            raise GatewayRefused(refused.message) from None
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        if type_ == "onboarding":
            async with self._db.write() as session:
                await ConnectedAccounts(session).record_onboarding_url(account_id, link.url)
        return AccountLink(
            url=link.url,
            type=type_,
            account_id=account_id,
            expire_time=link.expire_time,
            create_time=utcnow(),
        )


__all__ = [
    "AccountLink",
    "CheckoutService",
    "ConnectedAccountService",
    "NewCheckoutSession",
    "NewConnectedAccount",
]
