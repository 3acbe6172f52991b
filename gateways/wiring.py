"""Build the registry of enabled gateways from the service's settings.

The one place that turns ``ISA_*`` settings into adapter configs: adapters never read
the environment themselves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Final

from gateways.plaid import PlaidConfig, PlaidGateway
from gateways.plaid.events import PlaidTransferEvents
from gateways.protocols import Gateway
from gateways.registry import Registry
from gateways.sandbox import FailureKind, SandboxConfig, SandboxGateway
from gateways.sandbox.events import sandbox_update
from gateways.sandbox.webhooks import SandboxWebhooks
from gateways.square import SquareConfig, SquareGateway
from gateways.square.events import square_update
from gateways.stripe import StripeConfig, StripeGateway
from gateways.stripe.events import stripe_update
from gateways.updates import AnyUpdateReader, UpdateReader
from server.config import Settings

#: How each gateway's webhook events read as payment updates (the relay applies them).
#: Plaid's needs the gateway (it asks Plaid what changed), so :func:`update_readers`
#: adds it per registry.
PAYMENT_UPDATE_READERS: Final[Mapping[str, UpdateReader]] = {
    "stripe": stripe_update,
    "square": square_update,
    "sandbox": sandbox_update,
}


def sandbox_config(settings: Settings) -> SandboxConfig:
    return SandboxConfig(
        base_url=settings.public_relay_url.rstrip("/"),
        latency_ms=settings.sandbox_latency_ms,
        failure_rate=settings.sandbox_failure_rate,
        failure_kind=FailureKind(settings.sandbox_failure_kind),
    )


def update_readers(
    registry: Registry, load_position: Callable[[str], Awaitable[int]] | None = None
) -> dict[str, AnyUpdateReader]:
    """Every gateway's update reader: the static ones, and Plaid's when it is enabled,
    reading on from the position ``load_position(gateway)`` gives (the stored one)."""
    readers: dict[str, AnyUpdateReader] = dict(PAYMENT_UPDATE_READERS)
    plaid = registry.find("plaid")
    if isinstance(plaid, PlaidGateway):
        readers["plaid"] = PlaidTransferEvents(
            plaid,
            load_position=None if load_position is None else partial(load_position, "plaid"),
        )
    return readers


def plaid_config(settings: Settings) -> PlaidConfig | None:
    """Plaid's adapter config when its client id and secret are both set."""
    if settings.plaid_secret is None or not settings.plaid_client_id:
        return None
    return PlaidConfig(
        client_id=settings.plaid_client_id,
        secret=settings.plaid_secret,
        env=settings.plaid_env,
        host=settings.plaid_host,
        webhook_url=f"{settings.public_relay_url.rstrip('/')}/webhooks/plaid",
    )


def build_registry(
    settings: Settings, *, sandbox_webhooks: SandboxWebhooks | None = None
) -> Registry:
    """Every enabled gateway this release has an adapter for, in ISA_GATEWAYS order."""
    built: list[Gateway] = []
    for name in settings.gateways:
        if name == "sandbox":
            built.append(SandboxGateway(sandbox_config(settings), sandbox_webhooks))
        elif name == "stripe" and settings.stripe_api_key is not None:
            built.append(
                StripeGateway(
                    StripeConfig(api_key=settings.stripe_api_key, api_base=settings.stripe_api_base)
                )
            )
        elif name == "square" and settings.square_access_token and settings.square_location_id:
            built.append(
                SquareGateway(
                    SquareConfig(
                        access_token=settings.square_access_token,
                        location_id=settings.square_location_id,
                        base_url=settings.square_base_url,
                    )
                )
            )
        elif name == "plaid" and (plaid := plaid_config(settings)) is not None:
            built.append(PlaidGateway(plaid))
    return Registry(built)
