"""The mock-provider harness itself: it must catch an invalid request, even one Prism
lets through, and pass a valid one. Without this, a contract test could pass on a peer
that checks nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.contract.prism import PLAID_SPEC, SQUARE_SPEC, MockPeer, start_mock

PLAID_HEADERS = {
    "Content-Type": "application/json",
    "PLAID-CLIENT-ID": "client",
    "PLAID-SECRET": "secret",
    "Plaid-Version": "2020-09-14",
}
SQUARE_HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer token"}


@pytest.fixture(scope="module")
def plaid() -> Iterator[MockPeer]:
    with start_mock(PLAID_SPEC) as peer:
        yield peer


@pytest.fixture(scope="module")
def square() -> Iterator[MockPeer]:
    with start_mock(SQUARE_SPEC) as peer:
        yield peer


def post(peer: MockPeer, path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
    request = urllib.request.Request(
        peer.base_url + path, data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            json.load(answer)
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_valid_plaid_request_passes(plaid: MockPeer) -> None:
    plaid.calls.clear()
    body = {
        "client_name": "isa",
        "language": "en",
        "country_codes": ["US"],
        "user": {"client_user_id": "cus_1"},
        "products": ["auth"],
    }
    assert post(plaid, "/link/token/create", body, PLAID_HEADERS) == 200
    assert plaid.request_violations() == []
    assert plaid.paths() == ["POST /link/token/create"]


def test_an_invalid_body_is_caught_where_prism_answers_200(plaid: MockPeer) -> None:
    plaid.calls.clear()
    # Prism cannot compile this operation's schema and answers 200 to anything.
    assert post(plaid, "/transfer/authorization/create", {}, PLAID_HEADERS) == 200
    violations = plaid.request_violations()
    assert any("'access_token' is a required property" in v for v in violations), violations


def test_a_request_prism_refuses_is_caught(square: MockPeer) -> None:
    square.calls.clear()
    assert post(square, "/v2/payments", {"amount_money": {"amount": 5}}, SQUARE_HEADERS) == 422
    violations = square.request_violations()
    assert any("source_id" in v for v in violations), violations
    assert any("Prism refused it (422)" in v for v in violations), violations


def test_a_wrong_type_and_an_unknown_path_are_caught(square: MockPeer) -> None:
    square.calls.clear()
    body = {"source_id": "cnon:card-nonce-ok", "idempotency_key": "k", "amount_money": "5"}
    post(square, "/v2/payments", body, SQUARE_HEADERS)
    post(square, "/v2/no-such-thing", {}, SQUARE_HEADERS)
    violations = square.request_violations()
    assert any("amount_money" in v for v in violations), violations
    assert any("no such operation" in v for v in violations), violations


def test_a_valid_square_payment_passes(square: MockPeer) -> None:
    square.calls.clear()
    body = {
        "source_id": "cnon:card-nonce-ok",
        "idempotency_key": "isa-123",
        "amount_money": {"amount": 500, "currency": "USD"},
        "autocomplete": False,
    }
    assert post(square, "/v2/payments", body, SQUARE_HEADERS) == 200
    assert square.request_violations() == []
