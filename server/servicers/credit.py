"""isa.credit.v1.CreditService: prepaid credits on the ledger.

PurchaseCredits charges a saved payment method through PaymentService
(``server.ledger_payments``); the credits are granted when the payment succeeds.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from google.protobuf.duration_pb2 import Duration
from sqlalchemy.ext.asyncio import AsyncSession

from isa.credit.v1 import credit_service_pb2 as pb
from isa.credit.v1 import resources_pb2 as resources
from server.context import caller
from server.idempotency import Idempotency
from server.interceptors import Context
from server.ledger.credits import (
    DEFAULT_RESERVATION_TTL,
    MAX_GRANT,
    MAX_RESERVATION_TTL,
    CreditBalance,
    CreditGrant,
    CreditPurchase,
    CreditReservation,
    CreditService,
    CreditTransaction,
    CreditTransactionType,
    GrantSource,
    NewConsumption,
    NewGrant,
    NewPurchase,
    NewReservation,
    PurchaseStatus,
    ReservationStatus,
)
from server.ledger.packages import CreditPackage
from server.ledger.payments import PaymentPort
from server.pagination import page_of
from server.servicers.ledger_calls import run_collecting
from server.servicers.payment_messages import payment_error
from server.servicers.support import (
    Checks,
    page_messages,
    run_idempotent,
    set_timestamp,
    timestamp,
)
from server.servicers.wallet import (
    MAX_OWNER_ID_LENGTH,
    check_amount,
    check_saved_method,
)

#: The unit of every credit amount, as violations name it.
CREDITS: Final = "credits"

#: Methods not built yet, with the note their UNIMPLEMENTED answer carries.
PENDING_CREDIT_METHODS: Final[dict[str, str]] = {}

_SOURCES: Final = {
    GrantSource.GRANT.value: resources.CREDIT_GRANT_SOURCE_GRANT,
    GrantSource.PURCHASE.value: resources.CREDIT_GRANT_SOURCE_PURCHASE,
}
_RESERVATION_STATUSES: Final = {
    ReservationStatus.ACTIVE.value: resources.CREDIT_RESERVATION_STATUS_ACTIVE,
    ReservationStatus.COMMITTED.value: resources.CREDIT_RESERVATION_STATUS_COMMITTED,
    ReservationStatus.RELEASED.value: resources.CREDIT_RESERVATION_STATUS_RELEASED,
    ReservationStatus.EXPIRED.value: resources.CREDIT_RESERVATION_STATUS_EXPIRED,
}
_TYPES: Final = {
    CreditTransactionType.PURCHASE: resources.CREDIT_TRANSACTION_TYPE_PURCHASE,
    CreditTransactionType.GRANT: resources.CREDIT_TRANSACTION_TYPE_GRANT,
    CreditTransactionType.CONSUME: resources.CREDIT_TRANSACTION_TYPE_CONSUME,
    CreditTransactionType.EXPIRE: resources.CREDIT_TRANSACTION_TYPE_EXPIRE,
    CreditTransactionType.REFUND: resources.CREDIT_TRANSACTION_TYPE_REFUND,
}
_TYPE_OF: Final = {wire: kind for kind, wire in _TYPES.items()}
_PURCHASE_STATUSES: Final = {
    PurchaseStatus.PENDING.value: resources.CREDIT_PURCHASE_STATUS_PENDING,
    PurchaseStatus.SUCCEEDED.value: resources.CREDIT_PURCHASE_STATUS_SUCCEEDED,
    PurchaseStatus.FAILED.value: resources.CREDIT_PURCHASE_STATUS_FAILED,
}


def duration(value: dt.timedelta | None) -> Duration | None:
    if value is None:
        return None
    message = Duration()
    message.FromTimedelta(value)
    return message


def package_message(package: CreditPackage) -> resources.CreditPackage:
    return resources.CreditPackage(
        id=package.id,
        name=package.name,
        credits=package.credits,
        price=package.price,
        currency=package.currency,
        validity=duration(package.validity),
        active=package.active,
    )


def balance_message(balance: CreditBalance) -> resources.CreditBalance:
    return resources.CreditBalance(
        owner_id=balance.owner_id,
        total=balance.total,
        available=balance.available,
        reserved=balance.reserved,
        expiring_soon=resources.ExpiringCredits(
            amount=balance.expiring_amount, expire_time=timestamp(balance.expiring_time)
        ),
        update_time=timestamp(balance.update_time),
    )


def grant_message(grant: CreditGrant) -> resources.CreditGrant:
    return resources.CreditGrant(
        id=grant.id,
        owner_id=grant.owner_id,
        amount=grant.amount,
        remaining=grant.remaining,
        expire_time=timestamp(grant.expire_time),
        reason=grant.reason,
        source=_SOURCES[grant.source],
        purchase_id=grant.purchase_id,
        metadata=grant.metadata,
        create_time=timestamp(grant.create_time),
        update_time=timestamp(grant.update_time),
    )


def reservation_message(reservation: CreditReservation) -> resources.CreditReservation:
    return resources.CreditReservation(
        id=reservation.id,
        owner_id=reservation.owner_id,
        amount=reservation.amount,
        committed_amount=reservation.committed_amount,
        status=_RESERVATION_STATUSES[reservation.status],
        expire_time=timestamp(reservation.expire_time),
        reason=reservation.reason,
        metadata=reservation.metadata,
        create_time=timestamp(reservation.create_time),
        update_time=timestamp(reservation.update_time),
    )


def transaction_message(
    record: CreditTransaction, message: resources.CreditTransaction | None = None
) -> resources.CreditTransaction:
    """``record`` on the wire; filled into ``message`` (a response's own field) when given."""
    if message is None:
        message = resources.CreditTransaction()
    message.id = record.id
    message.owner_id = record.owner_id
    message.type = _TYPES[CreditTransactionType(record.type)]
    message.amount = record.amount
    message.balance_after = record.balance_after
    message.reason = record.reason
    message.grant_id = record.grant_id
    message.reservation_id = record.reservation_id
    message.purchase_id = record.purchase_id
    if record.metadata:
        message.metadata.update(record.metadata)
    set_timestamp(message.create_time, record.create_time)
    set_timestamp(message.update_time, record.update_time)
    return message


def purchase_message(purchase: CreditPurchase) -> resources.CreditPurchase:
    message = resources.CreditPurchase(
        id=purchase.id,
        owner_id=purchase.owner_id,
        package_id=purchase.package_id,
        credits=purchase.credits,
        amount=purchase.amount,
        currency=purchase.currency,
        status=_PURCHASE_STATUSES[purchase.status],
        payment_method_id=purchase.payment_method_id,
        payment_intent_id=purchase.payment_reference,
        grant_id=purchase.grant_id,
        metadata=purchase.metadata,
        create_time=timestamp(purchase.create_time),
        update_time=timestamp(purchase.update_time),
    )
    if purchase.last_error is not None:
        message.last_error.CopyFrom(payment_error(purchase.last_error))
    return message


def check_owner(checks: Checks, value: str) -> str:
    return checks.text("owner_id", value, max_length=MAX_OWNER_ID_LENGTH, required=True)


class CreditServicer:
    def __init__(
        self, idempotency: Idempotency, credits: CreditService, payments: PaymentPort
    ) -> None:
        self._idempotency = idempotency
        self._credits = credits
        self._payments = payments

    async def GetCreditBalance(
        self, request: pb.GetCreditBalanceRequest, _context: Context
    ) -> pb.GetCreditBalanceResponse:
        checks = Checks()
        owner_id = check_owner(checks, request.owner_id)
        checks.raise_if_any()
        balance = await self._credits.balance(caller().id, owner_id)
        return pb.GetCreditBalanceResponse(credit_balance=balance_message(balance))

    async def ListCreditPackages(
        self, request: pb.ListCreditPackagesRequest, _context: Context
    ) -> pb.ListCreditPackagesResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        checks.raise_if_any()
        # Packages are few and ordered smallest first; the token is the last id shown.
        packages = list(self._credits.packages())
        if page_request.before_id is not None:
            shown = [p.id for p in packages]
            start = (
                shown.index(page_request.before_id) + 1
                if page_request.before_id in shown
                else len(shown)
            )
            packages = packages[start:]
        page = page_of(packages, page_request)
        credit_packages, next_page_token = page_messages(page, package_message)
        return pb.ListCreditPackagesResponse(
            credit_packages=credit_packages, next_page_token=next_page_token
        )

    async def PurchaseCredits(
        self, request: pb.PurchaseCreditsRequest, _context: Context
    ) -> pb.PurchaseCreditsResponse:
        checks = Checks()
        new = NewPurchase(
            owner_id=check_owner(checks, request.owner_id),
            package_id=checks.text("package_id", request.package_id, max_length=100, required=True),
            payment_method_id=check_saved_method(checks, request.payment_method_id),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id
        return await run_collecting(
            self._idempotency,
            request,
            key,
            pb.PurchaseCreditsResponse,
            check=lambda: self._payments.check_method(
                client_id, new.payment_method_id, self._credits.package(new.package_id).currency
            ),
            begin=lambda session: self._credits.begin_purchase(session, client_id, new),
            collect=lambda purchase_id: self._credits.collect_purchase(
                client_id, purchase_id, self._payments
            ),
            respond=lambda purchase: pb.PurchaseCreditsResponse(
                credit_purchase=purchase_message(purchase)
            ),
            record_id=lambda response: response.credit_purchase.id,
        )

    async def GetCreditPurchase(
        self, request: pb.GetCreditPurchaseRequest, _context: Context
    ) -> pb.GetCreditPurchaseResponse:
        checks = Checks()
        purchase_id = checks.resource_id("id", request.id, prefix="crp")
        checks.raise_if_any()
        purchase = await self._credits.get_purchase(caller().id, purchase_id)
        return pb.GetCreditPurchaseResponse(credit_purchase=purchase_message(purchase))

    async def GrantCredits(
        self, request: pb.GrantCreditsRequest, _context: Context
    ) -> pb.GrantCreditsResponse:
        checks = Checks()
        expire_time = None
        if request.HasField("expire_time"):
            expire_time = checks.time("expire_time", request.expire_time)
            if expire_time is not None and expire_time <= dt.datetime.now(dt.UTC):
                checks.fail("expire_time", "must be in the future (unset: never expires)")
        new = NewGrant(
            owner_id=check_owner(checks, request.owner_id),
            amount=check_amount(checks, "amount", request.amount, unit=CREDITS, maximum=MAX_GRANT),
            expire_time=expire_time,
            reason=checks.text("reason", request.reason, max_length=500),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        async def grant(session: AsyncSession) -> pb.GrantCreditsResponse:
            made = await self._credits.grant(session, client_id, new)
            return pb.GrantCreditsResponse(credit_grant=grant_message(made))

        return await run_idempotent(self._idempotency, request, key, pb.GrantCreditsResponse, grant)

    async def ConsumeCredits(
        self, request: pb.ConsumeCreditsRequest, _context: Context
    ) -> pb.ConsumeCreditsResponse:
        checks = Checks()
        new = NewConsumption(
            owner_id=check_owner(checks, request.owner_id),
            amount=check_amount(checks, "amount", request.amount, unit=CREDITS),
            reason=checks.text("reason", request.reason, max_length=500),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        async def consume(session: AsyncSession) -> pb.ConsumeCreditsResponse:
            spent = await self._credits.consume(session, client_id, new)
            response = pb.ConsumeCreditsResponse()
            transaction_message(spent, response.credit_transaction)
            return response

        return await run_idempotent(
            self._idempotency, request, key, pb.ConsumeCreditsResponse, consume
        )

    async def ReserveCredits(
        self, request: pb.ReserveCreditsRequest, _context: Context
    ) -> pb.ReserveCreditsResponse:
        checks = Checks()
        ttl = DEFAULT_RESERVATION_TTL
        asked = checks.duration("ttl", request.ttl) if request.HasField("ttl") else None
        if asked is not None:
            ttl = asked
            if not dt.timedelta(0) < ttl <= MAX_RESERVATION_TTL:
                checks.fail("ttl", "must be positive and at most 24 hours (unset: 15 minutes)")
        new = NewReservation(
            owner_id=check_owner(checks, request.owner_id),
            amount=check_amount(checks, "amount", request.amount, unit=CREDITS),
            ttl=ttl,
            reason=checks.text("reason", request.reason, max_length=500),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        async def reserve(session: AsyncSession) -> pb.ReserveCreditsResponse:
            held = await self._credits.reserve(session, client_id, new)
            return pb.ReserveCreditsResponse(credit_reservation=reservation_message(held))

        return await run_idempotent(
            self._idempotency, request, key, pb.ReserveCreditsResponse, reserve
        )

    async def CommitReservation(
        self, request: pb.CommitReservationRequest, _context: Context
    ) -> pb.CommitReservationResponse:
        checks = Checks()
        reservation_id = checks.resource_id("id", request.id, prefix="crr")
        amount = None
        if request.HasField("amount"):
            amount = request.amount
            if amount < 0:
                checks.fail("amount", "must not be negative (unset: the whole reservation)")
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        async def commit(session: AsyncSession) -> pb.CommitReservationResponse:
            done = await self._credits.commit_reservation(
                session, client_id, reservation_id, amount
            )
            return pb.CommitReservationResponse(credit_reservation=reservation_message(done))

        return await run_idempotent(
            self._idempotency, request, key, pb.CommitReservationResponse, commit
        )

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, _context: Context
    ) -> pb.ReleaseReservationResponse:
        checks = Checks()
        reservation_id = checks.resource_id("id", request.id, prefix="crr")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def release(session: AsyncSession) -> pb.ReleaseReservationResponse:
            done = await self._credits.release_reservation(session, client_id, reservation_id)
            return pb.ReleaseReservationResponse(credit_reservation=reservation_message(done))

        return await run_idempotent(
            self._idempotency, request, key, pb.ReleaseReservationResponse, release
        )

    async def ListCreditTransactions(
        self, request: pb.ListCreditTransactionsRequest, _context: Context
    ) -> pb.ListCreditTransactionsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        owner_id = check_owner(checks, request.owner_id)
        kind = None
        if request.type != resources.CREDIT_TRANSACTION_TYPE_UNSPECIFIED:
            kind = _TYPE_OF.get(request.type)
            if kind is None:
                checks.fail("type", "is not a known CreditTransactionType")
        checks.raise_if_any()
        page = await self._credits.list_transactions(caller().id, owner_id, page_request, kind)
        credit_transactions, next_page_token = page_messages(page, transaction_message)
        return pb.ListCreditTransactionsResponse(
            credit_transactions=credit_transactions, next_page_token=next_page_token
        )
