"""Method handlers built from the service descriptors, one place for every service.

Requests reach us as raw bytes and are parsed here, so a body that is not a valid
message is INVALID_ARGUMENT (grpc's own deserializer would answer INTERNAL). A method
the servicer does not define answers UNIMPLEMENTED with a note saying what is missing,
rather than pretending to work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor
from google.protobuf.message import DecodeError, Message

from server.errors import FieldViolation, InvalidInput, NotYetAvailable
from server.interceptors import Behavior, Context, MethodHandler


def _parsing(method: MethodDescriptor, implementation: Behavior) -> Behavior:
    request_class: type[Message] = message_factory.GetMessageClass(method.input_type)

    async def behavior(raw: bytes, context: Context) -> Any:
        try:
            request = request_class.FromString(raw)
        except DecodeError:
            raise InvalidInput(
                [FieldViolation("", f"the body is not a valid {method.input_type.full_name}")]
            ) from None
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
    service: ServiceDescriptor, servicer: object, *, pending: Mapping[str, str], default_note: str
) -> dict[str, MethodHandler]:
    """Handlers for every method of ``service``; ``pending`` notes what is not built yet."""
    names = {method.name for method in service.methods}
    strays = [name for name in vars(type(servicer)) if name[:1].isupper() and name not in names]
    if strays:
        raise TypeError(
            f"{type(servicer).__name__} defines methods not in {service.full_name}: {strays}"
        )
    handlers: dict[str, MethodHandler] = {}
    for method in service.methods:
        if method.client_streaming or method.server_streaming:
            raise TypeError(f"{method.full_name}: only unary methods are served")
        implementation = getattr(servicer, method.name, None)
        if implementation is None:
            implementation = _unimplemented(method, pending.get(method.name, default_note))
        response_class = message_factory.GetMessageClass(method.output_type)
        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            _parsing(method, implementation),
            request_deserializer=None,
            response_serializer=response_class.SerializeToString,
        )
    return handlers
