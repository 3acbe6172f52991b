"""Payment-specific domain errors, each with the stable reason API.md names."""

from __future__ import annotations

from server.errors import DomainError, ErrorKind


class GatewayUnavailableError(DomainError):
    """No capable gateway took the call; nothing happened. Retry with the same key."""

    kind = ErrorKind.UNAVAILABLE
    default_reason = "GATEWAY_UNAVAILABLE"


class GatewayOutcomeUnknown(DomainError):
    """The call reached a gateway but its answer was lost; a retry with the same key
    reconciles it (never a second charge)."""

    kind = ErrorKind.UNAVAILABLE
    default_reason = "GATEWAY_ERROR"


class CapabilityMissing(DomainError):
    kind = ErrorKind.FAILED_PRECONDITION
    default_reason = "GATEWAY_CAPABILITY_MISSING"


class AmountTooLarge(DomainError):
    kind = ErrorKind.FAILED_PRECONDITION
    default_reason = "AMOUNT_TOO_LARGE"


class SandboxOnly(DomainError):
    kind = ErrorKind.FAILED_PRECONDITION
    default_reason = "SANDBOX_ONLY"


class GatewayRefused(DomainError):
    """The gateway refused the request itself (not a decline): fix the request."""

    kind = ErrorKind.INVALID_INPUT
    default_reason = "GATEWAY_REJECTED"


class CardDeclined(DomainError):
    kind = ErrorKind.INVALID_INPUT
    default_reason = "CARD_DECLINED"


class ResourceBusy(DomainError):
    """Another call on the same resource is talking to the gateway: retry shortly."""

    kind = ErrorKind.ABORTED
    default_reason = "RESOURCE_BUSY"


class NotYetApplicable(DomainError):
    """A gateway event that cannot be applied yet (what it is about has not reached the
    state it needs here): the relay marks it FAILED and applies it again later."""

    kind = ErrorKind.UNAVAILABLE
    default_reason = "NOT_YET_APPLICABLE"
