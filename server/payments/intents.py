"""Payment intents and refunds: Stripe's state machine over any card gateway.

Every gateway call follows ARCHITECTURE.md: record the attempt (operation, derived key,
amount) and commit it — the recovery point — then call the gateway outside any
transaction, then record the answer under the intent's row lock. An answer lost to a
timeout leaves the attempt UNKNOWN; the next call on the intent, a retry of the
request, or the background reconciler repeats it with the same derived key, so the
gateway acts at most once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateways.errors import (
    GatewayAuthError,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    OutcomeUnknown,
)
from gateways.protocols import CardPayments, SandboxControls
from gateways.router import Need, NoCapableGateway, Router
from gateways.types import (
    CancelRequest,
    Capability,
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    MethodType,
    Outcome,
    PaymentError,
    RefundRequest,
    RefundResult,
    RefundRetrieveRequest,
    RetrieveRequest,
    derive_key,
)
from server.errors import (
    DomainError,
    FieldViolation,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InvalidInput,
    InvalidState,
    NotFound,
)
from server.events import record_event
from server.pagination import Page, PageRequest, page_of
from server.payments.bank import BANK_ACCOUNT, BankDebits, paid_by_bank
from server.payments.disputes import charged_back
from server.payments.errors import (
    AmountTooLarge,
    CapabilityMissing,
    GatewayOutcomeUnknown,
    GatewayRefused,
    GatewayUnavailableError,
    NotYetApplicable,
    ResourceBusy,
    SandboxOnly,
)
from server.payments.money import commission
from server.payments.outcomes import IntentOutcomes, RefundStage
from store.bank_accounts import VERIFY_MICRODEPOSITS_ACTION
from store.customers import Customers
from store.db import Database
from store.ids import has_prefix, new_id
from store.last_error import LastError
from store.models import utcnow
from store.payment_methods import (
    ConnectedAccounts,
    GatewayCustomers,
    PaymentMethodRecord,
    PaymentMethods,
)
from store.payments import (
    Attempt,
    AttemptState,
    CaptureMethod,
    DuplicateCreateKey,
    IntentStatus,
    PaymentIntentRecord,
    PaymentIntents,
    RefundRecord,
    Refunds,
    RefundStatus,
)

log = logging.getLogger("isa.payments")

PaymentIntent = PaymentIntentRecord
Refund = RefundRecord

#: Called inside the last write transaction of a use case with the resource it answers,
#: so the caller can store its answer beside the change (see servicers.gateway_calls).
IntentFinish = Callable[[AsyncSession, PaymentIntent], Awaitable[None]]
RefundFinish = Callable[[AsyncSession, Refund], Awaitable[None]]


#: Called inside a use case's write transaction — first in ``create`` (a repeat's stored
#: answer is found there: see servicers.gateway_calls), just before the gateway call is
#: recorded in ``confirm`` and ``cancel``; it may end the call by raising.
Check = Callable[[AsyncSession], Awaitable[None]]


async def _unanswered(_session: AsyncSession, _value: object) -> None:
    return None


async def _unchecked(_session: AsyncSession) -> None:
    return None


CONFIRMABLE: Final = frozenset(
    {IntentStatus.REQUIRES_PAYMENT_METHOD, IntentStatus.REQUIRES_CONFIRMATION}
)
CANCELABLE: Final = frozenset(
    {
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        IntentStatus.REQUIRES_CONFIRMATION,
        IntentStatus.REQUIRES_ACTION,
        IntentStatus.REQUIRES_CAPTURE,
    }
)
#: How far along an intent is; a gateway's update never moves an intent to a lower rank
#: (a decline may only follow an open action or processing), and terminal states stay.
_RANK: Final = {
    IntentStatus.REQUIRES_PAYMENT_METHOD: 0,
    IntentStatus.REQUIRES_CONFIRMATION: 0,
    IntentStatus.REQUIRES_ACTION: 1,
    IntentStatus.PROCESSING: 2,
    IntentStatus.REQUIRES_CAPTURE: 3,
    IntentStatus.SUCCEEDED: 4,
    IntentStatus.CANCELED: 4,
}
_OUTCOME_STATUS: Final = {
    Outcome.SUCCEEDED: IntentStatus.SUCCEEDED,
    Outcome.REQUIRES_CAPTURE: IntentStatus.REQUIRES_CAPTURE,
    Outcome.REQUIRES_ACTION: IntentStatus.REQUIRES_ACTION,
    Outcome.PROCESSING: IntentStatus.PROCESSING,
    Outcome.CANCELED: IntentStatus.CANCELED,
    Outcome.DECLINED: IntentStatus.REQUIRES_PAYMENT_METHOD,
}
#: Not in event data: our bookkeeping, and the client secret, which is for the payer's
#: browser alone and would sit in the outbox, every delivery and ListEvents.
_HIDDEN_IN_EVENTS: Final = frozenset(
    {"client_id", "attempt", "requested_gateway", "commission_bps", "client_secret"}
)
STALE_ATTEMPT: Final = dt.timedelta(seconds=30)
#: The attempt operation of a charge made as its intent is created (``confirm`` on
#: create). Its ``payment.created`` is held until the gateway has taken the token: a
#: token the gateway does not know then leaves nothing behind (as Stripe creates
#: nothing), instead of an intent the caller has no id for, announced to every webhook.
CREATE_CONFIRM: Final = "create"
_CONFIRMS: Final = frozenset({"confirm", CREATE_CONFIRM})
#: Intent metadata naming the checkout session the intent pays (written by
#: server.payments.marketplace, which alone confirms or cancels such an intent: the
#: session must be open, so an expired one takes no payment; it is canceled only when its
#: session expires with the payer's 3-D Secure unfinished).
#: It completes a session only when the session names the intent too: a caller writing
#: the key into another intent's metadata completes nothing.
CHECKOUT_SESSION: Final = "isa_checkout_session"
#: Gateway refusals of the payment method itself, before any charge: bad input (the
#: caller's to fix), not a decline.
_UNUSABLE_METHOD: Final = {
    "resource_missing": "the gateway does not know this payment method",
    "token_already_used": "this token was already used: tokenize the card again",
}
#: How long a refund the gateway answered "pending" waits for its webhook before the
#: reconciler asks the gateway, and between two such looks. Square's refunds all start
#: PENDING and most settle within minutes; a lost webhook must not leave one for ever.
PENDING_REFUND_LOOK: Final = dt.timedelta(minutes=10)
#: The metadata saying where a refund came from; ``gateway`` for one made at the gateway
#: (a dashboard) and adopted from its webhook.
ORIGIN: Final = "isa_origin"
ORIGIN_GATEWAY: Final = "gateway"


@dataclass(frozen=True, slots=True, kw_only=True)
class NewPaymentIntent:
    amount: int
    currency: str
    customer_id: str = ""
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    gateway: str = ""
    payment_method_id: str = ""
    confirm: bool = False
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC
    destination_account_id: str = ""
    application_fee_amount: int | None = None
    return_url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Confirmation:
    payment_method_id: str = ""
    return_url: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Capture:
    amount_to_capture: int | None = None
    application_fee_amount: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewRefund:
    payment_intent_id: str
    amount: int | None = None
    reason: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntentFilter:
    customer_id: str | None = None
    status: IntentStatus | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Method:
    """A payment method resolved for a charge: the gateway token, and where it lives."""

    token: str
    gateway: str  # "" when any capable gateway understands the token
    customer_reference: str | None = None
    saved: PaymentMethodRecord | None = None  # our saved method, when it is one


#: The intent's fields an event shows, in declaration order (computed once: events are
#: built on every payment).
_PUBLIC_FIELDS: Final = tuple(
    f.name for f in dataclasses.fields(PaymentIntentRecord) if f.name not in _HIDDEN_IN_EVENTS
)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Terms:
    """The marketplace fee of a new intent (what the account receives is known, and
    shown, only once money is received), and whose payment it is."""

    application_fee_amount: int | None = None
    commission_bps: int | None = None
    #: The request's customer, else the saved method's: a payment with a customer's
    #: saved card is that customer's, in their history, even when the caller left
    #: customer_id out.
    customer_id: str = ""


def _new_intent(
    client_id: str, new: NewPaymentIntent, terms: _Terms, confirm_key: str | None
) -> PaymentIntent:
    """The record of a new intent; with ``confirm_key`` its charge is the open attempt."""
    intent_id = new_id("pi")
    now = utcnow()
    return PaymentIntent(
        id=intent_id,
        client_id=client_id,
        amount=new.amount,
        currency=new.currency,
        status=IntentStatus.REQUIRES_CONFIRMATION
        if new.payment_method_id
        else IntentStatus.REQUIRES_PAYMENT_METHOD,
        capture_method=new.capture_method,
        customer_id=terms.customer_id,
        payment_method_id=new.payment_method_id,
        requested_gateway=new.gateway,
        client_secret=f"{intent_id}_secret_{secrets.token_urlsafe(18)}",
        application_fee_amount=terms.application_fee_amount,
        commission_bps=terms.commission_bps,
        destination_account_id=new.destination_account_id,
        destination_amount=0,
        description=new.description,
        return_url=new.return_url,
        metadata=dict(new.metadata),
        attempt=Attempt(
            operation=CREATE_CONFIRM, key=confirm_key, amount=new.amount, state=AttemptState.OPEN
        )
        if confirm_key
        else None,
        create_time=now,
        update_time=now,
    )


def _public(intent: PaymentIntent) -> dict[str, object]:
    """The intent as its events show it, already as JSON values (enum values, RFC 3339
    UTC times, the error as an object): exactly what ``server.events`` would make of the
    record, without its generic walk over every field of every payment's events."""
    data: dict[str, object] = {name: getattr(intent, name) for name in _PUBLIC_FIELDS}
    data["status"] = intent.status.value
    # as PaymentIntent messages say it: a method with no recorded type is a card
    data["payment_method_type"] = intent.payment_method_type or (
        MethodType.CARD.value if intent.payment_method_id else ""
    )
    data["capture_method"] = intent.capture_method.value
    error = intent.last_error
    data["last_error"] = (
        None
        if error is None
        else {"code": error.code, "decline_code": error.decline_code, "message": error.message}
    )
    data["metadata"] = {str(k): v for k, v in intent.metadata.items()}
    data["create_time"] = _json_time(intent.create_time)
    data["update_time"] = _json_time(intent.update_time)
    return data


