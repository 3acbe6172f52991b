"""Domain errors, classified by what the caller should do about them.

The domain raises these and knows nothing of gRPC; ``server.status`` is the one place
that turns them into a status code with ``google.rpc.ErrorInfo`` / ``BadRequest``.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar


class ErrorKind(enum.Enum):
    """What the caller should do; each kind maps to exactly one gRPC code."""

    INVALID_INPUT = "fix the request"
    NOT_FOUND = "check the id"
    ALREADY_EXISTS = "use another key or fetch the existing resource"
    FAILED_PRECONDITION = "change the resource's state first"
    ABORTED = "retry the same request"
    UNAVAILABLE = "retry later, with backoff"
    UNIMPLEMENTED = "not available yet"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One bad field of a request: the path as the caller wrote it, and why."""

    field: str
    description: str


class DomainError(Exception):
    """An error the caller can act on; ``reason`` is stable, ``message`` is for humans."""

    kind: ClassVar[ErrorKind] = ErrorKind.FAILED_PRECONDITION
    default_reason: ClassVar[str] = "FAILED_PRECONDITION"

    def __init__(
        self,
        message: str,
        *,
        reason: str | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason or self.default_reason
        self.metadata: dict[str, str] = dict(metadata or {})


class InvalidInput(DomainError):
    kind = ErrorKind.INVALID_INPUT
    default_reason = "INVALID_ARGUMENT"

    def __init__(self, violations: Iterable[FieldViolation], message: str | None = None) -> None:
        self.violations = tuple(violations)
        summary = "; ".join(f"{v.field}: {v.description}" for v in self.violations)
        super().__init__(message or f"invalid request: {summary}")


class NotFound(DomainError):
    kind = ErrorKind.NOT_FOUND
    default_reason = "NOT_FOUND"

    def __init__(self, resource: str, resource_id: str, *, by: str = "") -> None:
        """``by`` names the field looked up when it is not the resource's id
        (``owner_id``): "no wallet with owner_id 'x'", not "wallet 'x' not found"."""
        if by:
            super().__init__(
                f"no {resource} with {by} {resource_id!r}",
                metadata={"resource": resource, by: resource_id},
            )
            return
        super().__init__(
            f"{resource} {resource_id!r} not found",
            metadata={"resource": resource, "id": resource_id},
        )


class InvalidState(DomainError):
    kind = ErrorKind.FAILED_PRECONDITION
    default_reason = "INVALID_STATE"


class AlreadyExists(DomainError):
    kind = ErrorKind.ALREADY_EXISTS
    default_reason = "ALREADY_EXISTS"


class InsufficientFunds(DomainError):
    """The wallet's available balance cannot cover the amount; nothing moved."""

    default_reason = "INSUFFICIENT_FUNDS"


class InsufficientCredits(DomainError):
    """The owner's available credits cannot cover the amount; nothing was spent."""

    default_reason = "INSUFFICIENT_CREDITS"


class IdempotencyKeyReused(DomainError):
    kind = ErrorKind.ALREADY_EXISTS
    default_reason = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUse(DomainError):
    kind = ErrorKind.ABORTED
    default_reason = "IDEMPOTENCY_KEY_IN_USE"


class StoreUnavailable(DomainError):
    kind = ErrorKind.UNAVAILABLE
    default_reason = "STORE_UNAVAILABLE"


class NotYetAvailable(DomainError):
    """A capability that a later release delivers; said plainly, never faked."""

    kind = ErrorKind.UNIMPLEMENTED
    default_reason = "NOT_IMPLEMENTED"


class ConfigError(Exception):
    """The service cannot start with this configuration."""
