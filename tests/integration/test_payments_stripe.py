"""The seeds' card flows over gRPC on the Stripe adapter (real SDK → localstripe), and
failover between gateways: only when one is unavailable before sending."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from gateways.sandbox import SandboxGateway
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from tests.conftest import TENANT_AUTH, Running, settings_for, start_running
from tests.contract.peers import localstripe_card, start_localstripe
from tests.integration.test_payments import create, key, new_customer

S = res.PaymentIntentStatus


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    yield from start_localstripe()


async def _serve(url: str, clients: Path, localstripe: str, **env: str) -> AsyncIterator[Running]:
    running = await start_running(
        settings_for(
            url,
            ISA_CLIENTS_FILE=str(clients),
            ISA_GATEWAYS="sandbox,stripe",
            ISA_STRIPE_API_KEY="sk_test_isa",
            ISA_STRIPE_API_BASE=localstripe,
            **env,
        )
    )
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


@pytest.fixture
async def both(migrated_url: str, clients_file: Path, localstripe: str) -> AsyncIterator[Running]:
    async for running in _serve(migrated_url, clients_file, localstripe):
        yield running


@pytest.fixture
async def sandbox_down(
    migrated_url: str, clients_file: Path, localstripe: str
) -> AsyncIterator[Running]:
    async for running in _serve(
        migrated_url, clients_file, localstripe, ISA_SANDBOX_FAILURE_RATE="1"
    ):
        yield running


async def test_one_time_card_payment_on_stripe(both: Running) -> None:
    intent = await create(both, gateway="stripe", payment_method_id="pm_card_visa", confirm=True)
    assert intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert intent.gateway == "stripe"
    assert intent.gateway_reference.startswith("pi_")
    assert intent.amount_received == 2999


async def test_authorize_capture_in_part_refund_in_parts_on_stripe(both: Running) -> None:
    stub = both.payments()
    intent = await create(
        both,
        gateway="stripe",
        amount=10_000,
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
    )
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE
    captured = (
        await stub.CapturePaymentIntent(
            pb.CapturePaymentIntentRequest(
                id=intent.id, amount_to_capture=8_000, idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert (captured.status, captured.amount_received) == (S.PAYMENT_INTENT_STATUS_SUCCEEDED, 8_000)
    for amount in (3_000, 5_000):
        refund = await stub.CreateRefund(
            pb.CreateRefundRequest(
                payment_intent_id=intent.id, amount=amount, idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
        assert refund.refund.status == res.REFUND_STATUS_SUCCEEDED
        assert refund.refund.gateway_reference.startswith("re_")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, amount=1, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_cancel_an_authorization_on_stripe(both: Running) -> None:
    intent = await create(
        both,
        gateway="stripe",
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
    )
    canceled = (
        await both.payments().CancelPaymentIntent(
            pb.CancelPaymentIntentRequest(id=intent.id, reason="order changed"),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert canceled.status == S.PAYMENT_INTENT_STATUS_CANCELED


async def test_saved_card_on_stripe_is_charged_through_its_customer(
    both: Running, localstripe: str
) -> None:
    stub = both.payments()
    customer = await new_customer(both)
    token = localstripe_card(localstripe, "4242424242424242")
    saved = (
        await stub.AttachPaymentMethod(
            pb.AttachPaymentMethodRequest(customer_id=customer, gateway="stripe", token=token),
            metadata=TENANT_AUTH,
        )
    ).payment_method
    assert (saved.gateway, saved.brand, saved.last4) == ("stripe", "visa", "4242")
    paid = await create(both, customer_id=customer, payment_method_id=saved.id, confirm=True)
    assert (paid.gateway, paid.status) == ("stripe", S.PAYMENT_INTENT_STATUS_SUCCEEDED)
    detached = await stub.DetachPaymentMethod(
        pb.DetachPaymentMethodRequest(id=saved.id), metadata=TENANT_AUTH
    )
    assert detached.payment_method.HasField("detach_time")


async def test_list_gateways_shows_both(both: Running) -> None:
    listed = await both.payments().ListGateways(pb.ListGatewaysRequest(), metadata=TENANT_AUTH)
    assert [(g.name, g.mode) for g in listed.gateways] == [
        ("sandbox", res.GATEWAY_MODE_SANDBOX),
        ("stripe", res.GATEWAY_MODE_TEST),
    ]


async def test_unavailable_before_sending_fails_over_to_the_next_gateway(
    sandbox_down: Running,
) -> None:
    intent = await create(sandbox_down, payment_method_id="pm_card_visa", confirm=True)
    assert intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert intent.gateway == "stripe"
    sandbox = sandbox_down.runtime.gateways.find("sandbox")
    assert isinstance(sandbox, SandboxGateway)
    assert sandbox.charges_made == 0


async def test_a_decline_does_not_fail_over(both: Running) -> None:
    intent = await create(both, payment_method_id="pm_card_chargeDeclined", confirm=True)
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert intent.gateway == "sandbox"
    assert intent.last_error.code == "card_declined"


async def test_a_token_stripe_does_not_know_leaves_no_intent_behind(both: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await create(both, gateway="stripe", payment_method_id="pm_typo", confirm=True)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    listed = await both.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert list(listed.payment_intents) == []
