"""The row registry: one entry per measured call, so a new row is one ``Row(...)``.

A row names the RPC it drives, how to build the request for call number ``index`` and,
optionally, a setup that runs in the load process before warm-up (creating what the
calls read) and returns *fixtures*: the strings the request factory needs.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from bench import seed
from isa.credit.v1 import credit_service_pb2 as credit
from isa.payment.v1 import payment_service_pb2 as payment
from isa.wallet.v1 import wallet_service_pb2 as wallet

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
CREATE_PAYMENT_INTENT: Final = Rpc(
    "/isa.payment.v1.PaymentService/CreatePaymentIntent", payment.CreatePaymentIntentResponse
)

CREATE_WALLET: Final = Rpc("/isa.wallet.v1.WalletService/CreateWallet", wallet.CreateWalletResponse)
GET_WALLET: Final = Rpc("/isa.wallet.v1.WalletService/GetWallet", wallet.GetWalletResponse)
TRANSFER: Final = Rpc("/isa.wallet.v1.WalletService/Transfer", wallet.TransferResponse)
LIST_TRANSACTIONS: Final = Rpc(
    "/isa.wallet.v1.WalletService/ListTransactions", wallet.ListTransactionsResponse
)
GRANT_CREDITS: Final = Rpc("/isa.credit.v1.CreditService/GrantCredits", credit.GrantCreditsResponse)
CONSUME_CREDITS: Final = Rpc(
    "/isa.credit.v1.CreditService/ConsumeCredits", credit.ConsumeCreditsResponse
)


def serialize(message: Message) -> bytes:
    return message.SerializeToString()


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """The call metadata that authenticates as the client holding ``token``."""
    return (("authorization", f"Bearer {token}"),)


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
    """One measured call. ``compare_workers`` rows are run again under ``--workers 2``.

    A row with ``env`` gets its own server started with those extra ``ISA_*`` settings.
    A ``burst`` row fires that many calls at once, one time, and reports their total
    wall time (its ratio: wall time / the latency injected by ``ISA_SANDBOX_LATENCY_MS``).
    """

    name: str
    rpc: Rpc[Message]
    request: RequestFactory
    setup: Setup | None = None
    compare_workers: bool = False
    env: tuple[tuple[str, str], ...] = ()
    burst: int = 0

    @property
    def injected_latency_ms(self) -> int:
        return int(dict(self.env).get("ISA_SANDBOX_LATENCY_MS", "0"))


def new_customer(prefix: str, index: int, *, idempotent: bool) -> payment.CreateCustomerRequest:
    """A valid, unique customer; ``prefix`` keeps runs and server starts apart."""
    return payment.CreateCustomerRequest(
        external_ref=f"bench-{prefix}-{index}",
        email=f"bench-{prefix}-{index}@example.com",
        name=f"Bench Customer {index}",
        metadata={"source": "bench"},
        idempotency_key=f"bench-{prefix}-{index}" if idempotent else "",
    )


def card_payment(prefix: str, index: int) -> payment.CreatePaymentIntentRequest:
    """A one-call card payment on the sandbox (seed 004): create with confirm."""
    return payment.CreatePaymentIntentRequest(
        amount=2999,
        currency="usd",
        payment_method_id="pm_card_visa",
        confirm=True,
        gateway="sandbox",
        metadata={"source": "bench"},
        idempotency_key=f"bench-pi-{prefix}-{index}",
    )


SLOW_GATEWAY_LATENCY_MS: Final = 200
SLOW_GATEWAY_CALLS: Final = 200


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


#: Wallet pairs for the disjoint-transfer row: more than the calls in flight.
TRANSFER_PAIRS: Final = 64
#: A funded wallet can make this many transfers of 1 before it runs dry.
FUNDING: Final = 10_000_000


async def new_wallets(caller: Caller, count: int) -> list[str]:
    prefix = uuid.uuid4().hex[:12]
    created = await caller.call_many(
        CREATE_WALLET,
        [wallet.CreateWalletRequest(owner_id=f"bench-{prefix}-{i}") for i in range(count)],
    )
    return [response.wallet.id for response in created]


async def funded_wallet(caller: Caller) -> Fixtures:
    [wallet_id] = await new_wallets(caller, 1)
    await seed.fund([wallet_id], FUNDING)
    return {"wallet_id": wallet_id}


async def disjoint_pairs(caller: Caller) -> Fixtures:
    """Each call moves 1 between its own pair of wallets: no two in flight share a row."""
    ids = await new_wallets(caller, 2 * TRANSFER_PAIRS)
    sources, targets = ids[:TRANSFER_PAIRS], ids[TRANSFER_PAIRS:]
    await seed.fund(sources, FUNDING)
    return {"sources": ",".join(sources), "targets": ",".join(targets), **await run_prefix(caller)}


async def hot_source(caller: Caller) -> Fixtures:
    """Every call draws on one source wallet: the hot-row case."""
    ids = await new_wallets(caller, 1 + TRANSFER_PAIRS)
    await seed.fund(ids[:1], FUNDING)
    return {"sources": ids[0], "targets": ",".join(ids[1:]), **await run_prefix(caller)}


@functools.cache
def _ids(joined: str) -> list[str]:
    return joined.split(",")


def transfer_request(index: int, fixtures: Fixtures) -> wallet.TransferRequest:
    sources, targets = _ids(fixtures["sources"]), _ids(fixtures["targets"])
    return wallet.TransferRequest(
        from_wallet_id=sources[index % len(sources)],
        to_wallet_id=targets[index % len(targets)],
        amount=1,
        currency="usd",
        note="bench",
        idempotency_key=f"bench-{fixtures['prefix']}-{index}",
    )


def history_of(lines: int) -> Setup:
    async def setup(caller: Caller) -> Fixtures:
        [wallet_id] = await new_wallets(caller, 1)
        await seed.history(wallet_id, lines)
        return {"wallet_id": wallet_id}

    return setup


async def credit_owners(caller: Caller) -> Fixtures:
    """Owners with plenty of credits, one per call in flight and more."""
    prefix = uuid.uuid4().hex[:12]
    owners = [f"bench-{prefix}-{i}" for i in range(TRANSFER_PAIRS)]
    await caller.call_many(
        GRANT_CREDITS,
        [
            credit.GrantCreditsRequest(owner_id=owner, amount=FUNDING, idempotency_key=owner)
            for owner in owners
        ],
    )
    return {"owners": ",".join(owners), "prefix": prefix}


def consume_request(index: int, fixtures: Fixtures) -> credit.ConsumeCreditsRequest:
    owners = _ids(fixtures["owners"])
    return credit.ConsumeCreditsRequest(
        owner_id=owners[index % len(owners)],
        amount=1,
        reason="bench",
        idempotency_key=f"bench-{fixtures['prefix']}-c{index}",
    )


#: Row names go in the comma-separated ``--rows`` option: no commas in them.
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
    Row(
        name="CreatePaymentIntent confirm sandbox",
        rpc=CREATE_PAYMENT_INTENT,
        request=lambda i, f: card_payment(f["prefix"], i),
        setup=run_prefix,
    ),
    Row(
        name=f"slow gateway: {SLOW_GATEWAY_CALLS} CreatePaymentIntent at once"
        f" {SLOW_GATEWAY_LATENCY_MS}ms",
        rpc=CREATE_PAYMENT_INTENT,
        request=lambda i, f: card_payment(f["prefix"], i),
        setup=run_prefix,
        env=(("ISA_SANDBOX_LATENCY_MS", str(SLOW_GATEWAY_LATENCY_MS)),),
        burst=SLOW_GATEWAY_CALLS,
    ),
    Row(
        name="GetWallet",
        rpc=GET_WALLET,
        request=lambda _i, f: wallet.GetWalletRequest(wallet_id=f["wallet_id"]),
        setup=funded_wallet,
    ),
    Row(
        name="Transfer disjoint wallets",
        rpc=TRANSFER,
        request=transfer_request,
        setup=disjoint_pairs,
    ),
    Row(
        name="Transfer hot source wallet",
        rpc=TRANSFER,
        request=transfer_request,
        setup=hot_source,
    ),
    Row(
        name="ConsumeCredits",
        rpc=CONSUME_CREDITS,
        request=consume_request,
        setup=credit_owners,
    ),
    Row(
        name="ListTransactions 1k rows",
        rpc=LIST_TRANSACTIONS,
        request=lambda _i, f: wallet.ListTransactionsRequest(wallet_id=f["wallet_id"]),
        setup=history_of(1_000),
    ),
    Row(
        name="ListTransactions 100k rows",
        rpc=LIST_TRANSACTIONS,
        request=lambda _i, f: wallet.ListTransactionsRequest(wallet_id=f["wallet_id"]),
        setup=history_of(100_000),
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
