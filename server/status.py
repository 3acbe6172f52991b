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

# gRPC clients refuse a response whose headers and trailers pass 8 KiB (grpc-core's soft
# limit): the caller then sees RESOURCE_EXHAUSTED "Stream removed", not our status. An
# error echoes what was sent (a 5,000-character metadata key, an unknown event type),
# so what goes on the wire is bounded: the message is percent-encoded in
# ``grpc-message`` (up to 3 bytes a byte), the details base64 in
# ``grpc-status-details-bin`` (4 bytes every 3).
#: UTF-8 bytes of the human message.
MAX_MESSAGE_BYTES: Final = 600
#: Serialized bytes of ErrorInfo and BadRequest together.
MAX_DETAILS_BYTES: Final = 3_000
#: Characters of one field path, one violation's description, one metadata value.
MAX_FIELD_CHARS: Final = 120
MAX_DESCRIPTION_CHARS: Final = 240
MAX_METADATA_VALUE_CHARS: Final = 256
_ELLIPSIS: Final = "…"

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
    """A status whose details carry ErrorInfo (and BadRequest when given), bounded in
    size so that it reaches the caller whatever the request held."""
    info = error_details_pb2.ErrorInfo(
        reason=reason,
        domain=ERROR_DOMAIN,
        metadata={
            key: _clip(value, MAX_METADATA_VALUE_CHARS) for key, value in (metadata or {}).items()
        },
    )
    details = [_packed(info)]
    if bad_request is not None:
        details.append(_packed(_fitted(bad_request, MAX_DETAILS_BYTES - info.ByteSize())))
    status = status_pb2.Status(
        code=code.value[0], message=_clip_bytes(message, MAX_MESSAGE_BYTES), details=details
    )
    converted: grpc.Status = rpc_status.to_status(status)
    return converted


def status_for(error: DomainError) -> grpc.Status:
    bad_request = None
    if isinstance(error, InvalidInput):
        bad_request = error_details_pb2.BadRequest(
            field_violations=[
                error_details_pb2.BadRequest.FieldViolation(
                    field=_clip(v.field, MAX_FIELD_CHARS),
                    description=_clip(v.description, MAX_DESCRIPTION_CHARS),
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


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def _clip_bytes(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes at a character boundary, marked."""
    encoded = text.encode()
    if len(encoded) <= limit:
        return text
    room = limit - len(_ELLIPSIS.encode())
    return encoded[:room].decode(errors="ignore") + _ELLIPSIS


def _fitted(bad_request: error_details_pb2.BadRequest, budget: int) -> error_details_pb2.BadRequest:
    """The first violations that fit in ``budget`` bytes, and a last one saying how many
    more there were: the caller fixes the first ones and learns of the rest next time."""
    if bad_request.ByteSize() <= budget:
        return bad_request
    marker_room = 64
    fitted = error_details_pb2.BadRequest()
    for violation in bad_request.field_violations:
        fitted.field_violations.append(violation)
        if fitted.ByteSize() > budget - marker_room:
            del fitted.field_violations[-1]
            break
    left_out = len(bad_request.field_violations) - len(fitted.field_violations)
    fitted.field_violations.add(field="", description=f"and {left_out} more violations, not shown")
    return fitted
