"""The Plaid adapter's real SDK calls against Plaid's own description (2020-09-14).

Prism serves ``../shared/specs/plaid-openapi-2020-09-14.yml`` behind the validating
proxy of :mod:`tests.contract.prism`; the adapter's ``PlaidApi`` is pointed at it as
``ISA_PLAID_HOST`` would point it. Each test makes the calls a user's flow makes and
asserts (1) every request was valid for the description (no 422, no schema violation,
no unknown path) and (2) Prism's documented answers parse into our results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace

import pytest

from gateways.errors import GatewayRejected
from gateways.plaid import PlaidConfig, PlaidGateway
from gateways.plaid.client import PlaidApi
from gateways.protocols import BankAccounts, BankTransfers
from gateways.types import (
    BankAccountRequest,
    BankTransferDirection,
    BankTransferRequest,
    BankVerification,
    ExchangeRequest,
    LinkTokenRequest,
    MicroDepositRequest,
    Outcome,
    derive_key,
)
from server.config import Secret
from tests.contract.prism import PLAID_SPEC, MockPeer, start_mock

#: The account ids of the description's examples (Prism answers with them).
AUTH_EXAMPLE_ACCOUNT = "vzeNDwK7KQIm4yEog683uElbp9GRLEFXGK98D"
ACCOUNTS_EXAMPLE_ACCOUNT = "blgvvBlXw3cq5GMPwqB6s6q4dLKB9WcVqGDGo"
ACCESS_TOKEN = "access-sandbox-de3ce8ef-33f8-452c-a685-8671031fc0f6"


@pytest.fixture(scope="module")
def peer() -> Iterator[MockPeer]:
    with start_mock(PLAID_SPEC) as started:
        yield started


@pytest.fixture
async def api(peer: MockPeer) -> AsyncIterator[PlaidApi]:
    peer.calls.clear()
    client = PlaidApi(
        PlaidConfig(client_id="client-id", secret=Secret("secret"), host=peer.base_url)
    )
    yield client
    await client.close()


@pytest.fixture
def plaid(api: PlaidApi) -> PlaidGateway:
    config = PlaidConfig(client_id="client-id", secret=Secret("secret"), host="http://unused")
    return PlaidGateway(config, api)


def assert_all_valid(peer: MockPeer, expected_paths: list[str]) -> None:
    assert peer.request_violations() == []
    assert [call.status for call in peer.calls] == [200] * len(peer.calls)
    assert peer.paths() == expected_paths


def transfer_request(**changes: object) -> BankTransferRequest:
    request = BankTransferRequest(
        direction=BankTransferDirection.DEBIT,
        access_token=ACCESS_TOKEN,
        account_id=ACCOUNTS_EXAMPLE_ACCOUNT,
        amount=1234,
        currency="usd",
        description="Rent for December 2026",
        legal_name="Ana Bell",
        metadata={"intent": "pi_01"},
        idempotency_key=derive_key("client", "caller-key", "bank-debit"),
    )
    return replace(request, **changes)  # type: ignore[arg-type]


def test_the_gateway_implements_the_bank_protocols(plaid: PlaidGateway) -> None:
    assert isinstance(plaid, BankAccounts)
    assert isinstance(plaid, BankTransfers)
    assert plaid.info.name == "plaid"
    assert plaid.info.currencies == frozenset({"usd"})


async def test_a_link_token_for_a_new_link_and_for_update_mode(
    plaid: PlaidGateway, peer: MockPeer
) -> None:
    token = await plaid.create_link_token(
        LinkTokenRequest(
            customer_reference="cus_01",
            webhook_url="https://isa.example/webhooks/plaid",
            idempotency_key="k",
        )
    )
    update = await plaid.create_link_token(
        LinkTokenRequest(
            customer_reference="cus_01", access_token=ACCESS_TOKEN, idempotency_key="k"
        )
    )
    assert token.link_token.startswith("link-")
    assert token.expire_time.tzinfo is not None
    assert token.expire_time == dt.datetime(2020, 3, 27, 12, 56, 34, tzinfo=dt.UTC)
    assert update.link_token == token.link_token
    assert_all_valid(peer, ["POST /link/token/create"] * 2)
    new, again = (call.body for call in peer.calls)
    assert new["user"] == {"client_user_id": "cus_01"}
    assert new["products"] == ["auth", "transfer"]
    assert new["auth"] == {
        "automated_microdeposits_enabled": True,
        "same_day_microdeposits_enabled": True,
    }
    assert new["webhook"] == "https://isa.example/webhooks/plaid"
    assert again["access_token"] == ACCESS_TOKEN
    assert "products" not in again


async def test_exchange_then_auth_numbers_for_the_chosen_account(
    plaid: PlaidGateway, peer: MockPeer
) -> None:
    account = await plaid.exchange_public_token(
        ExchangeRequest(
            public_token="public-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d",
            account_id=ACCOUNTS_EXAMPLE_ACCOUNT,
            idempotency_key="k",
        )
    )
    assert account.access_token.startswith("access-sandbox-")
    assert account.item_reference == "M5eVJqLnv3tbzdngLDp9FL5OlDNxlNhlE55op"
    assert account.account_id == ACCOUNTS_EXAMPLE_ACCOUNT
    assert account.mask == "0000"
    assert account.subtype == "checking"
    assert account.verification is BankVerification.VERIFIED
    # The description's /auth/get example numbers another account: none for this one.
    assert (account.account_number, account.routing_number) == ("", "")
    assert account.access_token not in repr(account)
    assert_all_valid(
        peer, ["POST /item/public_token/exchange", "POST /accounts/get", "POST /auth/get"]
    )
    assert peer.calls[1].body == {
        "access_token": account.access_token,
        "options": {"account_ids": [ACCOUNTS_EXAMPLE_ACCOUNT]},
    }


async def test_auth_numbers_are_read_for_the_chosen_account(
    plaid: PlaidGateway, api: PlaidApi, peer: MockPeer
) -> None:
    auth = await api.get_auth({"access_token": ACCESS_TOKEN})
    ach = auth["numbers"]["ach"][0]
    assert ach["account_id"] == AUTH_EXAMPLE_ACCOUNT
    assert ach["account"]
    assert ach["routing"]
    assert_all_valid(peer, ["POST /auth/get"])


async def test_an_account_the_item_does_not_have_is_rejected(
    plaid: PlaidGateway, peer: MockPeer
) -> None:
    with pytest.raises(GatewayRejected) as raised:
        await plaid.get_account(BankAccountRequest(access_token=ACCESS_TOKEN, account_id="nope"))
    assert raised.value.code == "invalid_account_id"
    assert ACCESS_TOKEN not in str(raised.value)
    assert_all_valid(peer, ["POST /accounts/get"])


async def test_micro_deposits_read_the_status_link_left(
    plaid: PlaidGateway, peer: MockPeer
) -> None:
    result = await plaid.verify_micro_deposits(
        MicroDepositRequest(
            access_token=ACCESS_TOKEN,
            account_id=ACCOUNTS_EXAMPLE_ACCOUNT,
            amounts=(32, 45),
            idempotency_key="k",
        )
    )
    assert result.verified is True
    assert result.verification is BankVerification.VERIFIED
    assert_all_valid(peer, ["POST /accounts/get", "POST /auth/get"])


async def test_the_sandbox_micro_deposit_and_transfer_helpers_are_valid(
    api: PlaidApi, peer: MockPeer
) -> None:
    """What a test or an operator uses in Plaid's sandbox to drive the two flows."""
    public = await api.sandbox_create_public_token(
        {
            "institution_id": "ins_109508",
            "initial_products": ["auth", "transfer"],
        }
    )
    await api.sandbox_set_verification_status(
        {
            "access_token": ACCESS_TOKEN,
            "account_id": ACCOUNTS_EXAMPLE_ACCOUNT,
            "verification_status": "automatically_verified",
        }
    )
    await api.sandbox_simulate_transfer(
        {
            "transfer_id": "460cbe92-2dcc-8eae-5ad6-b37d0ec90fd9",
            "event_type": "returned",
            "failure_reason": {"ach_return_code": "R01", "description": "insufficient funds"},
        }
    )
    assert str(public["public_token"]).startswith("public-sandbox-")
    assert_all_valid(
        peer,
        [
            "POST /sandbox/public_token/create",
            "POST /sandbox/item/set_verification_status",
            "POST /sandbox/transfer/simulate",
        ],
    )


