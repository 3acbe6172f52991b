"""Method handlers built from the service descriptors, one place for every service.

Requests reach us as raw bytes and are parsed here, so a body that is not a valid
message is INVALID_ARGUMENT (grpc's own deserializer would answer INTERNAL). Services
that only ever take gateway tokens refuse raw card numbers here too, in any field,
before their servicer sees the request. A method the servicer does not define answers
UNIMPLEMENTED with a note saying what is missing, rather than pretending to work.

Everything a method needs is resolved here, once, at start-up: its request class, its
cross-cutting wrapper (``server.interceptors.CallPolicy``), whether it is card-checked.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message

from server.errors import FieldViolation, InvalidInput, NotYetAvailable
from server.interceptors import Behavior, CallPolicy, Context, MethodHandler
from server.servicers.card_guard import refuse_unsafe_strings
from server.servicers.support import Checks


def _parsing(method: MethodDescriptor, implementation: Behavior, *, refuse_cards: bool) -> Behavior:
    request_class: type[Message] = message_factory.GetMessageClass(method.input_type)
    not_valid = f"the body is not a valid {method.input_type.full_name}"

    async def behavior(raw: bytes, context: Context) -> Any:
        try:
            request = request_class.FromString(raw)
        except DecodeError:
            raise InvalidInput([FieldViolation("", not_valid)]) from None
        if refuse_cards:
            checks = Checks()
            refuse_unsafe_strings(checks, request)
            checks.raise_if_any()
        return await implementation(request, context)

    return behavior


def _unimplemented(method: MethodDescriptor, note: str) -> Behavior:
    async def behavior(_request: Message, _context: Context) -> Any:
        raise NotYetAvailable(
            f"{method.containing_service.name}.{method.name} is not available yet: {note}",
            metadata={"method": method.full_name},
        )

    return behavior


def method_handlers(
    service: ServiceDescriptor,
    servicer: object,
    *,
    policy: CallPolicy,
    pending: Mapping[str, str],
    default_note: str,
    card_accepting: Collection[str] = (),
) -> dict[str, MethodHandler]:
    """Handlers for every method of ``service``; ``pending`` notes what is not built yet.
    Every request is refused if it holds a raw card number, but those of the methods
    ``card_accepting`` names (the sandbox's stand-in for a client-side card library)."""
    names = {method.name for method in service.methods}
    strays = [name for name in vars(type(servicer)) if name[:1].isupper() and name not in names]
    unknown_accepting = sorted(set(card_accepting) - names)
    if strays or unknown_accepting:
        raise TypeError(
            f"{type(servicer).__name__} names methods not in {service.full_name}: "
            f"{strays + unknown_accepting}"
        )
    handlers: dict[str, MethodHandler] = {}
    for method in service.methods:
        if method.client_streaming or method.server_streaming:
            raise TypeError(f"{method.full_name}: only unary methods are served")
        implementation = getattr(servicer, method.name, None)
        if implementation is None:
            implementation = _unimplemented(method, pending.get(method.name, default_note))
        response_class = message_factory.GetMessageClass(method.output_type)
        parsing = _parsing(method, implementation, refuse_cards=method.name not in card_accepting)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            policy.wrap(f"/{service.full_name}/{method.name}", parsing),
            request_deserializer=None,
            response_serializer=response_class.SerializeToString,
        )
    return handlers
