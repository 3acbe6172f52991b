"""What the ledger needs from the payments domain, and nothing more.

Deposits, withdrawals and credit purchases move real money through PaymentService.
The ledger records the intent first (a PENDING transaction, funds held or pending),
asks the payments side with an idempotency key derived from that transaction's id, and
later hears the outcome through ``settle_*`` / ``fail_*`` entry points. PaymentService
is not merged yet; this Protocol is the seam it will satisfy.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class PaymentOutcome(enum.Enum):
    SUCCEEDED = "succeeded"
    PENDING = "pending"
    FAILED = "failed"


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
    error_message: str = ""


class PaymentPort(Protocol):
    async def charge(self, request: ChargeRequest) -> PaymentReference: ...

    async def payout(self, request: PayoutRequest) -> PaymentReference: ...
