"""Settings from ISA_* variables: defaults, clients, secrets, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.app import check_exposure
from server.config import ALL_SERVICES, ConfigError, Secret, async_url, load_settings, token_digest


def test_defaults_run_locally_with_one_dev_client() -> None:
    settings = load_settings({})
    assert settings.database_url == "sqlite:///./isa.db"
    assert settings.grpc_addr == "127.0.0.1:50051"
    assert settings.relay_addr == "127.0.0.1:8080"
    assert settings.gateways == ("sandbox",)
    (client,) = settings.clients
    assert client.id == "dev"
    assert client.token_sha256 == token_digest("dev-token")
    assert client.services == frozenset(ALL_SERVICES)
    assert client.operator  # the only caller is whoever runs the service


def test_gateways_with_credentials_are_enabled_by_default() -> None:
    settings = load_settings({"ISA_STRIPE_API_KEY": "sk_test_x"})
    assert settings.gateways == ("sandbox", "stripe")


def test_unknown_gateway_is_refused() -> None:
    with pytest.raises(ConfigError, match="unknown gateways: venmo"):
        load_settings({"ISA_GATEWAYS": "sandbox,venmo"})


def test_secrets_never_print() -> None:
    settings = load_settings(
        {"ISA_STRIPE_API_KEY": "sk_test_supersecret", "ISA_DEV_TOKEN": "tok-123"}
    )
    assert "supersecret" not in repr(settings)
    assert "tok-123" not in repr(settings)
    assert str(Secret("x")) == "Secret('***')"


def test_clients_file_with_token_or_digest(tmp_path: Path) -> None:
    path = tmp_path / "clients.json"
    path.write_text(
        json.dumps(
            {
                "clients": [
                    {"id": "portal", "token": "t1", "services": ["isa.payment.v1.PaymentService"]},
                    {"id": "job", "token_sha256": token_digest("t2"), "services": []},
                ]
            }
        )
    )
    settings = load_settings({"ISA_CLIENTS_FILE": str(path)})
    portal, job = settings.clients
    assert portal.may_call("isa.payment.v1.PaymentService")
    assert not portal.may_call("isa.wallet.v1.WalletService")
    assert job.token_sha256 == token_digest("t2")
    assert settings.dev_token is None
    assert not settings.only_dev_client
    assert not portal.operator  # "operator" missing: a tenant


@pytest.mark.parametrize("operator", [True, False])
def test_clients_file_operator_flag(tmp_path: Path, operator: bool) -> None:
    path = tmp_path / "clients.json"
    entry = {"id": "ops", "token": "t1", "operator": operator}
    path.write_text(json.dumps({"clients": [entry]}))
    (client,) = load_settings({"ISA_CLIENTS_FILE": str(path)}).clients
    assert client.operator is operator


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("not json", "JSONDecodeError"),
        ('{"clients": [{"token": "x"}]}', "needs an 'id'"),
        ('{"clients": [{"id": "a"}]}', "needs 'token' or 'token_sha256'"),
        (
            '{"clients": [{"id": "a", "token": "x", "services": ["nope.Service"]}]}',
            "unknown services",
        ),
        ('{"clients": [{"id": "a", "token": "x"}, {"id": "a", "token": "y"}]}', "unique"),
        (
            '{"clients": [{"id": "a", "token": "x", "operator": "yes"}]}',
            r"clients\[0\]: 'operator' must be true or false, not 'yes'",
        ),
        ('{"clients": [{"id": "a", "token": "x", "operator": 1}]}', "'operator' must be true"),
    ],
)
def test_bad_clients_file_is_refused(tmp_path: Path, document: str, message: str) -> None:
    path = tmp_path / "clients.json"
    path.write_text(document)
    with pytest.raises(ConfigError, match=message):
        load_settings({"ISA_CLIENTS_FILE": str(path)})


@pytest.mark.parametrize("name", ["ISA_SANDBOX_FAILURE_RATE", "ISA_SHUTDOWN_GRACE_SECONDS"])
def test_numbers_are_checked(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: "lots"})
    with pytest.raises(ConfigError, match="out of range"):
        load_settings({name: "-1"})


@pytest.mark.parametrize(
    "address", ["0.0.0.0:50051", "10.1.2.3:50051", "[::]:50051", "example.com:1"]
)
def test_only_dev_client_refuses_to_listen_beyond_loopback(address: str) -> None:
    with pytest.raises(ConfigError, match="ISA_CLIENTS_FILE"):
        check_exposure(load_settings({"ISA_GRPC_ADDR": address}))


def test_configured_clients_may_listen_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "clients.json"
    path.write_text(json.dumps({"clients": [{"id": "portal", "token": "t", "services": []}]}))
    check_exposure(load_settings({"ISA_GRPC_ADDR": "0.0.0.0:50051", "ISA_CLIENTS_FILE": str(path)}))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///./isa.db", "sqlite+aiosqlite:///./isa.db"),
        ("postgresql://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_plain_and_async_urls_are_accepted(given: str, expected: str) -> None:
    assert async_url(given) == expected