def _json_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _last_error(result: ChargeResult) -> LastError:
    if result.error is None:
        return LastError(code="payment_failed", message="The payment failed.")
    return LastError(
        code=result.error.code,
        decline_code=result.error.decline_code,
        message=result.error.message,
    )


class PaymentIntentService:
    def __init__(
        self,
        db: Database,
        router: Router,
        outcomes: IntentOutcomes | None = None,
        bank: BankDebits | None = None,
    ) -> None:
        self._db = db
        self._router = router
        self._outcomes = outcomes or IntentOutcomes()
        self._bank = bank  # ACH debits for bank account methods (server.payments.bank)

    # --- reads ---------------------------------------------------------------------------

    async def get(self, client_id: str, intent_id: str) -> PaymentIntent:
        async with self._db.read() as session:
            intent = await PaymentIntents(session).get(client_id, intent_id)
        if intent is None:
            raise NotFound("payment_intent", intent_id)
        return intent

    async def list(
        self, client_id: str, page: PageRequest, where: IntentFilter
    ) -> Page[PaymentIntent]:
        async with self._db.read() as session:
            rows = await PaymentIntents(session).page(
                client_id,
                before_id=page.before_id,
                limit=page.size + 1,
                customer_id=where.customer_id,
                status=where.status,
            )
        return page_of(rows, page)

    async def get_refund(self, client_id: str, refund_id: str) -> Refund:
        async with self._db.read() as session:
            refund = await Refunds(session).get(client_id, refund_id)
        if refund is None:
            raise NotFound("refund", refund_id)
        return refund

    async def list_refunds(
        self, client_id: str, page: PageRequest, payment_intent_id: str | None
    ) -> Page[Refund]:
        async with self._db.read() as session:
            rows = await Refunds(session).page(
                client_id,
                before_id=page.before_id,
                limit=page.size + 1,
                payment_intent_id=payment_intent_id,
            )
        return page_of(rows, page)

    # --- create / confirm ----------------------------------------------------------------

    async def create(
        self,
        client_id: str,
        key: str,
        new: NewPaymentIntent,
        finish: IntentFinish = _unanswered,
        *,
        check: Check = _unchecked,
    ) -> PaymentIntent:
        """Create (and with ``confirm`` charge); a retry with the same key resumes the first."""
        confirm_key = derive_key(client_id, key, "create-confirm")
        async with self._db.write() as session:
            await check(session)
            intent = await self._find_or_insert(
                session, client_id, key, new, confirm_key if new.confirm else None
            )
            if intent.attempt is None or intent.attempt.state is AttemptState.DONE:
                await finish(session, intent)
                return intent
        return await self._run_attempt(intent, finish)

    async def _find_or_insert(
        self,
        session: AsyncSession,
        client_id: str,
        key: str,
        new: NewPaymentIntent,
        confirm_key: str | None,
    ) -> PaymentIntent:
        """The intent this key created before (to resume), else a new one; never a second.

        A first call still at the gateway is not repeated beside it: the retry is told to
        come back (its attempt is repeated only once unknown, or stale: the first died).
        """
        intents = PaymentIntents(session)
        intent = await intents.find_by_create_key(client_id, key)
        if intent is None:
            try:
                return await self._insert(session, client_id, key, new, confirm_key)
            except DuplicateCreateKey:
                raise _key_in_use(key) from None
        if not _asks_for(intent, new):
            # The stored answer of the first call is gone when it failed (UNKNOWN): the
            # intent it made is the record of what was asked, so a different request
            # is refused here rather than resumed as the first one.
            raise IdempotencyKeyReused(
                f"idempotency key {key!r} was used for a different request; "
                "use a new key for a new request",
                metadata={"idempotency_key": key, "payment_intent_id": intent.id},
            )
        if intent.attempt is not None and _busy(intent) and not _stale(intent):
            raise _key_in_use(key) if intent.attempt.key == confirm_key else _busy_error(intent)
        if intent.attempt is None and confirm_key and intent.status in CONFIRMABLE:
            # the first try reached no gateway: confirm again now
            return await intents.record_attempt(
                intent.id, operation="confirm", key=confirm_key, amount=intent.amount
            )
        return intent

    async def _insert(
        self,
        session: AsyncSession,
        client_id: str,
        key: str,
        new: NewPaymentIntent,
        confirm_key: str | None,
    ) -> PaymentIntent:
        """Check what the intent refers to, then store it with its ``payment.created``
        (held, when it is to be charged at once, until the gateway has taken the token:
        see :data:`CREATE_CONFIRM`)."""
        terms = await self._terms(session, client_id, new)
        intent = _new_intent(client_id, new, terms, confirm_key)
        await PaymentIntents(session).add(intent, create_key=key or None)
        if intent.attempt is None:
            await self._event(session, intent, "payment.created")
        return intent

    async def _terms(self, session: AsyncSession, client_id: str, new: NewPaymentIntent) -> _Terms:
        """The customer, connected account and method exist and some gateway can take it."""
        if new.customer_id and await Customers(session).get(client_id, new.customer_id) is None:
            raise NotFound("customer", new.customer_id)
        terms = _Terms(application_fee_amount=new.application_fee_amount)
        if new.destination_account_id:
            account = await ConnectedAccounts(session).get(client_id, new.destination_account_id)
            if account is None:
                raise NotFound("connected_account", new.destination_account_id)
            if not account.charges_enabled:
                raise InvalidState(
                    f"connected account {account.id} cannot receive charges yet (onboarding)"
                )
            fee, bps = new.application_fee_amount, None
            if fee is None:
                bps = account.commission_bps
                fee = commission(new.amount, bps)
            terms = _Terms(application_fee_amount=fee, commission_bps=bps)
        method = None
        if new.payment_method_id:
            method = await self._method(session, client_id, new.customer_id, new.payment_method_id)
        self._check_route(
            method,
            new.gateway or (method.gateway if method else ""),
            currency=new.currency,
            manual=new.capture_method is CaptureMethod.MANUAL,
            marketplace=bool(new.destination_account_id),
        )
        saved = method.saved if method is not None else None
        owner = new.customer_id or (saved.customer_id if saved is not None else "")
        return dataclasses.replace(terms, customer_id=owner)

    async def confirm(
        self,
        client_id: str,
        key: str,
        intent_id: str,
        confirmation: Confirmation,
        finish: IntentFinish = _unanswered,
        *,
        for_checkout: bool = False,
        before_attempt: Check = _unchecked,
    ) -> PaymentIntent:
        """Charge the intent with ``confirmation``'s method; a retry with the same key
        resumes the first. ``before_attempt`` runs under the intent's lock just before
        the gateway call is recorded and may refuse it by raising: a checkout session
        that ended since the payer's page was read takes no payment."""
        await self._settle_open_attempt(client_id, intent_id)
        op_key = derive_key(client_id, key, "confirm", intent_id)
        async with self._db.write() as session:
            intents = PaymentIntents(session)
            intent = await self._locked(intents, client_id, intent_id)
            if intent.attempt is not None and intent.attempt.key == op_key:
                if intent.attempt.state is AttemptState.DONE:
                    await finish(session, intent)
                    return intent  # this very confirmation already ran
            elif _busy(intent):
                raise _busy_error(intent)
            elif not for_checkout and intent.metadata.get(CHECKOUT_SESSION):
                raise _paid_through_checkout(intent, "confirmed")
            elif intent.status not in CONFIRMABLE:
                raise InvalidState(
                    f"payment intent {intent.id} is {intent.status.value}; "
                    "only requires_payment_method or requires_confirmation can be confirmed",
                    metadata={"status": intent.status.value},
                )
            await before_attempt(session)
            method_id = confirmation.payment_method_id or intent.payment_method_id
            if not method_id:
                raise InvalidInput(
                    [FieldViolation("payment_method_id", "is required: the intent has none")]
                )
            method = await self._method(session, client_id, intent.customer_id, method_id)
            self._check_route(
                method,
                intent.requested_gateway or method.gateway,
                currency=intent.currency,
                manual=intent.capture_method is CaptureMethod.MANUAL,
                marketplace=bool(intent.destination_account_id),
            )
            intent = await intents.record_attempt(
                intent.id,
                operation="confirm",
                key=op_key,
                amount=intent.amount,
                payment_method_id=method_id,
                return_url=confirmation.return_url or None,
            )
        return await self._run_attempt(intent, finish)

    async def capture(
        self,
        client_id: str,
        key: str,
        intent_id: str,
        capture: Capture,
        finish: IntentFinish = _unanswered,
    ) -> PaymentIntent:
        await self._settle_open_attempt(client_id, intent_id)
        op_key = derive_key(client_id, key, "capture", intent_id)
        async with self._db.write() as session:
            intents = PaymentIntents(session)
            intent = await self._locked(intents, client_id, intent_id)
            if intent.attempt is not None and intent.attempt.key == op_key:
                await finish(session, intent)
                return intent
            if _busy(intent):
                raise _busy_error(intent)
            if intent.status is not IntentStatus.REQUIRES_CAPTURE:
                raise InvalidState(
                    f"payment intent {intent.id} is {intent.status.value}, not requires_capture",
                    metadata={"status": intent.status.value},
                )
            amount = intent.amount_capturable
            if capture.amount_to_capture is not None:
                amount = capture.amount_to_capture
            if amount > intent.amount_capturable:
                raise AmountTooLarge(
                    f"amount_to_capture {amount} is above amount_capturable "
                    f"{intent.amount_capturable}",
                    metadata={"amount_capturable": str(intent.amount_capturable)},
                )
            if capture.application_fee_amount is not None and not intent.destination_account_id:
                raise InvalidInput(
                    [
                        FieldViolation(
                            "application_fee_amount",
                            "is only allowed on a payment to a connected account "
                            "(destination_account_id)",
                        )
                    ]
                )
            fee = self._fee_on(intent, amount, capture.application_fee_amount)
            if fee is not None and fee > amount:
                raise InvalidInput(
                    [
                        FieldViolation(
                            "application_fee_amount", "must not exceed the captured amount"
                        )
                    ]
                )
            intent = await intents.record_attempt(
                intent.id,
                operation="capture",
                key=op_key,
                amount=amount,
                application_fee_amount=fee,
            )
        return await self._run_attempt(intent, finish)

    @staticmethod
    def _fee_on(intent: PaymentIntent, amount: int, asked: int | None) -> int | None:
        if asked is not None:
            return asked
        if intent.commission_bps is not None:
            return commission(amount, intent.commission_bps)
        if intent.application_fee_amount is not None:
            return min(intent.application_fee_amount, amount)
        return None

    async def cancel(
        self,
        client_id: str,
        key: str,
        intent_id: str,
        reason: str,
        finish: IntentFinish = _unanswered,
        *,
        for_checkout: bool = False,
        before_attempt: Check = _unchecked,
    ) -> PaymentIntent:
        """Cancel the intent, at the gateway when it has a payment there. Only its
        session's expiry cancels a checkout session's intent (``for_checkout``), with
        ``before_attempt`` run under the intent's lock before anything is recorded: it
        may refuse by raising, as the payer may have moved the session on since."""
        await self._settle_open_attempt(client_id, intent_id)
        async with self._db.write() as session:
            intents = PaymentIntents(session)
            intent = await self._locked(intents, client_id, intent_id)
            if _busy(intent):
                raise _busy_error(intent)
            if not for_checkout and intent.metadata.get(CHECKOUT_SESSION):
                raise _paid_through_checkout(intent, "canceled")
            if intent.status not in CANCELABLE:
                raise InvalidState(
                    f"payment intent {intent.id} is {intent.status.value} and cannot be canceled",
                    metadata={"status": intent.status.value},
                )
            await before_attempt(session)
            if not intent.gateway_reference:
                intent = await intents.record_cancel(intent.id, reason=reason)
                await self._event(session, intent, "payment.canceled")
                await finish(session, intent)
                return intent
            intent = await intents.record_attempt(
                intent.id,
                operation="cancel",
                key=derive_key(client_id, key or "-", "cancel", intent_id),
                amount=0,
                cancellation_reason=reason,
            )
        return await self._run_attempt(intent, finish)

    async def complete_authentication(
        self,
        client_id: str,
        intent_id: str,
        *,
        succeed: bool,
        finish: IntentFinish = _unanswered,
    ) -> PaymentIntent:
        """The payer finishing (or failing) 3-D Secure on the sandbox."""
        intent = await self.get(client_id, intent_id)
        gateway = self._router_gateway(intent.gateway)
        if not isinstance(gateway, SandboxControls):
            raise SandboxOnly(f"payment intent {intent.id} is not on the sandbox gateway")
        if intent.status is not IntentStatus.REQUIRES_ACTION:
            raise InvalidState(
                f"payment intent {intent.id} is {intent.status.value}, not awaiting authentication",
                metadata={"status": intent.status.value},
            )
        assert isinstance(gateway, CardPayments)
        try:
            await gateway.complete_authentication(intent.gateway_reference, succeed=succeed)
        except GatewayRejected:
            raise await self._no_longer_authenticating(gateway, intent) from None
        result = await gateway.retrieve(RetrieveRequest(gateway_reference=intent.gateway_reference))
        async with self._db.write() as session:
            updated = (
                await self.apply_gateway_payment(session, gateway=intent.gateway, result=result)
                or intent
            )
            await finish(session, updated)
            return updated

    async def _no_longer_authenticating(
        self, gateway: CardPayments, intent: PaymentIntent
    ) -> InvalidState:
        """The refusal for a payer whose 3-D Secure the gateway no longer takes: the
        payment moved on there first (the checkout sweep canceled it, say) and our record
        may not say so yet, so the status named is the gateway's."""
        try:
            now = await gateway.retrieve(
                RetrieveRequest(gateway_reference=intent.gateway_reference)
            )
        except GatewayError:  # cannot ask now: the refusal stands, with what we know
            now = None
        outcome = Outcome.UNKNOWN if now is None else now.outcome
        status = _OUTCOME_STATUS.get(outcome, intent.status).value
        return InvalidState(
            f"payment intent {intent.id} is {status}, not awaiting authentication",
            metadata={"status": status},
        )

    async def schedule_after_verification(
        self, session: AsyncSession, client_id: str, intent_id: str
    ) -> PaymentIntent | None:
        """Record, in the caller's transaction, the debit of an intent that waited for its
        bank account's verification (server.payments.bank): the recovery point, which
        :meth:`continue_after_verification` (or, should that never run, the reconciler)
        sends. One derived key per intent, so a repeat debits once. None when the intent
        no longer waits, or has another call open."""
        intents = PaymentIntents(session)
        intent = await self._locked(intents, client_id, intent_id)
        key = _after_verification_key(client_id, intent_id)
        if intent.status is not IntentStatus.REQUIRES_ACTION:
            return None
        if _busy(intent):
            return intent if intent.attempt is not None and intent.attempt.key == key else None
        return await intents.record_attempt(
            intent.id, operation="confirm", key=key, amount=intent.amount
        )

    async def continue_after_verification(self, client_id: str, intent_id: str) -> PaymentIntent:
        """Start (or send the scheduled) debit of an intent that waited for its bank
        account's verification; a repeat debits once."""
        async with self._db.write() as session:
            scheduled = await self.schedule_after_verification(session, client_id, intent_id)
            if scheduled is None:
                return await self._locked(PaymentIntents(session), client_id, intent_id)
        return await self._run_attempt(scheduled)

    # --- refunds -------------------------------------------------------------------------

    async def refund(
        self, client_id: str, key: str, new: NewRefund, finish: RefundFinish = _unanswered
    ) -> Refund:
        async with self._db.write() as session:
            refunds = Refunds(session)
            refund = await refunds.find_by_create_key(client_id, key)
            if refund is None:
                refund = await self._new_refund(session, client_id, key, new)
            elif refund.attempt.state is AttemptState.DONE:
                await finish(session, refund)
                return refund
        return await self._run_refund(refund, finish)

    async def refunded_besides(self, session: AsyncSession, refund: Refund) -> int:
        """What the refund's payment gave back or holds for other refunds (pending or
        succeeded, ours or made at the gateway): the money a new refund must fit beside."""
        committed = await Refunds(session).committed_amount(refund.payment_intent_id)
        if refund.status in (RefundStatus.PENDING, RefundStatus.SUCCEEDED):
            committed -= refund.amount
        return committed

    async def schedule_refund(
        self,
        session: AsyncSession,
        intent: PaymentIntent,
        key: str,
        metadata: Mapping[str, str] | None = None,
    ) -> Refund:
        """Record a full refund of ``intent`` in the caller's transaction (e.g. an intent
        outcome listener's), for the reconciler to send: it finds the refund's OPEN
        attempt once :data:`STALE_ATTEMPT` has passed. Repeats return the same refund.
        Raises (CapabilityMissing, AmountTooLarge, ...) before writing anything when the
        intent cannot be refunded."""
        existing = await Refunds(session).find_by_create_key(intent.client_id, key)
        if existing is not None:
            return existing
        return await self._new_refund(
            session,
            intent.client_id,
            key,
            NewRefund(payment_intent_id=intent.id, metadata=dict(metadata or {})),
        )

    async def _new_refund(
        self, session: AsyncSession, client_id: str, key: str, new: NewRefund
    ) -> Refund:
        intents = PaymentIntents(session)
        intent = await self._locked(intents, client_id, new.payment_intent_id)
        if intent.status is not IntentStatus.SUCCEEDED:
            raise InvalidState(
                f"payment intent {intent.id} is {intent.status.value}; only succeeded "
                "payments can be refunded",
                metadata={"status": intent.status.value},
            )
        disputed = await charged_back(session, intent.id)
        if disputed is not None:
            raise InvalidState(
                f"payment intent {intent.id} is charged back (dispute {disputed.id} is "
                f"{disputed.status}): the cardholder's bank returns the money, so it "
                "cannot be refunded as well",
                reason="PAYMENT_DISPUTED",
                metadata={"dispute_id": disputed.id, "dispute_status": disputed.status},
            )
        gateway = self._router_gateway(intent.gateway)
        if Capability.REFUNDS not in gateway.info.capabilities:
            raise CapabilityMissing(f"gateway {intent.gateway} cannot refund")
        if await paid_by_bank(session, intent):
            raise CapabilityMissing("refunds of bank (ACH) payments are not available yet")
        refunds = Refunds(session)
        left = intent.amount_received - await refunds.committed_amount(intent.id)
        amount = left if new.amount is None else new.amount
        if left <= 0:
            raise AmountTooLarge(
                f"payment intent {intent.id} is already refunded in full: nothing is left "
                "to refund",
                metadata={"refundable": "0"},
            )
        if amount <= 0 or amount > left:
            raise AmountTooLarge(
                f"refund of {amount} is more than the {left} left to refund",
                metadata={"refundable": str(left)},
            )
        # Whatever the payment funded (a wallet deposit, a credit purchase) gives its
        # share back in this transaction, before the gateway is asked; a subscriber that
        # cannot (the funds were spent) refuses, and nothing is written.
        return await self._record_new_refund(
            session,
            intent,
            amount=amount,
            reason=new.reason,
            metadata=new.metadata,
            attempt=Attempt(
                operation="refund",
                key=derive_key(client_id, key, "refund", intent.id),
                amount=amount,
                state=AttemptState.OPEN,
            ),
            create_key=key or None,
            stage=RefundStage.REQUESTED,
        )

    async def _record_new_refund(
        self,
        session: AsyncSession,
        intent: PaymentIntent,
        *,
        amount: int,
        attempt: Attempt,
        stage: RefundStage | None,
        reason: str = "",
        metadata: Mapping[str, str] | None = None,
        gateway_reference: str = "",
        create_key: str | None = None,
    ) -> Refund:
        """Store a new PENDING refund of ``intent``, announce it (``stage``; None: to
        nobody) and write its ``refund.created``, all in the caller's transaction."""
        now = utcnow()
        refund = await Refunds(session).add(
            Refund(
                id=new_id("re"),
                client_id=intent.client_id,
                payment_intent_id=intent.id,
                amount=amount,
                currency=intent.currency,
                status=RefundStatus.PENDING,
                reason=reason,
                gateway=intent.gateway,
                gateway_reference=gateway_reference,
                metadata=dict(metadata or {}),
                attempt=attempt,
                create_time=now,
                update_time=now,
            ),
            create_key=create_key,
        )
        if stage is not None:
            await self._outcomes.announce_refund(session, intent, refund, stage)
        await _refund_event(session, refund, "refund.created")
        return refund

    async def _run_refund(self, refund: Refund, finish: RefundFinish = _unanswered) -> Refund:
        async with self._db.read() as session:
            intent = await PaymentIntents(session).get(refund.client_id, refund.payment_intent_id)
        assert intent is not None
        gateway = self._router_gateway(refund.gateway)
        assert isinstance(gateway, CardPayments)
        try:
            result = await gateway.refund(
                RefundRequest(
                    gateway_reference=intent.gateway_reference,
                    amount=refund.amount,
                    currency=refund.currency,
                    reason=refund.reason,
                    idempotency_key=refund.attempt.key,
                    # fixed by the intent, so every retry of the key asks the same
                    reverse_transfer=bool(intent.destination_account_id),
                )
            )
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as lost:
            log.warning("refund %s: %s; left pending for reconciliation", refund.id, lost)
            async with self._db.write() as session:
                pending = await Refunds(session).record_unknown(refund.id)
                await finish(session, pending)
                return pending
        except GatewayRejected as refused:
            async with self._db.write() as session:
                failed = await self._record_refund_failure(
                    session,
                    refund,
                    LastError(code=refused.code or "refund_failed", message=refused.message),
                )
                await finish(session, failed)
                return failed
        async with self._db.write() as session:
            applied = await self.apply_gateway_refund(
                session, refund_id=refund.id, gateway=refund.gateway, result=result
            )
            await finish(session, applied)
            return applied

    async def _record_refund_failure(
        self, session: AsyncSession, refund: Refund, error: LastError, gateway_reference: str = ""
    ) -> Refund:
        refunds = Refunds(session)
        current = await refunds.get_for_update_any(refund.id)
        if current is None or current.status is not RefundStatus.PENDING:
            return current or refund  # settled meanwhile (a webhook): it never changes again
        # The gateway's reference is kept when it gave one: a later webhook about the
        # same refund must find it (and never take it for one made elsewhere).
        failed = await refunds.record_failed(
            refund.id, gateway_reference=gateway_reference or current.gateway_reference, error=error
        )
        intent = await PaymentIntents(session).get(failed.client_id, failed.payment_intent_id)
        if intent is not None:
            await self._outcomes.announce_refund(session, intent, failed, RefundStage.FAILED)
        await _refund_event(session, failed, "refund.failed")
        return failed

    # --- gateway updates: the entry points for our own calls and for the relay ----------

    async def apply_gateway_payment(
        self,
        session: AsyncSession,
        *,
        gateway: str,
        result: ChargeResult,
        intent_id: str | None = None,
    ) -> PaymentIntent | None:
        """Apply what a gateway says about a payment, in the caller's transaction.

        Idempotent and monotonic: a repeated or out-of-date update changes nothing, and
        none moves the intent backwards. Returns the intent, or None when unknown here.
        """
        intents = PaymentIntents(session)
        if intent_id is not None:
            intent = await intents.get_for_update_any(intent_id)
        else:
            intent = await intents.find_by_gateway_reference(gateway, result.gateway_reference)
        if intent is None:
            return None
        # Our own call's answer always lands; a relayed update (no intent_id) only moves
        # the intent forward, even while one of our calls is still open.
        own_attempt = (
            intent_id is not None
            and intent.attempt is not None
            and intent.attempt.state is not AttemptState.DONE
        )
        if result.outcome is Outcome.UNKNOWN:
            return intent
        target = _OUTCOME_STATUS[result.outcome]
        if not own_attempt and not _moves_forward(intent, target, result):
            return intent
        if result.outcome is Outcome.SUCCEEDED:
            received = result.amount_received
            fee = intent.application_fee_amount
            if fee is not None:
                fee = min(fee, received)
            updated = await intents.record_capture(
                intent.id,
                gateway=gateway,
                gateway_reference=result.gateway_reference,
                amount_received=received,
                application_fee_amount=fee,
                destination_amount=received - (fee or 0) if intent.destination_account_id else 0,
            )
            event = "payment.succeeded"
        elif result.outcome is Outcome.REQUIRES_CAPTURE:
            updated = await intents.record_authorized(
                intent.id,
                gateway=gateway,
                gateway_reference=result.gateway_reference,
                amount_capturable=result.amount_capturable,
            )
            event = "payment.requires_capture"
        elif result.outcome is Outcome.REQUIRES_ACTION:
            updated = await intents.record_requires_action(
                intent.id,
                gateway=gateway,
                gateway_reference=result.gateway_reference,
                redirect_url=result.redirect_url,
            )
            event = "payment.requires_action"
        elif result.outcome is Outcome.PROCESSING:
            updated = await intents.record_processing(
                intent.id, gateway=gateway, gateway_reference=result.gateway_reference
            )
            event = "payment.processing"
        elif result.outcome is Outcome.CANCELED:
            updated = await intents.record_cancel(
                intent.id, reason=intent.cancellation_reason or "requested_by_customer"
            )
            event = "payment.canceled"
        else:
            updated = await intents.record_decline(
                intent.id,
                gateway=gateway,
                gateway_reference=result.gateway_reference,
                error=_last_error(result),
            )
            event = "payment.failed"
        await self._event(session, updated, event)
        return updated

    async def apply_gateway_refund(
        self,
        session: AsyncSession,
        *,
        gateway: str,
        result: RefundResult,
        refund_id: str | None = None,
    ) -> Refund:
        """Apply a refund's outcome once; a settled refund never changes again."""
        refunds = Refunds(session)
        if refund_id is not None:
            refund = await refunds.get_for_update_any(refund_id)
        else:
            refund = await refunds.find_by_gateway_reference(gateway, result.gateway_reference)
        if refund is None:
            raise NotFound("refund", refund_id or result.gateway_reference)
        if refund.status is not RefundStatus.PENDING or result.outcome is Outcome.UNKNOWN:
            return refund
        if result.outcome is Outcome.SUCCEEDED:
            done = await refunds.record_succeeded(
                refund.id, gateway_reference=result.gateway_reference
            )
            intent = await PaymentIntents(session).record_refunded(
                refund.payment_intent_id, amount=refund.amount
            )
            await self._outcomes.announce_refund(session, intent, done, RefundStage.SUCCEEDED)
            await _refund_event(session, done, "refund.succeeded")
            log.info(
                "refund %s succeeded; intent %s refunded %d",
                done.id,
                intent.id,
                intent.amount_refunded,
            )
            return done
        if result.outcome is Outcome.DECLINED:
            error = result.error
            return await self._record_refund_failure(
                session,
                refund,
                LastError(code=error.code, message=error.message)
                if error
                else LastError(code="refund_failed"),
                result.gateway_reference,
            )
        return await refunds.record_pending(refund.id, gateway_reference=result.gateway_reference)

    async def adopt_gateway_payment(
        self,
        session: AsyncSession,
        *,
        client_id: str,
        gateway: str,
        new: NewPaymentIntent,
        payment: ChargeResult,
        before_success: IntentFinish = _unanswered,
    ) -> PaymentIntent:
        """Record a payment the gateway made itself (a hosted checkout it ran) as one of
        ours, already SUCCEEDED, in the caller's transaction: ``payment.created`` then
        ``payment.succeeded``, with ``before_success`` run in between (what must hold
        when the success is announced). A payment already recorded is returned as is."""
        intents = PaymentIntents(session)
        known = await intents.find_by_gateway_reference(gateway, payment.gateway_reference)
        if known is not None:
            return known
        intent = dataclasses.replace(
            _new_intent(client_id, new, _Terms(customer_id=new.customer_id), None),
            gateway=gateway,
        )
        await intents.add(intent, create_key=None)
        await self._event(session, intent, "payment.created")
        await before_success(session, intent)
        paid = await intents.record_capture(
            intent.id,
            gateway=gateway,
            gateway_reference=payment.gateway_reference,
            amount_received=payment.amount_received,
            application_fee_amount=None,
            destination_amount=0,
        )
        await self._event(session, paid, "payment.succeeded")
        return paid

    async def adopt_gateway_refund(
        self, session: AsyncSession, *, gateway: str, result: RefundResult
    ) -> Refund | None:
        """Record a refund made at the gateway, not by us (a dashboard), of an intent of
        ours, and apply its outcome, all in the caller's transaction; None when the
        refund is not about an intent we know (or there is nothing left to refund).

        Duplicate-safe: the refund is looked up by its gateway reference while the
        intent's row is locked, so the same webhook twice records one refund. Raises
        :class:`NotYetApplicable` (the relay retries) while the intent has not succeeded
        or one of our own refunds of it has no answer yet: that refund may be this one.
        """
        if not result.payment_reference or result.outcome is Outcome.UNKNOWN:
            return None
        intent = await PaymentIntents(session).find_by_gateway_reference(
            gateway, result.payment_reference
        )
        if intent is None:
            return None
        refunds = Refunds(session)
        if await refunds.find_by_gateway_reference(gateway, result.gateway_reference) is not None:
            # recorded meanwhile (the same webhook applied by another worker)
            return await self.apply_gateway_refund(session, gateway=gateway, result=result)
        if intent.status is not IntentStatus.SUCCEEDED:
            # The message is kept on the gateway event, which every client may list
            # until it applies: it names the provider's ids only, none of ours.
            raise NotYetApplicable(
                f"gateway refund {result.gateway_reference}: its payment is "
                f"{intent.status.value}; applied once it has succeeded",
                metadata={"payment_intent_id": intent.id},
            )
        unanswered = await refunds.unanswered(intent.id)
        if unanswered:
            raise NotYetApplicable(
                f"gateway refund {result.gateway_reference} may be one of ours still "
                "unanswered: applied once the gateway's answer is recorded",
                metadata={"payment_intent_id": intent.id, "refund_id": unanswered[0].id},
            )
        if result.currency and result.currency != intent.currency:
            log.error(
                "gateway refund %s of payment intent %s is in %s, the intent in %s: not adopted",
                result.gateway_reference,
                intent.id,
                result.currency,
                intent.currency,
            )
            return None
        if result.amount <= 0:
            log.warning(
                "gateway refund %s of payment intent %s says no amount: not adopted",
                result.gateway_reference,
                intent.id,
            )
            return None
        left = intent.amount_received - await refunds.committed_amount(intent.id)
        amount = min(result.amount, left)
        if result.amount > left:
            log.error(
                "gateway refund %s of payment intent %s is %d %s, more than the %d left to "
                "refund: recorded as %d",
                result.gateway_reference,
                intent.id,
                result.amount,
                intent.currency,
                left,
                amount,
            )
        if amount <= 0:
            return None
        refund = await self._record_new_refund(
            session,
            intent,
            amount=amount,
            attempt=Attempt(  # nothing for us to send: the gateway already acted
                operation="refund",
                key=derive_key(gateway, result.gateway_reference, "adopted-refund"),
                amount=amount,
                state=AttemptState.DONE,
            ),
            # First heard of as failed, it moved no money: nothing to take back (and
            # give back at once, three wallet lines adding up to nothing).
            stage=None if result.outcome is Outcome.DECLINED else RefundStage.ADOPTED,
            metadata={ORIGIN: ORIGIN_GATEWAY},
            gateway_reference=result.gateway_reference,
        )
        log.info(
            "adopted gateway refund %s of payment intent %s as %s (%d %s)",
            result.gateway_reference,
            intent.id,
            refund.id,
            amount,
            refund.currency,
        )
        return await self.apply_gateway_refund(
            session, gateway=gateway, result=result, refund_id=refund.id
        )

    # --- running and reconciling attempts ------------------------------------------------

    async def _settle_open_attempt(self, client_id: str, intent_id: str) -> None:
        """Before a new call on an intent, learn the outcome of its last unknown one."""
        intent = await self.get(client_id, intent_id)
        if intent.attempt is None:
            return
        if intent.attempt.state is AttemptState.UNKNOWN or (_busy(intent) and _stale(intent)):
            await self._run_attempt(intent)

    async def reconcile(
        self,
        *,
        stale_after: dt.timedelta = STALE_ATTEMPT,
        pending_refund_look: dt.timedelta = PENDING_REFUND_LOOK,
    ) -> int:
        """Ask the gateways about every attempt with no known outcome, and about refunds
        they left pending for ``pending_refund_look``; returns how many settled."""
        now = utcnow()
        cutoff = now - stale_after
        async with self._db.read() as session:
            intents = await PaymentIntents(session).unsettled(older_than=cutoff, limit=100)
            refunds = await Refunds(session).unsettled(older_than=cutoff, limit=100)
            awaiting = await Refunds(session).awaiting_gateway(
                older_than=now - pending_refund_look, limit=100
            )
        settled = 0
        for client_id, intent_id in intents:
            intent = await self.get(client_id, intent_id)
            try:
                await self._run_attempt(intent)
                settled += 1
            except (GatewayOutcomeUnknown, GatewayUnavailableError) as still:
                log.info("intent %s still unsettled: %s", intent_id, still.message)
            except DomainError as refused:  # settled as refused; the others still go
                settled += 1
                log.warning("intent %s: the gateway refused its attempt: %s", intent_id, refused)
        for client_id, refund_id in refunds:
            refund = await self.get_refund(client_id, refund_id)
            after = await self._run_refund(refund)
            settled += after.attempt.state is AttemptState.DONE
        for client_id, refund_id in awaiting:
            refund = await self.get_refund(client_id, refund_id)
            after = await self._look_up_refund(refund)
            settled += after.status is not RefundStatus.PENDING
        return settled

    async def _look_up_refund(self, refund: Refund) -> Refund:
        """Read a refund the gateway left pending and apply how it stands now, as its
        webhook would have. Still pending, it is looked at again a period later; a
        gateway that cannot be asked now is asked on a later run."""
        try:
            gateway = self._router_gateway(refund.gateway)
            result = await gateway.retrieve_refund(
                RefundRetrieveRequest(gateway_reference=refund.gateway_reference)
            )
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError, GatewayRejected) as lost:
            log.warning("refund %s: could not read it from %s: %s", refund.id, refund.gateway, lost)
            return refund
        except GatewayUnavailableError as disabled:
            log.warning("refund %s: %s", refund.id, disabled.message)
            return refund
        if result.gateway_reference != refund.gateway_reference:
            log.warning(
                "refund %s: %s answered for refund %s, not %s; nothing applied",
                refund.id,
                refund.gateway,
                result.gateway_reference,
                refund.gateway_reference,
            )
            return refund
        async with self._db.write() as session:
            return await self.apply_gateway_refund(
                session, refund_id=refund.id, gateway=refund.gateway, result=result
            )

    async def _run_attempt(
        self, intent: PaymentIntent, finish: IntentFinish = _unanswered
    ) -> PaymentIntent:
        """Call the gateway for the intent's recorded attempt, then record the answer."""
        attempt = intent.attempt
        assert attempt is not None
        try:
            used, result = await self._call_gateway(intent, attempt)
        except OutcomeUnknown as lost:
            async with self._db.write() as session:
                intents = PaymentIntents(session)
                await intents.get_for_update_any(intent.id)
                # a create's charge is announced now (it may have been made): from here on
                # it is a plain confirm, whose answer announces nothing more
                operation = "confirm" if attempt.operation == CREATE_CONFIRM else attempt.operation
                await intents.record_attempt_unknown(intent.id, lost.gateway, operation=operation)
                await self._announce_creation(session, intent)
            raise GatewayOutcomeUnknown(
                f"the gateway's answer left the outcome unknown ({lost.gateway}: "
                f"{lost.message}); retry with the same idempotency key to learn the outcome "
                f"of payment intent {intent.id} (it is never charged twice)",
                metadata={"payment_intent_id": intent.id, "gateway": lost.gateway},
            ) from None
        except (GatewayUnavailable, GatewayAuthError) as refused:
            if _scheduled_debit(intent):
                await self._keep_for_reconciler(intent)
            elif attempt.operation == CREATE_CONFIRM:
                await self._discard(intent)  # nothing was sent: as if never asked
            else:
                await self._void_attempt(intent)
            raise GatewayUnavailableError(
                f"no capable gateway is reachable ({refused.gateway}); nothing was charged; "
                "retry with the same idempotency key",
                metadata={"gateway": refused.gateway},
            ) from None
        except GatewayRejected as refused:
            unusable = (
                _UNUSABLE_METHOD.get(refused.code) if attempt.operation in _CONFIRMS else None
            )
            if _scheduled_debit(intent):
                await self._decline_scheduled(intent, refused)
            elif attempt.operation == CREATE_CONFIRM:
                await self._discard(intent)  # refused before charging: nothing was made
            else:
                await self._void_attempt(intent)
            if unusable:
                raise InvalidInput([FieldViolation("payment_method_id", unusable)]) from None
            raise GatewayRefused(refused.message, metadata={"gateway_code": refused.code}) from None
        async with self._db.write() as session:
            await self._announce_creation(session, intent)
            updated = await self.apply_gateway_payment(
                session, gateway=used, result=result, intent_id=intent.id
            )
            assert updated is not None
            await finish(session, updated)
        return updated

    async def _call_gateway(
        self, intent: PaymentIntent, attempt: Attempt
    ) -> tuple[str, ChargeResult]:
        if attempt.operation in _CONFIRMS:
            return await self._charge(intent, attempt)
        gateway = self._router_gateway(intent.gateway)
        assert isinstance(gateway, CardPayments)
        if attempt.operation == "capture":
            return intent.gateway, await gateway.capture(
                CaptureRequest(
                    gateway_reference=intent.gateway_reference,
                    amount=attempt.amount,
                    currency=intent.currency,
                    application_fee_amount=intent.application_fee_amount,
                    idempotency_key=attempt.key,
                )
            )
        return intent.gateway, await gateway.cancel(
            CancelRequest(
                gateway_reference=intent.gateway_reference,
                reason=intent.cancellation_reason,
                idempotency_key=attempt.key,
            )
        )

    async def _announce_creation(self, session: AsyncSession, intent: PaymentIntent) -> None:
        """The held ``payment.created`` of an intent charged as it was created, once the
        gateway took (or may have taken) its charge; written before the outcome's event."""
        attempt = intent.attempt
        if attempt is not None and attempt.operation == CREATE_CONFIRM:
            await self._event(session, intent, "payment.created")

    async def _void_attempt(self, intent: PaymentIntent) -> None:
        async with self._db.write() as session:
            intents = PaymentIntents(session)
            await intents.get_for_update_any(intent.id)
            await intents.record_attempt_not_sent(intent.id)

    async def _discard(self, intent: PaymentIntent) -> None:
        """Forget an intent created to be charged at once whose charge was never made
        (no gateway reachable, or the gateway refused it: an unknown token), as Stripe
        creates nothing then: the caller got no id, no event was written, and a retry
        with the same key is a fresh create."""
        async with self._db.write() as session:
            intents = PaymentIntents(session)
            await intents.get_for_update_any(intent.id)
            await intents.discard(intent.id)

    async def _keep_for_reconciler(self, intent: PaymentIntent) -> None:
        """A scheduled debit no gateway could take now stays recorded (its clock restarted):
        no caller will retry it, so voiding it would strand the intent in REQUIRES_ACTION."""
        attempt = intent.attempt
        assert attempt is not None
        async with self._db.write() as session:
            intents = PaymentIntents(session)
            await intents.get_for_update_any(intent.id)
            await intents.record_attempt(
                intent.id, operation=attempt.operation, key=attempt.key, amount=attempt.amount
            )

    async def _decline_scheduled(self, intent: PaymentIntent, refused: GatewayRejected) -> None:
        """A scheduled debit the gateway refuses fails its intent as a decline would (back
        to REQUIRES_PAYMENT_METHOD, ``payment.failed``): the payer can choose another way
        to pay, which an intent left waiting on a verified account never offered."""
        async with self._db.write() as session:
            await self.apply_gateway_payment(
                session,
                gateway=refused.gateway,
                intent_id=intent.id,
                result=ChargeResult(
                    outcome=Outcome.DECLINED,
                    gateway_reference="",
                    error=PaymentError(
                        code=refused.code or "debit_refused",
                        message=f"The bank gateway refused the debit: {refused.message}",
                    ),
                ),
            )

    async def _charge(self, intent: PaymentIntent, attempt: Attempt) -> tuple[str, ChargeResult]:
        method, destination = _Method(token=intent.payment_method_id, gateway=""), ""
        if has_prefix(intent.payment_method_id, "pm") or intent.destination_account_id:
            async with self._db.read() as session:  # only when there is something to read
                method = await self._method(
                    session, intent.client_id, intent.customer_id, intent.payment_method_id
                )
                if intent.destination_account_id:
                    account = await ConnectedAccounts(session).get(
                        intent.client_id, intent.destination_account_id
                    )
                    destination = account.gateway_reference if account else ""
        if self._bank is not None and _is_bank(method):
            return await self._bank.debit(intent, intent.payment_method_id, attempt.key)
        # An answer lost at one gateway is asked of that same gateway, never another.
        pinned = intent.gateway if attempt.state is AttemptState.UNKNOWN else ""
        candidates = self._candidates(
            pinned or intent.requested_gateway or method.gateway,
            currency=intent.currency,
            manual=intent.capture_method is CaptureMethod.MANUAL,
            marketplace=bool(intent.destination_account_id),
        )
        request = ChargeRequest(
            amount=intent.amount,
            currency=intent.currency,
            payment_method=method.token,
            customer_reference=method.customer_reference,
            manual_capture=intent.capture_method is CaptureMethod.MANUAL,
            description=intent.description,
            metadata=intent.metadata,
            return_url=intent.return_url,
            destination_reference=destination or None,
            application_fee_amount=intent.application_fee_amount
            if intent.destination_account_id and intent.capture_method is CaptureMethod.AUTOMATIC
            else None,
            idempotency_key=attempt.key,
        )
        used, result = await Router.first_available(candidates, lambda g: g.charge(request))
        return used.info.name, result

    # --- helpers -------------------------------------------------------------------------

    async def _locked(
        self, intents: PaymentIntents, client_id: str, intent_id: str
    ) -> PaymentIntent:
        intent = await intents.get_for_update(client_id, intent_id)
        if intent is None:
            raise NotFound("payment_intent", intent_id)
        return intent

    async def _method(
        self, session: AsyncSession, client_id: str, customer_id: str, method_id: str
    ) -> _Method:
        """Our saved method (pinned to its gateway), or a gateway token any gateway may take."""
        if not has_prefix(method_id, "pm"):
            return _Method(token=method_id, gateway="")
        method = await PaymentMethods(session).get(client_id, method_id)
        if method is None:
            raise NotFound("payment_method", method_id)
        if method.detach_time is not None:
            raise InvalidState(
                f"payment method {method_id} was detached; attach a payment method",
                reason="PAYMENT_METHOD_DETACHED",  # as deposits and withdrawals say it
                metadata={"payment_method_id": method_id},
            )
        if customer_id and method.customer_id != customer_id:
            raise InvalidInput([FieldViolation("payment_method_id", "belongs to another customer")])
        reference = await GatewayCustomers(session).find(method.customer_id, method.gateway)
        return _Method(
            token=method.gateway_reference,
            gateway=method.gateway,
            customer_reference=reference,
            saved=method,
        )

    async def check_payable(
        self, client_id: str, payment_method_id: str, currency: str, *, customer_id: str = ""
    ) -> None:
        """Refuse, for a caller about to record something it will charge for (a deposit,
        a purchase, a checkout's payment), what :meth:`create` would refuse of this saved
        method in ``currency`` (and, with ``customer_id``, of another customer's): so
        nothing is recorded for a charge that cannot be made."""
        async with self._db.read() as session:
            method = await self._method(session, client_id, customer_id, payment_method_id)
        self._check_route(
            method, method.gateway, currency=currency, manual=False, marketplace=False
        )

    def _check_route(
        self,
        method: _Method | None,
        gateway: str,
        *,
        currency: str,
        manual: bool,
        marketplace: bool,
    ) -> None:
        """Refuse, before anything is recorded, a payment no enabled gateway can make."""
        if method is not None and method.saved is not None and _is_bank(method):
            if self._bank is None or marketplace:
                raise CapabilityMissing("bank account payments are not available here")
            self._bank.check_debit(method.saved, currency=currency, manual=manual)
            return
        self._candidates(gateway, currency=currency, manual=manual, marketplace=marketplace)

    def _candidates(
        self, gateway: str, *, currency: str, manual: bool, marketplace: bool
    ) -> Sequence[CardPayments]:
        needs: set[Capability] = set()
        if manual:
            needs |= {Capability.MANUAL_CAPTURE, Capability.PARTIAL_CAPTURE}
        if marketplace:
            needs.add(Capability.MARKETPLACE)
        need = Need(
            protocol=CardPayments,  # type: ignore[type-abstract]
            method_type=MethodType.CARD,
            currency=currency,
            capabilities=frozenset(needs),
        )
        try:
            return self._router.candidates(need, CardPayments, gateway=gateway or None)  # type: ignore[type-abstract]
        except NoCapableGateway as missing:
            if missing.unknown_name:
                raise InvalidInput([FieldViolation("gateway", missing.message)]) from None
            asked = {"method_type": "card", "currency": currency}
            if gateway:
                asked["gateway"] = gateway
            if needs:
                asked["capabilities"] = ",".join(sorted(c.value for c in needs))
            raise CapabilityMissing(missing.message, metadata=asked) from None

    def _router_gateway(self, name: str) -> CardPayments:
        need = Need(protocol=CardPayments)  # type: ignore[type-abstract]
        try:
            return self._router.candidates(need, CardPayments, gateway=name)[0]  # type: ignore[type-abstract]
        except NoCapableGateway as missing:
            raise GatewayUnavailableError(
                f"gateway {name!r} holding this payment is not enabled: {missing.message}"
            ) from None

    async def record_change(
        self, session: AsyncSession, intent: PaymentIntent, event_type: str
    ) -> None:
        """Record the event of a change made outside this class (an ACH return reversing a
        settlement, server.payments.bank) exactly as this class records its own, so
        whatever follows intents' events (webhooks, terminal-outcome hooks) hears it."""
        await self._event(session, intent, event_type)

    async def _event(self, session: AsyncSession, intent: PaymentIntent, event_type: str) -> None:
        """Every change of an intent passes here: its event, and (when the change ends
        the intent) the outcome's subscribers, all in the transaction recording it."""
        await record_event(
            session,
            client_id=intent.client_id,
            event_type=event_type,
            resource_id=intent.id,
            data=_public(intent),
        )
        await self._outcomes.announce(session, intent, event_type)


