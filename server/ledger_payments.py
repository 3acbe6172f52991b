"""Where payments and the ledger meet: deposits and credit purchases paid by card,
withdrawals paid out to a bank account.

Dependencies point inwards from here (ledger domain <- this adapter -> payments domain):
neither domain imports the other. Two halves:

- :class:`IntentPayments` satisfies the ledger's ``PaymentPort``: a charge is one
  confirmed payment intent on the caller's saved payment method, created under a key
  derived from our transaction id (so a retry resumes it) with metadata naming that
  transaction.
- :meth:`IntentPayments.on_intent_outcome` subscribes to the payments domain's terminal
  outcomes and settles or fails the linked deposit or purchase in the same transaction
  as the intent's change, however it arrived (our own call, 3-D Secure, a gateway
  webhook, the reconciler, an ACH debit settling or coming back).
- :meth:`IntentPayments.on_refund` hears refunds of those intents: a refund's request
  takes the refunded amount out of the deposit's wallet (held until the gateway
  answers) or revokes the purchase's credits, in the transaction recording the refund,
  before the gateway is asked, and refuses the refund (FAILED_PRECONDITION) when they
  are gone; the refund's success sends the held money out, its failure restores it.
  A refund made at the gateway (a dashboard) and adopted from its webhook cannot be
  refused: it takes back what the wallet still has of it, or the purchase's proportional
  share of credits, and logs any shortfall.
- :meth:`IntentPayments.on_dispute` hears chargebacks of those intents: the withdrawn
  amount is taken back as for a refund made at the gateway (held out of the wallet,
  what was spent owed; or the purchase's share of credits revoked), sent out for good
  when the dispute is lost, given back when it is won.
- :meth:`IntentPayments.payout` sends a withdrawal as an ACH credit through the bank
  domain (key derived from the wtx_ id); :meth:`IntentPayments.on_payout_transfer` hears
  the credit's settlement or return (sandbox AdvanceBankTransfer, a relayed webhook) and
  settles or fails the withdrawal in that same transaction, once.
"""

from __future__ import annotations

import logging
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateways.errors import GatewayAuthError, GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.types import BANK_ACCOUNT_RETURNED, BankTransferResult, Outcome
from server.errors import DomainError, InvalidInput, InvalidState, NotFound, NotYetAvailable
from server.ledger.credits import CreditService
from server.ledger.payments import (
    PAYMENT_CANCELED,
    PAYMENT_FAILED,
    PAYOUT_FAILED,
    REFUND_FAILED,
    UNEXPLAINED,
    ChargeNotMade,
    ChargeRequest,
    PaymentOutcome,
    PaymentReference,
    PayoutRequest,
    charge_key,
)
from server.ledger.wallets import WalletService
from server.payments.bank import BankPaymentService, PayoutMatch
from server.payments.bank import PayoutRequest as BankPayout
from server.payments.disputes import Dispute
from server.payments.errors import (
    CapabilityMissing,
    GatewayOutcomeUnknown,
    GatewayRefused,
    GatewayUnavailableError,
)
from server.payments.intents import NewPaymentIntent, PaymentIntent, PaymentIntentService
from server.payments.methods import gateway_failure
from server.payments.outcomes import DisputeStage, IntentOutcome, RefundStage
from store.db import Database
from store.ids import has_prefix
from store.last_error import LastError
from store.payment_methods import PaymentMethods
from store.payments import IntentStatus, PaymentIntents, RefundRecord

log = logging.getLogger("isa.ledger.payments")

#: The intent metadata naming the ledger transaction (wtx_/crp_) the intent pays for.
LEDGER_REFERENCE: Final = "isa_ledger_reference"

#: Errors of the payments side that mean nothing was charged anywhere.
_NOTHING_CHARGED: Final = (
    GatewayUnavailableError,
    GatewayRefused,
    CapabilityMissing,
    InvalidInput,
    InvalidState,
    NotFound,
)


