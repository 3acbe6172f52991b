"""Typed settings, read once from ``ISA_*`` environment variables.

Operators and tests rely on these names (ARCHITECTURE.md); every one is documented in
the README. Secrets are wrapped in :class:`Secret` so that no log line or repr of the
settings can leak them.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from server.errors import ConfigError
from server.relay_config import RelaySettings, load_relay_settings
from server.secret import Secret as Secret  # noqa: PLC0414  (re-exported)

#: Every service a client can be granted; the development client gets all of them.
ALL_SERVICES: Final = (
    "isa.payment.v1.PaymentService",
    "isa.wallet.v1.WalletService",
    "isa.billing.v1.BillingService",
    "isa.subscription.v1.SubscriptionService",
    "isa.credit.v1.CreditService",
    "isa.brokerage.v1.BrokerageService",
    "isa.webhook.v1.WebhookService",
    "isa.sandbox.v1.SandboxService",
)

DEV_CLIENT_ID: Final = "dev"
KNOWN_GATEWAYS: Final = ("sandbox", "stripe", "square", "paypal", "plaid", "coinbase")


@dataclass(frozen=True, slots=True, kw_only=True)
class Client:
    """A calling backend: who it is, how it proves it, which services it may call.

    An ``operator`` (the people running the service, not a tenant) also sees the gateway
    events no client owns yet: their payloads may be about any tenant's payments."""

    id: str
    token_sha256: str
    services: frozenset[str]
    operator: bool = False

    def may_call(self, service: str) -> bool:
        return service in self.services


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    database_url: str = "sqlite:///./isa.db"
    grpc_addr: str = "127.0.0.1:50051"
    relay_addr: str = "127.0.0.1:8080"
    public_relay_url: str = "http://127.0.0.1:8080"
    clients: tuple[Client, ...] = ()
    dev_token: Secret | None = None
    gateways: tuple[str, ...] = ("sandbox",)
    log_level: str = "INFO"
    shutdown_grace_seconds: float = 10.0
    idempotency_retention_hours: float = 24.0
    idempotency_lease_seconds: float = 60.0
    sandbox_latency_ms: int = 0
    sandbox_failure_rate: float = 0.0
    sandbox_failure_kind: str = "unavailable"
    stripe_api_key: Secret | None = None
    stripe_webhook_secret: Secret | None = None
    stripe_api_base: str | None = None
    plaid_client_id: str | None = None
    plaid_secret: Secret | None = None
    plaid_env: str = "sandbox"
    plaid_host: str | None = None
    square_access_token: Secret | None = None
    square_location_id: str | None = None
    square_webhook_signature_key: Secret | None = None
    square_base_url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path(".data"))
    encryption_key: Secret | None = None  # ISA_ENCRYPTION_KEY (Fernet); see bank_secrets
    credit_packages_json: str = ""  # ISA_CREDIT_PACKAGES; empty: the default packages
    relay: RelaySettings = field(default_factory=RelaySettings)

    @property
    def only_dev_client(self) -> bool:
        return all(client.id == DEV_CLIENT_ID for client in self.clients)

    @property
    def async_database_url(self) -> str:
        return async_url(self.database_url)


DEFAULTS: Final = Settings()


