"""Prefixed, sortable ids (``cus_01jd8x…``): a ULID behind a resource prefix.

48 bits of milliseconds then 80 random bits, in lowercase Crockford base32, so ids sort
by creation time as strings — keyset pagination orders by id alone. Within one process
and one millisecond the random part is incremented, so ids stay strictly increasing.
"""

from __future__ import annotations

import secrets
import threading
import time
from typing import Final

_ALPHABET: Final = "0123456789abcdefghjkmnpqrstvwxyz"
_RANDOM_BITS: Final = 80
_LENGTH: Final = 26


#: Every pair of digits (10 bits) spelled out: an id is 13 table lookups, not 26 divisions.
_PAIRS: Final = tuple(high + low for high in _ALPHABET for low in _ALPHABET)
_PAIR_SHIFTS: Final = tuple(range(_LENGTH * 5 - 10, -1, -10))


def _encode(value: int) -> str:
    """``value`` (below 2**130) as 26 base32 digits, most significant first."""
    return "".join([_PAIRS[(value >> shift) & 0x3FF] for shift in _PAIR_SHIFTS])


class _MonotonicUlids:
    """Hands out ULIDs that never go backwards within this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._last_random = 0

    def next(self) -> int:
        with self._lock:
            now_ms = time.time_ns() // 1_000_000
            if now_ms <= self._last_ms:
                now_ms = self._last_ms
                self._last_random = (self._last_random + 1) % (1 << _RANDOM_BITS)
            else:
                self._last_ms = now_ms
                self._last_random = secrets.randbits(_RANDOM_BITS)
            return (now_ms << _RANDOM_BITS) | self._last_random


_ulids: Final = _MonotonicUlids()


def new_id(prefix: str) -> str:
    """A new id such as ``cus_01jd8x7m3k…`` (prefix without the underscore)."""
    return f"{prefix}_{_encode(_ulids.next())}"


def has_prefix(value: str, prefix: str) -> bool:
    """Whether ``value`` looks like an id this service made with ``prefix``."""
    body = value.removeprefix(f"{prefix}_")
    return body != value and len(body) == _LENGTH and all(c in _ALPHABET for c in body)
