"""Why something failed, as the API's PaymentError shows it: one shape for every record.

Payment intents, refunds, wallet lines and credit purchases all keep the reason in
three columns (code, decline code, message) and hand it on as one :class:`LastError`,
so a declined deposit says ``card_declined`` / ``insufficient_funds`` exactly as the
payment that collected it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True, kw_only=True)
class LastError:
    code: str
    decline_code: str = ""
    message: str = ""


#: What the columns hold when nothing failed.
NO_ERROR: Final = LastError(code="")


def stored_error(code: str, decline_code: str, message: str) -> LastError | None:
    """The columns read back; None when they say nothing (a line that did not fail).
    Lines written before codes were kept have only a message: still an error."""
    if not (code or message):
        return None
    return LastError(code=code, decline_code=decline_code, message=message)


def error_columns(error: LastError | None) -> dict[str, str]:
    """The columns to write for ``error`` (all empty for None)."""
    error = error or NO_ERROR
    return {
        "error_code": error.code,
        "error_decline_code": error.decline_code,
        "error_message": error.message,
    }
