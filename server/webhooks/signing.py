"""Standard Webhooks signatures (https://www.standardwebhooks.com): what endpoints verify.

``webhook-signature`` is ``v1,<base64 HMAC-SHA256>`` over ``id.timestamp.body`` keyed by
the base64-decoded part of the ``whsec_`` secret; several signatures are separated by
spaces (during a rotation both the new and the previous secret sign).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from typing import Final

SECRET_PREFIX: Final = "whsec_"  # noqa: S105  (a prefix, not a secret)
SECRET_BYTES: Final = 24


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_)


def headers(
    secrets_: Iterable[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The three Standard Webhooks headers for one POST."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(secrets_, message_id, timestamp, body),
    }


def verify(secret: str, message_id: str, timestamp: int, body: bytes, header: str) -> bool:
    """Whether any ``v1`` signature in ``header`` is ours (constant-time per candidate)."""
    expected = sign(secret, message_id, timestamp, body).encode()
    found = False
    for candidate in header.split(" "):
        if hmac.compare_digest(candidate.encode(), expected):
            found = True
    return found
