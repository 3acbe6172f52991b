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
from typing import Final


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
class RefundRetrieveRequest:
    """Read a refund's current state: one the gateway left pending, whose webhook may
    never come (Square's refunds all start PENDING)."""

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
    #: The payment was a destination charge: take the refund back from the connected
    #: account and give back the application fee, both in proportion, so the refund
    #: unwinds the sale for everyone rather than leaving the platform to pay it.
    reverse_transfer: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RefundResult:
    """SUCCEEDED, PROCESSING (pending) or DECLINED (failed).

    ``amount``, ``currency`` and ``payment_reference`` (the gateway's payment the refund
    is of: Stripe's PaymentIntent, Square's Payment) say what a refund made outside the
    service (a dashboard) was; 0 / "" when the provider's object did not say.
    """

    outcome: Outcome
    gateway_reference: str
    error: PaymentError | None = None
    amount: int = 0  # minor units
    currency: str = ""  # lower-case ISO 4217, as everywhere in the service
    payment_reference: str = ""


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
    #: Why the gateway disabled the account, as it says (Stripe's
    #: ``requirements.disabled_reason``, e.g. ``rejected.fraud``); empty when it did not.
    disabled_reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckoutCompletion:
    """A hosted checkout its payer finished and paid (Stripe's checkout.session.completed
    with payment_status "paid"): the payment was made by the gateway, not by us."""

    gateway_reference: str  # the session at the gateway
    payment_reference: str  # the payment the gateway made for it
    amount_received: int
    currency: str


