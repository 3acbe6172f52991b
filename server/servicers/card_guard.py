"""Refuse raw card numbers anywhere in a request, without ever echoing or logging them.

Only gateway tokens may reach the payments service (PCI scope stays with the gateways'
client-side libraries). Any string field, map key or value, at any depth, holding a
card-shaped, Luhn-valid number is reported as a field violation naming the field —
never the value.
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


def looks_like_card_number(text: str) -> bool:
    return any(_luhn(re.sub(r"[ -]", "", m.group())) for m in _CARD_SHAPED.finditer(text))


def _strings(message: Message, prefix: str = "") -> Iterator[tuple[str, str]]:
    for field, value in message.ListFields():
        path = f"{prefix}{field.name}"
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            entries: Any = value
            for key, item in entries.items():
                yield f"{path}[{key!r}]" if not looks_like_card_number(str(key)) else path, str(key)
                if isinstance(item, Message):
                    yield from _strings(item, f"{path}[{key!r}].")
                else:
                    yield f"{path}[{key!r}]", str(item)
        elif field.is_repeated:
            for index, item in enumerate(value):
                if isinstance(item, Message):
                    yield from _strings(item, f"{path}[{index}].")
                elif isinstance(item, str):
                    yield f"{path}[{index}]", item
        elif isinstance(value, Message):
            yield from _strings(value, f"{path}.")
        elif isinstance(value, str):
            yield path, value


def refuse_card_numbers(checks: Checks, request: Message) -> None:
    for path, text in _strings(request):
        if looks_like_card_number(text):
            checks.fail(
                path,
                "must not contain a card number: tokenize the card with the gateway's "
                "client-side library and send the token",
            )