def _after_verification_key(client_id: str, intent_id: str) -> str:
    return derive_key(client_id, intent_id, "confirm-after-verification")


def _scheduled_debit(intent: PaymentIntent) -> bool:
    """Whether the intent's attempt is one no caller waits on: the debit recorded when its
    bank account was verified (sent in the background, or by the reconciler)."""
    attempt = intent.attempt
    return attempt is not None and attempt.key == _after_verification_key(
        intent.client_id, intent.id
    )


def _is_bank(method: _Method) -> bool:
    return method.saved is not None and method.saved.type == BANK_ACCOUNT


def _busy(intent: PaymentIntent) -> bool:
    """Another call's gateway request on this intent is still open (not ours to repeat)."""
    return intent.attempt is not None and intent.attempt.state is AttemptState.OPEN


#: Where an intent rests until it is confirmed again: no payment of it is under way.
_AT_REST: Final = frozenset(
    {
        IntentStatus.REQUIRES_PAYMENT_METHOD,
        IntentStatus.REQUIRES_CONFIRMATION,
        IntentStatus.CANCELED,
    }
)
#: A gateway call still running, or lost to a timeout (the reconciler repeats it).
_UNSETTLED: Final = frozenset({AttemptState.OPEN, AttemptState.UNKNOWN})


