"""The names the simulator gives what it makes (``pi_sandbox_4fQx…``).

Random parts are base62, as Stripe's ids are, not hex: about one 24-digit hex token in
2,600 held a card-shaped run of 13 or more digits that passes the Luhn check, and the
service's card guard rightly refuses such a run as a pasted card number when the name
comes back in a request (a sandbox token did, in CI). In base62 such a run is about a
one-in-ten-billion event.
"""

from __future__ import annotations

import secrets
import string
from typing import Final

_ALPHABET: Final = string.ascii_letters + string.digits


def sandbox_ref(prefix: str, *, separator: str = "_", length: int = 16) -> str:
    """``prefix``, ``sandbox`` and ``length`` random base62 characters, joined."""
    return f"{prefix}{separator}sandbox{separator}{random_part(length)}"


def random_part(length: int) -> str:
    """``length`` random base62 characters (for names with a shape of their own)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
