"""Credit packages for sale: the defaults, or the operator's list (``ISA_CREDIT_PACKAGES``).

``ISA_CREDIT_PACKAGES`` is a JSON list of objects with ``id``, ``name``, ``credits``,
``price`` (minor units), ``currency`` and optionally ``validity_days`` and ``active``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Final

from server.errors import ConfigError
from server.ledger.money import is_known_currency


@dataclass(frozen=True, slots=True, kw_only=True)
class CreditPackage:
    id: str
    name: str
    credits: int
    price: int  # minor units of currency
    currency: str
    validity: dt.timedelta | None = None  # purchased credits never expire when None
    active: bool = True


DEFAULT_PACKAGES: Final = (
    CreditPackage(id="credits_100", name="Starter", credits=100, price=1_000, currency="usd"),
    CreditPackage(id="credits_500", name="Standard", credits=500, price=4_500, currency="usd"),
    CreditPackage(id="credits_1000", name="Pro", credits=1_000, price=8_000, currency="usd"),
    CreditPackage(
        id="credits_5000", name="Enterprise", credits=5_000, price=35_000, currency="usd"
    ),
)


def parse_packages(raw: str) -> tuple[CreditPackage, ...]:
    """The configured packages, smallest first; the defaults when ``raw`` is empty."""
    if not raw.strip():
        return DEFAULT_PACKAGES
    try:
        entries = json.loads(raw)
        if not isinstance(entries, list) or not entries:
            raise ValueError("expected a non-empty JSON list")
        packages = tuple(_package(entry) for entry in entries)
    except (ValueError, TypeError, KeyError) as error:
        raise ConfigError(f"ISA_CREDIT_PACKAGES is not a valid package list: {error}") from None
    ids = [package.id for package in packages]
    if len(set(ids)) != len(ids):
        raise ConfigError("ISA_CREDIT_PACKAGES repeats a package id")
    return tuple(sorted(packages, key=lambda package: (package.credits, package.id)))


def _package(entry: Any) -> CreditPackage:
    if not isinstance(entry, dict):
        raise ValueError("each package must be a JSON object")
    credits, price = int(entry["credits"]), int(entry["price"])
    currency = str(entry.get("currency", "usd"))
    if credits <= 0 or price <= 0 or not is_known_currency(currency):
        raise ValueError(f"package {entry.get('id')!r}: credits and price must be positive")
    days = entry.get("validity_days")
    return CreditPackage(
        id=str(entry["id"]),
        name=str(entry.get("name", entry["id"])),
        credits=credits,
        price=price,
        currency=currency,
        validity=None if days is None else dt.timedelta(days=int(days)),
        active=bool(entry.get("active", True)),
    )
