"""Random well-formed requests to every method: a precise status, never INTERNAL.

test_resilience sends bytes that rarely decode. Here every request decodes: each field
set or not, mostly to something a caller might plausibly send (a known id from an
earlier answer, a small amount, "usd", a fresh idempotency key), sometimes to an edge
(0, -1, 2**63-1, a 5,000-character string, an unknown enum value, a card number), so
calls get past validation into the domain and the store. Every refusal must be ours,
with its ErrorInfo: a status too large for gRPC's trailer limit arrives as grpc-core's
RESOURCE_EXHAUSTED instead. The generator is seeded: a failure names its seed and
repeats.
"""

from __future__ import annotations

import asyncio
import random
import re
from collections.abc import Callable
from typing import Any, Final

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from server.app import NOT_YET
from server.protos import load_descriptors
from server.status import ERROR_DOMAIN
from tests.conftest import TENANT_AUTH, Running

SEEDS: Final = (1, 2)
CALLS_PER_SEED: Final = 500
#: The concurrent run: calls sent together, racing on the resources earlier ones made.
CONCURRENT_SEED: Final = 3
IN_FLIGHT: Final = 8
BATCHES: Final = 60
#: How often a field gets an edge value rather than a plausible one.
EDGE_RATE: Final = 0.06
#: Answers that mean the server, not the request, went wrong.
NEVER: Final = {
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.DATA_LOSS,
    grpc.StatusCode.DEADLINE_EXCEEDED,
}
_ID: Final = re.compile(r"\b[a-z]{2,5}_[0-9A-Za-z]{6,40}\b")
_TEST_TOKENS: Final = ("pm_card_visa", "pm_card_authenticationRequired", "pm_card_chargeDeclined")
_EDGE_STRINGS: Final = (
    "",
    " ",
    "USD",
    "zzz",
    "ümlaut ✓",
    "a" * 5000,
    "4242424242424242",
    "https://169.254.169.254/",
    "stripe.*",
    "-1",
    "99999999999999999999",
    "pi_0000000000",
)
_EDGE_INTS: Final = (0, -1, 1, 2**31 - 1, -(2**31), 2**53, 2**63 - 1, -(2**63))
_SIGNED: Final = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_WIDE: Final = {
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED64,
}
#: The id prefix a field named so takes, where its name does not say.
_PREFIX_OF: Final = {
    "wallet_id": "wal",
    "from_wallet_id": "wal",
    "to_wallet_id": "wal",
    "customer_id": "cus",
    "payment_intent_id": "pi",
    "refund_id": "re",
    "endpoint_id": "we",
    "event_id": "evt",
    "reservation_id": "res",
    "destination_account_id": "acct",
    "connected_account_id": "acct",
    "checkout_session_id": "cs",
}


