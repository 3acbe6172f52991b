"""Checkout sessions and marketplace connected accounts (sellers with a commission)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateways.errors import GatewayAuthError, GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.protocols import Checkout, MarketplaceAccounts
from gateways.router import Need, NoCapableGateway, Router
from gateways.types import (
    AccountLinkRequest,
    AccountRequest,
    AccountResult,
    Capability,
    ChargeResult,
    CheckoutCompletion,
    CheckoutRequest,
    LineItem,
    Outcome,
    derive_key,
)
from server.errors import (
    DomainError,
    FieldViolation,
    InvalidInput,
    InvalidState,
    NotFound,
    NotYetAvailable,
)
from server.events import record_event
from server.payments.errors import (
    CapabilityMissing,
    GatewayOutcomeUnknown,
    GatewayRefused,
    GatewayUnavailableError,
)
from server.payments.intents import (
    CHECKOUT_SESSION,
    Confirmation,
    NewPaymentIntent,
    PaymentIntent,
    PaymentIntentService,
    awaits_payer,
    may_be_paid,
)
from server.payments.methods import gateway_failure
from server.payments.money import DEFAULT_COMMISSION_BPS
from server.payments.outcomes import IntentOutcome
from store.customers import Customers
from store.db import Database
from store.ids import has_prefix, new_id
from store.models import utcnow
from store.payment_methods import (
    CheckoutSessionRecord,
    CheckoutSessions,
    ConnectedAccountRecord,
    ConnectedAccounts,
    GatewayCustomers,
)
from store.payments import IntentStatus, PaymentIntents

log = logging.getLogger("isa.payments.marketplace")

#: Where a success_url wants the session's id (Stripe's ``{CHECKOUT_SESSION_ID}``).
SESSION_ID_TEMPLATE: Final = "{CHECKOUT_SESSION_ID}"

#: The gateway whose lapsed sessions :meth:`CheckoutService.expire_lapsed` ends.
EXPIRING_GATEWAY: Final = "sandbox"
#: Sessions the sweep reads at a time.
EXPIRY_BATCH: Final = 100
#: How long past its expire_time a session whose payer is still in 3-D Secure stays
#: OPEN before the sweep cancels its payment as abandoned and expires it (Stripe cancels
#: the payment of a session it expires): the payer may be finishing the challenge right
#: at the end, and a challenge passed a moment late should still pay.
ABANDONED_AFTER: Final = dt.timedelta(minutes=5)
#: The cancellation reason of such a payment (Stripe's).
ABANDONED: Final = "abandoned"

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
    """Hosted payment pages: created at a gateway, paid there by the payer through one
    payment intent per session, COMPLETE when that intent succeeds."""

    def __init__(self, db: Database, router: Router, intents: PaymentIntentService) -> None:
        self._db = db
        self._router = router
        self._intents = intents

    async def create(self, client_id: str, key: str, new: NewCheckoutSession) -> CheckoutSession:
        if new.mode != "payment":
            raise NotYetAvailable(
                "subscription checkout arrives with subscriptions; use mode PAYMENT with line_items"
            )
        need = Need(protocol=Checkout, currency=new.currency)  # type: ignore[type-abstract]
        candidates: list[Checkout] = _pick(self._router, need, Checkout, new.gateway)  # type: ignore[assignment]
        # The customer as each gateway knows it (made on their first saved method there):
        # a hosted page that knows the payer prefills them and may offer their cards.
        references: dict[str, str] = {}
        async with self._db.read() as session:
            if new.customer_id and await Customers(session).get(client_id, new.customer_id) is None:
                raise NotFound("customer", new.customer_id)
            for gateway in candidates if new.customer_id else ():
                found = await GatewayCustomers(session).find(new.customer_id, gateway.info.name)
                if found:
                    references[gateway.info.name] = found
        session_id = new_id("cs")
        # Stripe's template, filled with our id (Stripe would put its own there, which
        # the caller cannot look up): the success page learns which session was paid.
        success_url = new.success_url.replace(SESSION_ID_TEMPLATE, session_id)
        request = CheckoutRequest(
            currency=new.currency,
            line_items=new.line_items,
            success_url=success_url,
            cancel_url=new.cancel_url,
            metadata=new.metadata,
            idempotency_key=derive_key(client_id, key or new_id("cs"), "checkout"),
        )
        try:
            used, result = await Router.first_available(
                candidates,
                lambda g: g.create_checkout_session(
                    dataclasses.replace(request, customer_reference=references.get(g.info.name))
                ),
            )
        except GatewayRejected as refused:
            raise GatewayRefused(refused.message) from None
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        now = utcnow()
        record = CheckoutSession(
            id=session_id,
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
            success_url=success_url,
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
                data=record,
            )
        return record

    async def get(self, client_id: str, session_id: str) -> CheckoutSession:
        async with self._db.read() as session:
            found = await CheckoutSessions(session).get(client_id, session_id)
        if found is None:
            raise NotFound("checkout_session", session_id)
        return _with_expiry(found, utcnow())

    async def hosted(self, gateway: str, reference: str) -> CheckoutSession | None:
        """The session behind a gateway's hosted page (the sandbox's, served by the
        relay), as it reads now; None when there is none."""
        async with self._db.read() as session:
            found = await CheckoutSessions(session).find_by_gateway_reference(
                gateway, reference, lock=False
            )
        return None if found is None else _with_expiry(found, utcnow())

    async def pay(
        self, client_id: str, session_id: str, payment_method_id: str, key: str
    ) -> tuple[CheckoutSession, PaymentIntent]:
        """The payer paying on the hosted page: the session's one intent (made by the
        first try, reused by every later one) confirmed with ``payment_method_id``.

        One intent per session is what keeps a session from being charged twice: a
        second payment with another card confirms the same intent, which the state
        machine refuses once it succeeded or while it is being charged.
        """
        checkout = await self.get(client_id, session_id)
        _ensure_payable(checkout)
        if has_prefix(payment_method_id, "pm"):  # a saved method, not a gateway token
            if not checkout.customer_id:
                raise InvalidInput(
                    [
                        FieldViolation(
                            "payment_method_id",
                            "this session names no customer, so it takes no saved method "
                            "(only a customer's own): pay with a token",
                        )
                    ]
                )
            await self._intents.check_payable(
                client_id, payment_method_id, checkout.currency, customer_id=checkout.customer_id
            )
        intent = await self._intents.create(
            client_id,
            derive_key(client_id, checkout.id, "checkout-payment"),
            NewPaymentIntent(
                amount=checkout.amount_total,
                currency=checkout.currency,
                customer_id=checkout.customer_id,
                description=f"Checkout session {checkout.id}",
                metadata={**checkout.metadata, CHECKOUT_SESSION: checkout.id},
                gateway=checkout.gateway,
            ),
            finish=lambda session, made: self._link(session, checkout, made),
        )
        paid = await self._intents.confirm(
            client_id,
            key or new_id("ckp"),
            intent.id,
            Confirmation(payment_method_id=payment_method_id, return_url=checkout.success_url),
            for_checkout=True,
            before_attempt=lambda session: _ensure_still_payable(session, checkout),
        )
        return await self.get(client_id, session_id), paid

    async def _link(
        self, session: AsyncSession, checkout: CheckoutSession, intent: PaymentIntent
    ) -> None:
        """Name the session's intent in the transaction that creates it."""
        sessions = CheckoutSessions(session)
        locked = await sessions.get_for_update(checkout.client_id, checkout.id)
        if locked is not None and not locked.payment_intent_id:
            await sessions.update(locked.id, status=locked.status, payment_intent_id=intent.id)

    async def apply_gateway_completion(
        self, session: AsyncSession, gateway: str, done: CheckoutCompletion
    ) -> CheckoutSession | None:
        """A session the payer paid on the gateway's own page (Stripe Checkout): the
        payment the gateway made becomes the session's intent, SUCCEEDED, and the
        session COMPLETE, in the relay's transaction. None when the session is not ours;
        a repeat changes nothing."""
        sessions = CheckoutSessions(session)
        checkout = await sessions.find_by_gateway_reference(gateway, done.gateway_reference)
        if checkout is None or checkout.status == "complete":
            return checkout

        async def link(_session: AsyncSession, intent: PaymentIntent) -> None:
            await sessions.update(checkout.id, status="open", payment_intent_id=intent.id)

        await self._intents.adopt_gateway_payment(
            session,
            client_id=checkout.client_id,
            gateway=gateway,
            new=NewPaymentIntent(
                amount=done.amount_received,
                currency=done.currency,
                customer_id=checkout.customer_id,
                description=f"Checkout session {checkout.id}",
                metadata={**checkout.metadata, CHECKOUT_SESSION: checkout.id},
                gateway=gateway,
                return_url=checkout.success_url,
            ),
            payment=ChargeResult(
                outcome=Outcome.SUCCEEDED,
                gateway_reference=done.payment_reference,
                amount_received=done.amount_received,
            ),
            before_success=link,
        )
        return await sessions.get(checkout.client_id, checkout.id)

    async def apply_gateway_expiry(
        self, session: AsyncSession, gateway: str, reference: str
    ) -> CheckoutSession | None:
        """The gateway expired a session unpaid: it is stored EXPIRED, with
        ``checkout.session.expired``, once. None when it is not ours; a session already
        paid stays COMPLETE."""
        checkout = await CheckoutSessions(session).find_by_gateway_reference(gateway, reference)
        if checkout is None or checkout.status != "open":
            return checkout
        return await _end(session, checkout, "expired", checkout.payment_intent_id)

    async def expire_lapsed(self) -> int:
        """The background job: the sandbox's OPEN sessions past their expire_time are
        stored EXPIRED with ``checkout.session.expired``, once; returns how many.

        Sandbox sessions only: Stripe ends its own sessions and says so with its
        ``checkout.session.expired`` webhook (:meth:`apply_gateway_expiry`); expiring
        one here could end a session whose payment Stripe still takes. A session whose
        payment may still go through (3-D Secure, micro-deposits to verify, processing,
        a call with no known outcome) is left OPEN: paid, it completes; declined, a later
        run expires it.
        One whose payer left 3-D Secure unfinished :data:`ABANDONED_AFTER` past its
        expire_time has its payment canceled (reason ``abandoned``) and is expired.
        """
        now, expired, after = utcnow(), 0, None
        while True:
            # Look first with a read: most runs find nothing and take no write lock.
            async with self._db.read() as session:
                lapsed = await CheckoutSessions(session).lapsed(
                    EXPIRING_GATEWAY, now, after=after, limit=EXPIRY_BATCH
                )
                intents = [await _intent_of(session, c, lock=False) for c in lapsed]
            for checkout, intent in zip(lapsed, intents, strict=True):
                expired += await self._end_lapsed(checkout, intent, now)
            if len(lapsed) < EXPIRY_BATCH:
                return expired
            after = lapsed[-1]

    async def _end_lapsed(
        self, checkout: CheckoutSession, intent: PaymentIntent | None, now: dt.datetime
    ) -> int:
        """Expire a session the sweep read lapsed (1 if it did), if nothing can pay it
        now: its intent is at rest, or was only waiting on a payer gone too long."""
        if intent is not None and may_be_paid(intent):
            if not (awaits_payer(intent) and _abandoned(checkout, now)):
                return 0
            if not await self._cancel_abandoned(checkout, intent.id, now):
                return 0
        return await self._expire(checkout, now)

    async def _cancel_abandoned(
        self, checkout: CheckoutSession, intent_id: str, now: dt.datetime
    ) -> bool:
        """Cancel at the gateway, as abandoned, the payment of a session whose payer left
        3-D Secure unfinished; True once canceled. A payer finishing it now races the
        cancel at the gateway, which takes one and refuses the other; any failure leaves
        the session OPEN for the next run. The key is derived from the session, so every
        process and run sends the same one."""
        try:
            canceled = await self._intents.cancel(
                checkout.client_id,
                derive_key(checkout.client_id, checkout.id, "checkout-abandoned"),
                intent_id,
                ABANDONED,
                for_checkout=True,
                before_attempt=lambda session: _ensure_abandoned(session, checkout, intent_id, now),
            )
        except (GatewayUnavailableError, GatewayOutcomeUnknown) as failed:
            log.warning(
                "checkout session %s stays open: its abandoned payment intent %s was not "
                "canceled (%s); the next run tries again",
                checkout.id,
                intent_id,
                failed.message,
            )
            return False
        except DomainError as moved:  # the payer, or another process's sweep, went first
            log.info(
                "checkout session %s: intent %s not canceled: %s",
                checkout.id,
                intent_id,
                moved.message,
            )
            return False
        return canceled.status is IntentStatus.CANCELED

    async def _expire(self, seen: CheckoutSession, now: dt.datetime) -> int:
        """Expire a session the sweep read lapsed and unpaid, if it still is: 1 if so.

        Its intent is locked before it, the order of a payment's success (which
        completes the session) and of a confirmation (which refuses an ended session);
        so a payment starting now is refused, and one under way keeps the session OPEN.
        Both are read again under the locks: the payer, the gateway or another server
        process's sweep may have moved them since.
        """
        async with self._db.write() as session:
            if await _may_be_paid(session, seen, lock=True):
                return 0
            checkout = await CheckoutSessions(session).get_for_update(seen.client_id, seen.id)
            # an intent made since the read was not locked first: the next run looks again
            if checkout is None or checkout.payment_intent_id != seen.payment_intent_id:
                return 0
            if not _lapsed(checkout, now):
                return 0  # ended meanwhile
            await _end(session, checkout, "expired", checkout.payment_intent_id)
            return 1

    async def on_intent_outcome(
        self, session: AsyncSession, intent: PaymentIntent, outcome: IntentOutcome
    ) -> None:
        """Complete the session an intent paid, in the transaction of its success —
        whether it came from the payment call, 3-D Secure or a gateway webhook."""
        session_id = intent.metadata.get(CHECKOUT_SESSION)
        if not session_id or outcome is not IntentOutcome.SUCCEEDED:
            return
        sessions = CheckoutSessions(session)
        checkout = await sessions.get_for_update(intent.client_id, session_id)
        if checkout is None or checkout.payment_intent_id != intent.id:
            return
        if checkout.status != "open":
            return  # a repeated announcement
        # Paid is complete, even if the payer finished 3-D Secure after expire_time.
        await _end(session, checkout, "complete", intent.id)