def intent_create_key(reference: str) -> str:
    """The payment intent's create key for our transaction ``reference``.

    The space keeps it apart from every key a client can send (clients' keys are
    printable ASCII without spaces), so no client can pre-empt or imitate it.
    """
    return f"ledger {charge_key(reference)}"


def outcome_of(intent: PaymentIntent) -> PaymentOutcome:
    """What the ledger makes of the intent's state: anything not final stays PENDING."""
    if intent.status is IntentStatus.SUCCEEDED:
        return PaymentOutcome.SUCCEEDED
    if intent.status is IntentStatus.CANCELED:
        return PaymentOutcome.FAILED
    if intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD and intent.last_error is not None:
        return PaymentOutcome.FAILED  # declined: our intents are never confirmed again
    return PaymentOutcome.PENDING


def payment_failure(intent: PaymentIntent) -> LastError:
    """Why the intent failed, as the deposit or purchase it collects repeats it."""
    if intent.status is IntentStatus.CANCELED:
        reason = intent.cancellation_reason or "canceled"
        return LastError(code=PAYMENT_CANCELED, message=f"the payment was canceled ({reason})")
    error = intent.last_error
    if error is None:
        return UNEXPLAINED
    return LastError(
        code=error.code or PAYMENT_FAILED,
        decline_code=error.decline_code,
        message=error.message or error.decline_code or error.code or "the payment failed",
    )


