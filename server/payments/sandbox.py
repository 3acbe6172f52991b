"""The sandbox's test helpers: tokenizing test cards, finishing 3-D Secure, and the
payer's bank settling or returning an ACH debit."""

from __future__ import annotations

from dataclasses import dataclass

from gateways.errors import GatewayRejected
from gateways.protocols import BankSandboxControls, SandboxControls
from gateways.registry import Registry
from server.errors import FieldViolation, InvalidInput, InvalidState, NotYetAvailable
from server.payments.bank import BankPaymentService
from server.payments.errors import SandboxOnly
from server.payments.intents import IntentFinish, PaymentIntent, PaymentIntentService
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
    ) -> None:
        self._registry = registry
        self._intents = intents
        self._bank = bank

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
