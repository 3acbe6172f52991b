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
    BankAccount,
    BankAccountRequest,
    BankTransferEventPage,
    BankTransferRequest,
    BankTransferResult,
    CancelRequest,
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutResult,
    CustomerRequest,
    DetachRequest,
    DisputeResult,
    ExchangeRequest,
    GatewayInfo,
    LinkToken,
    LinkTokenRequest,
    MicroDepositRequest,
    MicroDepositResult,
    RefundRequest,
    RefundResult,
    RefundRetrieveRequest,
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

    async def retrieve_refund(self, request: RefundRetrieveRequest) -> RefundResult:
        """A refund this gateway made, as it stands now; an unknown reference raises
        :class:`gateways.errors.GatewayRejected`."""
        ...


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

    async def retrieve_account(self, gateway_reference: str) -> AccountResult:
        """The account as the gateway now sees it: onboarding happens on the gateway's
        pages, so whether it may be charged or paid out is learnt from there."""
        ...


@runtime_checkable
class BankAccounts(Gateway, Protocol):
    """Link a payer's bank account and verify it (Plaid Link + Auth).

    The ``access_token`` in :class:`BankAccount` is a credential: callers store it
    encrypted, and adapters never put it in an exception message or a log line.
    """

    async def create_link_token(self, request: LinkTokenRequest) -> LinkToken:
        """A short-lived token the payer's browser opens Link with."""
        ...

    async def exchange_public_token(self, request: ExchangeRequest) -> BankAccount:
        """Trade Link's one-time public token; an unknown or used token raises
        :class:`gateways.errors.GatewayRejected`, an unknown account id too."""
        ...

    async def get_account(self, request: BankAccountRequest) -> BankAccount:
        """The account's current description and verification status (automated
        micro-deposits finish on the provider's side; a webhook says to re-read)."""
        ...

    async def verify_micro_deposits(self, request: MicroDepositRequest) -> MicroDepositResult:
        """Check the payer's amounts. At Plaid the payer enters them in Link (update
        mode); an adapter that cannot submit amounts reports the status Link left."""
        ...


@runtime_checkable
class BankTransfers(Gateway, Protocol):
    """ACH debits and credits on a linked account (Plaid Transfer)."""

    async def create_transfer(self, request: BankTransferRequest) -> BankTransferResult:
        """Authorize, then (only when approved) create the transfer.

        PROCESSING with the transfer reference, or DECLINED when authorization said no
        (no transfer exists then). Repeating with the same key returns the first transfer.
        """
        ...

    async def retrieve_transfer(self, gateway_reference: str) -> BankTransferResult: ...

    async def sync_transfer_events(self, after_id: int) -> BankTransferEventPage:
        """Transfer events after a cursor, oldest first (``/transfer/event/sync``)."""
        ...


@runtime_checkable
class BankSandboxControls(Gateway, Protocol):
    """The simulator's ACH test helpers: what the payer's bank would do."""

    async def advance_transfer(
        self, gateway_reference: str, *, settle: bool, return_code: str = ""
    ) -> BankTransferResult:
        """Settle a pending transfer, or return it (pending or settled) with an ACH code."""
        ...


@runtime_checkable
class SandboxControls(Gateway, Protocol):
    """The simulator's test helpers (SandboxService): what a browser or bank would do."""

    def tokenize_test_card(
        self, *, number: str, exp_month: int, exp_year: int
    ) -> tuple[str, str, str]:
        """``(token, brand, last4)`` for a known test card number."""
        ...

    async def complete_authentication(self, gateway_reference: str, *, succeed: bool) -> None: ...

    async def complete_onboarding(self, gateway_reference: str) -> None:
        """The account owner finishing the hosted onboarding form."""
        ...

    async def open_dispute(
        self, gateway_reference: str, *, amount: int, reason: str
    ) -> DisputeResult:
        """The cardholder's bank charging back a paid payment (0: all it received)."""
        ...

    async def close_dispute(self, dispute_reference: str, *, won: bool) -> DisputeResult:
        """The bank deciding an open dispute."""
        ...
