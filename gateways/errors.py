"""Why a gateway could not be asked, or could not answer (STYLE.md: raise for "could not ask").

A decline is not here: "asked and was told no" is data (``Outcome.DECLINED``). These
exceptions say what is known about the request's fate, which decides what is safe next:

- :class:`GatewayUnavailable` — nothing was sent (or the gateway refused before acting):
  trying another gateway is safe.
- :class:`OutcomeUnknown` — the request left; it may have taken effect. Only asking the
  same gateway again with the same idempotency key is safe.
- :class:`GatewayAuthError` — our credentials were refused; nothing happened.
"""

from __future__ import annotations

from typing import Final


class GatewayError(Exception):
    """Base of every "could not ask" error; ``gateway`` names the adapter."""

    def __init__(self, gateway: str, message: str) -> None:
        super().__init__(f"{gateway}: {message}")
        self.gateway = gateway
        self.message = message


class GatewayUnavailable(GatewayError):
    """Nothing was sent (connection refused, rate limited before acting): safe to fail over."""


class OutcomeUnknown(GatewayError):
    """Sent, but no answer (timeout, connection lost): reconcile with the same key."""


#: An adapter's OutcomeUnknown message when the gateway says our key was used before with
#: other parameters: the first request under it acted or not, which this answer hides.
KEY_REUSED: Final = (
    "the idempotency key was used before with other parameters: "
    "what that first request did is unknown"
)


class GatewayAuthError(GatewayError):
    """The gateway refused our credentials; an operator must fix the configuration."""


class GatewayRejected(GatewayError):
    """The gateway answered that the request itself is invalid (not a decline).

    ``code`` is the provider's error code, e.g. ``resource_missing``.
    """

    def __init__(self, gateway: str, message: str, *, code: str = "") -> None:
        super().__init__(gateway, message)
        self.code = code
