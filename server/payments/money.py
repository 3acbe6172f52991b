"""Money: integer minor units, one table of currency exponents, commission arithmetic."""

from __future__ import annotations

from typing import Final

#: Minor-unit exponent per lowercase currency code (ISO 4217, plus crypto and credits).
EXPONENTS: Final = {
    "usd": 2,
    "eur": 2,
    "gbp": 2,
    "cad": 2,
    "aud": 2,
    "chf": 2,
    "sek": 2,
    "jpy": 0,
    "krw": 0,
    "usdc": 6,
    "credits": 0,
}

#: Stripe's largest amount, in minor units (eight digits of major units for cents).
MAX_AMOUNT: Final = 99_999_999

DEFAULT_COMMISSION_BPS: Final = 1000  # 10 %


def is_currency(code: str) -> bool:
    return code in EXPONENTS


def commission(amount: int, bps: int) -> int:
    """The platform's fee on ``amount`` at ``bps`` basis points, rounded half up."""
    return (amount * bps + 5_000) // 10_000
