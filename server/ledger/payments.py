"""What the ledger needs from the payments domain, and nothing more.

Deposits, withdrawals and credit purchases move real money through PaymentService.
The ledger records the intent first (a PENDING transaction, funds held or pending),
asks the payments side with an idempotency key derived from that transaction's id, and
hears the outcome through ``settle_*`` / ``fail_*`` entry points: at once when the
payment ends synchronously, later (3-D Secure, webhooks, the reconciler, ACH) from the
payments side's outcome listener, in the transaction that records the payment's end.
``server.ledger_payments`` satisfies this Protocol over PaymentService.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, Protocol

from server.errors import DomainError
from store.last_error import LastError

#: PaymentError codes of failures that bring no code of their own from the gateway.
PAYMENT_CANCELED: Final = "payment_canceled"
PAYMENT_FAILED: Final = "payment_failed"
PAYOUT_FAILED: Final = "payout_failed"
REFUND_FAILED: Final = "refund_failed"
#: The code of a chargeback's line whose dispute was won: the money came back.
DISPUTE_WON: Final = "dispute_won"

#: A failure the payments side gave no reason for.
UNEXPLAINED: Final = LastError(code=PAYMENT_FAILED, message="the payment failed")


class PaymentOutcome(enum.Enum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"


def charge_key(reference: str) -> str:
    """The idempotency key of the one charge for our transaction ``reference``."""
    return f"{reference}:charge"


def payout_key(reference: str) -> str:
    return f"{reference}:payout"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargeRequest:
    client_id: str
    amount: int  # minor units
    currency: str
    payment_method_id: str
    description: str
    idempotency_key: str  # derived from our transaction id: a retry never charges twice
    reference: str  # our transaction (wtx_/crp_) the outcome is reported against


@dataclass(frozen=True, slots=True, kw_only=True)
class PayoutRequest:
    client_id: str
    amount: int
    currency: str
    payment_method_id: str
    description: str
    idempotency_key: str
    reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PaymentReference:
    """The payments side's handle on the charge or payout, and what it knows so far."""

    reference: str
    outcome: PaymentOutcome
    #: Why it FAILED, as the payment or the bank said it (code, decline code, message).
    error: LastError | None = None

    @property
    def failure(self) -> LastError:
        return self.error or UNEXPLAINED


class ChargeNotMade(Exception):
    """Certainly nothing was charged (no gateway reachable, bad method, refused request).

    Carries the payments side's error: the ledger fails its pending transaction, and
    whoever answers the caller raises ``error`` (its kind and reason) in the end.
    """

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error

    def failure(self, what: str) -> LastError:
        """The pending record's reason: the error's reason as the code (e.g.
        ``gateway_unavailable``), so a consumer can tell it from a decline."""
        said = self.error.message
        # the error may say so itself ("…; nothing was charged; retry …"): not twice
        message = said if f"nothing was {what}" in said else f"nothing was {what}: {said}"
        return LastError(code=self.error.reason.lower(), message=message)


class PaymentPort(Protocol):
    async def check_method(self, client_id: str, payment_method_id: str, currency: str) -> None:
        """Raise (NotFound, InvalidState, CapabilityMissing) unless the caller may charge
        this saved method in ``currency``: refused before anything is recorded."""
        ...

    async def check_payout_method(
        self, client_id: str, payment_method_id: str, currency: str
    ) -> None:
        """Raise (NotFound, InvalidState, InvalidInput) unless a payout in ``currency``
        can go to this saved method (a verified bank account of the caller's)."""
        ...

    async def charge(self, request: ChargeRequest) -> PaymentReference:
        """Charge once per ``idempotency_key``; raises :class:`ChargeNotMade` when
        nothing was charged; an unknown outcome is PENDING (reconciled later)."""
        ...

    async def payout(self, request: PayoutRequest) -> PaymentReference:
        """Pay out once per ``idempotency_key``; raises :class:`ChargeNotMade` when
        nothing was sent; an unknown outcome is PENDING (a retry resumes it)."""
        ...
