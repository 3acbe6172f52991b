"""The relay's applier for payment gateways: a verified event → the payments domain.

The gateway's reader turns the provider's event into a :class:`GatewayUpdate`; this
applies it through :class:`PaymentIntentService` in the relay's transaction. An event
about nothing we know (another system's payment, an event type we do not track, a
malformed object, a bank account we never linked) is IGNORED, never an error; a stale
one changes nothing (the domain never moves an intent backwards, nor an account's
verification once it ended) and is IGNORED too. A refund we did not make, of an intent
we know, is adopted (``PaymentIntentService.adopt_gateway_refund``). The owning client
is reported whenever the resource is ours, so its endpoints get the raw event when they
asked.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateways.types import Outcome
from gateways.updates import AnyUpdateReader, GatewayUpdate
from server.errors import NotFound
from server.payments.bank import BankPaymentService
from server.payments.disputes import DisputeService
from server.payments.intents import PaymentIntentService
from server.payments.marketplace import (
    CheckoutService,
    CheckoutSession,
    ConnectedAccount,
    ConnectedAccountService,
)
from server.webhooks.inbound import ApplyOutcome, ApplyResult, NormalizedGatewayEvent
from store.gateway_cursors import GatewayCursors
from store.models import utcnow
from store.payments import IntentStatus, RefundStatus

#: The intent status an update means; when the intent has it afterwards, it applied.
_INTENT_STATUS: Final = {
    Outcome.SUCCEEDED: IntentStatus.SUCCEEDED,
    Outcome.REQUIRES_CAPTURE: IntentStatus.REQUIRES_CAPTURE,
    Outcome.REQUIRES_ACTION: IntentStatus.REQUIRES_ACTION,
    Outcome.PROCESSING: IntentStatus.PROCESSING,
    Outcome.CANCELED: IntentStatus.CANCELED,
    Outcome.DECLINED: IntentStatus.REQUIRES_PAYMENT_METHOD,
}
_REFUND_STATUS: Final = {
    Outcome.SUCCEEDED: RefundStatus.SUCCEEDED,
    Outcome.PROCESSING: RefundStatus.PENDING,
    Outcome.DECLINED: RefundStatus.FAILED,
}
IGNORED: Final = ApplyResult(outcome=ApplyOutcome.IGNORED)

log = logging.getLogger("isa.payments.gateway_events")


class PaymentEventApplier:
    def __init__(
        self,
        intents: PaymentIntentService,
        read: AnyUpdateReader,
        bank: BankPaymentService | None = None,
        *,
        accounts: ConnectedAccountService | None = None,
        checkout: CheckoutService | None = None,
        disputes: DisputeService | None = None,
    ) -> None:
        self._intents = intents
        self._read = read
        self._bank = bank
        self._accounts = accounts
        self._checkout = checkout
        self._disputes = disputes
        self._resuming: set[asyncio.Task[None]] = set()

    async def prepare(self, event: NormalizedGatewayEvent) -> GatewayUpdate | None:
        """Read the event, outside the transaction: a reader may ask the provider (Plaid)."""
        update = self._read(event.type, event.payload)
        if inspect.isawaitable(update):
            update = await update
        return update

    def committed(self, prepared: GatewayUpdate | None) -> None:
        if prepared is None:
            return
        if prepared.on_applied is not None:
            prepared.on_applied()
        if prepared.bank_verifications and self._bank is not None:
            # The debits that waited for a verification are gateway calls: never inside
            # the relay's transaction. They are recorded with it, so should this task not
            # finish, the reconciler sends them.
            task = asyncio.get_running_loop().create_task(
                self._bank.resume_verified(prepared.bank_verifications)
            )
            self._resuming.add(task)
            task.add_done_callback(self._resumed)

    async def close(self, grace: float) -> None:
        """Resumptions still running after ``grace`` are cancelled: the reconciler sends
        their debits after the restart (they were recorded with the verification)."""
        if not self._resuming:
            return
        _, running = await asyncio.wait(set(self._resuming), timeout=grace)
        for task in running:
            task.cancel()
        if running:
            log.info(
                "%d debit resumption(s) cancelled at shutdown; the reconciler sends them",
                len(running),
            )
            await asyncio.gather(*running, return_exceptions=True)

    def _resumed(self, task: asyncio.Task[None]) -> None:
        self._resuming.discard(task)
        if not task.cancelled() and (failed := task.exception()) is not None:
            log.warning("debits waiting for verification not resumed: %r", failed)

    async def apply(
        self, session: AsyncSession, event: NormalizedGatewayEvent, prepared: GatewayUpdate | None
    ) -> ApplyResult:
        update = prepared
        if update is None:
            return IGNORED
        if update.cursor is not None:  # committed with the changes read up to it
            await GatewayCursors(session).advance(event.gateway, update.cursor, utcnow())
        result = IGNORED
        if update.payment is not None:
            intent = await self._intents.apply_gateway_payment(
                session, gateway=event.gateway, result=update.payment
            )
            if intent is not None:
                applied = intent.status is _INTENT_STATUS.get(update.payment.outcome)
                result = ApplyResult(
                    outcome=ApplyOutcome.PROCESSED if applied else ApplyOutcome.IGNORED,
                    resource_id=intent.id,
                    client_id=intent.client_id,
                )
        bank = self._bank
        for transfer in update.bank_transfers if bank is not None else ():
            assert bank is not None
            intent = await bank.apply_transfer(session, gateway=event.gateway, result=transfer)
            if intent is None:  # not a debit of ours: perhaps a payout (an ACH credit)
                payout = await bank.apply_payout_transfer(
                    session, gateway=event.gateway, result=transfer
                )
                if payout is not None:
                    result = ApplyResult(
                        outcome=ApplyOutcome.PROCESSED if payout.applied else ApplyOutcome.IGNORED,
                        resource_id=payout.resource_id,
                        client_id=payout.client_id,
                    )
            else:
                wanted = _INTENT_STATUS.get(transfer.outcome)
                result = ApplyResult(
                    outcome=ApplyOutcome.PROCESSED
                    if intent.status is wanted
                    else ApplyOutcome.IGNORED,
                    resource_id=intent.id,
                    client_id=intent.client_id,
                )
        if bank is not None and update.bank_verifications:
            result = await self._apply_verifications(session, event, bank, update, result)
        result = await self._apply_marketplace(session, event, update, result)
        result = await self._apply_dispute(session, event, update, result)
        return await self._apply_refunds(session, event, update, result)

    async def _apply_dispute(
        self,
        session: AsyncSession,
        event: NormalizedGatewayEvent,
        update: GatewayUpdate,
        result: ApplyResult,
    ) -> ApplyResult:
        """A cardholder's dispute of one of our payments: opened, or its new stage."""
        if update.dispute is None or self._disputes is None:
            return result
        applied = await self._disputes.apply_gateway_dispute(
            session, gateway=event.gateway, result=update.dispute
        )
        if applied is None:
            return result
        dispute, changed = applied
        return ApplyResult(
            outcome=ApplyOutcome.PROCESSED if changed else ApplyOutcome.IGNORED,
            resource_id=dispute.id,
            client_id=dispute.client_id,
        )

    async def _apply_marketplace(
        self,
        session: AsyncSession,
        event: NormalizedGatewayEvent,
        update: GatewayUpdate,
        result: ApplyResult,
    ) -> ApplyResult:
        """A hosted checkout paid at the gateway; a connected account's new state."""
        found: CheckoutSession | ConnectedAccount | None = None
        if update.checkout is not None and self._checkout is not None:
            found = await self._checkout.apply_gateway_completion(
                session, event.gateway, update.checkout
            )
        if update.checkout_expired and self._checkout is not None:
            found = await self._checkout.apply_gateway_expiry(
                session, event.gateway, update.checkout_expired
            )
        if update.account is not None and self._accounts is not None:
            found = await self._accounts.apply_gateway_account(
                session, event.gateway, update.account
            )
        if found is None:
            return result
        return ApplyResult(
            outcome=ApplyOutcome.PROCESSED, resource_id=found.id, client_id=found.client_id
        )

    async def _apply_refunds(
        self,
        session: AsyncSession,
        event: NormalizedGatewayEvent,
        update: GatewayUpdate,
        result: ApplyResult,
    ) -> ApplyResult:
        """Refunds' new states; one we did not make, of an intent of ours, is adopted."""
        for change in update.refunds:
            try:
                refund = await self._intents.apply_gateway_refund(
                    session, gateway=event.gateway, result=change
                )
            except NotFound:
                # Not one of ours: made elsewhere (a dashboard). Adopted when it refunds
                # an intent of ours; anything else is not ours to track.
                adopted = await self._intents.adopt_gateway_refund(
                    session, gateway=event.gateway, result=change
                )
                if adopted is None:
                    continue
                refund = adopted
            applied = refund.status is _REFUND_STATUS.get(change.outcome)
            if result.client_id is None or (applied and result.outcome is ApplyOutcome.IGNORED):
                result = ApplyResult(
                    outcome=ApplyOutcome.PROCESSED if applied else ApplyOutcome.IGNORED,
                    resource_id=refund.id,
                    client_id=refund.client_id,
                )
        return result

    @staticmethod
    async def _apply_verifications(
        session: AsyncSession,
        event: NormalizedGatewayEvent,
        bank: BankPaymentService,
        update: GatewayUpdate,
        result: ApplyResult,
    ) -> ApplyResult:
        """Bank accounts' ended verifications; an account we do not know is IGNORED."""
        for change in update.bank_verifications:
            for match in await bank.apply_verification(
                session, gateway=event.gateway, change=change
            ):
                if match.applied or result.client_id is None:
                    result = ApplyResult(
                        outcome=ApplyOutcome.PROCESSED if match.applied else ApplyOutcome.IGNORED,
                        resource_id=match.resource_id,
                        client_id=match.client_id,
                    )
        return result
