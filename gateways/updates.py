"""What a provider's webhook says about our resources, in the domain's terms.

Each provider reads its own event format (``gateways/<provider>/events.py``) into a
:class:`GatewayUpdate`; the payments domain applies it. Reading never touches the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from gateways.types import (
    AccountResult,
    BankTransferResult,
    BankVerification,
    ChargeResult,
    CheckoutCompletion,
    DisputeResult,
    RefundResult,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BankVerificationUpdate:
    """A linked bank account's verification reached an end (VERIFIED or FAILED), as the
    provider reports it: ``account_reference`` is the provider's account id (ours is
    ``bank_accounts.account_id``), ``item_reference`` the login it belongs to (Plaid's
    ``item_id``; empty when the provider has none)."""

    account_reference: str
    item_reference: str = ""
    verification: BankVerification
    #: Why it failed, e.g. ``verification_expired``, ``verification_failed`` (empty when
    #: verified): what the failed intents' ``last_error`` message tells the payer.
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayUpdate:
    """A payment's new state and/or refunds', bank transfers', bank accounts'
    verifications' or a dispute's new states, as the provider reports them."""

    payment: ChargeResult | None = None
    refunds: tuple[RefundResult, ...] = ()
    bank_transfers: tuple[BankTransferResult, ...] = ()
    bank_verifications: tuple[BankVerificationUpdate, ...] = ()
    #: A marketplace account's onboarding state.
    account: AccountResult | None = None
    #: A hosted checkout paid at the gateway.
    checkout: CheckoutCompletion | None = None
    #: A hosted checkout the gateway expired unpaid (its reference there).
    checkout_expired: str = ""
    #: A cardholder's dispute of a payment: opened, or its new state.
    dispute: DisputeResult | None = None
    #: Where a reader that keeps a cursor (Plaid's event sync) read the provider's event
    #: stream to: the relay stores it in the transaction applying the update, so a new
    #: process goes on from there.
    cursor: int | None = None
    #: Called once the update is applied and committed: a reader that keeps a cursor
    #: moves it on only then, so a failed apply reads it again.
    on_applied: Callable[[], None] | None = field(default=None, compare=False)


class UpdateReader(Protocol):
    """Reads one verified event (its type and parsed body); None when it is not about
    payments or refunds, or does not carry what is needed."""

    def __call__(self, event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None: ...


class AsyncUpdateReader(Protocol):
    """A reader that must ask the provider (Plaid's webhooks say "something changed",
    not what): same contract as :class:`UpdateReader`; gateway errors propagate so the
    relay retries the event."""

    async def __call__(self, event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None: ...


AnyUpdateReader = UpdateReader | AsyncUpdateReader
