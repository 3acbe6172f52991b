"""What every servicer shares: request checks, idempotent execution, wire conversions."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Final, TypeVar
from urllib.parse import urlsplit

from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from server.context import caller
from server.errors import FieldViolation, InvalidInput
from server.idempotency import Idempotency, IdempotentCall
from server.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Page, PageRequest

M = TypeVar("M", bound=Message)
T = TypeVar("T")

MAX_IDEMPOTENCY_KEY_LENGTH: Final = 255
MAX_METADATA_KEYS: Final = 50
MAX_METADATA_KEY_LENGTH: Final = 40
MAX_METADATA_VALUE_LENGTH: Final = 500
_PRINTABLE: Final = re.compile(r"^[\x21-\x7e]+$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURSOR_PREFIX: Final = "p1:"
#: A Timestamp's valid range (0001-01-01 to 9999-12-31, UTC), as protobuf defines it.
_TIMESTAMP_SECONDS: Final = range(-62_135_596_800, 253_402_300_800)
#: A Duration's valid range (about ±10,000 years), as protobuf defines it.
_DURATION_SECONDS: Final = range(-315_576_000_000, 315_576_000_001)
_NANOS: Final = 1_000_000_000


class Checks:
    """Collects every field violation of a request, then raises them together."""

    def __init__(self) -> None:
        self._violations: list[FieldViolation] = []

    def fail(self, field: str, description: str) -> None:
        self._violations.append(FieldViolation(field, description))

    def text(self, field: str, value: str, *, max_length: int, required: bool = False) -> str:
        if required and not value.strip():
            self.fail(field, "is required")
        elif len(value) > max_length:
            self.fail(field, f"must be at most {max_length} characters")
        return value

    def web_url(self, field: str, value: str, *, required: bool = False) -> str:
        """An absolute http(s) URL a browser is sent to (return, success, cancel pages):
        a typo here strands the payer after paying, so it is refused up front."""
        if value:
            parts = urlsplit(value)
            if parts.scheme not in {"http", "https"} or not parts.netloc:
                self.fail(field, "must be an absolute http or https URL")
        return self.text(field, value, max_length=2000, required=required)

    def known_enum(self, field: str, value: int, known: Collection[int]) -> int:
        """An enum value this server knows; a newer client's value is refused rather
        than read as the default."""
        if value not in known:
            self.fail(field, f"{value} is not a known value")
        return value

    def email(self, field: str, value: str, *, required: bool = False) -> str:
        if value and not _EMAIL.match(value):
            self.fail(field, "must be an email address such as name@example.com")
        return self.text(field, value, max_length=320, required=required)

    def metadata(self, field: str, value: Mapping[str, str]) -> dict[str, str]:
        """Stripe's limits: 50 keys, keys up to 40 characters, values up to 500."""
        if len(value) > MAX_METADATA_KEYS:
            self.fail(field, f"may hold at most {MAX_METADATA_KEYS} keys")
        for key, item in value.items():
            if not key or len(key) > MAX_METADATA_KEY_LENGTH:
                self.fail(
                    f"{field}[{key!r}]", f"keys must be 1 to {MAX_METADATA_KEY_LENGTH} characters"
                )
            if len(item) > MAX_METADATA_VALUE_LENGTH:
                self.fail(
                    f"{field}[{key!r}]",
                    f"values must be at most {MAX_METADATA_VALUE_LENGTH} characters",
                )
        return dict(value)

    def time(self, field: str, stamp: Timestamp) -> dt.datetime | None:
        """The instant a Timestamp names, or None (a violation) when it is not a valid
        Timestamp: protobuf's own conversion raises on those, which would be INTERNAL."""
        if stamp.seconds not in _TIMESTAMP_SECONDS or not 0 <= stamp.nanos < _NANOS:
            self.fail(field, "is not a valid timestamp (years 0001 to 9999, nanos 0 to 999999999)")
            return None
        return stamp.ToDatetime(dt.UTC)

    def duration(self, field: str, span: Duration) -> dt.timedelta | None:
        """The span a Duration names, or None (a violation) when it is not a valid
        Duration (out of range, or nanos of the wrong sign or size)."""
        sign_differs = (span.seconds > 0 and span.nanos < 0) or (span.seconds < 0 < span.nanos)
        if span.seconds not in _DURATION_SECONDS or abs(span.nanos) >= _NANOS or sign_differs:
            self.fail(
                field,
                "is not a valid duration (at most 10,000 years; nanos below 1e9, "
                "of the seconds' sign)",
            )
            return None
        return span.ToTimedelta()

    def idempotency_key(self, value: str, *, required: bool) -> str:
        if not value:
            if required:
                self.fail("idempotency_key", "is required: money moves on this call")
        elif len(value) > MAX_IDEMPOTENCY_KEY_LENGTH or not _PRINTABLE.match(value):
            self.fail(
                "idempotency_key",
                f"must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters, no spaces",
            )
        return value

    def resource_id(self, field: str, value: str, *, prefix: str) -> str:
        if not value:
            self.fail(field, f"is required (an id starting with '{prefix}_')")
        elif not value.startswith(f"{prefix}_") or len(value) > 64:
            self.fail(field, f"must be an id starting with '{prefix}_'")
        return value

    def page(self, page_size: int, page_token: str) -> PageRequest:
        if page_size < 0 or page_size > MAX_PAGE_SIZE:
            self.fail(
                "page_size", f"must be between 0 and {MAX_PAGE_SIZE} (0 means {DEFAULT_PAGE_SIZE})"
            )
            page_size = DEFAULT_PAGE_SIZE
        before_id = None
        if page_token:
            before_id = decode_page_token(page_token)
            if before_id is None:
                self.fail("page_token", "is not a token this service returned")
        return PageRequest(size=page_size or DEFAULT_PAGE_SIZE, before_id=before_id)

    def raise_if_any(self) -> None:
        if self._violations:
            raise InvalidInput(self._violations)


