"""Stripe's hosted pages through the service: a Checkout Session that knows its payer,
and an Express account's onboarding, learnt the two ways Stripe tells it: read back on
the next look (GET /v1/accounts/{id}) and the signed ``account.updated`` webhook.

localstripe has neither Checkout nor Connect, so Stripe here is a recording HTTP peer
answering as Stripe's API reference documents.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from store.payment_methods import GatewayCustomers
from tests.conftest import TENANT_AUTH, Running, serving
from tests.contract.peers import Recorded, RecordingStripe
from tests.integration.test_outside_refunds_gateways import applied, post_stripe_event
from tests.integration.test_payment_gateway_events import stripe_settings
from tests.integration.test_payments import events, new_customer


class StripeConnect:
    """Stripe's side of one Express account, which its owner may onboard."""

    def __init__(self) -> None:
        self.account: dict[str, Any] = {
            "id": "acct_1Stripe",
            "object": "account",
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "requirements": {"disabled_reason": "requirements.past_due"},
        }

    def onboarded(self) -> dict[str, Any]:
        self.account.update(
            charges_enabled=True,
            payouts_enabled=True,
            details_submitted=True,
            requirements={"disabled_reason": None},
        )
        return self.account

    def answer(self, request: Recorded) -> tuple[int, dict[str, Any]]:
        if request.path in ("/v1/accounts", f"/v1/accounts/{self.account['id']}"):
            return 200, self.account
        if request.path == "/v1/checkout/sessions":
            return 200, {
                "id": "cs_test_1",
                "object": "checkout.session",
                "url": "https://checkout.stripe.com/c/pay/cs_test_1",
                "expires_at": 4_000_000_000,
            }
        if request.path == "/v1/account_links":
            return 200, {
                "object": "account_link",
                "url": "https://connect.stripe.com/setup/e/acct_1Stripe/x",
                "expires_at": 4_000_000_000,
            }
        return 404, {"error": {"type": "invalid_request_error", "message": "Not Found"}}


@pytest.fixture
def connect() -> StripeConnect:
    return StripeConnect()


@pytest.fixture
async def stripe_connect(
    migrated_url: str, clients_file: Path, connect: StripeConnect
) -> AsyncIterator[tuple[Running, RecordingStripe]]:
    fake = RecordingStripe(reply=connect.answer)
    await fake.start()
    async for running in serving(stripe_settings(migrated_url, clients_file, fake.base)):
        yield running, fake
    await fake.stop()


async def new_account(server: Running) -> res.ConnectedAccount:
    made = await server.payments().CreateConnectedAccount(
        pb.CreateConnectedAccountRequest(owner_ref="seller-1", gateway="stripe"),
        metadata=TENANT_AUTH,
    )
    return made.connected_account


async def read(server: Running, account_id: str) -> res.ConnectedAccount:
    got = await server.payments().GetConnectedAccount(
        pb.GetConnectedAccountRequest(id=account_id), metadata=TENANT_AUTH
    )
    return got.connected_account


async def test_the_next_look_asks_stripe_and_records_the_finished_onboarding(
    stripe_connect: tuple[Running, RecordingStripe], connect: StripeConnect
) -> None:
    server, fake = stripe_connect
    account = await new_account(server)
    assert account.status == res.CONNECTED_ACCOUNT_STATUS_PENDING
    assert account.onboarding_url == "https://connect.stripe.com/setup/e/acct_1Stripe/x"
    assert (await read(server, account.id)).status == res.CONNECTED_ACCOUNT_STATUS_PENDING
    assert await events(server, account.id) == ["connected_account.created"]

    connect.onboarded()  # the owner finishes Stripe's form
    active = await read(server, account.id)
    assert active.status == res.CONNECTED_ACCOUNT_STATUS_ACTIVE
    assert (active.charges_enabled, active.payouts_enabled) == (True, True)
    assert active.onboarding_url == ""
    assert await events(server, account.id) == [
        "connected_account.created",
        "connected_account.updated",
    ]
    looks = [r for r in fake.requests if r.method == "GET"]
    assert [r.path for r in looks] == ["/v1/accounts/acct_1Stripe"] * 2
    await read(server, account.id)  # active: Stripe is not asked again
    assert len([r for r in fake.requests if r.method == "GET"]) == 2


async def test_account_updated_webhook_records_onboarding_and_rejection(
    stripe_connect: tuple[Running, RecordingStripe], connect: StripeConnect
) -> None:
    server, _fake = stripe_connect
    account = await new_account(server)
    await post_stripe_event(server, "account.updated", dict(connect.onboarded()))
    (event,) = await applied(server, "stripe", 1)
    assert event.resource_id == account.id
    assert (await read(server, account.id)).status == res.CONNECTED_ACCOUNT_STATUS_ACTIVE

    rejected = {
        **connect.account,
        "id": "acct_1Stripe",
        "charges_enabled": False,
        "requirements": {"disabled_reason": "rejected.fraud"},
    }
    await post_stripe_event(server, "account.updated", rejected, event_id="evt_rejected")
    await applied(server, "stripe", 2)
    now = await read(server, account.id)
    assert (now.status, now.charges_enabled) == (res.CONNECTED_ACCOUNT_STATUS_REJECTED, False)