def may_be_paid(intent: PaymentIntent) -> bool:
    """Whether the intent is paid, or may yet be with no new confirmation: it awaits
    3-D Secure or the gateway (requires_action, processing), is authorized
    (requires_capture), or a gateway call on it has no known outcome yet."""
    unsettled = intent.attempt is not None and intent.attempt.state in _UNSETTLED
    return unsettled or intent.status not in _AT_REST


def awaits_payer(intent: PaymentIntent) -> bool:
    """Whether only the payer can move the intent on: it requires_action (3-D Secure)
    with no gateway call on it open or of unknown outcome, so canceling it races
    nothing but the payer, whom the gateway serializes with the cancel.

    An ACH debit waiting on its bank account's micro-deposits does not count: the payer
    has done their part, and the deposits take a business day or two to arrive; the
    verification's own end (verified, failed, expired) moves the intent on."""
    unsettled = intent.attempt is not None and intent.attempt.state in _UNSETTLED
    return (
        not unsettled
        and intent.status is IntentStatus.REQUIRES_ACTION
        and intent.next_action_url != VERIFY_MICRODEPOSITS_ACTION
    )


def _stale(intent: PaymentIntent) -> bool:
    """An open attempt this old was left by a call that died: it is ours to repeat."""
    return intent.update_time < utcnow() - STALE_ATTEMPT


