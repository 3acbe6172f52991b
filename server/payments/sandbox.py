"""The sandbox's test helpers: tokenizing test cards, finishing 3-D Secure, the
payer's bank settling or returning an ACH debit or a payout's ACH credit, and the
cardholder's bank disputing a card payment."""

from __future__ import annotations

from dataclasses import dataclass

from gateways.errors import GatewayRejected
from gateways.protocols import BankSandboxControls, SandboxControls
from gateways.registry import Registry
from gateways.types import DisputeResult
from server.errors import FieldViolation, InvalidInput, InvalidState, NotYetAvailable
from server.payments.bank import BankPaymentService
from server.payments.disputes import Dispute, DisputeService
from server.payments.errors import SandboxOnly
from server.payments.intents import IntentFinish, PaymentIntent, PaymentIntentService
from server.payments.marketplace import (
    CheckoutService,
    CheckoutSession,
    ConnectedAccount,
    ConnectedAccountService,
)
from store.payments import IntentStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class TestCardToken:
    token: str
    brand: str
    last4: str


class SandboxHelpers:
    def __init__(
        self,
        registry: Registry,
        intents: PaymentIntentService,
        bank: BankPaymentService | None = None,
        *,
        checkout: CheckoutService | None = None,
        accounts: ConnectedAccountService | None = None,
        disputes: DisputeService | None = None,
    ) -> None:
        self._registry = registry
        self._intents = intents
        self._bank = bank
        self._checkout = checkout
        self._accounts = accounts
        self._disputes = disputes

    def _sandbox(self) -> SandboxControls:
        gateway = self._registry.find("sandbox")
        if not isinstance(gateway, SandboxControls):
            raise NotYetAvailable("the sandbox gateway is not enabled on this server")
        return gateway

    def tokenize(self, *, number: str, exp_month: int, exp_year: int) -> TestCardToken:
        """A sandbox token for a test card number; the number is neither kept nor logged."""
        try:
            token, brand, last4 = self._sandbox().tokenize_test_card(
                number=number, exp_month=exp_month, exp_year=exp_year
            )
        except GatewayRejected:
            raise InvalidInput(
                [FieldViolation("number", "is not a valid card number (Luhn check)")]
            ) from None
        return TestCardToken(token=token, brand=brand, last4=last4)

    async def complete_authentication(
        self, client_id: str, intent_id: str, *, succeed: bool, finish: IntentFinish
    ) -> PaymentIntent:
        return await self._intents.complete_authentication(
            client_id, intent_id, succeed=succeed, finish=finish
        )

    async def complete_checkout(
        self, client_id: str, session_id: str, payment_method_id: str, key: str
    ) -> tuple[CheckoutSession, PaymentIntent]:
        """The payer paying on the sandbox's hosted checkout page."""
        if self._checkout is None:
            raise NotYetAvailable("checkout sessions are not served here")
        checkout = await self._checkout.get(client_id, session_id)
        if not isinstance(self._registry.find(checkout.gateway), SandboxControls):
            raise SandboxOnly(
                f"checkout session {checkout.id} is hosted by {checkout.gateway}, "
                "not the sandbox: its payer pays on that gateway's page",
                metadata={"gateway": checkout.gateway},
            )
        return await self._checkout.pay(client_id, session_id, payment_method_id, key)

    async def complete_onboarding(self, client_id: str, account_id: str) -> ConnectedAccount:
        """The account owner finishing the sandbox's hosted onboarding form."""
        if self._accounts is None:
            raise NotYetAvailable("connected accounts are not served here")
        account = await self._accounts.stored(client_id, account_id)
        gateway = self._registry.find(account.gateway)
        if not isinstance(gateway, SandboxControls):
            raise SandboxOnly(
                f"connected account {account.id} is on {account.gateway}, not the sandbox: "
                "its owner onboards on that gateway's pages",
                metadata={"gateway": account.gateway},
            )
        if account.status == "rejected":
            raise InvalidState(f"connected account {account.id} was rejected")
        await gateway.complete_onboarding(account.gateway_reference)
        return await self._accounts.refresh(account)

    async def open_dispute(
        self, client_id: str, intent_id: str, *, amount: int, reason: str
    ) -> Dispute:
        """The cardholder's bank charging back a sandbox card payment."""
        intent = await self._intents.get(client_id, intent_id)
        gateway = self._registry.find(intent.gateway) if intent.gateway else None
        if not isinstance(gateway, SandboxControls) or self._disputes is None:
            raise SandboxOnly(
                f"payment intent {intent.id} is not a sandbox payment",
                metadata={"gateway": intent.gateway},
            )
        if intent.status is not IntentStatus.SUCCEEDED:
            raise InvalidState(
                f"payment intent {intent.id} is {intent.status.value}: only a succeeded "
                "payment can be disputed",
                metadata={"status": intent.status.value},
            )
        if amount > intent.amount_received:
            raise InvalidInput(
                [
                    FieldViolation(
                        "amount",
                        f"is more than the {intent.amount_received} the payment received",
                    )
                ]
            )
        try:
            result = await gateway.open_dispute(
                intent.gateway_reference, amount=amount, reason=reason
            )
        except GatewayRejected as refused:
            raise InvalidState(f"the payment cannot be disputed: {refused.message}") from None
        return await self._recorded(intent.gateway, result)

    async def close_dispute(self, client_id: str, dispute_id: str, *, won: bool) -> Dispute:
        """The bank deciding a sandbox dispute."""
        if self._disputes is None:
            raise NotYetAvailable("disputes are not served here")
        dispute = await self._disputes.get(client_id, dispute_id)
        gateway = self._registry.find(dispute.gateway)
        if not isinstance(gateway, SandboxControls):
            raise SandboxOnly(
                f"dispute {dispute.id} is on {dispute.gateway}, not the sandbox",
                metadata={"gateway": dispute.gateway},
            )
        try:
            result = await gateway.close_dispute(dispute.gateway_reference, won=won)
        except GatewayRejected as refused:
            raise InvalidState(
                f"dispute {dispute.id} cannot be decided: {refused.message}",
                metadata={"status": dispute.status},
            ) from None
        return await self._recorded(dispute.gateway, result)

    async def _recorded(self, gateway: str, result: DisputeResult) -> Dispute:
        assert self._disputes is not None
        recorded = await self._disputes.record(gateway, result)
        if recorded is None:  # the payment is ours: only a lost row could do this
            raise NotYetAvailable("the dispute was opened but could not be recorded; retry")
        return recorded

    async def advance_bank_transfer(
        self,
        client_id: str,
        intent_id: str,
        *,
        settle: bool,
        return_code: str,
        finish: IntentFinish,
    ) -> PaymentIntent:
        """The payer's bank settling or returning the intent's ACH debit.

        The simulator announces the change by webhook as a provider would (the relay
        applies it too; applying twice changes nothing); applying it here as well lets
        the caller see the outcome in the answer.
        """
        intent = await self._intents.get(client_id, intent_id)
        gateway = self._registry.find(intent.gateway) if intent.gateway else None
        if self._bank is None or not isinstance(gateway, BankSandboxControls):
            raise SandboxOnly(f"payment intent {intent.id} is not a sandbox bank debit")
        allowed = {IntentStatus.PROCESSING} | ({IntentStatus.SUCCEEDED} if not settle else set())
        if intent.status not in allowed:
            raise InvalidState(
                f"payment intent {intent.id} is {intent.status.value}: only a processing bank "
                "debit can be settled, and only a processing or succeeded one returned",
                metadata={"status": intent.status.value},
            )
        try:
            result = await gateway.advance_transfer(
                intent.gateway_reference, settle=settle, return_code=return_code
            )
        except GatewayRejected as refused:
            raise InvalidState(f"not a pending bank debit: {refused.message}") from None
        updated = await self._bank.record_transfer(
            gateway=intent.gateway, result=result, finish=finish
        )
        return updated or intent

    async def advance_payout(
        self,
        client_id: str,
        payment_method_id: str,
        gateway_reference: str,
        *,
        settle: bool,
        return_code: str,
    ) -> None:
        """The payee's bank settling or returning a payout (an ACH credit we sent).

        Applied here through the payout listeners (the ledger settles or fails the
        withdrawal in that transaction); the simulator's webhook, relayed, changes
        nothing more.
        """
        name = await self._bank.gateway_of(client_id, payment_method_id) if self._bank else ""
        gateway = self._registry.find(name) if name else None
        if self._bank is None or not isinstance(gateway, BankSandboxControls):
            raise SandboxOnly(f"the payout {gateway_reference!r} is not on the sandbox bank")
        try:
            result = await gateway.advance_transfer(
                gateway_reference, settle=settle, return_code=return_code
            )
        except GatewayRejected as refused:
            raise InvalidState(f"not a pending payout: {refused.message}") from None
        await self._bank.record_payout_transfer(gateway=name, result=result)