_END_EVENTS: Final = {
    "complete": "checkout.session.completed",
    "expired": "checkout.session.expired",
}


async def _end(
    session: AsyncSession, checkout: CheckoutSession, status: str, payment_intent_id: str
) -> CheckoutSession:
    """Store a locked OPEN session's end (``complete`` or ``expired``) with its event."""
    ended = await CheckoutSessions(session).update(
        checkout.id, status=status, payment_intent_id=payment_intent_id
    )
    await record_event(
        session,
        client_id=ended.client_id,
        event_type=_END_EVENTS[status],
        resource_id=ended.id,
        data=ended,
    )
    return ended


#: Statuses in which the owner may still be onboarding: reads ask the gateway first.
_STILL_ONBOARDING: Final = frozenset({"pending", "restricted"})
#: Statuses after which the onboarding link is of no more use.
_ONBOARDED: Final = frozenset({"active", "rejected"})


def account_status(account: AccountResult) -> str:
    """Our status for what the gateway says: Stripe's ``rejected.*`` disabled reasons
    end the account; details in and charges on is ACTIVE; details in but charges (still)
    off is RESTRICTED (the gateway wants more); otherwise onboarding is unfinished."""
    if account.disabled_reason.startswith("rejected"):
        return "rejected"
    if account.details_submitted and account.charges_enabled:
        return "active"
    if account.details_submitted:
        return "restricted"
    return "pending"


