"""What goes into a gateway call and what comes out: one frozen dataclass per call.

Every mutating input carries ``idempotency_key``: a key *derived* from the caller's, so
repeating the call (a retry, a reconciliation) can never act twice at the gateway.
Amounts are integers in the currency's minor unit.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field


def derive_key(*parts: str) -> str:
    """A stable gateway idempotency key from the caller's key and what it is for.

    Deterministic, so a retry derives the same key; hashed, so the caller's key and
    client id never leave the service.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"isa-{digest[:40]}"


class Outcome(enum.Enum):
    """What the gateway says happened; UNKNOWN is never read as success or failure."""

    SUCCEEDED = "succeeded"
    REQUIRES_CAPTURE = "requires_capture"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    DECLINED = "declined"
    CANCELED = "canceled"
    UNKNOWN = "unknown"


class GatewayKind(enum.Enum):
    CARD = "card"
    BANK = "bank"
    CRYPTO = "crypto"
    BROKER = "broker"


class GatewayMode(enum.Enum):
    SANDBOX = "sandbox"
    TEST = "test"
    LIVE = "live"


class Capability(enum.Enum):
    MANUAL_CAPTURE = "manual_capture"
    PARTIAL_CAPTURE = "partial_capture"
    REFUNDS = "refunds"
    SAVED_METHODS = "saved_methods"
    MARKETPLACE = "marketplace"
    WEBHOOKS = "webhooks"
    CHECKOUT = "checkout"


class MethodType(enum.Enum):
    CARD = "card"
    BANK_ACCOUNT = "bank_account"
    CRYPTO_WALLET = "crypto_wallet"


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayInfo:
    """What a gateway is and can do; the router and ListGateways read it."""

    name: str
    display_name: str
    kind: GatewayKind
    mode: GatewayMode
    capabilities: frozenset[Capability]
    currencies: frozenset[str]
    method_types: frozenset[MethodType]


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentError:
    """A decline or failure as the payer may see it (Stripe's codes)."""

    code: str
    decline_code: str = ""
    message: str = ""


# --- card payments -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeRequest:
    """Create and confirm a payment at the gateway (authorize only when ``manual_capture``)."""

    amount: int
    currency: str
    payment_method: str  # the gateway's token or saved-method reference
    customer_reference: str | None = None
    manual_capture: bool = False
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    return_url: str = ""
    destination_reference: str | None = None
    application_fee_amount: int | None = None
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeResult:
    """The gateway's payment after a call."""

    outcome: Outcome
    gateway_reference: str
    amount_capturable: int = 0
    amount_received: int = 0
    redirect_url: str = ""
    error: PaymentError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetrieveRequest:
    """Read a payment's current state (after a redirect, or to reconcile)."""

    gateway_reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureRequest:
    gateway_reference: str
    amount: int  # minor units; less than authorized releases the rest
    currency: str
    application_fee_amount: int | None = None
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRequest:
    gateway_reference: str
    reason: str = ""
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundRequest:
    gateway_reference: str  # the payment's
    amount: int
    currency: str
    reason: str = ""
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundResult:
    """SUCCEEDED, PROCESSING (pending) or DECLINED (failed)."""

    outcome: Outcome
    gateway_reference: str
    error: PaymentError | None = None


# --- saved methods -------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomerRequest:
    email: str = ""
    name: str = ""
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AttachRequest:
    """Save a client-side token on the gateway's customer. Never a card number."""

    token: str
    customer_reference: str
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedMethod:
    """A saved method as the gateway describes it (``error`` when the card was refused)."""

    gateway_reference: str
    type: MethodType
    brand: str = ""
    last4: str = ""
    exp_month: int = 0
    exp_year: int = 0
    error: PaymentError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DetachRequest:
    gateway_reference: str
    idempotency_key: str


# --- checkout ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LineItem:
    description: str
    quantity: int
    unit_amount: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutRequest:
    currency: str
    line_items: tuple[LineItem, ...]
    success_url: str
    cancel_url: str
    customer_reference: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutResult:
    gateway_reference: str
    url: str
    expire_time: dt.datetime


# --- marketplace ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountRequest:
    email: str
    country: str
    business_type: str  # individual | company | non_profit | government_entity
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountResult:
    gateway_reference: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLinkRequest:
    gateway_reference: str
    type: str  # account_onboarding | account_update (dashboard: login link)
    return_url: str
    refresh_url: str
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountLinkResult:
    url: str
    expire_time: dt.datetime