class IntentPayments:
    """The ledger's PaymentPort over :class:`PaymentIntentService`."""

    def __init__(
        self,
        db: Database,
        intents: PaymentIntentService,
        wallets: WalletService,
        credits: CreditService,
        bank: BankPaymentService | None = None,
    ) -> None:
        self._db = db
        self._intents = intents
        self._wallets = wallets
        self._credits = credits
        self._bank = bank

    async def check_method(self, client_id: str, payment_method_id: str, currency: str) -> None:
        """Before anything is recorded: the saved method exists, is the caller's, is
        attached (another client's method is NOT_FOUND, as if it did not exist), and an
        enabled gateway can charge it in ``currency``."""
        async with self._db.read() as session:
            method = await PaymentMethods(session).get(client_id, payment_method_id)
        if method is None:
            raise NotFound("payment_method", payment_method_id)
        if method.detach_time is not None:
            raise InvalidState(
                f"payment method {payment_method_id} was detached; attach a payment method",
                reason="PAYMENT_METHOD_DETACHED",
                metadata={"payment_method_id": payment_method_id},
            )
        await self._intents.check_payable(client_id, payment_method_id, currency)

    async def charge(self, request: ChargeRequest) -> PaymentReference:
        new = NewPaymentIntent(
            amount=request.amount,
            currency=request.currency,
            description=request.description,
            metadata={LEDGER_REFERENCE: request.reference},
            payment_method_id=request.payment_method_id,
            confirm=True,
        )
        try:
            intent = await self._intents.create(
                request.client_id, intent_create_key(request.reference), new
            )
        except GatewayOutcomeUnknown as lost:  # charged or not: the reconciler finds out
            return PaymentReference(
                reference=lost.metadata.get("payment_intent_id", ""),
                outcome=PaymentOutcome.PENDING,
            )
        except _NOTHING_CHARGED as refused:
            raise ChargeNotMade(refused) from None
        outcome = outcome_of(intent)
        return PaymentReference(
            reference=intent.id,
            outcome=outcome,
            error=payment_failure(intent) if outcome is PaymentOutcome.FAILED else None,
        )

    async def check_payout_method(
        self, client_id: str, payment_method_id: str, currency: str
    ) -> None:
        bank = self._require_bank()
        async with self._db.read() as session:
            method = await PaymentMethods(session).get(client_id, payment_method_id)
        bank.check_payout(method, payment_method_id, currency)

    async def payout(self, request: PayoutRequest) -> PaymentReference:
        """An ACH credit to the caller's verified bank account, once per derived key."""
        bank = self._require_bank()
        try:
            transfer = await bank.payout(
                BankPayout(
                    client_id=request.client_id,
                    payment_method_id=request.payment_method_id,
                    amount=request.amount,
                    currency=request.currency,
                    description=request.description,
                    key=request.idempotency_key,
                )
            )
        except OutcomeUnknown:  # sent or not: the client's retry resumes with the same key
            return PaymentReference(reference="", outcome=PaymentOutcome.PENDING)
        except GatewayRejected as refused:
            raise ChargeNotMade(
                InvalidState(f"the bank gateway refused the payout: {refused.message}")
            ) from None
        except (GatewayUnavailable, GatewayAuthError) as unreachable:
            failure = gateway_failure(unreachable)
            assert isinstance(failure, GatewayUnavailableError)
            raise ChargeNotMade(failure) from None
        except _NOTHING_CHARGED as refused:
            raise ChargeNotMade(refused) from None
        return _payout_reference(transfer)

    async def on_payout_transfer(
        self, session: AsyncSession, gateway: str, transfer: BankTransferResult
    ) -> PayoutMatch | None:
        """Settle or fail the withdrawal this transfer pays out, if any (repeats: no-op)."""
        record = await self._wallets.find_payout(session, transfer.gateway_reference)
        if record is None:
            return None
        method = await PaymentMethods(session).get(record.client_id, record.payment_method_id)
        if method is None or method.gateway != gateway:
            return None  # another gateway's transfer with the same reference
        before = record.status
        result = _payout_reference(transfer)
        if result.outcome is PaymentOutcome.PENDING:
            return PayoutMatch(client_id=record.client_id, resource_id=record.id, applied=False)
        if before == "succeeded" and result.outcome is PaymentOutcome.FAILED:
            # The bank sent the credit back after settling it: the money is ours again.
            after = await self._wallets.return_settled_withdrawal(
                session, record.id, result.failure
            )
            log.warning(
                "payout %s of %s was returned after settlement (%s): wallet credited back",
                transfer.gateway_reference,
                record.id,
                transfer.return_code,
            )
            return PayoutMatch(
                client_id=record.client_id, resource_id=record.id, applied=after.status != before
            )
        after = await self._wallets.apply_payout(session, record.id, result)
        return PayoutMatch(
            client_id=record.client_id, resource_id=record.id, applied=after.status != before
        )

    def _require_bank(self) -> BankPaymentService:
        if self._bank is None:
            raise NotYetAvailable("payouts need the bank rail, which is not enabled here")
        return self._bank

    async def on_intent_outcome(
        self, session: AsyncSession, intent: PaymentIntent, outcome: IntentOutcome
    ) -> None:
        """Settle or fail the deposit or purchase this intent pays for, if any."""
        reference = intent.metadata.get(LEDGER_REFERENCE, "")
        if not reference or not await self._is_ours(session, intent, reference):
            return
        result = PaymentReference(
            reference=intent.id,
            outcome=PaymentOutcome.SUCCEEDED
            if outcome is IntentOutcome.SUCCEEDED
            else PaymentOutcome.FAILED,
            error=None if outcome is IntentOutcome.SUCCEEDED else payment_failure(intent),
        )
        status = ""
        if has_prefix(reference, "wtx") and _ach_returned(intent, outcome):
            await self._reverse_deposit(session, intent, reference)
            return
        if has_prefix(reference, "crp") and _ach_returned(intent, outcome):
            await self._credits.reverse_purchase(
                session, reference, intent.id, payment_failure(intent)
            )
            return
        if has_prefix(reference, "wtx"):
            status = (await self._wallets.apply_charge(session, reference, result)).status
        elif has_prefix(reference, "crp"):
            status = (await self._credits.apply_charge(session, reference, result)).status
        if outcome is IntentOutcome.SUCCEEDED and status == "failed":
            # Only a client confirming our declined intent itself can get here: the money
            # was taken for a record that stays FAILED (nothing credited). Give it back.
            await self._refund_leftover(session, intent, reference)

    async def on_refund(
        self,
        session: AsyncSession,
        intent: PaymentIntent,
        refund: RefundRecord,
        stage: RefundStage,
    ) -> None:
        """Take back (REQUESTED; ADOPTED, for a refund made at the gateway: never refused,
        a wallet's shortfall booked owed, a purchase's share of what its grant has left),
        send out (SUCCEEDED) or restore (FAILED) what a refund of a deposit's or
        purchase's payment moves; at REQUESTED, raising refuses the refund."""
        reference = intent.metadata.get(LEDGER_REFERENCE, "")
        if not reference or not await self._is_ours(session, intent, reference):
            return
        if has_prefix(reference, "wtx"):
            if stage is RefundStage.REQUESTED:
                await self._wallets.hold_deposit_refund(
                    session, reference, refund.id, refund.amount
                )
            elif stage is RefundStage.ADOPTED:
                await self._wallets.hold_adopted_refund(
                    session, reference, refund.id, refund.amount
                )
            elif stage is RefundStage.SUCCEEDED:
                await self._wallets.settle_deposit_refund(session, refund.id)
            else:
                await self._wallets.fail_deposit_refund(
                    session, refund.id, _refund_failure(refund.last_error)
                )
        elif has_prefix(reference, "crp"):
            if stage is RefundStage.REQUESTED:
                await self._credits.revoke_purchase(
                    session,
                    reference,
                    refund.id,
                    refund.amount,
                    refunded_before=await self._intents.refunded_besides(session, refund),
                )
            elif stage is RefundStage.ADOPTED:
                await self._credits.revoke_purchase_share(
                    session, reference, refund.id, refund.amount
                )
            elif stage is RefundStage.SUCCEEDED:
                await self._credits.settle_purchase_refund(
                    session, reference, refund.id, refund.amount
                )
            else:
                await self._credits.restore_purchase(session, reference, refund.id)

    async def on_dispute(
        self,
        session: AsyncSession,
        intent: PaymentIntent,
        dispute: Dispute,
        stage: DisputeStage,
    ) -> None:
        """A chargeback of a deposit's or purchase's payment: the withdrawn money leaves
        the wallet (held; what was spent is owed) or the purchase's share of credits is
        revoked, as for a refund made at the gateway; a lost dispute sends it out for
        good, a won one gives it back."""
        reference = intent.metadata.get(LEDGER_REFERENCE, "")
        if not reference or not await self._is_ours(session, intent, reference):
            return
        if has_prefix(reference, "wtx"):
            await self._on_deposit_dispute(session, reference, dispute, stage)
        elif has_prefix(reference, "crp"):
            await self._on_purchase_dispute(session, reference, dispute, stage)

    async def _on_deposit_dispute(
        self, session: AsyncSession, deposit_id: str, dispute: Dispute, stage: DisputeStage
    ) -> None:
        if stage is DisputeStage.WITHDRAWN:
            await self._wallets.hold_charged_back_deposit(
                session, deposit_id, dispute.id, dispute.amount
            )
        elif stage is DisputeStage.LOST:
            await self._wallets.settle_charged_back_deposit(session, dispute.id)
        else:
            await self._wallets.reinstate_charged_back_deposit(session, dispute.id)

    async def _on_purchase_dispute(
        self, session: AsyncSession, purchase_id: str, dispute: Dispute, stage: DisputeStage
    ) -> None:
        if stage is DisputeStage.WITHDRAWN:
            await self._credits.revoke_purchase_share(
                session,
                purchase_id,
                dispute.id,
                dispute.amount,
                what=f"chargeback {dispute.id}",
                why="the cardholder's bank took the money back while the dispute is decided",
            )
        elif stage is DisputeStage.LOST:
            await self._credits.settle_purchase_refund(
                session, purchase_id, dispute.id, dispute.amount
            )
        else:
            await self._credits.restore_purchase(
                session,
                purchase_id,
                dispute.id,
                why=f"dispute {dispute.id} of purchase {purchase_id} was won: credits restored",
            )

    async def _refund_leftover(
        self, session: AsyncSession, intent: PaymentIntent, reference: str
    ) -> None:
        """Refund in full an intent that was paid for a deposit or purchase that had
        already FAILED: recorded here, sent by the reconciler (nothing to take back)."""
        try:
            async with session.begin_nested():
                refund = await self._intents.schedule_refund(
                    session,
                    intent,
                    f"ledger {reference}:refund-leftover",
                    metadata={LEDGER_REFERENCE: reference},
                )
        except DomainError as cannot:
            log.error(
                "payment intent %s succeeded for %s, which had already failed, and cannot "
                "be refunded automatically (%s): refund it by hand",
                intent.id,
                reference,
                cannot.message,
            )
            return
        log.error(
            "payment intent %s succeeded for %s, which had already failed: refund %s of "
            "%d %s scheduled (sent by the reconciler)",
            intent.id,
            reference,
            refund.id,
            refund.amount,
            refund.currency,
        )

    async def _reverse_deposit(
        self, session: AsyncSession, intent: PaymentIntent, reference: str
    ) -> None:
        """Fail a deposit whose ACH debit was returned; take it back if it had settled
        (what was spent of it is then owed: WalletService.reverse_deposit)."""
        # The intent's own words (code bank_account_returned, the R code) say it all.
        await self._wallets.reverse_deposit(session, reference, payment_failure(intent))

    @staticmethod
    async def _is_ours(session: AsyncSession, intent: PaymentIntent, reference: str) -> bool:
        """Metadata alone proves nothing (a client may write any): the intent must be the
        one this adapter created for ``reference``."""
        created = await PaymentIntents(session).find_by_create_key(
            intent.client_id, intent_create_key(reference)
        )
        return created is not None and created.id == intent.id