def _lapsed(checkout: CheckoutSession, now: dt.datetime) -> bool:
    """OPEN but past its expire_time: the page no longer takes payments."""
    return checkout.status == "open" and now >= checkout.expire_time


def _with_expiry(checkout: CheckoutSession, now: dt.datetime) -> CheckoutSession:
    """A lapsed session reads EXPIRED at once, whenever the sweep (or, on Stripe, its
    webhook) stores it so."""
    if _lapsed(checkout, now):
        return dataclasses.replace(checkout, status="expired")
    return checkout


def _abandoned(checkout: CheckoutSession, now: dt.datetime) -> bool:
    """Lapsed longer ago than the grace a payer still in 3-D Secure is given."""
    return _lapsed(checkout, now - ABANDONED_AFTER)


async def _intent_of(
    session: AsyncSession, checkout: CheckoutSession, *, lock: bool
) -> PaymentIntent | None:
    """The session's intent (locked if asked), if it has one."""
    if not checkout.payment_intent_id:
        return None
    intents = PaymentIntents(session)
    read = intents.get_for_update if lock else intents.get
    return await read(checkout.client_id, checkout.payment_intent_id)


async def _may_be_paid(session: AsyncSession, checkout: CheckoutSession, *, lock: bool) -> bool:
    """Whether the session's intent (locked if asked) is paid or may yet be: such a
    session is not expired."""
    intent = await _intent_of(session, checkout, lock=lock)
    return intent is not None and may_be_paid(intent)


