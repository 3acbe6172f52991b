"""The one mapping from domain errors to gRPC status with rich details (AIP-193)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from server.errors import DomainError, ErrorKind, InvalidInput

ERROR_DOMAIN: Final = "isa.payments"

_CODES: Final = {
    ErrorKind.INVALID_INPUT: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorKind.ALREADY_EXISTS: grpc.StatusCode.ALREADY_EXISTS,
    ErrorKind.FAILED_PRECONDITION: grpc.StatusCode.FAILED_PRECONDITION,
    ErrorKind.ABORTED: grpc.StatusCode.ABORTED,
    ErrorKind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorKind.UNIMPLEMENTED: grpc.StatusCode.UNIMPLEMENTED,
}


def _packed(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def rich_status(
    code: grpc.StatusCode,
    reason: str,
    message: str,
    *,
    metadata: Mapping[str, str] | None = None,
    bad_request: error_details_pb2.BadRequest | None = None,
) -> grpc.Status:
    """A status whose details carry ErrorInfo (and BadRequest when given)."""
    details = [
        _packed(
            error_details_pb2.ErrorInfo(
                reason=reason, domain=ERROR_DOMAIN, metadata=dict(metadata or {})
            )
        )
    ]
    if bad_request is not None:
        details.append(_packed(bad_request))
    status = status_pb2.Status(code=code.value[0], message=message, details=details)
    converted: grpc.Status = rpc_status.to_status(status)
    return converted


def status_for(error: DomainError) -> grpc.Status:
    bad_request = None
    if isinstance(error, InvalidInput):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=v.field, description=v.description
                )
                for v in error.violations
            ]
        )
    return rich_status(
        _CODES[error.kind],
        error.reason,
        error.message,
        metadata=error.metadata,
        bad_request=bad_request,
    )


def internal_status(correlation_id: str) -> grpc.Status:
    """What a caller sees of a bug: a code, a correlation id, and nothing of the cause."""
    return rich_status(
        grpc.StatusCode.INTERNAL,
        "INTERNAL",
        f"internal error; quote correlation id {correlation_id} to the payments team",
        metadata={"correlation_id": correlation_id},
    )