def _refund_failure(error: LastError | None) -> LastError:
    """A deposit's refund line that failed: the refund's own reason, said to be one."""
    if error is None:
        return LastError(code=REFUND_FAILED, message=f"the refund failed: {REFUND_FAILED}")
    return LastError(
        code=error.code or REFUND_FAILED,
        decline_code=error.decline_code,
        message=f"the refund failed: {error.message or error.code or REFUND_FAILED}",
    )


def _payout_reference(transfer: BankTransferResult) -> PaymentReference:
    """What the ledger makes of an ACH credit's state: settled, returned, or in flight."""
    if transfer.outcome is Outcome.SUCCEEDED:
        return PaymentReference(
            reference=transfer.gateway_reference, outcome=PaymentOutcome.SUCCEEDED
        )
    if transfer.outcome in (Outcome.DECLINED, Outcome.CANCELED):
        error = transfer.error
        message = (error.message or error.code) if error else "the bank refused the payout"
        returned = transfer.return_code
        if returned and returned not in message:  # the sandbox's message already names it
            message = f"{message} ({returned})"
        code = (error.code if error else "") or (
            BANK_ACCOUNT_RETURNED if returned else PAYOUT_FAILED
        )
        return PaymentReference(
            reference=transfer.gateway_reference,
            outcome=PaymentOutcome.FAILED,
            error=LastError(code=code, decline_code=returned or "", message=message),
        )
    return PaymentReference(reference=transfer.gateway_reference, outcome=PaymentOutcome.PENDING)


def _ach_returned(intent: PaymentIntent, outcome: IntentOutcome) -> bool:
    """A payment.failed about an ACH debit the bank returned (before or after settling)."""
    error = intent.last_error
    return (
        outcome is IntentOutcome.FAILED
        and intent.status is IntentStatus.REQUIRES_PAYMENT_METHOD
        and error is not None
        and error.code == BANK_ACCOUNT_RETURNED
        and intent.amount_received == 0
    )