def encode_page_token(before_id: str | None) -> str:
    if before_id is None:
        return ""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{before_id}".encode()).decode().rstrip("=")


#: Bytes of a List response's items: gRPC clients refuse a message over 4 MiB unless
#: told otherwise (RESOURCE_EXHAUSTED, and the page is lost), and 500 gateway events of
#: a few KiB each, or records carrying full metadata, pass that.
MAX_PAGE_BYTES: Final = 3 * 1024 * 1024
#: What a repeated field adds to each item beyond the item: its tag and length prefix.
_ITEM_OVERHEAD_BYTES: Final = 6


def page_messages(page: Page[T], to_message: Callable[[T], M]) -> tuple[list[M], str]:
    """A page's items as messages and the token of the next page, stopping short of
    :data:`MAX_PAGE_BYTES` (one item always goes out): the rest follows on the next
    page instead of the whole response being refused by the caller's channel."""
    messages: list[M] = []
    total = 0
    for item in page.items:
        message = to_message(item)
        total += message.ByteSize() + _ITEM_OVERHEAD_BYTES
        if messages and total > MAX_PAGE_BYTES:
            return messages, encode_page_token(page.first(len(messages)).next_before_id)
        messages.append(message)
    return messages, encode_page_token(page.next_before_id)


def decode_page_token(token: str) -> str | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith(_CURSOR_PREFIX) or len(raw) > 100:
        return None
    return raw[len(_CURSOR_PREFIX) :] or None


_EPOCH: Final = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH: Final = dt.datetime(1970, 1, 1)


def set_timestamp(stamp: Timestamp, value: dt.datetime) -> None:
    """``stamp`` = ``value``, as ``Timestamp.FromDatetime`` sets it (a naive time is UTC),
    by integer arithmetic on the time since the epoch instead of its calendar fields."""
    since = value - (_NAIVE_EPOCH if value.tzinfo is None else _EPOCH)
    stamp.seconds = since.days * 86400 + since.seconds
    stamp.nanos = since.microseconds * 1000


def timestamp(value: dt.datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    set_timestamp(stamp, value)
    return stamp


def request_hash(request: Message) -> str:
    """The request's fingerprint without its idempotency key, stable across runs.

    The key is taken out of the request itself for the moment it is serialized, and put
    back (no copy of the whole request; nothing else runs in between).
    """
    key = getattr(request, "idempotency_key", "")
    if not key or "idempotency_key" not in request.DESCRIPTOR.fields_by_name:
        return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()
    request.ClearField("idempotency_key")
    try:
        return hashlib.sha256(request.SerializeToString(deterministic=True)).hexdigest()
    finally:
        setattr(request, "idempotency_key", key)  # noqa: B010  # any request type


def idempotent_call(request: Message, key: str) -> IdempotentCall | None:
    """Who asks, with which key, for what; None when the caller sent no key."""
    if not key:
        return None
    return IdempotentCall(
        client_id=caller().id,
        key=key,
        method=request.DESCRIPTOR.full_name,
        request_hash=request_hash(request),
    )


async def run_idempotent(
    idempotency: Idempotency,
    request: Message,
    key: str,
    response_type: type[M],
    effect: Callable[[AsyncSession], Awaitable[M]],
) -> M:
    """Run ``effect`` under the caller's idempotency key (plainly when none was sent)
    and answer with the response it produced, or the one the first call stored."""
    return await idempotency.run(
        idempotent_call(request, key),
        effect,
        encode=lambda response: response.SerializeToString(deterministic=True),
        decode=response_type.FromString,
    )
