"""Money in payments: integer minor units, the largest amount, commission arithmetic."""

from __future__ import annotations

from typing import Final

#: Stripe's largest amount, in minor units (eight digits of major units for cents).
MAX_AMOUNT: Final = 99_999_999

DEFAULT_COMMISSION_BPS: Final = 1000  # 10 %


def commission(amount: int, bps: int) -> int:
    """The platform's fee on ``amount`` at ``bps`` basis points, rounded half up."""
    return (amount * bps + 5_000) // 10_000
