"""Error mapping: domain errors, deadlines and bugs each become the right status."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
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
