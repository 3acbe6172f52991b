"""Pick a gateway for a call, and fail over only when that is provably safe.

With an explicit gateway the router checks it can do the job. Without one it offers
every enabled gateway that supports the capability, method type and currency, in the
configured order, and moves to the next one only on :class:`GatewayUnavailable`
(nothing was sent). A decline is an answer and an unknown outcome may have charged:
both end the search.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from gateways.errors import GatewayUnavailable
from gateways.protocols import Gateway
from gateways.registry import Registry
from gateways.types import Capability, MethodType

G = TypeVar("G", bound=Gateway)
R = TypeVar("R")


class NoCapableGateway(Exception):
    """No enabled gateway can do this; ``unknown_name`` when the asked-for one does not exist."""

    def __init__(self, message: str, *, unknown_name: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.unknown_name = unknown_name


@dataclass(frozen=True, slots=True, kw_only=True)
class Need:
    """What the call needs from a gateway."""

    protocol: type[Gateway]
    method_type: MethodType | None = None
    currency: str | None = None
    capabilities: frozenset[Capability] = frozenset()


class Router:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        #: Whether a registered gateway implements a protocol, by (gateway id, protocol):
        #: a runtime-checkable Protocol's isinstance inspects every member, on every
        #: payment, while a registered adapter's methods never change. The registry
        #: holds the gateways for the router's life, so their ids are never reused.
        self._implements: dict[tuple[int, type], bool] = {}

    def candidates(self, need: Need, protocol: type[G], *, gateway: str | None = None) -> list[G]:
        """Gateways able to serve ``need``, in failover order; raises when there are none."""
        if gateway:
            found = self._registry.find(gateway)
            if found is None:
                raise NoCapableGateway(
                    f"gateway {gateway!r} is not enabled on this server", unknown_name=True
                )
            missing = self._missing(found, need, self._supports(found, need.protocol))
            if missing:
                raise NoCapableGateway(f"gateway {gateway!r} cannot do this: {missing}")
            return [found]  # type: ignore[list-item]
        able = [
            g
            for g in self._registry.enabled()
            if not self._missing(g, need, self._supports(g, need.protocol))
        ]
        if not able:
            raise NoCapableGateway(f"no enabled gateway can do this ({_describe(need)})")
        return able  # type: ignore[return-value]

    def _supports(self, gateway: Gateway, protocol: type[Gateway]) -> bool:
        slot = (id(gateway), protocol)
        known = self._implements.get(slot)
        if known is None:
            known = self._implements[slot] = isinstance(gateway, protocol)
        return known

    @staticmethod
    def _missing(gateway: Gateway, need: Need, supported: bool) -> str:
        info = gateway.info
        if not supported:
            return f"no {need.protocol.__name__} support"
        lacking = need.capabilities - info.capabilities
        if lacking:
            return "lacks " + ", ".join(sorted(c.value for c in lacking))
        if need.method_type is not None and need.method_type not in info.method_types:
            return f"does not take {need.method_type.value} payments"
        if need.currency is not None and need.currency not in info.currencies:
            return f"does not support currency {need.currency!r}"
        return ""

    @staticmethod
    async def first_available(
        candidates: Iterable[G], call: Callable[[G], Awaitable[R]]
    ) -> tuple[G, R]:
        """Call each candidate in turn until one was reachable; re-raise the last refusal."""
        last: GatewayUnavailable | None = None
        for gateway in candidates:
            try:
                return gateway, await call(gateway)
            except GatewayUnavailable as refused:
                last = refused
        if last is None:
            raise NoCapableGateway("no candidate gateway was given")
        raise last


def _describe(need: Need) -> str:
    parts = [need.protocol.__name__]
    if need.method_type is not None:
        parts.append(need.method_type.value)
    if need.currency is not None:
        parts.append(need.currency)
    parts += sorted(c.value for c in need.capabilities)
    return ", ".join(parts)
