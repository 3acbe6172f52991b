"""The row registry: one entry per measured call, so a new row is one ``Row(...)``.

A row names the RPC it drives, how to build the request for call number ``index`` and,
optionally, a setup that runs in the load process before warm-up (creating what the
calls read) and returns *fixtures*: the strings the request factory needs.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from isa.payment.v1 import payment_service_pb2 as payment

R = TypeVar("R", bound=Message)
R_co = TypeVar("R_co", bound=Message, covariant=True)

#: Strings a setup hands to the request factory (ids it created, a run-unique prefix).
Fixtures = Mapping[str, str]

#: Deadline of every call; a call that exceeds it is an error, never a hang.
CALL_TIMEOUT_SECONDS: Final = 10.0
#: How many setup calls run at once when a setup creates many resources.
SETUP_CONCURRENCY: Final = 16


@dataclass(frozen=True, slots=True)
class Rpc(Generic[R_co]):
    """A unary method: its path and response type (the request type is the caller's)."""

    path: str
    response: type[R_co]


HEALTH_CHECK: Final = Rpc("/grpc.health.v1.Health/Check", health_pb2.HealthCheckResponse)
CREATE_CUSTOMER: Final = Rpc(
    "/isa.payment.v1.PaymentService/CreateCustomer", payment.CreateCustomerResponse
)
GET_CUSTOMER: Final = Rpc("/isa.payment.v1.PaymentService/GetCustomer", payment.GetCustomerResponse)
LIST_CUSTOMERS: Final = Rpc(
    "/isa.payment.v1.PaymentService/ListCustomers", payment.ListCustomersResponse
)


def serialize(message: Message) -> bytes:
    return message.SerializeToString()


class Caller:
    """Setup's way to call the server: the same channel, token and deadline as the load."""

    def __init__(self, channel: grpc.aio.Channel, metadata: tuple[tuple[str, str], ...]) -> None:
        self._channel = channel
        self._metadata = metadata

    async def call(self, rpc: Rpc[R], request: Message) -> R:
        method = self._channel.unary_unary(
            rpc.path, request_serializer=serialize, response_deserializer=rpc.response.FromString
        )
        response: R = await method(request, metadata=self._metadata, timeout=CALL_TIMEOUT_SECONDS)
        return response

    async def call_many(self, rpc: Rpc[R], requests: list[Message]) -> list[R]:
        """Many setup calls, a few at a time, so a large setup stays short."""
        limit = asyncio.Semaphore(SETUP_CONCURRENCY)

        async def one(request: Message) -> R:
            async with limit:
                return await self.call(rpc, request)

        return list(await asyncio.gather(*(one(request) for request in requests)))


Setup = Callable[[Caller], Awaitable[Fixtures]]
RequestFactory = Callable[[int, Fixtures], Message]


@dataclass(frozen=True, slots=True)
class Row:
    """One measured call. ``compare_workers`` rows are run again under ``--workers 2``."""

    name: str
    rpc: Rpc[Message]
    request: RequestFactory
    setup: Setup | None = None
    compare_workers: bool = False


def new_customer(prefix: str, index: int, *, idempotent: bool) -> payment.CreateCustomerRequest:
    """A valid, unique customer; ``prefix`` keeps runs and server starts apart."""
    return payment.CreateCustomerRequest(
        external_ref=f"bench-{prefix}-{index}",
        email=f"bench-{prefix}-{index}@example.com",
        name=f"Bench Customer {index}",
        metadata={"source": "bench"},
        idempotency_key=f"bench-{prefix}-{index}" if idempotent else "",
    )


async def run_prefix(_caller: Caller) -> Fixtures:
    return {"prefix": uuid.uuid4().hex[:12]}


async def one_customer(caller: Caller) -> Fixtures:
    created = await caller.call(
        CREATE_CUSTOMER, new_customer(uuid.uuid4().hex[:12], 0, idempotent=True)
    )
    return {"customer_id": created.customer.id}


async def many_customers(caller: Caller) -> Fixtures:
    """~200 customers, so the first page of 50 is a real page of a longer list."""
    prefix = uuid.uuid4().hex[:12]
    requests: list[Message] = [new_customer(prefix, i, idempotent=True) for i in range(200)]
    await caller.call_many(CREATE_CUSTOMER, requests)
    return {}


ROWS: Final[tuple[Row, ...]] = (
    Row(
        name="Health/Check",
        rpc=HEALTH_CHECK,
        request=lambda _i, _f: health_pb2.HealthCheckRequest(service=""),
        compare_workers=True,
    ),
    Row(
        name="CreateCustomer",
        rpc=CREATE_CUSTOMER,
        request=lambda i, f: new_customer(f["prefix"], i, idempotent=True),
        setup=run_prefix,
    ),
    Row(
        name="GetCustomer",
        rpc=GET_CUSTOMER,
        request=lambda _i, f: payment.GetCustomerRequest(id=f["customer_id"]),
        setup=one_customer,
        compare_workers=True,
    ),
    Row(
        name="ListCustomers",
        rpc=LIST_CUSTOMERS,
        request=lambda _i, _f: payment.ListCustomersRequest(page_size=50),
        setup=many_customers,
    ),
)

#: The row every ratio is measured against: the empty RPC on the same server.
BASELINE: Final = ROWS[0].name
#: The pseudo-row that runs the ``compare_workers`` rows under ``--workers 2``.
WORKERS: Final = "workers"


def by_name(name: str) -> Row:
    for row in ROWS:
        if row.name == name:
            return row
    raise KeyError(f"no row named {name!r}; rows: {', '.join(row.name for row in ROWS)}")
