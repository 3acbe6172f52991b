"""Refuse raw card numbers anywhere in a request, without ever echoing or logging them
(and control characters, which no field may hold).

Only gateway tokens may reach the payments service (PCI scope stays with the gateways'
client-side libraries). Any string field, map key or value, at any depth, holding a
card-shaped, Luhn-valid number is reported as a field violation naming the field —
never the value.

Identifiers (idempotency keys, ``*_id`` fields, page tokens) are machine-made: a digit
run inside one that touches a letter is part of the identifier, not a pasted card
(about one ``uuid4().hex`` key in a thousand holds a Luhn-valid issuer-prefixed run,
and a key refused once is refused on every retry). In free text the guard stays strict.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from google.protobuf.message import Message

from server.servicers.support import Checks

#: Where card numbers start: Mastercard's 2-series (22-27), Amex, Diners and JCB (30,
#: 34-39), and every 4, 5 and 6 (Visa, Mastercard, Maestro, Discover, UnionPay). Keys
#: stamped with a date (20xx, 21xx) and 31-33 are no issuer's, so never taken for cards.
_ISSUER: Final = r"(?:2[2-7]|3[04-9]|[4-6]\d)"
#: A card-shaped run: 13-19 digits from an issuer's prefix, either contiguous or in the
#: printed groupings (4-4-4-4[-1..3], Amex 4-6-5) with one space or dash, and no digit
#: right before or after (so longer numeric ids and keys are not mistaken for cards).
_CARD_SHAPED: Final = re.compile(
    r"(?<!\d)(?:"
    rf"{_ISSUER}\d{{11,17}}"
    rf"|{_ISSUER}\d{{2}}([ -])\d{{4}}\1\d{{4}}\1\d{{4}}(?:\1?\d{{1,3}})?"
    r"|3[47]\d{2}([ -])\d{6}\2\d{5}"
    r")(?!\d)"
)


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def looks_like_card_number(text: str, *, identifier: bool = False) -> bool:
    """Whether ``text`` holds a card number; in an ``identifier``, only a run that no
    letter touches counts (``order-4242424242424242`` does, a hex key's digits do not)."""
    for match in _CARD_SHAPED.finditer(text):
        if identifier and _touches_letter(text, match.start(), match.end()):
            continue
        if _luhn(re.sub(r"[ -]", "", match.group())):
            return True
    return False


def _touches_letter(text: str, start: int, end: int) -> bool:
    return (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())


def _is_identifier(name: str) -> bool:
    return name in _IDENTIFIER_FIELDS or name.endswith("_id")


_IDENTIFIER_FIELDS: Final = frozenset({"id", "idempotency_key", "page_token"})


def _strings(message: Message, prefix: str = "") -> Iterator[tuple[str, str, bool]]:
    """Every string in ``message``: its path, its value, whether it is an identifier."""
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entries: Any = value
            for key, item in entries.items():
                yield (
                    f"{path}[{key!r}]" if not looks_like_card_number(str(key)) else path,
                    str(key),
                    False,
                )
                if isinstance(item, Message):
                    yield from _strings(item, f"{path}[{key!r}].")
                else:
                    yield f"{path}[{key!r}]", str(item), False
        elif field.is_repeated:
            for index, item in enumerate(value):
                if isinstance(item, Message):
                    yield from _strings(item, f"{path}[{index}].")
                elif isinstance(item, str):
                    yield f"{path}[{index}]", item, _is_identifier(field.name)
        elif isinstance(value, Message):
            yield from _strings(value, f"{path}.")
        elif isinstance(value, str):
            yield path, value, _is_identifier(field.name)


#: Control characters (tab, line feed and carriage return aside): PostgreSQL cannot
#: store NUL in text at all, and none belongs in a name, a key, a URL or metadata.
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def refuse_unsafe_strings(checks: Checks, request: Message) -> None:
    """Card numbers and control characters, in one walk over the request's strings."""
    for path, text, identifier in _strings(request):
        if looks_like_card_number(text, identifier=identifier):
            checks.fail(
                path,
                "must not contain a card number: tokenize the card with the gateway's "
                "client-side library and send the token",
            )
        elif _CONTROL.search(text):
            checks.fail(path, "must not contain control characters (such as NUL)")
