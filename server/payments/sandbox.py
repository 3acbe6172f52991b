"""The sandbox's test helpers: tokenizing test cards, finishing 3-D Secure."""

from __future__ import annotations

from dataclasses import dataclass

from gateways.errors import GatewayRejected
from gateways.protocols import SandboxControls
from gateways.registry import Registry
from server.errors import FieldViolation, InvalidInput, NotYetAvailable
from server.payments.intents import IntentFinish, PaymentIntent, PaymentIntentService


@dataclass(frozen=True, slots=True, kw_only=True)
class TestCardToken:
    token: str
    brand: str
    last4: str


class SandboxHelpers:
    def __init__(self, registry: Registry, intents: PaymentIntentService) -> None:
        self._registry = registry
        self._intents = intents

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