async def _ensure_abandoned(
    session: AsyncSession, seen: CheckoutSession, intent_id: str, now: dt.datetime
) -> None:
    """Under the intent's lock, before its cancel is recorded (intent, then session: the
    order of a payment's success): the session the sweep read must still be OPEN on this
    intent past the grace, the intent still only waiting on the payer."""
    intent = await PaymentIntents(session).get(seen.client_id, intent_id)
    checkout = await CheckoutSessions(session).get_for_update(seen.client_id, seen.id)
    if intent is None or not awaits_payer(intent):
        raise InvalidState(f"payment intent {intent_id} no longer waits on its payer")
    if checkout is None or checkout.payment_intent_id != intent_id or not _abandoned(checkout, now):
        raise InvalidState(f"checkout session {seen.id} is no longer abandoned")


async def _ensure_still_payable(session: AsyncSession, checkout: CheckoutSession) -> None:
    """Under the intent's lock, before its charge is recorded: the session, read open
    by :meth:`CheckoutService.pay`, may have lapsed or been expired since."""
    locked = await CheckoutSessions(session).get_for_update(checkout.client_id, checkout.id)
    if locked is None:
        raise NotFound("checkout_session", checkout.id)
    _ensure_payable(_with_expiry(locked, utcnow()))


def _ensure_payable(checkout: CheckoutSession) -> None:
    if checkout.status != "open":
        raise InvalidState(
            f"checkout session {checkout.id} is {checkout.status}; only an open one is paid",
            metadata={"status": checkout.status},
        )


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
        status = account_status(created)
        active = status == "active"
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
            status=status,
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
                data=record,
            )
        return record

    async def get(self, client_id: str, account_id: str) -> ConnectedAccount:
        """The account, asked of its gateway first while its onboarding is unfinished:
        the owner onboards on the gateway's pages, and the platform learns the outcome
        when it next looks (a webhook saying so applies the same way)."""
        found = await self.stored(client_id, account_id)
        if found.status not in _STILL_ONBOARDING:
            return found
        return await self.refresh(found)

    async def stored(self, client_id: str, account_id: str) -> ConnectedAccount:
        async with self._db.read() as session:
            found = await ConnectedAccounts(session).get(client_id, account_id)
        if found is None:
            raise NotFound("connected_account", account_id)
        return found

    async def hosted(self, gateway: str, reference: str) -> ConnectedAccount | None:
        """The account behind a gateway's onboarding page (the sandbox's, served by the
        relay); None when there is none."""
        async with self._db.read() as session:
            return await ConnectedAccounts(session).find_by_gateway_reference(
                gateway, reference, lock=False
            )

    async def refresh(self, account: ConnectedAccount) -> ConnectedAccount:
        """Record what the gateway says of the account now; if it cannot say, the
        stored account stands (asking again is always safe)."""
        try:
            gateway = self._gateways(account.gateway)[0]
            current = await gateway.retrieve_account(account.gateway_reference)
        except (GatewayRejected, OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            log.warning("connected account %s not refreshed: %s", account.id, failed)
            return account
        except (InvalidInput, CapabilityMissing):  # its gateway is no longer enabled
            return account
        async with self._db.write() as session:
            updated = await self.apply_gateway_account(session, account.gateway, current)
        return updated or account

    async def apply_gateway_account(
        self, session: AsyncSession, gateway: str, current: AccountResult
    ) -> ConnectedAccount | None:
        """Record a gateway's view of an account of ours (None: not ours); a change writes
        ``connected_account.updated`` in the same transaction."""
        accounts = ConnectedAccounts(session)
        account = await accounts.find_by_gateway_reference(gateway, current.gateway_reference)
        if account is None:
            return None
        status = account_status(current)
        state = (
            status,
            current.charges_enabled,
            current.payouts_enabled,
            current.details_submitted,
        )
        if state == (
            account.status,
            account.charges_enabled,
            account.payouts_enabled,
            account.details_submitted,
        ):
            return account
        updated = await accounts.record_state(
            account.id,
            status=status,
            charges_enabled=current.charges_enabled,
            payouts_enabled=current.payouts_enabled,
            details_submitted=current.details_submitted,
            onboarding_url="" if status in _ONBOARDED else account.onboarding_url,
        )
        await record_event(
            session,
            client_id=updated.client_id,
            event_type="connected_account.updated",
            resource_id=updated.id,
            data=updated,
        )
        return updated

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
    "account_status",
]
