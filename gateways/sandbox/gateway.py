"""The sandbox gateway: a deterministic, stateful simulator of a card processor.

It keeps its own state, like a provider would: payments by reference and every
mutating answer by idempotency key, so a repeat with the same key returns the first
answer and never acts twice. Faults are injected by configuration: ``latency_ms`` on
every call, and with probability ``failure_rate`` a call's *first* attempt under a key
fails — ``unavailable`` before acting, or ``timeout-after-effect`` after acting (the
effect is kept; the answer is lost). A retry with the same key then finds the system
recovered, as with a real provider's transient fault.

State lives in this process: it is a simulator, not a ledger.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Final, TypeVar

from gateways.errors import GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.sandbox.bank import SandboxBankRail, _BankState
from gateways.sandbox.cards import (
    AUTHENTICATION_FAILED,
    DECLINES,
    TEST_NUMBERS,
    TEST_TOKENS,
    Behaviour,
    TestCard,
    brand_of,
    luhn_ok,
)
from gateways.sandbox.events import dispute_event, payment_event
from gateways.sandbox.refs import random_part, sandbox_ref
from gateways.sandbox.webhooks import SandboxWebhooks
from gateways.types import (
    AccountLinkRequest,
    AccountLinkResult,
    AccountRequest,
    AccountResult,
    AttachRequest,
    CancelRequest,
    Capability,
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutResult,
    CustomerRequest,
    DetachRequest,
    DisputeResult,
    DisputeStatus,
    GatewayInfo,
    GatewayKind,
    GatewayMode,
    MethodType,
    Outcome,
    PaymentError,
    RefundRequest,
    RefundResult,
    RefundRetrieveRequest,
    RetrieveRequest,
    SavedMethod,
)

NAME: Final = "sandbox"
CURRENCIES: Final = frozenset({"usd", "eur", "gbp", "cad", "aud", "jpy", "chf", "sek"})
T = TypeVar("T")
#: How long a sandbox chargeback leaves to respond (Stripe's are due in about a week).
DISPUTE_EVIDENCE_WINDOW: Final = dt.timedelta(days=7)


class FailureKind(enum.Enum):
    UNAVAILABLE = "unavailable"
    TIMEOUT_AFTER_EFFECT = "timeout-after-effect"


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    base_url: str = "http://127.0.0.1:8080"  # where the simulated hosted pages live
    latency_ms: int = 0
    failure_rate: float = 0.0
    failure_kind: FailureKind = FailureKind.UNAVAILABLE
    seed: int | None = None


@dataclass(slots=True, kw_only=True)
class _Payment:
    reference: str
    amount: int
    currency: str
    card: TestCard
    manual_capture: bool
    status: Outcome
    amount_capturable: int = 0
    amount_received: int = 0
    amount_refunded: int = 0
    redirect_url: str = ""
    error: PaymentError | None = None

    def result(self) -> ChargeResult:
        return ChargeResult(
            outcome=self.status,
            gateway_reference=self.reference,
            amount_capturable=self.amount_capturable,
            amount_received=self.amount_received,
            redirect_url=self.redirect_url,
            error=self.error,
        )


@dataclass(slots=True)
class _State:
    payments: dict[str, _Payment] = field(default_factory=dict)
    answers: dict[tuple[str, str], object] = field(default_factory=dict)
    tokens: dict[str, TestCard] = field(default_factory=dict)
    spent_tokens: set[str] = field(default_factory=set)
    methods: dict[str, tuple[str, TestCard]] = field(default_factory=dict)  # ref → (customer, card)
    customers: set[str] = field(default_factory=set)
    refunds: dict[str, RefundResult] = field(default_factory=dict)
    accounts: dict[str, AccountResult] = field(default_factory=dict)
    disputes: dict[str, DisputeResult] = field(default_factory=dict)
    injected: set[tuple[str, str]] = field(default_factory=set)
    charges_made: int = 0


class SandboxGateway(SandboxBankRail):
    """Card payments, saved methods, checkout, marketplace accounts and (from
    :class:`SandboxBankRail`) bank accounts and ACH transfers, simulated."""

    def __init__(self, config: SandboxConfig, webhooks: SandboxWebhooks | None = None) -> None:
        self._config = config
        self._webhooks = webhooks
        self._random = random.Random(config.seed)  # a simulator, not crypto
        self._state = _State()
        self._bank = _BankState()
        self._lock = asyncio.Lock()
        self.info = GatewayInfo(
            name=NAME,
            display_name="Sandbox simulator",
            kind=GatewayKind.CARD,
            mode=GatewayMode.SANDBOX,
            capabilities=frozenset(Capability),
            currencies=CURRENCIES,
            method_types=frozenset({MethodType.CARD, MethodType.BANK_ACCOUNT}),
        )

    async def close(self) -> None:
        if self._webhooks is not None:
            await self._webhooks.close()

    def _announce(self, result: ChargeResult) -> None:
        """Send the webhook of an asynchronous change (it never blocks the caller)."""
        event = payment_event(result)
        if self._webhooks is not None and event is not None:
            self._webhooks.emit(event)

    @property
    def charges_made(self) -> int:
        """How many payments the simulator has created (tests count double charges)."""
        return self._state.charges_made

    # --- the fault-injecting core -----------------------------------------------------

    async def _call(self, operation: str, key: str, act: Callable[[], T]) -> T:
        """Simulate the network: latency, replay by key, injected faults around ``act``."""
        if self._config.latency_ms:
            await asyncio.sleep(self._config.latency_ms / 1000)
        slot = (operation, key)
        async with self._lock:
            if slot in self._state.answers:
                return self._state.answers[slot]  # type: ignore[return-value]
            fail = slot not in self._state.injected and (
                self._random.random() < self._config.failure_rate
            )
            if fail:
                self._state.injected.add(slot)
            if fail and self._config.failure_kind is FailureKind.UNAVAILABLE:
                raise GatewayUnavailable(NAME, f"simulated outage before {operation}")
            answer = act()
            self._state.answers[slot] = answer
        if fail:
            raise OutcomeUnknown(NAME, f"simulated timeout after {operation} took effect")
        return answer

    async def _read(self, act: Callable[[], T]) -> T:
        if self._config.latency_ms:
            await asyncio.sleep(self._config.latency_ms / 1000)
        async with self._lock:
            return act()

    # --- card payments -------------------------------------------------------------------

    def _use(self, payment_method: str) -> TestCard:
        """The card a charge or attach uses; a ``tok_`` is spent by it, as Stripe's
        tokens are (a second use is ``token_already_used``)."""
        card = self._card(payment_method)
        if payment_method.startswith("tok_"):
            self._state.spent_tokens.add(payment_method)
        return card

    def _card(self, payment_method: str) -> TestCard:
        if payment_method in self._state.spent_tokens:
            raise GatewayRejected(NAME, "a token can be used only once", code="token_already_used")
        card = (
            TEST_TOKENS.get(payment_method)
            or self._state.tokens.get(payment_method)
            or (
                self._state.methods[payment_method][1]
                if payment_method in self._state.methods
                else None
            )
        )
        if card is None:
            raise GatewayRejected(
                NAME, f"no such payment method: {payment_method!r}", code="resource_missing"
            )
        return card

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        def act() -> ChargeResult:
            card = self._use(request.payment_method)
            payment = _Payment(
                reference=sandbox_ref("pi"),
                amount=request.amount,
                currency=request.currency,
                card=card,
                manual_capture=request.manual_capture,
                status=Outcome.PROCESSING,
            )
            self._state.payments[payment.reference] = payment
            self._state.charges_made += 1
            if card.behaviour is Behaviour.AUTHENTICATE:
                payment.status = Outcome.REQUIRES_ACTION
                payment.redirect_url = (
                    f"{self._config.base_url}/sandbox/authenticate/{payment.reference}"
                )
            else:
                self._settle(payment)
            return payment.result()

        return await self._call("charge", request.idempotency_key, act)

    @staticmethod
    def _settle(payment: _Payment) -> None:
        if payment.card.behaviour in DECLINES:
            payment.status = Outcome.DECLINED
            payment.error = DECLINES[payment.card.behaviour]
        elif payment.manual_capture:
            payment.status = Outcome.REQUIRES_CAPTURE
            payment.amount_capturable = payment.amount
        else:
            payment.status = Outcome.SUCCEEDED
            payment.amount_received = payment.amount

    def _payment(self, reference: str) -> _Payment:
        payment = self._state.payments.get(reference)
        if payment is None:
            raise GatewayRejected(NAME, f"no such payment: {reference!r}", code="resource_missing")
        return payment

    async def retrieve(self, request: RetrieveRequest) -> ChargeResult:
        return await self._read(lambda: self._payment(request.gateway_reference).result())

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        def act() -> ChargeResult:
            payment = self._payment(request.gateway_reference)
            if payment.status is not Outcome.REQUIRES_CAPTURE:
                raise GatewayRejected(NAME, "payment is not awaiting capture", code="invalid_state")
            if request.amount > payment.amount_capturable or request.amount <= 0:
                raise GatewayRejected(NAME, "amount above capturable", code="amount_too_large")
            payment.status = Outcome.SUCCEEDED
            payment.amount_received = request.amount
            payment.amount_capturable = 0
            return payment.result()

        return await self._call("capture", request.idempotency_key, act)

    async def cancel(self, request: CancelRequest) -> ChargeResult:
        def act() -> ChargeResult:
            payment = self._payment(request.gateway_reference)
            if payment.status in {Outcome.SUCCEEDED, Outcome.CANCELED}:
                raise GatewayRejected(
                    NAME, "payment can no longer be canceled", code="invalid_state"
                )
            payment.status = Outcome.CANCELED
            payment.amount_capturable = 0
            return payment.result()

        return await self._call("cancel", request.idempotency_key, act)

    async def refund(self, request: RefundRequest) -> RefundResult:
        def act() -> RefundResult:
            payment = self._payment(request.gateway_reference)
            if payment.status is not Outcome.SUCCEEDED:
                raise GatewayRejected(NAME, "payment has not succeeded", code="invalid_state")
            if payment.amount_refunded + request.amount > payment.amount_received:
                raise GatewayRejected(NAME, "refund above amount received", code="amount_too_large")
            payment.amount_refunded += request.amount
            refund = RefundResult(
                outcome=Outcome.SUCCEEDED,
                gateway_reference=sandbox_ref("re"),
                amount=request.amount,
                currency=payment.currency,
                payment_reference=payment.reference,
            )
            self._state.refunds[refund.gateway_reference] = refund
            return refund

        return await self._call("refund", request.idempotency_key, act)

    async def retrieve_refund(self, request: RefundRetrieveRequest) -> RefundResult:
        def act() -> RefundResult:
            refund = self._state.refunds.get(request.gateway_reference)
            if refund is None:
                raise GatewayRejected(
                    NAME, f"no such refund: {request.gateway_reference!r}", code="resource_missing"
                )
            return refund

        return await self._read(act)

    # --- saved methods -------------------------------------------------------------------

    async def create_customer(self, request: CustomerRequest) -> str:
        def act() -> str:
            reference = sandbox_ref("cus")
            self._state.customers.add(reference)
            return reference

        return await self._call("customer", request.idempotency_key, act)

    async def attach(self, request: AttachRequest) -> SavedMethod:
        def act() -> SavedMethod:
            card = self._use(request.token)
            reference = sandbox_ref("pm")
            self._state.methods[reference] = (request.customer_reference, card)
            return SavedMethod(
                gateway_reference=reference,
                type=MethodType.CARD,
                brand=card.brand,
                last4=card.last4,
                exp_month=card.exp_month,
                exp_year=card.exp_year,
            )

        return await self._call("attach", request.idempotency_key, act)

    async def detach(self, request: DetachRequest) -> None:
        def act() -> None:
            self._state.methods.pop(request.gateway_reference, None)

        await self._call("detach", request.idempotency_key, act)

    # --- checkout and marketplace ----------------------------------------------------------

    async def create_checkout_session(self, request: CheckoutRequest) -> CheckoutResult:
        def act() -> CheckoutResult:
            reference = sandbox_ref("cs")
            return CheckoutResult(
                gateway_reference=reference,
                url=f"{self._config.base_url}/sandbox/checkout/{reference}",
                expire_time=dt.datetime.now(dt.UTC) + dt.timedelta(hours=24),
            )

        return await self._call("checkout", request.idempotency_key, act)

    async def create_account(self, request: AccountRequest) -> AccountResult:
        # Like a new Stripe Express account: neither charges nor payouts until its owner
        # finishes onboarding (SandboxService.CompleteAccountOnboarding).
        def act() -> AccountResult:
            account = AccountResult(
                gateway_reference=sandbox_ref("acct"),
                charges_enabled=False,
                payouts_enabled=False,
                details_submitted=False,
            )
            self._state.accounts[account.gateway_reference] = account
            return account

        return await self._call("account", request.idempotency_key, act)

    async def retrieve_account(self, gateway_reference: str) -> AccountResult:
        return await self._read(lambda: self._connected_account(gateway_reference))

    def _connected_account(self, gateway_reference: str) -> AccountResult:
        account = self._state.accounts.get(gateway_reference)
        if account is None:
            raise GatewayRejected(
                NAME, f"no such account: {gateway_reference!r}", code="resource_missing"
            )
        return account

    async def create_account_link(self, request: AccountLinkRequest) -> AccountLinkResult:
        def act() -> AccountLinkResult:
            return AccountLinkResult(
                url=(
                    f"{self._config.base_url}/sandbox/connect/{request.gateway_reference}/"
                    f"{request.type}?link={random_part(16)}"
                ),
                expire_time=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
            )

        return await self._call("account_link", request.idempotency_key, act)

    # --- test helpers (SandboxService) -------------------------------------------------------

    def tokenize_test_card(
        self, *, number: str, exp_month: int, exp_year: int
    ) -> tuple[str, str, str]:
        """A single-use token for a Luhn-valid number; known test numbers keep their behaviour."""
        if not (number.isdigit() and 13 <= len(number) <= 19 and luhn_ok(number)):
            raise GatewayRejected(NAME, "not a valid card number", code="invalid_number")
        behaviour = TEST_NUMBERS.get(number, Behaviour.SUCCEED)
        card = TestCard(
            brand=brand_of(number),
            last4=number[-4:],
            behaviour=behaviour,
            exp_month=exp_month,
            exp_year=exp_year,
        )
        token = f"tok_{random_part(24)}"
        self._state.tokens[token] = card
        return token, card.brand, card.last4

    async def complete_onboarding(self, gateway_reference: str) -> None:
        def act() -> None:
            self._state.accounts[gateway_reference] = replace(
                self._connected_account(gateway_reference),
                charges_enabled=True,
                payouts_enabled=True,
                details_submitted=True,
            )

        await self._read(act)

    async def open_dispute(
        self, gateway_reference: str, *, amount: int, reason: str
    ) -> DisputeResult:
        """The cardholder's bank charging back ``amount`` of a paid payment (0: all it
        received): announced by webhook, as Stripe's ``charge.dispute.created``."""

        def act() -> DisputeResult:
            payment = self._payment(gateway_reference)
            if payment.status is not Outcome.SUCCEEDED or payment.amount_received <= 0:
                raise GatewayRejected(
                    NAME, "only a paid payment can be disputed", code="invalid_state"
                )
            disputed = amount or payment.amount_received
            if disputed > payment.amount_received:
                raise GatewayRejected(
                    NAME, "a dispute cannot exceed the amount received", code="amount_too_large"
                )
            dispute = DisputeResult(
                gateway_reference=sandbox_ref("dp"),
                payment_reference=payment.reference,
                amount=disputed,
                currency=payment.currency,
                status=DisputeStatus.NEEDS_RESPONSE,
                reason=reason,
                # whole seconds, as its webhook (and Stripe) tells the time
                evidence_due_time=dt.datetime.now(dt.UTC).replace(microsecond=0)
                + DISPUTE_EVIDENCE_WINDOW,
            )
            self._state.disputes[dispute.gateway_reference] = dispute
            return dispute

        dispute = await self._read(act)
        self._announce_dispute(dispute, created=True)
        return dispute

    async def close_dispute(self, dispute_reference: str, *, won: bool) -> DisputeResult:
        """The bank deciding an open dispute (``charge.dispute.closed``)."""

        def act() -> DisputeResult:
            dispute = self._state.disputes.get(dispute_reference)
            if dispute is None:
                raise GatewayRejected(
                    NAME, f"no such dispute: {dispute_reference!r}", code="resource_missing"
                )
            if dispute.status.closed:
                raise GatewayRejected(NAME, "the dispute is already closed", code="invalid_state")
            closed = replace(dispute, status=DisputeStatus.WON if won else DisputeStatus.LOST)
            self._state.disputes[dispute_reference] = closed
            return closed

        dispute = await self._read(act)
        self._announce_dispute(dispute, created=False)
        return dispute

    def _announce_dispute(self, dispute: DisputeResult, *, created: bool) -> None:
        if self._webhooks is not None:
            self._webhooks.emit(dispute_event(dispute, created=created))

    async def complete_authentication(self, gateway_reference: str, *, succeed: bool) -> None:
        """The payer's 3-D Secure outcome: an asynchronous change, announced by webhook."""

        def act() -> ChargeResult:
            payment = self._payment(gateway_reference)
            if payment.status is not Outcome.REQUIRES_ACTION:
                raise GatewayRejected(
                    NAME, "payment is not awaiting authentication", code="invalid_state"
                )
            payment.redirect_url = ""
            if succeed:
                payment.card = replace(payment.card, behaviour=Behaviour.SUCCEED)
                self._settle(payment)
            else:
                payment.status = Outcome.DECLINED
                payment.error = AUTHENTICATION_FAILED
            return payment.result()

        self._announce(await self._read(act))
