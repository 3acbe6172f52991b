"""Settings of the webhook relay (``ISA_*`` variables, documented in the README).

Kept beside :mod:`server.config` and hung off :class:`server.config.Settings` as one
field, so the relay's knobs and secrets stay in one place.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from server.errors import ConfigError
from server.secret import Secret

#: The sandbox gateway's well-known webhook secret: it guards sandbox-only events.
SANDBOX_WEBHOOK_SECRET: Final = "whsec_" + base64.b64encode(b"isa-sandbox-webhook-secret").decode()
DEFAULT_RETRY_SCHEDULE: Final = (5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_PAYPAL_API_BASE: Final = "https://api-m.sandbox.paypal.com"


@dataclass(frozen=True, slots=True, kw_only=True)
class RelaySettings:
    max_body_bytes: int = 1024 * 1024
    delivery_enabled: bool = True
    delivery_timeout_seconds: float = 15.0
    delivery_lease_seconds: float = 60.0
    delivery_poll_seconds: float = 0.5
    delivery_batch: int = 32
    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    apply_poll_seconds: float = 0.5
    stripe_tolerance_seconds: int = 300
    plaid_max_age_seconds: int = 300
    paypal_client_id: str | None = None
    paypal_secret: Secret | None = None
    paypal_webhook_id: str | None = None
    paypal_api_base: str = DEFAULT_PAYPAL_API_BASE
    coinbase_webhook_secret: Secret | None = None
    sandbox_webhook_secret: Secret = field(default_factory=lambda: Secret(SANDBOX_WEBHOOK_SECRET))

    @property
    def retry_delays(self) -> tuple[dt.timedelta, ...]:
        return tuple(dt.timedelta(seconds=s) for s in self.retry_schedule)


def _float(env: Mapping[str, str], name: str, default: float, minimum: float = 0) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw} must be at least {minimum}")
    return value


def _schedule(raw: str | None) -> tuple[float, ...]:
    if not raw:
        return DEFAULT_RETRY_SCHEDULE
    try:
        delays = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        raise ConfigError(
            f"ISA_WEBHOOK_RETRY_SCHEDULE must be seconds, comma-separated: {raw!r}"
        ) from None
    if any(d < 0 for d in delays):
        raise ConfigError("ISA_WEBHOOK_RETRY_SCHEDULE delays must not be negative")
    return delays


def load_relay_settings(env: Mapping[str, str]) -> RelaySettings:
    get = env.get
    paypal_secret = get("ISA_PAYPAL_SECRET")
    coinbase = get("ISA_COINBASE_WEBHOOK_SECRET")
    timeout = _float(env, "ISA_WEBHOOK_TIMEOUT_SECONDS", 15.0, minimum=0.1)
    lease = _float(env, "ISA_WEBHOOK_LEASE_SECONDS", 60.0, minimum=0.1)
    if lease <= timeout:
        raise ConfigError(
            f"ISA_WEBHOOK_LEASE_SECONDS={lease:g} must exceed ISA_WEBHOOK_TIMEOUT_SECONDS="
            f"{timeout:g}: a delivery still being sent would otherwise be sent again"
        )
    return RelaySettings(
        max_body_bytes=int(_float(env, "ISA_RELAY_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)),
        delivery_enabled=get("ISA_WEBHOOK_DELIVERY", "on").lower() not in {"0", "off", "false"},
        delivery_timeout_seconds=timeout,
        delivery_lease_seconds=lease,
        delivery_poll_seconds=_float(env, "ISA_WEBHOOK_POLL_SECONDS", 0.5, minimum=0.01),
        delivery_batch=int(_float(env, "ISA_WEBHOOK_BATCH", 32, minimum=1)),
        retry_schedule=_schedule(get("ISA_WEBHOOK_RETRY_SCHEDULE")),
        apply_poll_seconds=_float(env, "ISA_GATEWAY_EVENT_POLL_SECONDS", 0.5, minimum=0.01),
        paypal_client_id=get("ISA_PAYPAL_CLIENT_ID") or None,
        paypal_secret=Secret(paypal_secret) if paypal_secret else None,
        paypal_webhook_id=get("ISA_PAYPAL_WEBHOOK_ID") or None,
        paypal_api_base=get("ISA_PAYPAL_API_BASE") or DEFAULT_PAYPAL_API_BASE,
        coinbase_webhook_secret=Secret(coinbase) if coinbase else None,
        sandbox_webhook_secret=Secret(get("ISA_SANDBOX_WEBHOOK_SECRET") or SANDBOX_WEBHOOK_SECRET),
    )
