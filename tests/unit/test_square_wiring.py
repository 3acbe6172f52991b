"""Square is built only when its token and location are configured."""

from __future__ import annotations

from gateways.types import Capability, GatewayMode
from gateways.wiring import build_registry
from server.config import load_settings


async def test_square_is_registered_with_token_and_location() -> None:
    settings = load_settings(
        {
            "ISA_SQUARE_ACCESS_TOKEN": "EAAA-token",
            "ISA_SQUARE_LOCATION_ID": "L1",
            "ISA_SQUARE_BASE_URL": "https://connect.squareupsandbox.com",
        }
    )
    registry = build_registry(settings)
    square = registry.find("square")
    try:
        assert square is not None
        assert square.info.mode is GatewayMode.TEST
        assert Capability.PARTIAL_CAPTURE in square.info.capabilities
        assert "EAAA-token" not in repr(square.info)
    finally:
        await registry.close()


async def test_square_without_a_location_is_not_registered() -> None:
    registry = build_registry(load_settings({"ISA_SQUARE_ACCESS_TOKEN": "EAAA-token"}))
    try:
        assert registry.find("square") is None
    finally:
        await registry.close()
