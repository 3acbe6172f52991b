"""Prepaid credits on the ledger: grants, consumption, reservations, expiry, purchases.

Accounts (currency ``credits``): each owner has ``user_credits`` (available) and
``user_credits_reserved``; the system side has ``credits_issued`` (where granted and
sold credits come from), ``credits_consumed`` and ``expired_credits``. Every move is a
balanced ledger transfer, and an owner's available balance always equals the sum of
their grants' ``remaining`` (``isa ledger check`` verifies it):

- grant / purchase:  credits_issued -n, user_credits +n        (+ a grant of n)
- consume:           user_credits -n, credits_consumed +n      (grants drawn down)
- reserve:           user_credits -n, user_credits_reserved +n (grants drawn down)
- commit c of n:     reserved -n, credits_consumed +c, user_credits +(n-c)
- release / lapse:   reserved -n, user_credits +n              (grants restored)
- expiry:            user_credits -r, expired_credits +r       (grant remaining -> 0)
- purchase refunded: user_credits -n, credits_issued +n        (the purchase's grant -> 0,
                     when its payment's refund is requested; restored if the refund fails)
                     and, once the refund succeeds, revenue -p, gateway_clearing +p

A credit purchase is refunded whole or not at all, and only while none of its credits
has been used (consumed, reserved or expired): the credits are revoked in the refund's
own transaction, before the gateway is asked. A refund made at the gateway (a dashboard)
cannot be refused: it revokes its proportional share, ceil(refund * credits / price),
of what the purchase's grant still has, and books only its amount out of revenue.

Spending order: soonest expiry first (never-expiring last), granted before purchased at
equal expiry, then oldest first. On PostgreSQL each use case first locks the owner's
available account, so one owner's operations serialise and never deadlock.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import InsufficientCredits, InvalidState, NotFound
from server.events import record_event
from server.ledger.packages import CreditPackage
from server.ledger.payments import (
    ChargeNotMade,
    ChargeRequest,
    PaymentOutcome,
    PaymentPort,
    PaymentReference,
    charge_key,
)
from server.pagination import Page, PageRequest, page_of
from store.credits import (
    CreditGrantRecord,
    CreditPurchaseRecord,
    CreditReservationRecord,
    Credits,
    CreditTransactionRecord,
)
from store.db import Database
from store.ids import new_id
from store.last_error import LastError
from store.ledger import CREDITS, AccountKind, AccountRef, Ledger, Leg, Overdraft
from store.models import utcnow

log = logging.getLogger("isa.ledger.credits")

CreditGrant = CreditGrantRecord
CreditReservation = CreditReservationRecord
CreditTransaction = CreditTransactionRecord
CreditPurchase = CreditPurchaseRecord

DEFAULT_RESERVATION_TTL: Final = dt.timedelta(minutes=15)
MAX_RESERVATION_TTL: Final = dt.timedelta(hours=24)
#: The most credits one grant gives: grants are drawn from the client's issued-credits
#: account, whose balance (like every balance) must stay within a 64-bit integer.
MAX_GRANT: Final = 1_000_000_000
EXPIRING_SOON: Final = dt.timedelta(days=30)
SWEEP_BATCH: Final = 200
#: A REFUND credit line's metadata naming the refund it revokes or restores for.
REFUND_ID: Final = "refund_id"


class GrantSource(enum.Enum):
    GRANT = "grant"
    PURCHASE = "purchase"


#: At equal expiry, granted credits are spent before purchased ones.
SPENDING_ORDER: Final = {GrantSource.GRANT.value: 0, GrantSource.PURCHASE.value: 1}


class CreditTransactionType(enum.Enum):
    PURCHASE = "purchase"
    GRANT = "grant"
    CONSUME = "consume"
    EXPIRE = "expire"
    REFUND = "refund"  # a purchase's credits revoked (-) or restored (+) with its refund


class ReservationStatus(enum.Enum):
    ACTIVE = "active"
    COMMITTED = "committed"
    RELEASED = "released"
    EXPIRED = "expired"


class PurchaseStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditBalance:
    owner_id: str
    total: int
    available: int
    reserved: int
    expiring_amount: int
    expiring_time: dt.datetime | None
    update_time: dt.datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewGrant:
    owner_id: str
    amount: int
    expire_time: dt.datetime | None = None
    reason: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewConsumption:
    owner_id: str
    amount: int
    reason: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewReservation:
    owner_id: str
    amount: int
    ttl: dt.timedelta = DEFAULT_RESERVATION_TTL
    reason: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPurchase:
    owner_id: str
    package_id: str
    payment_method_id: str
    metadata: Mapping[str, str] = field(default_factory=dict)


def available_account(client_id: str, owner_id: str) -> AccountRef:
    return AccountRef(client_id, owner_id, AccountKind.USER_CREDITS, CREDITS)


def reserved_account(client_id: str, owner_id: str) -> AccountRef:
    return AccountRef(client_id, owner_id, AccountKind.USER_CREDITS_RESERVED, CREDITS)


def system_account(client_id: str, kind: AccountKind) -> AccountRef:
    return AccountRef.system(client_id, kind, CREDITS)


class CreditService:
    def __init__(
        self,
        db: Database,
        packages: tuple[CreditPackage, ...],
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._db = db
        self._packages = packages
        self._now = clock  # expiry is about time: tests move it instead of sleeping

    # -- packages --------------------------------------------------------------------

    def packages(self) -> tuple[CreditPackage, ...]:
        return tuple(package for package in self._packages if package.active)

    def package(self, package_id: str) -> CreditPackage:
        for package in self._packages:
            if package.id == package_id:
                if not package.active:
                    raise InvalidState(f"credit package {package_id!r} is no longer sold")
                return package
        raise NotFound("credit package", package_id)

    # -- reads -----------------------------------------------------------------------

    async def balance(self, client_id: str, owner_id: str) -> CreditBalance:
        now = self._now()
        async with self._db.read() as session:
            available, expiring, expiring_time, reserved, changed = await Credits(
                session
            ).balance_view(client_id, owner_id, now, now + EXPIRING_SOON)
        return CreditBalance(
            owner_id=owner_id,
            total=available + reserved,
            available=available,
            reserved=reserved,
            expiring_amount=expiring,
            expiring_time=expiring_time,
            update_time=changed,
        )

    async def list_transactions(
        self,
        client_id: str,
        owner_id: str,
        page: PageRequest,
        type: CreditTransactionType | None = None,
    ) -> Page[CreditTransaction]:
        async with self._db.read() as session:
            rows = await Credits(session).transactions_page(
                client_id,
                owner_id,
                before_id=page.before_id,
                limit=page.size + 1,
                type=None if type is None else type.value,
            )
        return page_of(rows, page)

    # -- grants ----------------------------------------------------------------------

    async def grant(self, session: AsyncSession, client_id: str, new: NewGrant) -> CreditGrant:
        """Give credits (optionally expiring); a GRANT transaction records it, event
        credit.granted (a grant is often a back office's: the owner's app hears of it)."""
        if new.expire_time is not None and new.expire_time <= self._now():
            raise InvalidState("expire_time must be in the future")
        grant, _ = await self._issue(
            session,
            client_id,
            new.owner_id,
            new.amount,
            expire_time=new.expire_time,
            reason=new.reason,
            metadata=new.metadata,
            source=GrantSource.GRANT,
        )
        await record_event(
            session,
            client_id=client_id,
            event_type="credit.granted",
            resource_id=grant.id,
            data=grant,
        )
        return grant

    async def _issue(
        self,
        session: AsyncSession,
        client_id: str,
        owner_id: str,
        amount: int,
        *,
        expire_time: dt.datetime | None,
        reason: str,
        metadata: Mapping[str, str],
        source: GrantSource,
        purchase_id: str = "",
    ) -> tuple[CreditGrant, CreditTransaction]:
        ledger = Ledger(session)
        await ledger.lock(available_account(client_id, owner_id))
        now = self._now()
        grant = CreditGrant(
            id=new_id("crg"),
            client_id=client_id,
            owner_id=owner_id,
            amount=amount,
            remaining=amount,
            expire_time=expire_time,
            reason=reason,
            source=source.value,
            purchase_id=purchase_id,
            metadata=dict(metadata),
            create_time=now,
            update_time=now,
        )
        await Credits(session).add_grant(grant)
        after = await ledger.post(
            grant.id,
            [
                Leg(system_account(client_id, AccountKind.CREDITS_ISSUED), -amount),
                Leg(available_account(client_id, owner_id), amount),
            ],
            now=now,
        )
        kind = (
            CreditTransactionType.PURCHASE
            if source is GrantSource.PURCHASE
            else CreditTransactionType.GRANT
        )
        transaction = await self._history(
            session,
            client_id,
            owner_id,
            kind,
            amount,
            available=after[available_account(client_id, owner_id).id],
            now=now,
            reason=reason,
            grant_id=grant.id,
            purchase_id=purchase_id,
            metadata=metadata,
        )
        return grant, transaction

    # -- consumption -----------------------------------------------------------------

    async def consume(
        self, session: AsyncSession, client_id: str, new: NewConsumption
    ) -> CreditTransaction:
        """Spend credits now, soonest-expiring first; INSUFFICIENT_CREDITS when short."""
        ledger = Ledger(session)
        available = available_account(client_id, new.owner_id)
        held = await ledger.lock(available)
        now = self._now()
        await self._draw(session, client_id, new.owner_id, new.amount, now)
        try:
            after = await ledger.post(
                new_id("ltr"),
                [
                    Leg(available, -new.amount),
                    Leg(system_account(client_id, AccountKind.CREDITS_CONSUMED), new.amount),
                ],
                now=now,
            )
        except Overdraft:
            raise _insufficient(new.owner_id, new.amount, available=held) from None
        return await self._history(
            session,
            client_id,
            new.owner_id,
            CreditTransactionType.CONSUME,
            -new.amount,
            available=after[available.id],
            now=now,
            reason=new.reason,
            metadata=new.metadata,
        )

    async def _draw(
        self, session: AsyncSession, client_id: str, owner_id: str, amount: int, now: dt.datetime
    ) -> list[tuple[str, int]]:
        """Take ``amount`` from the owner's grants in spending order; what came from where."""
        credits = Credits(session)
        grants = await credits.spendable_grants(
            client_id, owner_id, now, source_order=SPENDING_ORDER
        )
        spendable = sum(grant.remaining for grant in grants)
        if spendable < amount:
            raise _insufficient(owner_id, amount, available=spendable)
        taken: list[tuple[str, int]] = []
        left = amount
        for grant in grants:
            if left == 0:
                break
            part = min(left, grant.remaining)
            await credits.change_remaining(grant.id, -part, now)
            taken.append((grant.id, part))
            left -= part
        return taken

    # -- reservations ----------------------------------------------------------------

    async def reserve(
        self, session: AsyncSession, client_id: str, new: NewReservation
    ) -> CreditReservation:
        """Hold credits (available → reserved) until commit, release or ``ttl``."""
        ledger = Ledger(session)
        available = available_account(client_id, new.owner_id)
        held = await ledger.lock(available)
        now = self._now()
        taken = await self._draw(session, client_id, new.owner_id, new.amount, now)
        reservation = CreditReservation(
            id=new_id("crr"),
            client_id=client_id,
            owner_id=new.owner_id,
            amount=new.amount,
            committed_amount=0,
            status=ReservationStatus.ACTIVE.value,
            allocations=taken,
            expire_time=now + new.ttl,
            reason=new.reason,
            metadata=dict(new.metadata),
            create_time=now,
            update_time=now,
        )
        await Credits(session).add_reservation(reservation)
        try:
            await ledger.post(
                reservation.id,
                [
                    Leg(available, -new.amount),
                    Leg(reserved_account(client_id, new.owner_id), new.amount),
                ],
                now=now,
            )
        except Overdraft:
            raise _insufficient(new.owner_id, new.amount, available=held) from None
        return reservation

    async def commit_reservation(
        self, session: AsyncSession, client_id: str, reservation_id: str, amount: int | None
    ) -> CreditReservation:
        """Consume up to the reserved amount; the rest returns to available."""
        reservation = await self._active(session, client_id, reservation_id)
        used = reservation.amount if amount is None else amount
        if used > reservation.amount:
            raise InvalidState(
                f"cannot commit {used}: only {reservation.amount} credits are reserved",
                reason="AMOUNT_TOO_LARGE",
                metadata={"reserved": str(reservation.amount), "amount": str(used)},
            )
        return await self._settle(session, reservation, used, ReservationStatus.COMMITTED)

    async def release_reservation(
        self, session: AsyncSession, client_id: str, reservation_id: str
    ) -> CreditReservation:
        reservation = await self._active(session, client_id, reservation_id)
        return await self._settle(session, reservation, 0, ReservationStatus.RELEASED)

    async def _active(
        self, session: AsyncSession, client_id: str, reservation_id: str
    ) -> CreditReservation:
        reservation = await Credits(session).reservation_for_update(client_id, reservation_id)
        if reservation is None:
            raise NotFound("credit reservation", reservation_id)
        if reservation.status != ReservationStatus.ACTIVE.value:
            raise InvalidState(
                f"credit reservation {reservation_id} is {reservation.status.upper()}, not ACTIVE",
                metadata={"status": reservation.status.upper()},
            )
        if reservation.expire_time <= self._now():
            raise InvalidState(
                f"credit reservation {reservation_id} has EXPIRED",
                metadata={"status": ReservationStatus.EXPIRED.value.upper()},
            )
        return reservation

    async def _settle(
        self,
        session: AsyncSession,
        reservation: CreditReservation,
        used: int,
        status: ReservationStatus,
    ) -> CreditReservation:
        client_id, owner_id = reservation.client_id, reservation.owner_id
        ledger = Ledger(session)
        available = available_account(client_id, owner_id)
        await ledger.lock(available)
        now = self._now()
        credits = Credits(session)
        # The first ``used`` credits of the allocations are consumed; the rest go back.
        to_consume = used
        for grant_id, part in reservation.allocations:
            consumed = min(part, to_consume)
            to_consume -= consumed
            if part - consumed:
                await credits.change_remaining(grant_id, part - consumed, now)
        after = await ledger.post(
            reservation.id + (":commit" if status is ReservationStatus.COMMITTED else ":release"),
            [
                Leg(reserved_account(client_id, owner_id), -reservation.amount),
                Leg(system_account(client_id, AccountKind.CREDITS_CONSUMED), used),
                Leg(available, reservation.amount - used),
            ],
            now=now,
        )
        await credits.finish_reservation(
            reservation.id, status=status.value, committed_amount=used, now=now
        )
        if used:
            available_after = after.get(available.id)
            if available_after is None:
                available_after = await ledger.balance(available)
            await self._history(
                session,
                client_id,
                owner_id,
                CreditTransactionType.CONSUME,
                -used,
                available=available_after,
                now=now,
                reason=reservation.reason,
                reservation_id=reservation.id,
                metadata=reservation.metadata,
            )
        found = await credits.reservation_for_update(client_id, reservation.id)
        assert found is not None
        return found

    # -- background: lapsed reservations and expired grants ---------------------------

    async def sweep(self) -> None:
        """The background job: lapsed reservations released, expired grants expired."""
        await self.release_lapsed_reservations()
        await self.expire_grants()

    async def release_lapsed_reservations(self) -> int:
        """Release ACTIVE reservations past their expire_time (status EXPIRED)."""
        released = 0
        while True:
            # Look first with a read: most runs find nothing and take no write lock.
            async with self._db.read() as session:
                lapsed = await Credits(session).lapsed_reservations(self._now(), limit=SWEEP_BATCH)
            if not lapsed:
                return released
            async with self._db.write() as session:
                for client_id, reservation_id in lapsed:
                    reservation = await Credits(session).reservation_for_update(
                        client_id, reservation_id
                    )
                    if reservation is None or reservation.status != ReservationStatus.ACTIVE.value:
                        continue
                    await self._settle(session, reservation, 0, ReservationStatus.EXPIRED)
                    released += 1
            if len(lapsed) < SWEEP_BATCH:
                return released

    async def expire_grants(self) -> int:
        """Move expired grants' remainders to the expired-credits account; credit.expired."""
        expired = 0
        while True:
            now = self._now()
            async with self._db.read() as session:  # most runs find nothing to do
                grants = await Credits(session).expired_grants(now, limit=SWEEP_BATCH)
            if not grants:
                return expired
            async with self._db.write() as session:
                for stale in grants:
                    expired += await self._expire(session, stale.id, now)
            if len(grants) < SWEEP_BATCH:
                return expired

    async def _expire(self, session: AsyncSession, grant_id: str, now: dt.datetime) -> int:
        credits = Credits(session)
        first = await credits.grant_for_update(grant_id)
        if first is None:
            return 0
        ledger = Ledger(session)
        available = available_account(first.client_id, first.owner_id)
        await ledger.lock(available)
        grant = await credits.grant_for_update(grant_id)  # re-read under the owner's lock
        if grant is None or grant.remaining == 0:
            return 0
        await credits.change_remaining(grant.id, -grant.remaining, now)
        after = await ledger.post(
            grant.id + ":expire",
            [
                Leg(available, -grant.remaining),
                Leg(system_account(grant.client_id, AccountKind.EXPIRED_CREDITS), grant.remaining),
            ],
            now=now,
        )
        transaction = await self._history(
            session,
            grant.client_id,
            grant.owner_id,
            CreditTransactionType.EXPIRE,
            -grant.remaining,
            available=after[available.id],
            now=now,
            reason=grant.reason,
            grant_id=grant.id,
        )
        await record_event(
            session,
            client_id=grant.client_id,
            event_type="credit.expired",
            resource_id=grant.id,
            data=transaction,
        )
        return 1

    # -- purchases: the ledger side; the payment goes through a PaymentPort ----------

    async def begin_purchase(
        self, session: AsyncSession, client_id: str, new: NewPurchase
    ) -> CreditPurchase:
        package = self.package(new.package_id)
        now = self._now()
        return await Credits(session).add_purchase(
            CreditPurchase(
                id=new_id("crp"),
                client_id=client_id,
                owner_id=new.owner_id,
                package_id=package.id,
                credits=package.credits,
                amount=package.price,
                currency=package.currency,
                status=PurchaseStatus.PENDING.value,
                payment_method_id=new.payment_method_id,
                metadata=dict(new.metadata),
                create_time=now,
                update_time=now,
            )
        )

    async def settle_purchase(self, session: AsyncSession, purchase_id: str) -> CreditPurchase:
        """The payment succeeded: the price is revenue and the credits are granted.

        Called by the payments side; repeating it changes nothing.
        """
        credits = Credits(session)
        purchase = await credits.purchase_for_update(purchase_id)
        if purchase is None:
            raise NotFound("credit purchase", purchase_id)
        if purchase.status != PurchaseStatus.PENDING.value:
            return purchase
        now = self._now()
        package = next((p for p in self._packages if p.id == purchase.package_id), None)
        validity = None if package is None else package.validity
        grant, _ = await self._issue(
            session,
            purchase.client_id,
            purchase.owner_id,
            purchase.credits,
            expire_time=None if validity is None else now + validity,
            reason=f"purchase of {purchase.package_id}",
            metadata=purchase.metadata,
            source=GrantSource.PURCHASE,
            purchase_id=purchase.id,
        )
        await Ledger(session).post(
            purchase.id,
            [
                Leg(
                    AccountRef.system(
                        purchase.client_id, AccountKind.GATEWAY_CLEARING, purchase.currency
                    ),
                    -purchase.amount,
                ),
                Leg(
                    AccountRef.system(purchase.client_id, AccountKind.REVENUE, purchase.currency),
                    purchase.amount,
                ),
            ],
            now=now,
        )
        await credits.finish_purchase(
            purchase.id,
            status=PurchaseStatus.SUCCEEDED.value,
            grant_id=grant.id,
            error=None,
            now=now,
        )
        settled = await credits.purchase_for_update(purchase.id)
        assert settled is not None
        await record_event(
            session,
            client_id=purchase.client_id,
            event_type="credit.purchased",
            resource_id=purchase.id,
            data=settled,
        )
        return settled

    async def fail_purchase(
        self, session: AsyncSession, purchase_id: str, failure: LastError
    ) -> CreditPurchase:
        """The payment failed: no credits, no revenue; event credit.purchase_failed (a
        purchase can fail after PurchaseCredits answered, e.g. 3-D Secure abandoned)."""
        credits = Credits(session)
        purchase = await credits.purchase_for_update(purchase_id)
        if purchase is None:
            raise NotFound("credit purchase", purchase_id)
        if purchase.status != PurchaseStatus.PENDING.value:
            return purchase
        return await self._failed(session, purchase, failure, grant_id="")

    async def _failed(
        self,
        session: AsyncSession,
        purchase: CreditPurchase,
        failure: LastError,
        *,
        grant_id: str,
    ) -> CreditPurchase:
        credits = Credits(session)
        await credits.finish_purchase(
            purchase.id,
            status=PurchaseStatus.FAILED.value,
            grant_id=grant_id,
            error=failure,
            now=self._now(),
        )
        failed = await credits.purchase_for_update(purchase.id)
        assert failed is not None
        await record_event(
            session,
            client_id=purchase.client_id,
            event_type="credit.purchase_failed",
            resource_id=purchase.id,
            data=failed,
        )
        return failed

    async def reverse_purchase(
        self, session: AsyncSession, purchase_id: str, returned: str, failure: LastError
    ) -> CreditPurchase:
        """The purchase's payment ``returned`` (its intent's id) came back (an ACH
        return), perhaps after it settled. A PENDING purchase simply fails. A settled
        one gives back what the money bought: the credits left of its grant are revoked
        (any already used are logged as a shortfall: the money is gone, so this never
        refuses), its price leaves revenue through clearing, and it ends FAILED (event
        credit.purchase_failed). Repeats change nothing."""
        purchase = await Credits(session).purchase_for_update(purchase_id)
        if purchase is None:
            raise NotFound("credit purchase", purchase_id)
        if purchase.status == PurchaseStatus.PENDING.value:
            return await self.fail_purchase(session, purchase_id, failure)
        if purchase.status != PurchaseStatus.SUCCEEDED.value:
            return purchase
        await self.revoke_purchase_share(
            session,
            purchase.id,
            returned,
            purchase.amount,
            what=f"ACH return of payment {returned}",
            why="the bank returned the payment",
        )
        await self.settle_purchase_refund(session, purchase.id, returned, purchase.amount)
        return await self._failed(session, purchase, failure, grant_id=purchase.grant_id)

    # -- refunds of purchases: the card refund takes the purchased credits back ------

    async def revoke_purchase(
        self,
        session: AsyncSession,
        purchase_id: str,
        refund_id: str,
        amount: int,
        *,
        refunded_before: int = 0,
    ) -> CreditTransaction | None:
        """The purchase's payment is being refunded: revoke all its credits left now.

        Only a refund of all the money left (the price less ``refunded_before``, what
        earlier refunds, such as one made in the gateway's dashboard, took or hold) is
        possible, and only while none of the credits those refunds left were used: else
        ``PARTIAL_REFUND_NOT_SUPPORTED`` or ``PURCHASED_CREDITS_CONSUMED`` (both
        FAILED_PRECONDITION; nothing changes). None when there is nothing to revoke (the
        purchase FAILED, or earlier refunds revoked every credit).
        """
        credits = Credits(session)
        purchase = await credits.purchase_for_update(purchase_id)
        if purchase is None:
            raise NotFound("credit purchase", purchase_id)
        if purchase.status == PurchaseStatus.FAILED.value:
            return None
        if purchase.status != PurchaseStatus.SUCCEEDED.value or not purchase.grant_id:
            raise InvalidState(
                f"credit purchase {purchase.id} is still pending; refund it once it is paid",
                metadata={"credit_purchase_id": purchase.id},
            )
        refundable = purchase.amount - refunded_before
        if amount != refundable:
            raise InvalidState(
                f"credit purchase {purchase.id} can only be refunded in full "
                f"({refundable} {purchase.currency} left), not {amount}",
                reason="PARTIAL_REFUND_NOT_SUPPORTED",
                metadata={"credit_purchase_id": purchase.id, "refundable": str(refundable)},
            )
        ledger = Ledger(session)
        available = available_account(purchase.client_id, purchase.owner_id)
        await ledger.lock(available)
        grant = await credits.grant_for_update(purchase.grant_id)
        lines = await credits.purchase_transactions(purchase.id, CreditTransactionType.REFUND.value)
        granted = purchase.credits if grant is None else grant.amount
        held = granted + sum(line.amount for line in lines)  # less what refunds took
        if grant is None or grant.remaining != held:
            used = held if grant is None else held - grant.remaining
            raise InsufficientCredits(
                f"{used} of the {held} credits of purchase {purchase.id} left to revoke were "
                "already used (consumed, reserved or expired); nothing was refunded",
                reason="PURCHASED_CREDITS_CONSUMED",
                metadata={"credit_purchase_id": purchase.id, "used": str(used)},
            )
        if grant.remaining == 0:
            return None
        return await self._move_grant(
            session,
            purchase,
            grant,
            -grant.remaining,
            refund_id=refund_id,
            step="revoke",
            reason=f"refund {refund_id} of purchase {purchase.id}",
        )

    async def revoke_purchase_share(
        self,
        session: AsyncSession,
        purchase_id: str,
        refund_id: str,
        amount: int,
        *,
        what: str = "",
        why: str = "made at the gateway",
    ) -> CreditTransaction | None:
        """A refund of ``amount`` of the purchase's payment was made at the gateway (a
        dashboard): revoke its share of the credits, ceil(amount * credits / price), from
        the purchase's own grant, never refusing (the money is gone already): what the
        grant no longer has (used or expired) is logged as a shortfall. None when nothing
        is revoked (the purchase FAILED, or its grant is used up). ``what`` names the
        taking in the line and the log (default: "refund <refund_id>")."""
        what = what or f"refund {refund_id}"
        credits = Credits(session)
        purchase = await credits.purchase_for_update(purchase_id)
        if purchase is None:
            raise NotFound("credit purchase", purchase_id)
        if purchase.status != PurchaseStatus.SUCCEEDED.value or not purchase.grant_id:
            return None  # FAILED: nothing was granted
        share = -(-amount * purchase.credits // purchase.amount)  # ceil, in integers
        await Ledger(session).lock(available_account(purchase.client_id, purchase.owner_id))
        grant = await credits.grant_for_update(purchase.grant_id)
        taken = 0 if grant is None else min(share, grant.remaining)
        if taken < share:
            log.error(
                "%s of purchase %s (%s) revokes %d credits but only %d are left of "
                "its grant: recover the shortfall of %d by hand",
                what,
                purchase.id,
                why,
                share,
                taken,
                share - taken,
            )
        if grant is None or taken <= 0:
            return None
        return await self._move_grant(
            session,
            purchase,
            grant,
            -taken,
            refund_id=refund_id,
            step="revoke",
            reason=f"{what} of purchase {purchase.id} ({why})",
        )

    async def settle_purchase_refund(
        self, session: AsyncSession, purchase_id: str, refund_id: str, amount: int
    ) -> None:
        """The refund of ``amount`` succeeded: it leaves revenue back through gateway
        clearing."""
        purchase = await Credits(session).purchase_for_update(purchase_id)
        if purchase is None or purchase.status != PurchaseStatus.SUCCEEDED.value:
            return  # a FAILED purchase booked no revenue
        await Ledger(session).post(
            f"{refund_id}:refund",
            [
                Leg(
                    AccountRef.system(purchase.client_id, AccountKind.REVENUE, purchase.currency),
                    -amount,
                ),
                Leg(
                    AccountRef.system(
                        purchase.client_id, AccountKind.GATEWAY_CLEARING, purchase.currency
                    ),
                    amount,
                ),
            ],
            now=self._now(),
        )

    async def restore_purchase(
        self, session: AsyncSession, purchase_id: str, refund_id: str, *, why: str = ""
    ) -> CreditTransaction | None:
        """The refund failed: the revoked credits are the owner's again (``why`` says so
        in the line; default: the refund failed)."""
        credits = Credits(session)
        purchase = await credits.purchase_for_update(purchase_id)
        if purchase is None or purchase.status != PurchaseStatus.SUCCEEDED.value:
            return None
        await Ledger(session).lock(available_account(purchase.client_id, purchase.owner_id))
        grant = await credits.grant_for_update(purchase.grant_id)
        if grant is None:
            return None
        lines = await credits.purchase_transactions(purchase.id, CreditTransactionType.REFUND.value)
        revoked = -sum(line.amount for line in lines if _moved_for(line, refund_id, purchase.id))
        if revoked <= 0:
            return None  # nothing was revoked for this refund, or it is restored already
        return await self._move_grant(
            session,
            purchase,
            grant,
            revoked,
            refund_id=refund_id,
            step="restore",
            reason=why or f"refund {refund_id} of purchase {purchase.id} failed: credits restored",
        )

    async def _move_grant(
        self,
        session: AsyncSession,
        purchase: CreditPurchase,
        grant: CreditGrant,
        delta: int,
        *,
        refund_id: str,
        step: str,
        reason: str,
    ) -> CreditTransaction:
        """Revoke (``delta`` < 0) or restore credits of the purchase's grant for a refund:
        the grant's remaining, the owner's available credits and a REFUND line naming the
        refund (so a failed refund restores exactly what it revoked) move together."""
        now = self._now()
        available = available_account(purchase.client_id, purchase.owner_id)
        await Credits(session).change_remaining(grant.id, delta, now)
        after = await Ledger(session).post(
            f"{refund_id}:{step}",
            [
                Leg(available, delta),
                Leg(system_account(purchase.client_id, AccountKind.CREDITS_ISSUED), -delta),
            ],
            now=now,
        )
        return await self._history(
            session,
            purchase.client_id,
            purchase.owner_id,
            CreditTransactionType.REFUND,
            delta,
            available=after[available.id],
            now=now,
            reason=reason,
            grant_id=grant.id,
            purchase_id=purchase.id,
            metadata={REFUND_ID: refund_id},
        )

    async def purchase(
        self, client_id: str, new: NewPurchase, payments: PaymentPort
    ) -> CreditPurchase:
        """Record the purchase, charge with a derived key, then apply what is known."""
        async with self._db.write() as session:
            purchase = await self.begin_purchase(session, client_id, new)
        try:
            return await self.collect_purchase(client_id, purchase.id, payments)
        except ChargeNotMade as not_made:
            raise not_made.error from None

    async def get_purchase(self, client_id: str, purchase_id: str) -> CreditPurchase:
        """The client's purchase as it is now; NOT_FOUND for another client's."""
        async with self._db.read() as session:
            purchase = await Credits(session).purchase(client_id, purchase_id)
        if purchase is None:
            raise NotFound("credit purchase", purchase_id)
        return purchase

    async def collect_purchase(
        self, client_id: str, purchase_id: str, payments: PaymentPort
    ) -> CreditPurchase:
        """Charge for a PENDING purchase (or resume its charge) and apply what is known.

        Safe to repeat, like ``WalletService.collect_deposit``: one charge per purchase
        id. Raises :class:`ChargeNotMade` after failing the purchase when nothing was
        charged.
        """
        purchase = await self.get_purchase(client_id, purchase_id)
        if purchase.status != PurchaseStatus.PENDING.value:
            return purchase
        try:
            result = await payments.charge(
                ChargeRequest(
                    client_id=client_id,
                    amount=purchase.amount,
                    currency=purchase.currency,
                    payment_method_id=purchase.payment_method_id,
                    description=f"{purchase.credits} credits ({purchase.package_id})",
                    idempotency_key=charge_key(purchase.id),
                    reference=purchase.id,
                )
            )
        except ChargeNotMade as not_made:
            async with self._db.write() as session:
                await self.fail_purchase(session, purchase.id, not_made.failure("charged"))
            raise
        async with self._db.write() as session:
            return await self.apply_charge(session, purchase.id, result)

    async def apply_charge(
        self, session: AsyncSession, purchase_id: str, result: PaymentReference
    ) -> CreditPurchase:
        """Link the purchase to its payment and apply the payment's outcome, if final."""
        await self.link_payment(session, purchase_id, result.reference)
        if result.outcome is PaymentOutcome.SUCCEEDED:
            return await self.settle_purchase(session, purchase_id)
        if result.outcome is PaymentOutcome.FAILED:
            return await self.fail_purchase(session, purchase_id, result.failure)
        pending = await Credits(session).purchase_for_update(purchase_id)
        assert pending is not None
        return pending

    async def link_payment(self, session: AsyncSession, purchase_id: str, reference: str) -> None:
        """Remember which payment collects the purchase (its status is left as it is)."""
        if reference:
            await Credits(session).record_purchase_reference(purchase_id, reference)

    # -- history ---------------------------------------------------------------------

    async def _history(
        self,
        session: AsyncSession,
        client_id: str,
        owner_id: str,
        kind: CreditTransactionType,
        amount: int,
        *,
        available: int,
        now: dt.datetime,
        reason: str = "",
        grant_id: str = "",
        reservation_id: str = "",
        purchase_id: str = "",
        metadata: Mapping[str, str] | None = None,
    ) -> CreditTransaction:
        """One line of history; ``balance_after`` is the owner's total (available + held)."""
        reserved = await Ledger(session).balance(reserved_account(client_id, owner_id))
        return await Credits(session).add_transaction(
            CreditTransaction(
                id=new_id("ctx"),
                client_id=client_id,
                owner_id=owner_id,
                type=kind.value,
                amount=amount,
                balance_after=available + reserved,
                reason=reason,
                grant_id=grant_id,
                reservation_id=reservation_id,
                purchase_id=purchase_id,
                metadata=dict(metadata or {}),
                create_time=now,
                update_time=now,
            )
        )


def _moved_for(line: CreditTransaction, refund_id: str, purchase_id: str) -> bool:
    """Whether a purchase's REFUND line revoked or restored credits for ``refund_id``;
    lines written before they named their refund in metadata say so in their reason."""
    if REFUND_ID in line.metadata:
        return line.metadata[REFUND_ID] == refund_id
    legacy = f"refund {refund_id} of purchase {purchase_id}"
    return line.reason == legacy or line.reason.startswith(f"{legacy} failed")


def _insufficient(owner_id: str, amount: int, *, available: int) -> InsufficientCredits:
    """Says how many credits there are, so the caller can offer a top-up or spend less."""
    return InsufficientCredits(
        f"owner {owner_id!r} has {available} available credits, fewer than {amount}; "
        "nothing was spent",
        metadata={"owner_id": owner_id, "amount": str(amount), "available": str(available)},
    )