async def test_a_debit_is_authorized_then_created_with_derived_keys(
    plaid: PlaidGateway, peer: MockPeer
) -> None:
    request = transfer_request()
    result = await plaid.create_transfer(request)
    assert result.outcome is Outcome.PROCESSING
    assert result.gateway_reference == "460cbe92-2dcc-8eae-5ad6-b37d0ec90fd9"
    assert result.authorization_reference == "c9f90aa1-2949-c799-e2b6-ea05c89bb586"
    assert result.amount == 1234
    assert_all_valid(peer, ["POST /transfer/authorization/create", "POST /transfer/create"])
    authorization, transfer = (call.body for call in peer.calls)
    assert authorization == {
        "access_token": ACCESS_TOKEN,
        "account_id": ACCOUNTS_EXAMPLE_ACCOUNT,
        "type": "debit",
        "network": "ach",
        "amount": "12.34",
        "ach_class": "web",
        "user": {"legal_name": "Ana Bell"},
        "idempotency_key": derive_key(request.idempotency_key, "plaid-authorization"),
    }
    assert transfer["authorization_id"] == "460cbe92-2dcc-8eae-5ad6-b37d0ec90fd9"  # the example's
    assert transfer["description"] == "Rent for Decemb"  # Plaid's 15 characters
    assert transfer["idempotency_key"] == derive_key(request.idempotency_key, "plaid-transfer")
    assert transfer["metadata"] == {"intent": "pi_01"}
    assert authorization["idempotency_key"] != transfer["idempotency_key"]

    again = await plaid.create_transfer(request)
    keys = [call.body["idempotency_key"] for call in peer.calls]
    assert again.gateway_reference == result.gateway_reference
    assert keys[2:] == keys[:2]  # a retry sends the same keys: Plaid answers the first


