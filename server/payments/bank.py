"""Bank (ACH) payments: linking accounts, micro-deposits, debits and their late returns.

A bank account is a payment method of type ``bank_account`` whose gateway access token
is kept only encrypted (``bank_accounts.access_token_ciphertext``); it is decrypted just
for a gateway call and never returned, logged or put in an event.

A PaymentIntent paid by a bank account is an ACH debit. :class:`BankDebits` is the one
seam the intent state machine calls (confirming starts a transfer, which answers
PROCESSING); the transfer's later fate arrives as a gateway event (or the sandbox's
``AdvanceBankTransfer``) and :meth:`BankPaymentService.apply_transfer` applies it:
settled → SUCCEEDED (``payment.succeeded``); returned → back to REQUIRES_PAYMENT_METHOD
with ``last_error {code: bank_account_returned, decline_code: R01, ...}``
(``payment.failed``). A return can come days AFTER settlement: it then reverses the
settlement (``amount_received`` back to 0) — SUCCEEDED is not final for ACH.

A payout (a wallet withdrawal) is an ACH credit: :meth:`BankPaymentService.payout` sends
it; its later fate reaches the subscribed :data:`PayoutListener` (the ledger) in the
transaction applying the transfer's change, like an intent's outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from gateways.errors import GatewayAuthError, GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.protocols import BankAccounts, BankTransfers
from gateways.router import Need, NoCapableGateway, Router
from gateways.types import (
    BANK_ACCOUNT_RETURNED,
    BankAccount,
    BankTransferDirection,
    BankTransferRequest,
    BankTransferResult,
    BankVerification,
    ChargeResult,
    ExchangeRequest,
    LinkToken,
    LinkTokenRequest,
    MethodType,
    MicroDepositRequest,
    Outcome,
    PaymentError,
    derive_key,
)
from gateways.updates import BankVerificationUpdate
from server.errors import DomainError, FieldViolation, InvalidInput, InvalidState, NotFound
from server.events import record_event
from server.payments.bank_secrets import TokenCipher
from server.payments.errors import CapabilityMissing
from server.payments.methods import gateway_failure
from store.bank_accounts import VERIFY_MICRODEPOSITS_ACTION, BankAccountRecord
from store.bank_accounts import BankAccounts as BankAccountStore
from store.customers import Customers
from store.db import Database
from store.ids import new_id
from store.last_error import LastError
from store.models import utcnow
from store.payment_methods import PaymentMethodRecord, PaymentMethods
from store.payments import IntentStatus, PaymentIntentRecord, PaymentIntents

log = logging.getLogger("isa.payments.bank")

BANK_ACCOUNT: str = MethodType.BANK_ACCOUNT.value
ACH_CURRENCY = "usd"
FAILED_VERIFICATION_MESSAGE = "The bank account's micro-deposits could not be verified."

#: A method's verification_status for each of the gateway's verification states.
_METHOD_STATUS = {
    BankVerification.VERIFIED: "verified",
    BankVerification.PENDING_AUTOMATIC: "pending",
    BankVerification.PENDING_MANUAL: "pending",
    BankVerification.FAILED: "failed",
}
#: The event of a verification's end: consumers learn of a failure too, so the payer can
#: be asked to link another account (the waiting intents get ``payment.failed``).
_VERIFICATION_EVENTS = {
    BankVerification.VERIFIED: "bank_account.verified",
    BankVerification.FAILED: "bank_account.verification_failed",
}


class PublicTokenInvalid(InvalidInput):
    default_reason = "PUBLIC_TOKEN_INVALID"


class PayoutMethodNotSupported(InvalidInput):
    """The method cannot receive a payout (a card, an unverified bank account)."""

    default_reason = "PAYMENT_METHOD_NOT_SUPPORTED"


class MicroDepositsMismatch(InvalidInput):
    default_reason = "MICRODEPOSIT_AMOUNTS_MISMATCH"


@dataclass(frozen=True, slots=True, kw_only=True)
class BankLink:
    """ExchangeBankPublicToken's input."""

    customer_id: str
    public_token: str
    account_id: str
    set_as_default: bool = False


