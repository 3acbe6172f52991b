"""The bank rail's pieces without a server: the token cipher and its key, the sandbox's
transfers and their webhooks read back, ACH return errors."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from gateways.errors import GatewayRejected
from gateways.sandbox import SandboxConfig, SandboxGateway
from gateways.sandbox.events import bank_transfer_event, sandbox_update
from gateways.types import (
    BankAccountRequest,
    BankTransferDirection,
    BankTransferRequest,
    BankVerification,
    ExchangeRequest,
    Outcome,
    ach_return_error,
)
from server.errors import ConfigError
from server.payments.bank_secrets import KEY_FILE, TokenCipher, load_cipher
from server.secret import Secret


def test_a_development_key_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    first = load_cipher(None, data_dir=tmp_path / "data", development=True)
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    second = load_cipher(None, data_dir=tmp_path / "data", development=True)
    ciphertext = first.encrypt("access-sandbox-secret")
    assert "access-sandbox-secret" not in ciphertext
    assert second.decrypt(ciphertext) == "access-sandbox-secret"
    assert "KEY" not in repr(first)
    assert path.read_text().strip() not in repr(first)


def test_a_worker_looking_while_another_makes_the_key_sees_none_or_all_of_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers start together: one that finds the key file must find a whole key (an
    empty file, created before the key was written, failed `isa serve --workers 2`)."""
    path = tmp_path / "data" / KEY_FILE
    seen: list[str | None] = []
    make_key = Fernet.generate_key

    def generate_while_another_looks() -> bytes:
        seen.append(path.read_text() if path.exists() else None)  # the other worker
        return make_key()

    monkeypatch.setattr(Fernet, "generate_key", staticmethod(generate_while_another_looks))
    made = load_cipher(None, data_dir=tmp_path / "data", development=True)
    assert seen == [None]
    again = load_cipher(None, data_dir=tmp_path / "data", development=True)
    assert again.decrypt(made.encrypt("access-sandbox-y")) == "access-sandbox-y"
    assert sorted(p.name for p in path.parent.iterdir()) == [KEY_FILE]  # no draft left


def test_without_a_key_configured_clients_refuse_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="ISA_ENCRYPTION_KEY is required"):
        load_cipher(None, data_dir=tmp_path, development=False)
    with pytest.raises(ConfigError, match="Fernet key"):
        load_cipher(Secret("not-a-key"), data_dir=tmp_path, development=False)
    assert not (tmp_path / KEY_FILE).exists()


def test_a_token_under_another_key_is_a_configuration_error(tmp_path: Path) -> None:
    ours = load_cipher(None, data_dir=tmp_path / "a", development=True)
    theirs = load_cipher(None, data_dir=tmp_path / "b", development=True)
    with pytest.raises(ConfigError, match="changed"):
        theirs.decrypt(ours.encrypt("access-sandbox-x"))
    assert isinstance(ours, TokenCipher)


async def test_sandbox_transfers_settle_or_return_and_their_webhooks_read_back() -> None:
    gateway = SandboxGateway(SandboxConfig())
    account = await gateway.exchange_public_token(
        ExchangeRequest(
            public_token="public-sandbox-1", account_id="sandbox-checking", idempotency_key="k1"
        )
    )
    assert "access-sandbox" not in repr(account)  # the credential is kept out of repr
    debit = BankTransferRequest(
        direction=BankTransferDirection.DEBIT,
        access_token=account.access_token,
        account_id=account.account_id,
        amount=5000,
        currency="usd",
        idempotency_key="k2",
    )
    created = await gateway.create_transfer(debit)
    assert created.outcome is Outcome.PROCESSING
    assert await gateway.create_transfer(debit) == created  # same key, one transfer
    settled = await gateway.advance_transfer(created.gateway_reference, settle=True)
    returned = await gateway.advance_transfer(
        created.gateway_reference, settle=False, return_code="R10"
    )
    assert (returned.outcome, returned.return_code) == (Outcome.DECLINED, "R10")
    assert returned.settled_before_return
    for result in (created, settled, returned):
        event = bank_transfer_event(result)
        update = sandbox_update(event["type"], event)
        assert update is not None
        assert update.bank_transfers == (result,)
    page = await gateway.sync_transfer_events(0)
    assert [e.event_type for e in page.events] == ["pending", "settled", "returned"]
    assert (await gateway.sync_transfer_events(page.next_after_id)).events == ()
    with pytest.raises(GatewayRejected):
        await gateway.advance_transfer(created.gateway_reference, settle=True)


async def test_a_contradicting_event_type_is_not_trusted() -> None:
    gateway = SandboxGateway(SandboxConfig())
    account = await gateway.exchange_public_token(
        ExchangeRequest(
            public_token="public-sandbox-2", account_id="sandbox-microdeposits", idempotency_key="k"
        )
    )
    assert account.verification is BankVerification.PENDING_MANUAL
    again = await gateway.get_account(
        BankAccountRequest(access_token=account.access_token, account_id=account.account_id)
    )
    assert again == account
    event = bank_transfer_event(
        await gateway.create_transfer(
            BankTransferRequest(
                direction=BankTransferDirection.DEBIT,
                access_token=account.access_token,
                account_id=account.account_id,
                amount=100,
                currency="usd",
                idempotency_key="k3",
            )
        )
    )
    assert sandbox_update("bank_transfer.settled", event) is None


def test_an_ach_return_error_names_its_code_and_reason() -> None:
    error = ach_return_error("R02")
    assert (error.code, error.decline_code) == ("bank_account_returned", "R02")
    assert "account closed" in error.message
