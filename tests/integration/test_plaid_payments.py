"""Bank payments over gRPC with Plaid as the gateway: the server's own Plaid adapter
(ISA_PLAID_HOST) talks to Prism serving Plaid's 2020-09-14 description, on SQLite and
PostgreSQL. Every request the flow makes must be valid for the description; the access
token Plaid hands back is stored encrypted only."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from server.config import Settings
from tests.conftest import TENANT_AUTH, Running, serving, settings_for
from tests.contract.prism import PLAID_SPEC, MockPeer, start_mock
from tests.integration.test_bank_payments import _every_stored_value

#: Values of the description's examples (Prism answers with them).
EXAMPLE_ACCOUNT = "blgvvBlXw3cq5GMPwqB6s6q4dLKB9WcVqGDGo"
EXAMPLE_ACCESS_TOKEN = "access-sandbox-de3ce8ef-33f8-452c-a685-8671031fc0f6"
EXAMPLE_TRANSFER = "460cbe92-2dcc-8eae-5ad6-b37d0ec90fd9"


@pytest.fixture(scope="module")
def prism() -> Iterator[MockPeer]:
    with start_mock(PLAID_SPEC) as peer:
        yield peer


def plaid_settings(url: str, clients_file: Path, plaid_host: str, **env: str) -> Settings:
    """The server's settings with the plaid gateway (and the sandbox) at ``plaid_host``."""
    return settings_for(
        url,
        ISA_CLIENTS_FILE=str(clients_file),
        ISA_GATEWAYS="plaid,sandbox",
        ISA_PLAID_CLIENT_ID="client-id",
        ISA_PLAID_SECRET="plaid-secret",
        ISA_PLAID_HOST=plaid_host,
        **env,
    )


@pytest.fixture
async def server(migrated_url: str, clients_file: Path, prism: MockPeer) -> AsyncIterator[Running]:
    prism.calls.clear()
    async for running in serving(plaid_settings(migrated_url, clients_file, prism.base_url)):
        yield running


async def link_through_plaid(server: Running) -> tuple[str, str, res.PaymentMethod]:
    """What the tenant portal does: a customer, a link token, Link, then the exchange of
    the description's example account; (customer id, link token, the payment method)."""
    payments = server.payments()
    customer = await payments.CreateCustomer(
        pb.CreateCustomerRequest(name="Ana Bell", email="ana@example.com"), metadata=TENANT_AUTH
    )
    customer_id = customer.customer.id
    link = await payments.CreateBankLinkToken(
        pb.CreateBankLinkTokenRequest(customer_id=customer_id, idempotency_key="link-1"),
        metadata=TENANT_AUTH,
    )
    method = await payments.ExchangeBankPublicToken(
        pb.ExchangeBankPublicTokenRequest(
            customer_id=customer_id,
            public_token="public-sandbox-b0e2c4ee-a763-4df5-bfe9-46a46bce993d",
            account_id=EXAMPLE_ACCOUNT,
            idempotency_key="exchange-1",
        ),
        metadata=TENANT_AUTH,
    )
    return customer_id, link.link_token, method.payment_method


async def pay_through_plaid(server: Running, customer_id: str, method_id: str) -> res.PaymentIntent:
    """A $1,250.00 rent payment by the bank account ``method_id``, confirmed at once."""
    created = await server.payments().CreatePaymentIntent(
        pb.CreatePaymentIntentRequest(
            amount=125000,
            currency="usd",
            customer_id=customer_id,
            payment_method_id=method_id,
            confirm=True,
            description="May rent",
            idempotency_key="pay-1",
        ),
        metadata=TENANT_AUTH,
    )
    return created.payment_intent


async def test_link_exchange_and_an_ach_debit_through_plaid(
    server: Running, prism: MockPeer
) -> None:
    customer_id, link_token, method = await link_through_plaid(server)
    intent = await pay_through_plaid(server, customer_id, method.id)

    assert link_token.startswith("link-sandbox-")
    assert method.gateway == "plaid"
    assert method.last4 == "0000"
    assert method.account_type == "checking"
    assert intent.status == res.PAYMENT_INTENT_STATUS_PROCESSING
    assert prism.request_violations() == []
    assert prism.paths() == [
        "POST /link/token/create",
        "POST /item/public_token/exchange",
        "POST /accounts/get",
        "POST /auth/get",
        "POST /transfer/authorization/create",
        "POST /transfer/create",
    ]
    authorization = prism.calls[4].body
    assert authorization["user"] == {"legal_name": "Ana Bell"}  # the customer's name
    assert authorization["amount"] == "1250.00"
    stored = await _every_stored_value(server)
    assert not [value for value in stored if EXAMPLE_ACCESS_TOKEN in value]
    assert [value for value in stored if EXAMPLE_TRANSFER in value]
