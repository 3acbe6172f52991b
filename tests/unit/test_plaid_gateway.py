"""The Plaid adapter against a local HTTP peer answering as Plaid does (errors included).

The official SDK really sends each request; the peer answers with Plaid's documented
error bodies and objects, so these tests pin how answers map: declines are data, the
"could not ask" cases are the right exceptions, and no access token reaches a log line
or an error message.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from gateways.errors import (
    GatewayAuthError,
    GatewayRejected,
    GatewayUnavailable,
    OutcomeUnknown,
)
from gateways.plaid import PlaidConfig, PlaidGateway
from gateways.plaid.client import PaymentRefused, PlaidApi
from gateways.plaid.events import PlaidTransferEvents
from gateways.registry import Registry
from gateways.types import (
    BANK_ACCOUNT_RETURNED,
    BankAccountRequest,
    BankTransferDirection,
    BankTransferRequest,
    BankVerification,
    ExchangeRequest,
    Outcome,
)
from gateways.updates import BankVerificationUpdate, GatewayUpdate
from gateways.wiring import build_registry, update_readers
from server.config import Secret, load_settings
from tests.contract.peers import free_port

ACCESS_TOKEN = "access-sandbox-0f3c9f8e-1111-2222-3333-444455556666"
Reply = tuple[int, dict[str, Any]]
Answer = Callable[[str, dict[str, Any]], Reply]


class PlaidPeer:
    """Answers each POST with ``answer(path, body)``; records what was sent."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.calls: list[tuple[str, dict[str, Any]]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.loads(raw or b"{}")
                peer.calls.append((self.path, body))
                status, reply = peer.answer(self.path, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def paths(self) -> list[str]:
        return [path for path, _ in self.calls]


def error(status: int, error_type: str, code: str, message: str = "", display: str = "") -> Reply:
    return status, {
        "error_type": error_type,
        "error_code": code,
        "error_message": message or code.lower(),
        "display_message": display or None,
        "request_id": "req",
    }


def plaid_error(reply: Reply) -> Answer:
    return lambda _path, _body: reply


@pytest.fixture
def peer() -> Iterator[PlaidPeer]:
    started = PlaidPeer(plaid_error(error(500, "API_ERROR", "INTERNAL_SERVER_ERROR")))
    yield started
    started.server.shutdown()
    started.server.server_close()


def gateway_at(base_url: str, timeout: float = 10.0) -> PlaidGateway:
    config = PlaidConfig(
        client_id="client", secret=Secret("secret"), host=base_url, timeout_seconds=timeout
    )
    return PlaidGateway(config, PlaidApi(config))


def debit(**changes: Any) -> BankTransferRequest:
    fields: dict[str, Any] = {
        "direction": BankTransferDirection.DEBIT,
        "access_token": ACCESS_TOKEN,
        "account_id": "acc_1",
        "amount": 5000,
        "currency": "usd",
        "legal_name": "Ana Bell",
        "idempotency_key": "isa-key",
    }
    return BankTransferRequest(**(fields | changes))


def transfer(status: str, **extra: Any) -> dict[str, Any]:
    return {"id": "tr_1", "authorization_id": "au_1", "amount": "50.00", "status": status} | extra


@pytest.mark.parametrize(
    ("reply", "raised", "code"),
    [
        (error(400, "INVALID_INPUT", "INVALID_API_KEYS"), GatewayAuthError, None),
        (error(400, "INVALID_INPUT", "UNAUTHORIZED_ENVIRONMENT"), GatewayAuthError, None),
        (error(429, "RATE_LIMIT_EXCEEDED", "RATE_LIMIT"), GatewayUnavailable, None),
        (error(400, "INSTITUTION_ERROR", "INSTITUTION_DOWN"), GatewayUnavailable, None),
        (error(503, "API_ERROR", "PLANNED_MAINTENANCE"), GatewayUnavailable, None),
        (error(500, "API_ERROR", "INTERNAL_SERVER_ERROR"), OutcomeUnknown, None),
        (
            error(400, "INVALID_INPUT", "INVALID_PUBLIC_TOKEN"),
            GatewayRejected,
            "invalid_public_token",
        ),
        (error(400, "INVALID_REQUEST", "MISSING_FIELDS"), GatewayRejected, "missing_fields"),
        (error(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED"), PaymentRefused, "item_login_required"),
        ((422, {"detail": "not Plaid's body"}), GatewayRejected, "http_422"),
        ((502, {"detail": "bad gateway"}), OutcomeUnknown, None),
    ],
)
async def test_plaid_errors_map_by_what_is_known_of_the_request(
    peer: PlaidPeer, reply: Reply, raised: type[Exception], code: str | None
) -> None:
    peer.answer = plaid_error(reply)
    gateway = gateway_at(peer.base_url)
    with pytest.raises(raised) as caught:
        await gateway.exchange_public_token(
            ExchangeRequest(public_token="public-sandbox-1", account_id="acc", idempotency_key="k")
        )
    assert type(caught.value) is raised
    if code is not None:
        assert isinstance(caught.value, GatewayRejected)
        assert caught.value.code == code


async def test_nothing_listening_is_unavailable() -> None:
    with pytest.raises(GatewayUnavailable):
        await gateway_at(f"http://127.0.0.1:{free_port()}").retrieve_transfer("tr_1")


async def test_no_answer_after_sending_is_outcome_unknown() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        gateway = gateway_at(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        with pytest.raises(OutcomeUnknown):
            await gateway.create_transfer(debit())


async def test_an_item_error_on_a_debit_is_a_decline(peer: PlaidPeer) -> None:
    peer.answer = plaid_error(
        error(400, "ITEM_ERROR", "ITEM_LOGIN_REQUIRED", display="Log in to your bank again.")
    )
    result = await gateway_at(peer.base_url).create_transfer(debit())
    assert result.outcome is Outcome.DECLINED
    assert result.gateway_reference == ""
    assert result.error is not None
    assert result.error.code == "item_login_required"
    assert result.error.message == "Log in to your bank again."


async def test_a_declined_authorization_creates_no_transfer(peer: PlaidPeer) -> None:
    authorization = {
        "id": "au_1",
        "decision": "declined",
        "decision_rationale": {"code": "NSF", "description": "Insufficient funds."},
    }
    peer.answer = lambda _path, _body: (200, {"authorization": authorization})
    result = await gateway_at(peer.base_url).create_transfer(debit())
    assert result.outcome is Outcome.DECLINED
    assert result.authorization_reference == "au_1"
    assert result.error is not None
    assert (result.error.code, result.error.decline_code) == ("authorization_declined", "nsf")
    assert peer.paths() == ["/transfer/authorization/create"]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("pending", Outcome.PROCESSING),
        ("posted", Outcome.PROCESSING),
        ("settled", Outcome.SUCCEEDED),
        ("funds_available", Outcome.SUCCEEDED),
        ("cancelled", Outcome.CANCELED),
        ("failed", Outcome.DECLINED),
        ("something_new", Outcome.PROCESSING),
    ],
)
async def test_transfer_statuses(peer: PlaidPeer, status: str, outcome: Outcome) -> None:
    peer.answer = lambda _path, _body: (200, {"transfer": transfer(status)})
    result = await gateway_at(peer.base_url).retrieve_transfer("tr_1")
    assert result.outcome is outcome
    assert result.amount == 5000


async def test_a_returned_transfer_carries_its_ach_code(peer: PlaidPeer) -> None:
    failure = {"ach_return_code": "R01", "description": "Insufficient funds"}
    peer.answer = lambda _p, _b: (200, {"transfer": transfer("returned", failure_reason=failure)})
    result = await gateway_at(peer.base_url).retrieve_transfer("tr_1")
    assert result.outcome is Outcome.DECLINED
    assert result.return_code == "R01"
    assert result.error is not None
    assert (result.error.code, result.error.decline_code) == (BANK_ACCOUNT_RETURNED, "R01")


@pytest.mark.parametrize(
    ("status", "verification"),
    [
        (None, BankVerification.VERIFIED),
        ("automatically_verified", BankVerification.VERIFIED),
        ("manually_verified", BankVerification.VERIFIED),
        ("pending_automatic_verification", BankVerification.PENDING_AUTOMATIC),
        ("pending_manual_verification", BankVerification.PENDING_MANUAL),
        ("verification_expired", BankVerification.FAILED),
        ("verification_failed", BankVerification.FAILED),
        ("a_status_from_the_future", BankVerification.FAILED),
    ],
)
async def test_verification_statuses_and_auth_only_once_verified(
    peer: PlaidPeer, status: str | None, verification: BankVerification
) -> None:
    account = {"account_id": "acc_1", "mask": "0000", "subtype": "checking"}
    if status is not None:
        account["verification_status"] = status
    numbers = {
        "ach": [{"account_id": "acc_1", "account": "1111222233330000", "routing": "011401533"}]
    }

    def answer(path: str, _body: dict[str, Any]) -> Reply:
        if path == "/accounts/get":
            return 200, {"accounts": [account], "item": {"item_id": "item_1"}}
        return 200, {"accounts": [account], "numbers": numbers}

    peer.answer = answer
    found = await gateway_at(peer.base_url).get_account(
        BankAccountRequest(access_token=ACCESS_TOKEN, account_id="acc_1")
    )
    assert found.verification is verification
    assert found.item_reference == "item_1"
    if verification is BankVerification.VERIFIED:
        assert peer.paths() == ["/accounts/get", "/auth/get"]
        assert (found.account_number, found.routing_number) == ("1111222233330000", "011401533")
    else:
        assert peer.paths() == ["/accounts/get"]
        assert found.account_number == ""
    assert "1111222233330000" not in repr(found)
    assert ACCESS_TOKEN not in repr(found)


async def test_access_tokens_and_numbers_never_reach_logs_or_errors(
    peer: PlaidPeer, caplog: pytest.LogCaptureFixture
) -> None:
    account = {"account_id": "acc_1", "mask": "0000"}
    numbers = {"ach": [{"account_id": "acc_1", "account": "9900009606", "routing": "011401533"}]}

    def answer(path: str, _body: dict[str, Any]) -> Reply:
        if path == "/item/public_token/exchange":
            return 200, {"access_token": ACCESS_TOKEN, "item_id": "item_1"}
        if path == "/transfer/authorization/create":
            return error(400, "INVALID_INPUT", "INVALID_ACCESS_TOKEN", f"bad token {ACCESS_TOKEN}")
        return 200, {"accounts": [account], "numbers": numbers, "item": {"item_id": "item_1"}}

    peer.answer = answer
    gateway = gateway_at(peer.base_url)
    with caplog.at_level(logging.DEBUG):
        linked = await gateway.exchange_public_token(
            ExchangeRequest(
                public_token="public-sandbox-1", account_id="acc_1", idempotency_key="k"
            )
        )
        with pytest.raises(GatewayRejected) as raised:
            await gateway.create_transfer(debit())
    assert linked.access_token == ACCESS_TOKEN
    assert linked.account_number == "9900009606"
    assert raised.value.code == "invalid_access_token"
    for text in (caplog.text, str(raised.value), repr(linked)):
        assert ACCESS_TOKEN not in text
        assert "9900009606" not in text


async def test_what_the_sdk_refuses_is_rejected_before_sending(peer: PlaidPeer) -> None:
    api = PlaidApi(PlaidConfig(client_id="c", secret=Secret("s"), host=peer.base_url))
    with pytest.raises(GatewayRejected) as raised:
        await api.sync_transfer_events({"count": 5})  # after_id is required
    assert raised.value.code == "invalid_request"
    assert peer.calls == []


async def test_transfer_events_update_syncs_every_page_from_the_cursor(peer: PlaidPeer) -> None:
    events = [
        {
            "event_id": 1,
            "event_type": "pending",
            "transfer_id": "tr_1",
            "timestamp": "2026-12-01T10:00:00Z",
        },
        {
            "event_id": 2,
            "event_type": "swept",
            "transfer_id": "tr_1",
            "timestamp": "2026-12-01T11:00:00Z",
        },
        {
            "event_id": 3,
            "event_type": "settled",
            "transfer_id": "tr_1",
            "timestamp": "2026-12-02T10:00:00Z",
        },
        {
            "event_id": 4,
            "event_type": "returned",
            "transfer_id": "tr_1",
            "timestamp": "2026-12-03T10:00:00Z",
            "failure_reason": {"ach_return_code": "R01", "description": "NSF"},
        },
    ]

    def answer(_path: str, body: dict[str, Any]) -> Reply:
        after = [e for e in events if e["event_id"] > body["after_id"]][:2]
        has_more = bool(after) and after[-1]["event_id"] < events[-1]["event_id"]
        return 200, {"transfer_events": after, "has_more": has_more, "request_id": "r"}

    peer.answer = answer
    reader = PlaidTransferEvents(gateway_at(peer.base_url))
    webhook = {"webhook_type": "TRANSFER", "webhook_code": "TRANSFER_EVENTS_UPDATE"}
    update = await reader("TRANSFER_EVENTS_UPDATE", webhook)
    assert update is not None
    assert [t.outcome for t in update.bank_transfers] == [
        Outcome.PROCESSING,
        Outcome.SUCCEEDED,
        Outcome.DECLINED,
    ]
    returned = update.bank_transfers[-1]
    assert (returned.gateway_reference, returned.return_code) == ("tr_1", "R01")
    assert returned.settled_before_return is True  # settled earlier in the same page
    assert [body["after_id"] for _path, body in peer.calls] == [0, 2]
    # Not applied yet (the relay's transaction failed, say): the next read starts over.
    assert reader.after_id == 0
    again = await reader("TRANSFER_EVENTS_UPDATE", webhook)
    assert again is not None
    assert again.bank_transfers == update.bank_transfers
    assert [body["after_id"] for _path, body in peer.calls] == [0, 2, 0, 2]
    assert again.cursor == 4  # stored by the relay with the changes it applies
    assert again.on_applied is not None
    again.on_applied()  # applied and committed: the cursor moves on
    assert reader.after_id == 4

    assert await reader("TRANSFER_EVENTS_UPDATE", webhook) is None  # nothing new
    assert await reader("DEFAULT_UPDATE", {"webhook_type": "ITEM"}) is None
    assert [body["after_id"] for _path, body in peer.calls] == [0, 2, 0, 2, 4]
    assert update.on_applied is not None
    update.on_applied()  # a late commit of the older read never moves it back
    assert reader.after_id == 4


def test_plaid_is_built_and_its_reader_registered_when_credentials_are_set() -> None:
    settings = load_settings(
        {
            "ISA_PLAID_CLIENT_ID": "client",
            "ISA_PLAID_SECRET": "secret",
            "ISA_PLAID_HOST": "http://127.0.0.1:9",
        }
    )
    registry = build_registry(settings)
    plaid = registry.find("plaid")
    assert isinstance(plaid, PlaidGateway)
    reader = update_readers(registry)["plaid"]
    assert isinstance(reader, PlaidTransferEvents)
    assert reader.after_id == 0
    assert "plaid" not in update_readers(build_registry(load_settings({})))


async def test_a_new_reader_reads_on_from_the_stored_position(peer: PlaidPeer) -> None:
    asked: list[str] = []

    async def stored_position(gateway: str) -> int:
        asked.append(gateway)
        return 41

    def answer(_path: str, _body: dict[str, Any]) -> Reply:
        return 200, {"transfer_events": [], "has_more": False, "request_id": "r"}

    peer.answer = answer
    registry = Registry((gateway_at(peer.base_url),))
    reader = update_readers(registry, stored_position)["plaid"]
    assert isinstance(reader, PlaidTransferEvents)
    assert asked == []  # not at start-up: the store may be down then
    webhook = {"webhook_type": "TRANSFER", "webhook_code": "TRANSFER_EVENTS_UPDATE"}
    assert await reader("TRANSFER_EVENTS_UPDATE", webhook) is None
    assert await reader("TRANSFER_EVENTS_UPDATE", webhook) is None
    assert asked == ["plaid"]  # once
    assert [body["after_id"] for _path, body in peer.calls] == [41, 41]
    assert "plaid" not in update_readers(build_registry(load_settings({})))


def auth_webhook(code: str, **fields: Any) -> dict[str, Any]:
    """An Auth webhook as Plaid's description gives it (its x-examples' ids)."""
    return {
        "webhook_type": "AUTH",
        "webhook_code": code,
        "item_id": "eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6",
        "account_id": "dVzbVMLjrxTnLjX4G66XUp5GLklm4oiZy88yK",
        "environment": "production",
        "error": None,
        **fields,
    }


@pytest.mark.parametrize(
    ("code", "fields", "verification", "reason"),
    [
        ("AUTOMATICALLY_VERIFIED", {}, BankVerification.VERIFIED, ""),
        ("VERIFICATION_EXPIRED", {}, BankVerification.FAILED, "verification_expired"),
        (
            "SMS_MICRODEPOSITS_VERIFICATION",
            {"status": "MANUALLY_VERIFIED"},
            BankVerification.VERIFIED,
            "",
        ),
        (
            "SMS_MICRODEPOSITS_VERIFICATION",
            {"status": "VERIFICATION_FAILED"},
            BankVerification.FAILED,
            "verification_failed",
        ),
    ],
)
async def test_auth_webhooks_end_an_accounts_verification_without_asking_plaid(
    peer: PlaidPeer,
    code: str,
    fields: dict[str, Any],
    verification: BankVerification,
    reason: str,
) -> None:
    reader = PlaidTransferEvents(gateway_at(peer.base_url))
    update = await reader(code, auth_webhook(code, **fields))
    assert update == GatewayUpdate(
        bank_verifications=(
            BankVerificationUpdate(
                account_reference="dVzbVMLjrxTnLjX4G66XUp5GLklm4oiZy88yK",
                item_reference="eVBnVMp7zdTJLkRNr33Rs6zr7KNJqBFL9DrE6",
                verification=verification,
                reason=reason,
            ),
        )
    )
    assert update.cursor is None  # not part of the transfer event stream
    assert update.on_applied is None
    assert peer.calls == []  # the verified body is trusted: nothing is re-read


@pytest.mark.parametrize(
    ("code", "webhook"),
    [
        ("DEFAULT_UPDATE", auth_webhook("DEFAULT_UPDATE")),
        ("BANK_TRANSFERS_EVENTS_UPDATE", auth_webhook("BANK_TRANSFERS_EVENTS_UPDATE")),
        ("SMS_MICRODEPOSITS_VERIFICATION", auth_webhook("SMS_MICRODEPOSITS_VERIFICATION")),
        (
            "SMS_MICRODEPOSITS_VERIFICATION",
            auth_webhook("SMS_MICRODEPOSITS_VERIFICATION", status="PENDING"),
        ),
        ("AUTOMATICALLY_VERIFIED", auth_webhook("AUTOMATICALLY_VERIFIED", account_id=None)),
        ("AUTOMATICALLY_VERIFIED", auth_webhook("AUTOMATICALLY_VERIFIED", account_id="")),
        (
            "AUTOMATICALLY_VERIFIED",
            {**auth_webhook("AUTOMATICALLY_VERIFIED"), "webhook_type": "ITEM"},
        ),
        (
            "VERIFICATION_EXPIRED",
            {**auth_webhook("VERIFICATION_EXPIRED"), "webhook_type": "TRANSFER"},
        ),
    ],
)
async def test_other_auth_webhooks_read_as_nothing(
    peer: PlaidPeer, code: str, webhook: dict[str, Any]
) -> None:
    reader = PlaidTransferEvents(gateway_at(peer.base_url))
    assert await reader(code, webhook) is None
    assert peer.calls == []


async def test_an_auth_webhook_without_an_item_still_names_its_account(peer: PlaidPeer) -> None:
    reader = PlaidTransferEvents(gateway_at(peer.base_url))
    webhook = auth_webhook("AUTOMATICALLY_VERIFIED")
    del webhook["item_id"]
    update = await reader("AUTOMATICALLY_VERIFIED", webhook)
    assert update is not None
    (change,) = update.bank_verifications
    assert (change.account_reference, change.item_reference) == (
        "dVzbVMLjrxTnLjX4G66XUp5GLklm4oiZy88yK",
        "",
    )
