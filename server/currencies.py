"""The currencies money moves in: one table for payments and the ledger alike.

Payments and wallets once kept a table each, and they disagreed (a wallet accepted
``nok`` that no payment could be made in, and a payment accepted ``credits``, which are
the ledger's own unit and no currency any gateway can charge).
"""

from __future__ import annotations

from typing import Final

#: Minor-unit exponent per lowercase currency code (ISO 4217, plus USDC).
EXPONENTS: Final = {
    "usd": 2,
    "eur": 2,
    "gbp": 2,
    "cad": 2,
    "aud": 2,
    "nzd": 2,
    "chf": 2,
    "sek": 2,
    "nok": 2,
    "dkk": 2,
    "pln": 2,
    "czk": 2,
    "mxn": 2,
    "brl": 2,
    "inr": 2,
    "sgd": 2,
    "hkd": 2,
    "cny": 2,
    "zar": 2,
    "jpy": 0,
    "krw": 0,
    "clp": 0,
    "vnd": 0,
    "bhd": 3,
    "kwd": 3,
    "jod": 3,
    "usdc": 6,
}


def is_payable(code: str) -> bool:
    """Whether a gateway can be asked to move ``code`` (credits never leave the ledger)."""
    return code in EXPONENTS
