"""Error mapping: domain errors, deadlines and bugs each become the right status."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import urllib.parse
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from server.errors import FieldViolation, InvalidInput, InvalidState, NotFound
from server.interceptors import mapping_errors


class Aborted(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Ended:
    """How the call ended: what ``abort`` was given."""

    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, str | bytes], ...]


class FakeContext:
    """Just what the error mapping touches of grpc.aio.ServicerContext."""

    def __init__(self, time_remaining: float | None = None) -> None:
        self._remaining = time_remaining
        self.status: Ended | None = None

    def time_remaining(self) -> float | None:
        return self._remaining

    async def abort(self, code: grpc.StatusCode, details: str, trailing_metadata: Any = ()) -> None:
        self.status = Ended(code, details, tuple(trailing_metadata))
        raise Aborted


def details_of(status: Ended) -> tuple[status_pb2.Status, error_details_pb2.ErrorInfo]:
    raw = dict(status.trailing_metadata)["grpc-status-details-bin"]
    rich = status_pb2.Status.FromString(raw)
    info = error_details_pb2.ErrorInfo()
    rich.details[0].Unpack(info)
    return rich, info


async def run(behavior: Any, context: FakeContext) -> None:
    with pytest.raises(Aborted):
        await mapping_errors(behavior, object(), context)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "code", "reason"),
    [
        (NotFound("customer", "cus_1"), grpc.StatusCode.NOT_FOUND, "NOT_FOUND"),
        (InvalidState("already captured"), grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE"),
        (
            InvalidInput([FieldViolation("amount", "must be positive")]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "INVALID_ARGUMENT",
        ),
    ],
)
async def test_domain_errors_map_to_code_and_reason(
    error: Exception, code: grpc.StatusCode, reason: str
) -> None:
    async def behavior(_request: object, _context: object) -> None:
        raise error

    context = FakeContext()
    await run(behavior, context)
    assert context.status is not None
    assert context.status.code == code
    rich, info = details_of(context.status)
    assert info.reason == reason
    assert info.domain == "isa.payments"
    if isinstance(error, InvalidInput):
        bad = error_details_pb2.BadRequest()
        rich.details[1].Unpack(bad)
        assert [(v.field, v.description) for v in bad.field_violations] == [
            ("amount", "must be positive")
        ]


async def test_a_bug_is_internal_with_a_correlation_id_and_no_detail(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def behavior(_request: object, _context: object) -> None:
        raise RuntimeError("secret internals: password=hunter2")

    context = FakeContext()
    with caplog.at_level(logging.ERROR, logger="isa.rpc"):
        await run(behavior, context)
    assert context.status is not None
    assert context.status.code == grpc.StatusCode.INTERNAL
    assert "hunter2" not in context.status.details
    _, info = details_of(context.status)
    correlation_id = info.metadata["correlation_id"]
    assert correlation_id in context.status.details
    (record,) = caplog.records
    assert record.correlation_id == correlation_id  # type: ignore[attr-defined]
    assert record.exc_info is not None


async def test_the_deadline_is_honoured() -> None:
    async def behavior(_request: object, _context: object) -> None:
        await asyncio.sleep(5)

    context = FakeContext(time_remaining=0.05)
    await run(behavior, context)
    assert context.status is not None
    assert context.status.code == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_a_timeout_inside_the_call_is_not_mistaken_for_the_deadline() -> None:
    async def behavior(_request: object, _context: object) -> None:
        raise TimeoutError("some library timed out")

    context = FakeContext(time_remaining=30)
    await run(behavior, context)
    assert context.status is not None
    assert context.status.code == grpc.StatusCode.INTERNAL


async def test_a_cancellation_from_outside_is_not_mistaken_for_the_deadline() -> None:
    started = asyncio.Event()

    async def behavior(_request: object, _context: object) -> None:
        started.set()
        await asyncio.Event().wait()  # until cancelled

    context = FakeContext(time_remaining=30)
    task = asyncio.create_task(mapping_errors(behavior, object(), context))  # type: ignore[arg-type]
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert context.status is None


async def test_after_the_deadline_the_task_is_not_left_cancelling() -> None:
    async def behavior(_request: object, _context: object) -> None:
        await asyncio.Event().wait()  # until the deadline cancels it

    async def call() -> int:
        with pytest.raises(Aborted):
            await mapping_errors(behavior, object(), context)  # type: ignore[arg-type]
        return asyncio.current_task().cancelling()  # type: ignore[union-attr]

    context = FakeContext(time_remaining=0.02)
    assert await asyncio.create_task(call()) == 0
    assert context.status is not None
    assert context.status.code == grpc.StatusCode.DEADLINE_EXCEEDED


async def refused(
    error: InvalidInput,
) -> tuple[Ended, status_pb2.Status, error_details_pb2.BadRequest]:
    """How a call raising ``error`` ends: the abort, its rich status and its BadRequest."""

    async def refuse(_request: object, _context: object) -> None:
        raise error

    context = FakeContext()
    await run(refuse, context)
    assert context.status is not None
    rich, info = details_of(context.status)
    assert info.reason == "INVALID_ARGUMENT"
    bad = error_details_pb2.BadRequest()
    rich.details[1].Unpack(bad)
    return context.status, rich, bad


async def test_a_status_stays_under_grpc_trailer_limits_whatever_the_input_held() -> None:
    """grpc-core refuses trailers over 8 KiB (the caller would get RESOURCE_EXHAUSTED):
    the message is percent-encoded on the wire, the details base64."""
    huge = "é" * 5000
    ended, rich, bad = await refused(
        InvalidInput(
            [
                FieldViolation(f"metadata['{huge}{index}']", f"unknown gateway '{huge}'")
                for index in range(100)
            ]
        )
    )
    message_on_wire = urllib.parse.quote(ended.details, safe=" ")
    details_on_wire = base64.b64encode(rich.SerializeToString())
    assert len(message_on_wire) + len(details_on_wire) < 8192 - 512  # room for the rest
    assert ended.details == rich.message
    assert rich.message.endswith("…")
    *shown, marker = bad.field_violations
    assert shown
    assert all(len(v.field) <= 120 and len(v.description) <= 240 for v in shown)
    assert shown[0].field.startswith("metadata['é")
    assert shown[0].field.endswith("…")
    assert marker.description == f"and {100 - len(shown)} more violations, not shown"


async def test_a_small_status_is_left_as_it_was() -> None:
    ended, _, bad = await refused(InvalidInput([FieldViolation("amount", "must be positive")]))
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("amount", "must be positive")
    ]
    assert ended.details == "invalid request: amount: must be positive"