class Requests:
    """Random requests, and the ids earlier answers named (so later calls find things)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.ids: set[str] = set(_TEST_TOKENS)

    def learn(self, answer: Message) -> None:
        self.ids.update(_ID.findall(str(answer)))

    def make(self, descriptor: Descriptor) -> Message:
        message = message_factory.GetMessageClass(descriptor)()
        self._fill(message, depth=0)
        return message

    def _fill(self, message: Message, depth: int) -> None:
        chosen_oneofs: set[str] = set()
        for field in message.DESCRIPTOR.fields:
            oneof = field.containing_oneof
            if oneof is not None:
                if oneof.name in chosen_oneofs or self.rng.random() < 0.5:
                    continue
                chosen_oneofs.add(oneof.name)
            elif self.rng.random() < 0.15:
                continue
            self._set(message, field, depth)

    def _set(self, message: Message, field: FieldDescriptor, depth: int) -> None:
        target = getattr(message, field.name)
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            key_field, value_field = entry.fields_by_name["key"], entry.fields_by_name["value"]
            for _ in range(self.rng.randrange(3)):
                key = self._scalar(key_field)
                if value_field.message_type is None:
                    target[key] = self._scalar(value_field)
                elif depth < 3:
                    self._fill(target[key], depth + 1)
        elif field.is_repeated:
            for _ in range(self.rng.randrange(3)):
                if field.message_type is None:
                    target.append(self._scalar(field))
                elif depth < 3:
                    self._fill(target.add(), depth + 1)
        elif field.message_type is not None:
            if depth < 3:
                self._message(target, depth)
        else:
            setattr(message, field.name, self._scalar(field))

    def _message(self, target: Message, depth: int) -> None:
        name = target.DESCRIPTOR.full_name
        if name == "google.protobuf.Timestamp":
            target.seconds = self.rng.choice((0, 1_765_000_000, 1_800_000_000, 253402300799))
        elif name == "google.protobuf.Duration":
            target.seconds = self.rng.choice((0, 1, 60, 3600, -5, 10**9))
        else:
            self._fill(target, depth + 1)
            target.SetInParent()

    def _scalar(self, field: FieldDescriptor) -> Any:
        kind = field.type
        edge = self.rng.random() < EDGE_RATE
        if kind == FieldDescriptor.TYPE_STRING:
            return self.rng.choice(_EDGE_STRINGS) if edge else self._text(field.name)
        if kind == FieldDescriptor.TYPE_ENUM:
            known = [v.number for v in field.enum_type.values]
            return 99 if edge else self.rng.choice([n for n in known if n] or known)
        if kind == FieldDescriptor.TYPE_BOOL:
            return self.rng.random() < 0.5
        if kind == FieldDescriptor.TYPE_BYTES:
            return self.rng.randbytes(self.rng.randrange(20))
        if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            return self.rng.choice((0.0, 1.5, -1.0, 1e30))
        bits = 64 if kind in _WIDE else 32
        low, high = (
            (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if kind in _SIGNED else (0, 2**bits - 1)
        )
        value = self.rng.choice(_EDGE_INTS if edge else (1, 50, 100, 500, 1000, 3000))
        return min(max(value, low), high)

    def _text(self, name: str) -> str:
        """A value a caller might send in a field of this name."""
        pick = self.rng.choice
        plausible: dict[str, Callable[[], str]] = {
            "idempotency_key": lambda: f"k-{self.rng.randrange(10**9)}",
            "currency": lambda: pick(("usd", "usd", "eur", "jpy")),
            "gateway": lambda: pick(("", "sandbox", "stripe")),
            "email": lambda: "ana@example.com",
            "package_id": lambda: pick(("starter", "standard", "pro", "enterprise")),
            "return_code": lambda: pick(("R01", "R02", "")),
            "page_token": lambda: "",
        }
        if name in plausible:
            return plausible[name]()
        if "url" in name:
            return f"https://portal.example/{name}"
        if name.endswith("owner_id") or name == "owner_ref":
            return pick(("owner-1", "owner-2"))
        if name in ("payment_method_id", "payment_method"):
            return pick(sorted({i for i in self.ids if i.startswith("pm_")}))
        if name.endswith("id") or name.endswith("ids"):
            prefix = _PREFIX_OF.get(name)
            known = sorted(i for i in self.ids if prefix is None or i.startswith(f"{prefix}_"))
            if known:
                return pick(known)
        return pick(("", "rent", "note", "Ana"))


def every_method() -> list[tuple[str, MethodDescriptor]]:
    load_descriptors()
    pool = descriptor_pool.Default()
    return [
        (service, method)
        for service in sorted(NOT_YET)
        for method in pool.FindServiceByName(service).methods
    ]


async def call(server: Running, service: str, method: MethodDescriptor, request: Message) -> Any:
    answer_type = message_factory.GetMessageClass(method.output_type)
    stub = server.channel.unary_unary(
        f"/{service}/{method.name}",
        request_serializer=lambda m: m.SerializeToString(),
        response_deserializer=answer_type.FromString,
    )
    return await stub(request, metadata=TENANT_AUTH, timeout=20)


def our_error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo our status mapping put in the details; None when the refusal came
    from elsewhere (grpc-core's own, e.g. RESOURCE_EXHAUSTED for oversized trailers)."""
    try:
        status = rpc_status.from_call(error)
    except ValueError:  # details of another status than the call ended with
        return None
    if status is None:
        return None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info if info.domain == ERROR_DOMAIN else None
    return None


def assert_precise(error: grpc.aio.AioRpcError, where: str) -> None:
    """A refusal the caller can act on: ours, with its ErrorInfo, and nothing of a bug."""
    code = error.code()
    assert code not in NEVER, f"{where} answered {code}: {error.details()}"
    assert "Traceback" not in (error.details() or ""), where
    assert our_error_info(error) is not None, f"{where}: {code} {error.details()}"


async def test_random_requests_get_a_precise_status(server: Running) -> None:
    methods = every_method()
    answered: dict[grpc.StatusCode, int] = {}
    for seed in SEEDS:
        requests = Requests(seed)
        for number in range(CALLS_PER_SEED):
            service, method = requests.rng.choice(methods)
            request = requests.make(method.input_type)
            try:
                requests.learn(await call(server, service, method, request))
                code = grpc.StatusCode.OK
            except grpc.aio.AioRpcError as error:
                code = error.code()
                assert_precise(error, f"seed {seed}, call {number}: {method.name}({request})")
            answered[code] = answered.get(code, 0) + 1
    # the requests reached the domain, not only the validators
    assert answered.get(grpc.StatusCode.OK, 0) > len(SEEDS) * CALLS_PER_SEED // 10
    assert grpc.StatusCode.FAILED_PRECONDITION in answered
    assert grpc.StatusCode.NOT_FOUND in answered or grpc.StatusCode.ALREADY_EXISTS in answered


async def test_random_requests_racing_each_other_get_a_precise_status(server: Running) -> None:
    """The same, eight calls at a time: a capture beside a refund, a transfer beside a
    withdrawal from the same wallet, two creates with one key."""
    methods = every_method()
    requests = Requests(CONCURRENT_SEED)
    answered = 0
    for batch in range(BATCHES):
        made = []
        for _ in range(IN_FLIGHT):
            service, method = requests.rng.choice(methods)
            made.append((service, method, requests.make(method.input_type)))
        results = await asyncio.gather(
            *(call(server, service, method, request) for service, method, request in made),
            return_exceptions=True,
        )
        for (_, method, request), result in zip(made, results, strict=True):
            if isinstance(result, grpc.aio.AioRpcError):
                assert_precise(result, f"batch {batch}: {method.name}({request})")
            elif isinstance(result, BaseException):
                raise result
            else:
                requests.learn(result)
                answered += 1
    assert answered > BATCHES * IN_FLIGHT // 10
