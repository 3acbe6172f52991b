"""Saved payment methods: gateway tokens on a customer; raw card numbers never get here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from gateways.errors import GatewayAuthError, GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.protocols import SavedMethods
from gateways.router import Need, NoCapableGateway, Router
from gateways.types import AttachRequest, Capability, CustomerRequest, DetachRequest, derive_key
from server.errors import FieldViolation, InvalidInput, InvalidState, NotFound
from server.events import record_event
from server.pagination import Page, PageRequest, page_of
from server.payments.errors import (
    CapabilityMissing,
    CardDeclined,
    GatewayOutcomeUnknown,
    GatewayUnavailableError,
)
from store.customers import Customers
from store.db import Database
from store.ids import new_id
from store.models import utcnow
from store.payment_methods import GatewayCustomers, PaymentMethodRecord, PaymentMethods

PaymentMethod = PaymentMethodRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPaymentMethod:
    customer_id: str
    gateway: str
    token: str
    set_as_default: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class MethodFilter:
    gateway: str | None = None
    type: str | None = None


def gateway_failure(error: Exception) -> Exception:
    """The domain error for a gateway that could not be asked (shared by these use cases)."""
    if isinstance(error, OutcomeUnknown):
        return GatewayOutcomeUnknown(
            f"the gateway did not answer in time ({error.gateway}); retry with the same "
            "idempotency key"
        )
    if isinstance(error, GatewayUnavailable | GatewayAuthError):
        return GatewayUnavailableError(
            f"gateway {error.gateway} is unreachable; nothing was done; retry later",
            metadata={"gateway": error.gateway},
        )
    return error


class PaymentMethodService:
    def __init__(self, db: Database, router: Router) -> None:
        self._db = db
        self._router = router

    def _gateway(self, name: str) -> SavedMethods:
        need = Need(protocol=SavedMethods, capabilities=frozenset({Capability.SAVED_METHODS}))  # type: ignore[type-abstract]
        try:
            return self._router.candidates(need, SavedMethods, gateway=name or None)[0]  # type: ignore[type-abstract]
        except NoCapableGateway as missing:
            if missing.unknown_name:
                raise InvalidInput([FieldViolation("gateway", missing.message)]) from None
            raise CapabilityMissing(missing.message) from None

    async def attach(self, client_id: str, key: str, new: NewPaymentMethod) -> PaymentMethod:
        gateway = self._gateway(new.gateway)
        name = gateway.info.name
        async with self._db.read() as session:
            customer = await Customers(session).get(client_id, new.customer_id)
            if customer is None:
                raise NotFound("customer", new.customer_id)
            reference = await GatewayCustomers(session).find(customer.id, name)
        try:
            if reference is None:
                reference = await gateway.create_customer(
                    CustomerRequest(
                        email=customer.email,
                        name=customer.name,
                        idempotency_key=derive_key(client_id, customer.id, name, "customer"),
                    )
                )
                async with self._db.write() as session:
                    known = GatewayCustomers(session)
                    existing = await known.find(customer.id, name)
                    if existing is None:
                        await known.add(customer.id, name, reference)
                    else:
                        reference = existing
            saved = await gateway.attach(
                AttachRequest(
                    token=new.token,
                    customer_reference=reference,
                    idempotency_key=derive_key(client_id, key or new.token, "attach", customer.id),
                )
            )
        except GatewayRejected as refused:
            raise InvalidInput(
                [FieldViolation("token", f"the gateway refused this token: {refused.message}")]
            ) from None
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        if saved.error is not None:
            raise CardDeclined(
                saved.error.message or "the card was declined",
                metadata={"decline_code": saved.error.decline_code},
            )
        now = utcnow()
        method = PaymentMethod(
            id=new_id("pm"),
            client_id=client_id,
            customer_id=customer.id,
            gateway=name,
            gateway_reference=saved.gateway_reference,
            type=saved.type.value,
            brand=saved.brand,
            last4=saved.last4,
            exp_month=saved.exp_month,
            exp_year=saved.exp_year,
            is_default=new.set_as_default,
            metadata=dict(new.metadata),
            create_time=now,
            update_time=now,
        )
        async with self._db.write() as session:
            await PaymentMethods(session).add(method)
            await record_event(
                session,
                client_id=client_id,
                event_type="payment_method.attached",
                resource_id=method.id,
                data=_public(method),
            )
        return method

    async def list(
        self, client_id: str, customer_id: str, page: PageRequest, where: MethodFilter
    ) -> Page[PaymentMethod]:
        async with self._db.read() as session:
            if await Customers(session).get(client_id, customer_id) is None:
                raise NotFound("customer", customer_id)
            rows = await PaymentMethods(session).page(
                client_id,
                customer_id,
                before_id=page.before_id,
                limit=page.size + 1,
                gateway=where.gateway,
                type_=where.type,
            )
        return page_of(rows, page)

    async def detach(self, client_id: str, key: str, method_id: str) -> PaymentMethod:
        async with self._db.read() as session:
            method = await PaymentMethods(session).get(client_id, method_id)
        if method is None:
            raise NotFound("payment_method", method_id)
        if method.detach_time is not None:
            raise InvalidState(f"payment method {method_id} is already detached")
        gateway = self._gateway(method.gateway)
        try:
            await gateway.detach(
                DetachRequest(
                    gateway_reference=method.gateway_reference,
                    idempotency_key=derive_key(client_id, key or "-", "detach", method_id),
                )
            )
        except GatewayRejected:
            pass  # already gone at the gateway: detaching here is what is left to do
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        async with self._db.write() as session:
            methods = PaymentMethods(session)
            current = await methods.get_for_update(client_id, method_id)
            if current is None or current.detach_time is not None:
                raise InvalidState(f"payment method {method_id} is already detached")
            detached = await methods.record_detach(method_id)
            await record_event(
                session,
                client_id=client_id,
                event_type="payment_method.detached",
                resource_id=method_id,
                data=_public(detached),
            )
        return detached


def _public(method: PaymentMethod) -> dict[str, object]:
    return {
        "id": method.id,
        "customer_id": method.customer_id,
        "gateway": method.gateway,
        "type": method.type,
        "brand": method.brand,
        "last4": method.last4,
        "is_default": method.is_default,
        "detach_time": method.detach_time,
    }