def _key_in_use(key: str) -> IdempotencyKeyInUse:
    return IdempotencyKeyInUse(
        f"a request with idempotency key {key!r} is still running; retry shortly",
        metadata={"idempotency_key": key},
    )


def _asks_for(intent: PaymentIntent, new: NewPaymentIntent) -> bool:
    """Whether ``new`` is the request that created ``intent`` (its stored terms)."""
    return (
        intent.amount == new.amount
        and intent.currency == new.currency
        # a later confirmation may have set these: only a different one asked differs
        and new.payment_method_id in ("", intent.payment_method_id)
        and new.return_url in ("", intent.return_url)
        and intent.capture_method is new.capture_method
        and intent.requested_gateway == new.gateway
        and intent.destination_account_id == new.destination_account_id
        and intent.description == new.description
        and dict(intent.metadata) == dict(new.metadata)
        and new.customer_id in ("", intent.customer_id)
        and new.application_fee_amount in (None, intent.application_fee_amount)
    )


def _paid_through_checkout(intent: PaymentIntent, what: str) -> InvalidState:
    session_id = intent.metadata[CHECKOUT_SESSION]
    return InvalidState(
        f"payment intent {intent.id} is its checkout session's ({session_id}) and is "
        f"not {what} directly: the payer pays on the session's page, which stops taking "
        "payments when the session expires",
        metadata={"checkout_session_id": session_id},
    )


def _busy_error(intent: PaymentIntent) -> ResourceBusy:
    operation = intent.attempt.operation if intent.attempt else ""
    return ResourceBusy(
        f"payment intent {intent.id} has a {'confirm' if operation in _CONFIRMS else operation} "
        "in progress at the gateway; retry shortly",
        metadata={"payment_intent_id": intent.id},
    )


def _moves_forward(intent: PaymentIntent, target: IntentStatus, result: ChargeResult) -> bool:
    current = intent.status
    if current in {IntentStatus.SUCCEEDED, IntentStatus.CANCELED}:
        return False
    if result.outcome is Outcome.DECLINED:
        return current in {IntentStatus.REQUIRES_ACTION, IntentStatus.PROCESSING}
    return _RANK[target] > _RANK[current]


async def _refund_event(session: AsyncSession, refund: Refund, event_type: str) -> None:
    await record_event(
        session,
        client_id=refund.client_id,
        event_type=event_type,
        resource_id=refund.id,
        data=_refund_data(refund),
    )


def _refund_data(refund: Refund) -> dict[str, object]:
    return {
        f.name: getattr(refund, f.name)
        for f in dataclasses.fields(refund)
        if f.name not in {"client_id", "attempt"}
    }