async def test_a_checkout_session_names_the_payer_as_stripe_knows_them(
    stripe_connect: tuple[Running, RecordingStripe],
) -> None:
    server, fake = stripe_connect
    customer = await new_customer(server)
    async with server.runtime.db.write() as session:  # their first Stripe card made this
        await GatewayCustomers(session).add(customer, "stripe", "cus_Stripe1")
    made = await stripe_session(server, customer_id=customer)
    assert made.url == "https://checkout.stripe.com/c/pay/cs_test_1"
    (sent,) = [r for r in fake.requests if r.path == "/v1/checkout/sessions"]
    assert sent.form["customer"] == "cus_Stripe1"


async def test_a_stripe_checkout_paid_on_stripes_page_completes_with_its_payment(
    stripe_connect: tuple[Running, RecordingStripe],
) -> None:
    """Stripe made the PaymentIntent itself: its signed checkout.session.completed
    brings it in as the session's intent, SUCCEEDED, and the session COMPLETE."""
    server, _fake = stripe_connect
    customer = await new_customer(server)
    made = await stripe_session(server, quantity=2, customer_id=customer, metadata={"lease": "L-9"})
    completed = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "mode": "payment",
        "payment_status": "paid",
        "status": "complete",
        "payment_intent": "pi_3Stripe",
        "amount_total": 3000,
        "currency": "usd",
    }
    await post_stripe_event(server, "checkout.session.completed", completed)
    (event,) = await applied(server, "stripe", 1)
    assert event.resource_id == made.id
    done = (
        await server.payments().GetCheckoutSession(
            pb.GetCheckoutSessionRequest(id=made.id), metadata=TENANT_AUTH
        )
    ).checkout_session
    assert done.status == res.CHECKOUT_SESSION_STATUS_COMPLETE
    intent = (
        await server.payments().GetPaymentIntent(
            pb.GetPaymentIntentRequest(id=done.payment_intent_id), metadata=TENANT_AUTH
        )
    ).payment_intent
    assert intent.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert (intent.amount_received, intent.gateway, intent.gateway_reference) == (
        3000,
        "stripe",
        "pi_3Stripe",
    )
    assert (intent.customer_id, intent.metadata["lease"]) == (customer, "L-9")
    assert await events(server, intent.id) == ["payment.created", "payment.succeeded"]
    ours = [t for t in await events(server, made.id) if not t.startswith("gateway.")]
    assert ours == ["checkout.session.created", "checkout.session.completed"]
    # Stripe sends events at least once: the same one again changes nothing
    await post_stripe_event(server, "checkout.session.completed", completed, event_id="evt_again")
    await applied(server, "stripe", 2)
    assert await events(server, intent.id) == ["payment.created", "payment.succeeded"]
    listed = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert [i.id for i in listed.payment_intents] == [intent.id]


async def test_a_stripe_checkout_expired_unpaid_is_stored_expired_once(
    stripe_connect: tuple[Running, RecordingStripe],
) -> None:
    server, _fake = stripe_connect
    made = await stripe_session(server)
    expired = {"id": "cs_test_1", "object": "checkout.session", "status": "expired"}
    await post_stripe_event(server, "checkout.session.expired", expired)
    (event,) = await applied(server, "stripe", 1)
    assert event.resource_id == made.id
    got = await server.payments().GetCheckoutSession(
        pb.GetCheckoutSessionRequest(id=made.id), metadata=TENANT_AUTH
    )
    assert got.checkout_session.status == res.CHECKOUT_SESSION_STATUS_EXPIRED
    await post_stripe_event(server, "checkout.session.expired", expired, event_id="evt_again")
    await applied(server, "stripe", 2)
    ours = [t for t in await events(server, made.id) if not t.startswith("gateway.")]
    assert ours == ["checkout.session.created", "checkout.session.expired"]


async def stripe_session(
    server: Running, *, quantity: int = 1, **fields: object
) -> res.CheckoutSession:
    """A Stripe-hosted session selling ``quantity`` rents of 1500."""
    made = await server.payments().CreateCheckoutSession(
        pb.CreateCheckoutSessionRequest(
            gateway="stripe",
            mode=res.CHECKOUT_SESSION_MODE_PAYMENT,
            line_items=res.CheckoutLineItems(
                items=[
                    res.CheckoutLineItem(description="Rent", quantity=quantity, unit_amount=1500)
                ]
            ),
            success_url="https://tenant.example/ok",
            **fields,  # type: ignore[arg-type]
        ),
        metadata=TENANT_AUTH,
    )
    return made.checkout_session
