"""Currencies the ledger accepts: lowercase ISO 4217 codes and ``credits``."""

from __future__ import annotations

from typing import Final

from store.ledger import CREDITS

#: Minor-unit exponent per currency (ISO 4217); ``credits`` are whole units.
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
    CREDITS: 0,
}


def is_known_currency(code: str) -> bool:
    return code in EXPONENTS