class DisputeStatus(enum.Enum):
    """Where a cardholder's dispute of a payment stands, in Stripe's vocabulary (the
    other providers' states map onto it). ``WARNING_*`` is an inquiry, before any money
    moves; ``NEEDS_RESPONSE`` / ``UNDER_REVIEW`` a chargeback, the money withdrawn while
    it is decided; ``WON`` / ``LOST`` / ``WARNING_CLOSED`` are final."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response"
    WARNING_UNDER_REVIEW = "warning_under_review"
    WARNING_CLOSED = "warning_closed"
    NEEDS_RESPONSE = "needs_response"
    UNDER_REVIEW = "under_review"
    WON = "won"
    LOST = "lost"

    @property
    def closed(self) -> bool:
        return self in _CLOSED_DISPUTES


_CLOSED_DISPUTES: Final = frozenset(
    {DisputeStatus.WARNING_CLOSED, DisputeStatus.WON, DisputeStatus.LOST}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DisputeResult:
    """A dispute of a payment as the gateway reports it (a webhook): the cardholder's
    bank contests the charge."""

    gateway_reference: str  # the dispute at the gateway
    payment_reference: str  # the disputed payment at the gateway
    amount: int
    currency: str
    status: DisputeStatus
    reason: str = ""  # the gateway's reason code, lowercase ("fraudulent")
    evidence_due_time: dt.datetime | None = None


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


# --- bank accounts (ACH) -------------------------------------------------------------
#
# Shaped after Plaid: Link makes a ``public_token`` in the payer's browser, the server
# exchanges it for an ``access_token`` (a long-lived secret: the domain stores it
# encrypted and never returns or logs it), and each account on the item has its own
# verification status. Accounts linked without instant auth are verified by
# micro-deposits: *automated* (the provider confirms them itself, a webhook says when) or
# *same-day* (the payer reads two small amounts off their statement and enters them).


class BankVerification(enum.Enum):
    """Whether an account may be debited yet (Plaid's ``verification_status``)."""

    VERIFIED = "verified"  # instant auth, or micro-deposits confirmed
    PENDING_AUTOMATIC = "pending_automatic"  # automated micro-deposits in flight
    PENDING_MANUAL = "pending_manual"  # same-day micro-deposits: the payer must enter amounts
    FAILED = "failed"  # verification failed or expired: the account cannot be debited


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkTokenRequest:
    """Start a Link session for one of our customers (``/link/token/create``).

    ``customer_reference`` is an opaque, stable id for the payer (Plaid's
    ``user.client_user_id``): never an email or a name.
    """

    customer_reference: str
    client_name: str = "isa"
    country_codes: tuple[str, ...] = ("US",)
    language: str = "en"
    webhook_url: str = ""
    #: Update mode: re-open Link on a linked item (where same-day micro-deposit amounts
    #: are entered at Plaid); the item's access token, "" for a new link.
    access_token: str = field(default="", repr=False)
    idempotency_key: str  # a link token is free to repeat; adapters without keys may ignore it


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkToken:
    link_token: str
    expire_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class ExchangeRequest:
    """Trade Link's one-time ``public_token`` for an item and describe one of its accounts
    (``/item/public_token/exchange`` then ``/accounts/get`` or ``/auth/get``)."""

    public_token: str = field(repr=False)
    account_id: str  # the account the payer picked in Link (``metadata.accounts[].id``)
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BankAccount:
    """One linked account as the provider describes it.

    ``access_token`` is the item's credential: it is excluded from ``repr`` so a logged
    dataclass cannot leak it; the domain encrypts it before it touches the store.
    """

    access_token: str = field(repr=False)
    item_reference: str  # Plaid's ``item_id``
    account_id: str
    mask: str = ""  # last 2-4 digits of the account number
    bank_name: str = ""
    subtype: str = ""  # checking | savings | ...
    holder_name: str = ""  # the account owner's legal name when known (authorization needs one)
    verification: BankVerification = BankVerification.VERIFIED
    #: ACH numbers from Auth once verified ("" before, or where the rail needs none);
    #: like the access token, never in ``repr``: encrypt them or drop them.
    account_number: str = field(default="", repr=False)
    routing_number: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class BankAccountRequest:
    """Re-read an account's description and verification status (after a webhook)."""

    access_token: str = field(repr=False)
    account_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MicroDepositRequest:
    """The payer's reading of the micro-deposits, in minor units (e.g. ``(32, 45)``)."""

    access_token: str = field(repr=False)
    account_id: str
    amounts: tuple[int, ...]
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class MicroDepositResult:
    """``verified`` when the amounts matched. A wrong guess is data, not an error:
    ``attempts_remaining`` says how many more the provider allows (then FAILED)."""

    verified: bool
    verification: BankVerification
    attempts_remaining: int | None = None
    error: PaymentError | None = None


# --- bank transfers (ACH) ------------------------------------------------------------
#
# A debit is two calls at Plaid: ``/transfer/authorization/create`` (a risk and balance
# decision: approved or declined with a rationale such as NSF) and, only when approved,
# ``/transfer/create``. A created transfer is PROCESSING (pending, posted) until it settles
# (SUCCEEDED) or fails; a *return* (``R01`` insufficient funds, ``R02`` account closed,
# ...) can arrive days AFTER settlement, so SUCCEEDED is not final for ACH. Async changes
# arrive as events read with a cursor (``/transfer/event/sync``).


class BankTransferDirection(enum.Enum):
    DEBIT = "debit"  # pull from the payer's account (a payment)
    CREDIT = "credit"  # push to the account (a payout / wallet withdrawal)


@dataclass(frozen=True, slots=True, kw_only=True)
class BankTransferRequest:
    """Move money from (DEBIT) or to (CREDIT) a linked account.

    ``idempotency_key`` is derived per intent; an adapter derives its own sub-keys from it
    for each provider call (authorization, transfer) so a retry reuses both.
    """

    direction: BankTransferDirection
    access_token: str = field(repr=False)
    account_id: str
    amount: int
    currency: str  # ACH moves "usd" only; an adapter rejects anything else
    description: str = ""  # Plaid allows 15 characters; adapters truncate
    legal_name: str = ""  # the account holder's; required by Plaid's authorization
    ach_class: str = "web"  # web (consumer online) | ppd | ccd
    metadata: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BankTransferResult:
    """A transfer's state after a call or an event.

    - PROCESSING: created, pending or posted on the ACH network.
    - SUCCEEDED: settled (for a debit, funds available).
    - DECLINED: refused before money moved (authorization declined: ``gateway_reference``
      is empty, ``error.code`` ``authorization_declined``, ``decline_code`` the rationale
      e.g. ``nsf``), or failed / returned afterwards (``return_code`` e.g. ``R01``).
      ``settled_before_return`` says the return undoes a settlement already reported.
    - CANCELED: canceled before it was sent.
    - UNKNOWN: the provider's state could not be read; never treated as either outcome.
    """

    outcome: Outcome
    gateway_reference: str  # the transfer id ("" when no transfer was created)
    authorization_reference: str = ""
    amount: int = 0
    return_code: str = ""
    settled_before_return: bool = False
    error: PaymentError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BankTransferEvent:
    """One entry of the provider's transfer event log; ``event_id`` orders them."""

    event_id: int
    event_type: str  # the provider's: pending, posted, settled, returned, ...
    transfer: BankTransferResult
    time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class BankTransferEventPage:
    """Events after a cursor; ``next_after_id`` is the cursor to pass next time."""

    events: tuple[BankTransferEvent, ...]
    next_after_id: int
    has_more: bool = False


#: The ACH return codes a payer is most likely to meet, with what they mean.
ACH_RETURN_REASONS: Mapping[str, str] = {
    "R01": "insufficient funds",
    "R02": "account closed",
    "R03": "no account or unable to locate the account",
    "R04": "invalid account number",
    "R05": "unauthorized debit to a consumer account",
    "R07": "authorization revoked by the customer",
    "R08": "payment stopped",
    "R09": "uncollected funds",
    "R10": "customer advises the debit was not authorized",
    "R16": "account frozen",
    "R20": "non-transaction account",
    "R29": "corporate customer advises the debit was not authorized",
}
#: ``PaymentError.code`` of every ACH return; its ``decline_code`` is the ACH code.
BANK_ACCOUNT_RETURNED = "bank_account_returned"


def ach_return_error(
    return_code: str, message: str = "", *, direction: BankTransferDirection | None = None
) -> PaymentError:
    """The payer-facing error of an ACH return (``decline_code`` e.g. ``R01``)."""
    reason = ACH_RETURN_REASONS.get(return_code, "returned by the bank")
    what = "payout" if direction is BankTransferDirection.CREDIT else "debit"
    text = message or f"The bank returned the {what} ({return_code}: {reason})."
    return PaymentError(code=BANK_ACCOUNT_RETURNED, decline_code=return_code, message=text)