def _need(protocol: type[BankAccounts] | type[BankTransfers]) -> Need:
    return Need(protocol=protocol, method_type=MethodType.BANK_ACCOUNT)


G = TypeVar("G", BankAccounts, BankTransfers)


def _pick(router: Router, protocol: type[G], name: str) -> G:
    """The named gateway (or the first bank-capable one) offering ``protocol``."""
    try:
        return router.candidates(_need(protocol), protocol, gateway=name or None)[0]
    except NoCapableGateway as missing:
        if missing.unknown_name:
            raise InvalidInput([FieldViolation("gateway", missing.message)]) from None
        raise CapabilityMissing(missing.message) from None


def charge_result(transfer: BankTransferResult) -> ChargeResult:
    """A transfer's state in the intent state machine's terms."""
    return ChargeResult(
        outcome=transfer.outcome,
        gateway_reference=transfer.gateway_reference,
        amount_received=transfer.amount if transfer.outcome is Outcome.SUCCEEDED else 0,
        error=transfer.error,
    )


IntentFinish = Callable[[AsyncSession, PaymentIntentRecord], Awaitable[None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutMatch:
    """A payout's owner, as a :data:`PayoutListener` found it (for the relay's answer)."""

    client_id: str
    resource_id: str
    applied: bool  # the change moved the payout on (a repeat or PROCESSING does not)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationMatch:
    """One of our bank accounts a gateway's verification word was about."""

    client_id: str
    resource_id: str  # the account's payment method id
    applied: bool  # its verification changed (a repeat, or an account not pending: no)


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutRequest:
    """One ACH credit to a saved bank account (``key`` derives from the payer's record)."""

    client_id: str
    payment_method_id: str
    amount: int
    currency: str
    description: str
    key: str


#: Hears a transfer change no intent claims, in the transaction applying it; answers
#: whether the transfer was its payout. Repeats must change nothing.
PayoutListener = Callable[[AsyncSession, str, BankTransferResult], Awaitable[PayoutMatch | None]]


class IntentApplier(Protocol):
    """The part of PaymentIntentService this module needs."""

    async def apply_gateway_payment(
        self,
        session: AsyncSession,
        *,
        gateway: str,
        result: ChargeResult,
        intent_id: str | None = None,
    ) -> PaymentIntentRecord | None: ...

    async def schedule_after_verification(
        self, session: AsyncSession, client_id: str, intent_id: str
    ) -> PaymentIntentRecord | None: ...

    async def continue_after_verification(
        self, client_id: str, intent_id: str
    ) -> PaymentIntentRecord: ...

    async def record_change(
        self, session: AsyncSession, intent: PaymentIntentRecord, event_type: str
    ) -> None: ...


class BankDebits:
    """What :class:`~server.payments.intents.PaymentIntentService` asks of the bank rail."""

    def __init__(self, db: Database, router: Router, cipher: TokenCipher) -> None:
        self._db = db
        self._router = router
        self._cipher = cipher

    def check_debit(self, method: PaymentMethodRecord, *, currency: str, manual: bool) -> None:
        """Refuse, before anything is recorded, a debit the rail cannot make."""
        if currency != ACH_CURRENCY:
            raise InvalidInput(
                [FieldViolation("currency", "bank account (ACH) payments are in usd only")]
            )
        if manual:
            raise InvalidInput(
                [
                    FieldViolation(
                        "capture_method", "bank debits cannot be authorized and captured later"
                    )
                ]
            )
        if method.verification_status == "failed":
            raise InvalidState(
                f"bank account {method.id} failed verification and cannot be debited",
                metadata={"verification_status": method.verification_status},
            )
        _pick(self._router, BankTransfers, method.gateway)  # type: ignore[type-abstract]

    async def debit(
        self, intent: PaymentIntentRecord, method_id: str, key: str
    ) -> tuple[str, ChargeResult]:
        """Start the ACH debit for a confirmation (``key`` is the attempt's derived key)."""
        async with self._db.read() as session:
            method = await PaymentMethods(session).get(intent.client_id, method_id)
            account = await BankAccountStore(session).get(method_id)
            if method is None or account is None:
                raise NotFound("payment_method", method_id)
            legal_name = await holder_legal_name(session, method, account)
        if intent.payment_method_type != BANK_ACCOUNT:  # so the API can say "ACH debit"
            async with self._db.write() as session:
                intents = PaymentIntents(session)
                await intents.get_for_update_any(intent.id)
                await intents.record_payment_method_type(intent.id, BANK_ACCOUNT)
        if method.verification_status == "pending":  # Stripe's requires_action for ACH
            return method.gateway, ChargeResult(
                outcome=Outcome.REQUIRES_ACTION,
                gateway_reference="",
                redirect_url=VERIFY_MICRODEPOSITS_ACTION,
            )
        gateway = _pick(self._router, BankTransfers, method.gateway)  # type: ignore[type-abstract]
        transfer = await gateway.create_transfer(
            BankTransferRequest(
                direction=BankTransferDirection.DEBIT,
                access_token=self._cipher.decrypt(account.access_token_ciphertext),
                account_id=account.account_id,
                amount=intent.amount,
                currency=intent.currency,
                description=intent.description,
                legal_name=legal_name,
                metadata=intent.metadata,
                idempotency_key=key,
            )
        )
        return gateway.info.name, charge_result(transfer)


async def holder_legal_name(
    session: AsyncSession, method: PaymentMethodRecord, account: BankAccountRecord
) -> str:
    """The account holder's legal name, which a transfer's authorization needs.

    Plaid's accounts carry no owner name: then it is our customer's.
    """
    if account.holder_name:
        return account.holder_name
    customer = await Customers(session).get(method.client_id, method.customer_id)
    return customer.name if customer is not None else ""


class BankPaymentService:
    """Linking and verifying bank accounts, and applying transfers' later outcomes."""

    def __init__(
        self, db: Database, router: Router, cipher: TokenCipher, intents: IntentApplier
    ) -> None:
        self._db = db
        self._router = router
        self._cipher = cipher
        self._intents = intents
        self._payout_listeners: list[PayoutListener] = []

    def subscribe_payouts(self, listener: PayoutListener) -> None:
        self._payout_listeners.append(listener)

    def check_payout(
        self, method: PaymentMethodRecord | None, method_id: str, currency: str
    ) -> None:
        """Refuse, before anything is recorded, a payout the rail cannot make: another
        client's method is NOT_FOUND; a card or an unverified account cannot receive
        (INVALID_ARGUMENT PAYMENT_METHOD_NOT_SUPPORTED, as the contract says)."""
        if method is None:
            raise NotFound("payment_method", method_id)
        if method.detach_time is not None:
            raise InvalidState(
                f"payment method {method_id} was detached; link a bank account",
                reason="PAYMENT_METHOD_DETACHED",
                metadata={"payment_method_id": method_id},
            )
        if method.type != BANK_ACCOUNT:
            raise PayoutMethodNotSupported(
                [
                    FieldViolation(
                        "payment_method_id",
                        f"is a {method.type}: payouts go to a bank account "
                        "(link one with ExchangeBankPublicToken)",
                    )
                ]
            )
        if method.verification_status != "verified":
            raise PayoutMethodNotSupported(
                [
                    FieldViolation(
                        "payment_method_id",
                        f"is a bank account whose verification is "
                        f"{method.verification_status or 'missing'}: payouts go to a verified "
                        "account (VerifyMicroDeposits first)",
                    )
                ]
            )
        if currency != ACH_CURRENCY:
            raise InvalidInput(
                [FieldViolation("currency", "bank account (ACH) payouts are in usd only")]
            )
        _pick(self._router, BankTransfers, method.gateway)  # type: ignore[type-abstract]

    async def payout(self, request: PayoutRequest) -> BankTransferResult:
        """Send the ACH credit once per ``request.key`` (a retry reaches the same transfer).

        Raises the gateway's errors: :class:`GatewayRejected` and
        :class:`GatewayUnavailable` mean nothing was sent; :class:`OutcomeUnknown` may.
        """
        method, account = await self._bank_method(request.client_id, request.payment_method_id)
        self.check_payout(method, method.id, request.currency)
        async with self._db.read() as session:
            legal_name = await holder_legal_name(session, method, account)
        gateway = _pick(self._router, BankTransfers, method.gateway)  # type: ignore[type-abstract]
        return await gateway.create_transfer(
            BankTransferRequest(
                direction=BankTransferDirection.CREDIT,
                access_token=self._cipher.decrypt(account.access_token_ciphertext),
                account_id=account.account_id,
                amount=request.amount,
                currency=request.currency,
                description=request.description,
                legal_name=legal_name,
                metadata={},
                idempotency_key=derive_key(request.client_id, request.key, "payout"),
            )
        )

    async def gateway_of(self, client_id: str, method_id: str) -> str:
        """The gateway holding the caller's bank account ``method_id``."""
        method, _account = await self._bank_method(client_id, method_id)
        return method.gateway

    async def record_payout_transfer(
        self, *, gateway: str, result: BankTransferResult
    ) -> PayoutMatch | None:
        """:meth:`apply_payout_transfer` in its own transaction."""
        async with self._db.write() as session:
            return await self.apply_payout_transfer(session, gateway=gateway, result=result)

    async def apply_payout_transfer(
        self, session: AsyncSession, *, gateway: str, result: BankTransferResult
    ) -> PayoutMatch | None:
        """Offer a transfer change no intent claims to the payout listeners."""
        for listener in self._payout_listeners:
            match = await listener(session, gateway, result)
            if match is not None:
                return match
        return None

    async def create_link_token(
        self, client_id: str, key: str, customer_id: str, *, gateway: str = ""
    ) -> LinkToken:
        async with self._db.read() as session:
            if await Customers(session).get(client_id, customer_id) is None:
                raise NotFound("customer", customer_id)
        accounts = _pick(self._router, BankAccounts, gateway)  # type: ignore[type-abstract]
        try:
            return await accounts.create_link_token(
                LinkTokenRequest(
                    customer_reference=customer_id,
                    idempotency_key=derive_key(client_id, key or new_id("lnk"), "link-token"),
                )
            )
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None

    async def exchange(
        self, client_id: str, key: str, link: BankLink, *, gateway: str = ""
    ) -> PaymentMethodRecord:
        """Trade Link's public token for a BANK_ACCOUNT payment method (token encrypted)."""
        async with self._db.read() as session:
            if await Customers(session).get(client_id, link.customer_id) is None:
                raise NotFound("customer", link.customer_id)
        accounts = _pick(self._router, BankAccounts, gateway)  # type: ignore[type-abstract]
        try:
            linked = await accounts.exchange_public_token(
                ExchangeRequest(
                    public_token=link.public_token,
                    account_id=link.account_id,
                    idempotency_key=derive_key(
                        client_id, key or link.public_token, "exchange", link.customer_id
                    ),
                )
            )
        except GatewayRejected as refused:
            field = "account_id" if "account" in refused.code.lower() else "public_token"
            raise PublicTokenInvalid(
                [FieldViolation(field, f"the bank gateway refused it: {refused.message}")]
            ) from None
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        return await self._save(client_id, link, accounts.info.name, linked)

    async def _save(
        self, client_id: str, link: BankLink, gateway: str, linked: BankAccount
    ) -> PaymentMethodRecord:
        now = utcnow()
        method = PaymentMethodRecord(
            id=new_id("pm"),
            client_id=client_id,
            customer_id=link.customer_id,
            gateway=gateway,
            gateway_reference=linked.account_id,
            type=BANK_ACCOUNT,
            last4=linked.mask[-4:],
            is_default=link.set_as_default,
            bank_name=linked.bank_name,
            account_type=linked.subtype,
            verification_status=_METHOD_STATUS[linked.verification],
            create_time=now,
            update_time=now,
        )
        async with self._db.write() as session:
            await PaymentMethods(session).add(method)
            await BankAccountStore(session).add(
                BankAccountRecord(
                    payment_method_id=method.id,
                    access_token_ciphertext=self._cipher.encrypt(linked.access_token),
                    account_id=linked.account_id,
                    item_reference=linked.item_reference,
                    holder_name=linked.holder_name,
                    verification=linked.verification.value,
                    create_time=now,
                    update_time=now,
                )
            )
            await record_event(
                session,
                client_id=client_id,
                event_type="payment_method.attached",
                resource_id=method.id,
                data=_public(method),
            )
        log.info(
            "bank account %s linked on %s (%s)", method.id, gateway, method.verification_status
        )
        return method

    async def verify_micro_deposits(
        self, client_id: str, key: str, method_id: str, amounts: Sequence[int]
    ) -> PaymentMethodRecord:
        """Check the payer's amounts; a wrong guess is recorded, then refused precisely."""
        method, account = await self._bank_method(client_id, method_id)
        if method.verification_status != "pending":
            raise InvalidState(
                f"bank account {method_id} is {method.verification_status}, not pending "
                "micro-deposit verification",
                metadata={"verification_status": method.verification_status},
            )
        accounts = _pick(self._router, BankAccounts, method.gateway)  # type: ignore[type-abstract]
        try:
            result = await accounts.verify_micro_deposits(
                MicroDepositRequest(
                    access_token=self._cipher.decrypt(account.access_token_ciphertext),
                    account_id=account.account_id,
                    amounts=tuple(amounts),
                    idempotency_key=derive_key(
                        client_id,
                        key or f"attempt-{account.microdeposit_attempts}",
                        "microdeposits",
                        method_id,
                    ),
                )
            )
        except GatewayRejected as refused:
            raise InvalidState(
                f"the bank gateway refused verification: {refused.message}"
            ) from None
        except (OutcomeUnknown, GatewayUnavailable, GatewayAuthError) as failed:
            raise gateway_failure(failed) from None
        async with self._db.write() as session:
            updated = await self._record_verification(
                session, method, result.verification, attempted=True
            )
        await self._resume_waiting(client_id, method, result.verification)
        if not result.verified:
            left = result.attempts_remaining
            tail = (
                "the account can no longer be verified"
                if result.verification is BankVerification.FAILED
                else f"{left} attempt{'s' if left != 1 else ''} left"
                if left is not None
                else "try again"
            )
            raise MicroDepositsMismatch(
                [FieldViolation("amounts", f"do not match the micro-deposits sent; {tail}")]
            )
        return updated

    async def _record_verification(
        self,
        session: AsyncSession,
        method: PaymentMethodRecord,
        verification: BankVerification,
        *,
        attempted: bool,
        failure: str = FAILED_VERIFICATION_MESSAGE,
    ) -> PaymentMethodRecord:
        """The account's new verification on its bank account and payment method, its
        ``bank_account.verified`` or ``bank_account.verification_failed`` event, and the
        intents waiting on it settled (failed, or their debits scheduled for
        :meth:`_resume_waiting`), all in ``session``."""
        await BankAccountStore(session).record_verification(
            method.id, verification=verification.value, attempted=attempted
        )
        updated = await PaymentMethods(session).record_verification(
            method.id, _METHOD_STATUS[verification]
        )
        if verification not in (BankVerification.VERIFIED, BankVerification.FAILED):
            return updated
        await record_event(
            session,
            client_id=method.client_id,
            event_type=_VERIFICATION_EVENTS[verification],
            resource_id=method.id,
            data=_public(updated),
        )
        waiting = await BankAccountStore(session).intents_awaiting_verification(
            method.client_id, method.id
        )
        for intent_id in waiting:
            if verification is BankVerification.VERIFIED:
                await self._intents.schedule_after_verification(
                    session, method.client_id, intent_id
                )
                continue
            await self._intents.apply_gateway_payment(
                session,
                gateway=method.gateway,
                intent_id=intent_id,
                result=ChargeResult(
                    outcome=Outcome.DECLINED,
                    gateway_reference="",
                    error=PaymentError(code="bank_account_verification_failed", message=failure),
                ),
            )
        return updated

    async def _resume_waiting(
        self, client_id: str, method: PaymentMethodRecord, verification: BankVerification
    ) -> None:
        """Once the verification committed: send the debits of the intents that waited for
        it (failed ones were settled with it, see :meth:`_record_verification`)."""
        if verification is not BankVerification.VERIFIED:
            return
        async with self._db.read() as session:
            waiting = await BankAccountStore(session).intents_awaiting_verification(
                client_id, method.id
            )
        for intent_id in waiting:
            try:
                await self._intents.continue_after_verification(client_id, intent_id)
            except DomainError as failed:
                # Unreachable: the debit stays recorded and the reconciler sends it later;
                # refused: the intent failed (payment.failed), the payer may pay otherwise.
                log.warning("intent %s not resumed after verification: %s", intent_id, failed)

    async def apply_verification(
        self, session: AsyncSession, *, gateway: str, change: BankVerificationUpdate
    ) -> list[VerificationMatch]:
        """A gateway's word that an account's verification ended (Plaid's Auth webhooks),
        in the caller's transaction: each of our accounts with that gateway account id
        (and Item) still pending verification records it, like a successful or failed
        :meth:`verify_micro_deposits`. An account already verified or failed changes
        nothing (a repeat, or a late word), and one we do not know matches nothing.
        The waiting debits are sent by :meth:`resume_verified` once this commits (or by
        the reconciler: they are recorded here)."""
        if change.verification not in (BankVerification.VERIFIED, BankVerification.FAILED):
            return []
        matches: list[VerificationMatch] = []
        for client_id, account in await self._accounts_of(session, change, gateway=gateway):
            method = await PaymentMethods(session).get_for_update(
                client_id, account.payment_method_id
            )
            if method is None:
                continue
            applied = method.verification_status == "pending"
            if applied:
                await self._record_verification(
                    session,
                    method,
                    change.verification,
                    attempted=False,
                    failure=_failure_message(change),
                )
                log.info(
                    "bank account %s: %s by %s (%s)",
                    method.id,
                    change.verification.value,
                    gateway,
                    change.reason or "webhook",
                )
            matches.append(
                VerificationMatch(client_id=client_id, resource_id=method.id, applied=applied)
            )
        return matches

    async def resume_verified(self, changes: Sequence[BankVerificationUpdate]) -> None:
        """After :meth:`apply_verification` committed: send the debits that waited for
        the accounts it verified. A debit whose answer was lost, or that was never sent
        because the process stopped first, the reconciler sends, as it does one no gateway
        could take now; one the gateway refused fails its intent (``payment.failed``, back
        to REQUIRES_PAYMENT_METHOD), as after :meth:`verify_micro_deposits`."""
        for change in changes:
            if change.verification is not BankVerification.VERIFIED:
                continue
            async with self._db.read() as session:
                found = await self._accounts_of(session, change)
                methods = [
                    await PaymentMethods(session).get(client_id, account.payment_method_id)
                    for client_id, account in found
                ]
            for method in methods:
                if method is not None:
                    await self._resume_waiting(method.client_id, method, change.verification)

    @staticmethod
    async def _accounts_of(
        session: AsyncSession, change: BankVerificationUpdate, *, gateway: str | None = None
    ) -> list[tuple[str, BankAccountRecord]]:
        """Our accounts ``change`` is about: its account id, on its Item when it names one."""
        found = await BankAccountStore(session).find_by_account(
            change.account_reference, gateway=gateway
        )
        item = change.item_reference
        return [
            (client_id, account)
            for client_id, account in found
            if not item or not account.item_reference or account.item_reference == item
        ]

    async def _bank_method(
        self, client_id: str, method_id: str
    ) -> tuple[PaymentMethodRecord, BankAccountRecord]:
        async with self._db.read() as session:
            method = await PaymentMethods(session).get(client_id, method_id)
            account = await BankAccountStore(session).get(method_id) if method else None
        if method is None:
            raise NotFound("payment_method", method_id)
        if account is None or method.type != BANK_ACCOUNT:
            raise InvalidInput([FieldViolation("payment_method_id", "is not a bank account")])
        if method.detach_time is not None:
            raise InvalidState(f"payment method {method_id} was detached")
        return method, account

    async def record_transfer(
        self, *, gateway: str, result: BankTransferResult, finish: IntentFinish
    ) -> PaymentIntentRecord | None:
        """:meth:`apply_transfer` in its own transaction, with the caller's answer."""
        async with self._db.write() as session:
            intent = await self.apply_transfer(session, gateway=gateway, result=result)
            if intent is not None:
                await finish(session, intent)
            return intent

    async def apply_transfer(
        self, session: AsyncSession, *, gateway: str, result: BankTransferResult
    ) -> PaymentIntentRecord | None:
        """Apply a transfer's new state to its intent, in the caller's transaction.

        A return after settlement reverses the settlement; everything else goes through
        the intent state machine, which ignores repeats and stale updates.
        """
        intents = PaymentIntents(session)
        intent = await intents.find_by_gateway_reference(gateway, result.gateway_reference)
        if intent is None:
            return None
        if _returned(intent):
            return intent  # a returned debit is final: a late "settled" must not revive it
        if result.outcome is Outcome.DECLINED and intent.status is IntentStatus.SUCCEEDED:
            error = result.error
            reversed_ = await intents.record_reversal(
                intent.id,
                error=LastError(
                    code=error.code, decline_code=error.decline_code, message=error.message
                )
                if error
                else LastError(code=BANK_ACCOUNT_RETURNED, message="The bank returned it."),
            )
            await self._intents.record_change(session, reversed_, "payment.failed")
            log.info(
                "intent %s: ACH debit returned after settlement (%s); settlement reversed",
                intent.id,
                result.return_code,
            )
            return reversed_
        return await self._intents.apply_gateway_payment(
            session, gateway=gateway, result=charge_result(result)
        )


async def paid_by_bank(session: AsyncSession, intent: PaymentIntentRecord) -> bool:
    """Whether the intent is an ACH debit (its saved method is a bank account)."""
    if not intent.payment_method_id.startswith("pm_"):
        return False
    method = await PaymentMethods(session).get(intent.client_id, intent.payment_method_id)
    return method is not None and method.type == BANK_ACCOUNT


def _returned(intent: PaymentIntentRecord) -> bool:
    """The intent's current transfer came back (its gateway_reference is that transfer)."""
    return (
        intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD
        and intent.last_error is not None
        and intent.last_error.code == BANK_ACCOUNT_RETURNED
    )


def _failure_message(change: BankVerificationUpdate) -> str:
    """What a waiting intent's ``last_error`` says when the gateway failed the account."""
    if change.reason == "verification_expired":
        return (
            "The bank account's micro-deposits were not verified in time; link the account again."
        )
    return FAILED_VERIFICATION_MESSAGE


def _public(method: PaymentMethodRecord) -> dict[str, object]:
    """What an event may say about a bank account (never the token or its ciphertext)."""
    return {
        "id": method.id,
        "customer_id": method.customer_id,
        "gateway": method.gateway,
        "type": method.type,
        "last4": method.last4,
        "bank_name": method.bank_name,
        "account_type": method.account_type,
        "verification_status": method.verification_status,
        "is_default": method.is_default,
    }
