"""One Protocol per capability; an adapter implements those it supports.

The domain speaks only these; it never names a provider. Methods raise
:mod:`gateways.errors` for "could not ask" and return data for "asked and was told no".
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from gateways.types import (
    AccountLinkRequest,
    AccountLinkResult,
    AccountRequest,
    AccountResult,
    AttachRequest,
    CancelRequest,
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutResult,
    CustomerRequest,
    DetachRequest,
    GatewayInfo,
    RefundRequest,
    RefundResult,
    RetrieveRequest,
    SavedMethod,
)


@runtime_checkable
class Gateway(Protocol):
    """Every adapter describes itself."""

    @property
    def info(self) -> GatewayInfo: ...


@runtime_checkable
class CardPayments(Gateway, Protocol):
    async def charge(self, request: ChargeRequest) -> ChargeResult:
        """Create and confirm; repeating with the same key returns the first payment."""
        ...

    async def retrieve(self, request: RetrieveRequest) -> ChargeResult: ...

    async def capture(self, request: CaptureRequest) -> ChargeResult: ...

    async def cancel(self, request: CancelRequest) -> ChargeResult: ...

    async def refund(self, request: RefundRequest) -> RefundResult: ...


@runtime_checkable
class SavedMethods(Gateway, Protocol):
    async def create_customer(self, request: CustomerRequest) -> str:
        """The gateway's customer reference."""
        ...

    async def attach(self, request: AttachRequest) -> SavedMethod: ...

    async def detach(self, request: DetachRequest) -> None: ...


@runtime_checkable
class Checkout(Gateway, Protocol):
    async def create_checkout_session(self, request: CheckoutRequest) -> CheckoutResult: ...


@runtime_checkable
class MarketplaceAccounts(Gateway, Protocol):
    async def create_account(self, request: AccountRequest) -> AccountResult: ...

    async def create_account_link(self, request: AccountLinkRequest) -> AccountLinkResult: ...


@runtime_checkable
class SandboxControls(Gateway, Protocol):
    """The simulator's test helpers (SandboxService): what a browser or bank would do."""

    def tokenize_test_card(
        self, *, number: str, exp_month: int, exp_year: int
    ) -> tuple[str, str, str]:
        """``(token, brand, last4)`` for a known test card number."""
        ...

    async def complete_authentication(self, gateway_reference: str, *, succeed: bool) -> None: ...
