"""The gateways this server has enabled, as ListGateways shows them."""

from __future__ import annotations

from gateways.registry import Registry
from gateways.types import GatewayInfo, GatewayKind


class GatewayCatalog:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def list(self, kind: GatewayKind | None = None) -> list[GatewayInfo]:
        """Enabled gateways by name (every listed gateway is enabled in this release)."""
        infos = [gateway.info for gateway in self._registry.enabled()]
        return sorted(
            (info for info in infos if kind is None or info.kind is kind), key=lambda i: i.name
        )
