"""Currencies the ledger accepts: lowercase ISO 4217 codes and ``credits``."""

from __future__ import annotations

from server.currencies import is_payable
from store.ledger import CREDITS


def is_known_currency(code: str) -> bool:
    return code == CREDITS or is_payable(code)