def async_url(url: str) -> str:
    """Accept plain and async SQLAlchemy URLs alike; the store always runs async drivers."""
    for plain, driver in (
        ("sqlite://", "sqlite+aiosqlite://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("postgresql+psycopg2://", "postgresql+asyncpg://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment (or the given mapping, for tests)."""
    env = os.environ if env is None else env
    get = env.get
    dev_token = get("ISA_DEV_TOKEN", "dev-token")
    clients_file = get("ISA_CLIENTS_FILE")
    clients = (
        _load_clients(Path(clients_file))
        if clients_file
        else (
            Client(
                id=DEV_CLIENT_ID,
                token_sha256=token_digest(dev_token),
                services=frozenset(ALL_SERVICES),
                operator=True,
            ),
        )
    )
    stripe_key = _secret(get("ISA_STRIPE_API_KEY"))
    plaid_secret = _secret(get("ISA_PLAID_SECRET"))
    square_token = _secret(get("ISA_SQUARE_ACCESS_TOKEN"))
    return Settings(
        database_url=get("ISA_DATABASE_URL", DEFAULTS.database_url),
        grpc_addr=get("ISA_GRPC_ADDR", DEFAULTS.grpc_addr),
        relay_addr=get("ISA_RELAY_ADDR", DEFAULTS.relay_addr),
        public_relay_url=get("ISA_PUBLIC_RELAY_URL", DEFAULTS.public_relay_url),
        clients=clients,
        dev_token=None if clients_file else Secret(dev_token),
        gateways=_gateways(
            get("ISA_GATEWAYS"),
            credentialed={
                "stripe": stripe_key is not None,
                "plaid": plaid_secret is not None and bool(get("ISA_PLAID_CLIENT_ID")),
                "square": square_token is not None,
            },
        ),
        log_level=get("ISA_LOG_LEVEL", DEFAULTS.log_level).upper(),
        shutdown_grace_seconds=_number(env, "ISA_SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0),
        idempotency_retention_hours=_number(
            env, "ISA_IDEMPOTENCY_RETENTION_HOURS", 24.0, minimum=0.001
        ),
        idempotency_lease_seconds=_number(env, "ISA_IDEMPOTENCY_LEASE_SECONDS", 60.0, minimum=1),
        sandbox_latency_ms=int(_number(env, "ISA_SANDBOX_LATENCY_MS", 0, minimum=0)),
        sandbox_failure_rate=_number(env, "ISA_SANDBOX_FAILURE_RATE", 0.0, minimum=0, maximum=1),
        sandbox_failure_kind=_choice(
            env, "ISA_SANDBOX_FAILURE_KIND", ("unavailable", "timeout-after-effect")
        ),
        stripe_api_key=stripe_key,
        stripe_webhook_secret=_secret(get("ISA_STRIPE_WEBHOOK_SECRET")),
        stripe_api_base=get("ISA_STRIPE_API_BASE") or None,
        plaid_client_id=get("ISA_PLAID_CLIENT_ID") or None,
        plaid_secret=plaid_secret,
        plaid_env=get("ISA_PLAID_ENV", "sandbox"),
        plaid_host=get("ISA_PLAID_HOST") or None,
        square_access_token=square_token,
        square_location_id=get("ISA_SQUARE_LOCATION_ID") or None,
        square_webhook_signature_key=_secret(get("ISA_SQUARE_WEBHOOK_SIGNATURE_KEY")),
        square_base_url=get("ISA_SQUARE_BASE_URL") or None,
        data_dir=Path(get("ISA_DATA_DIR", ".data")),
        encryption_key=_secret(get("ISA_ENCRYPTION_KEY")),
        credit_packages_json=get("ISA_CREDIT_PACKAGES", ""),
        relay=load_relay_settings(env),
    )


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name) or choices[0]
    if raw not in choices:
        raise ConfigError(f"{name}={raw!r} must be one of: {', '.join(choices)}")
    return raw


def _secret(value: str | None) -> Secret | None:
    return Secret(value) if value else None


def _number(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ConfigError(f"{name}={raw} is out of range [{minimum}, {maximum}]")
    return value


def _gateways(raw: str | None, *, credentialed: Mapping[str, bool]) -> tuple[str, ...]:
    if not raw:
        return ("sandbox", *(name for name, ok in credentialed.items() if ok))
    names = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    unknown = [name for name in names if name not in KNOWN_GATEWAYS]
    if unknown:
        raise ConfigError(f"ISA_GATEWAYS names unknown gateways: {', '.join(unknown)}")
    return names


def _load_clients(path: Path) -> tuple[Client, ...]:
    """Parse ``{"clients": [{"id", "token" | "token_sha256", "services", "operator"?}]}``."""
    try:
        document = json.loads(path.read_text())
        entries = document["clients"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"ISA_CLIENTS_FILE {path}: {type(exc).__name__}: {exc}") from None
    clients = []
    for index, entry in enumerate(entries):
        where = f"ISA_CLIENTS_FILE {path}: clients[{index}]"
        if not isinstance(entry, dict) or not entry.get("id"):
            raise ConfigError(f"{where}: needs an 'id'")
        digest = entry.get("token_sha256") or (
            token_digest(entry["token"]) if entry.get("token") else None
        )
        if not digest:
            raise ConfigError(f"{where}: needs 'token' or 'token_sha256'")
        services = entry.get("services") or []
        unknown = [s for s in services if s not in ALL_SERVICES]
        if unknown:
            raise ConfigError(f"{where}: unknown services {unknown}")
        operator = entry.get("operator", False)
        if not isinstance(operator, bool):
            raise ConfigError(f"{where}: 'operator' must be true or false, not {operator!r}")
        clients.append(
            Client(
                id=str(entry["id"]),
                token_sha256=str(digest).lower(),
                services=frozenset(services),
                operator=operator,
            )
        )
    ids = [client.id for client in clients]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"ISA_CLIENTS_FILE {path}: client ids must be unique")
    return tuple(clients)