async def test_a_credit_is_an_authorization_of_type_credit(
    plaid: PlaidGateway, peer: MockPeer
) -> None:
    await plaid.create_transfer(transfer_request(direction=BankTransferDirection.CREDIT))
    assert_all_valid(peer, ["POST /transfer/authorization/create", "POST /transfer/create"])
    assert peer.calls[0].body["type"] == "credit"


async def test_what_plaid_would_refuse_is_refused_before_sending(
    plaid: PlaidGateway, peer: MockPeer
) -> None:
    for bad, code in [
        (transfer_request(currency="eur"), "currency_not_supported"),
        (transfer_request(amount=0), "invalid_amount"),
        (transfer_request(legal_name=" "), "legal_name"),
    ]:
        with pytest.raises(GatewayRejected) as raised:
            await plaid.create_transfer(bad)
        assert raised.value.code == code
    assert peer.calls == []


async def test_retrieve_and_sync_parse_into_results(plaid: PlaidGateway, peer: MockPeer) -> None:
    transfer = await plaid.retrieve_transfer("460cbe92-2dcc-8eae-5ad6-b37d0ec90fd9")
    page = await plaid.sync_transfer_events(0)
    assert transfer.outcome is Outcome.PROCESSING  # the example is "pending"
    assert transfer.amount == 1234
    assert [event.event_type for event in page.events] == ["pending"]
    assert page.events[0].transfer.gateway_reference == transfer.gateway_reference
    assert page.events[0].transfer.outcome is Outcome.PROCESSING
    assert page.events[0].time.tzinfo is not None
    assert page.next_after_id == 1
    assert page.has_more is True  # the example says so: the caller asks again
    assert_all_valid(peer, ["POST /transfer/get", "POST /transfer/event/sync"])
    assert peer.calls[1].body == {"after_id": 0, "count": 25}


async def test_the_harness_catches_an_invalid_call_of_ours(api: PlaidApi, peer: MockPeer) -> None:
    """The assertions above can fail: a product plaid-python 46 knows but the 2020-09-14
    description does not (``cra_qualify``) goes out through the same SDK path and is
    reported, although Prism itself lets this body through."""
    config = PlaidConfig(client_id="client-id", secret=Secret("secret"), host="http://unused")
    misconfigured = PlaidGateway(config, api, products=("cra_qualify",))
    await misconfigured.create_link_token(
        LinkTokenRequest(customer_reference="cus_01", idempotency_key="k")
    )
    violations = peer.request_violations()
    assert violations == [
        "POST /link/token/create: products: ['cra_qualify'] is not valid under any of the "
        "given schemas"
    ]
