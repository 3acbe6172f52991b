"""The enabled gateways, by name, in the operator's order (ISA_GATEWAYS)."""

from __future__ import annotations

from collections.abc import Iterable

from gateways.protocols import Gateway


class Registry:
    def __init__(self, gateways: Iterable[Gateway]) -> None:
        self._by_name: dict[str, Gateway] = {}
        for gateway in gateways:
            name = gateway.info.name
            if name in self._by_name:
                raise ValueError(f"gateway {name!r} registered twice")
            self._by_name[name] = gateway

    def find(self, name: str) -> Gateway | None:
        return self._by_name.get(name)

    def enabled(self) -> list[Gateway]:
        """Every registered gateway, in failover order."""
        return list(self._by_name.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    async def close(self) -> None:
        """Release adapters' connections (those that hold any)."""
        for gateway in self._by_name.values():
            close = getattr(gateway, "close", None)
            if close is not None:
                await close()
