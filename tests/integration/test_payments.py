"""The seeds' payment flows over gRPC on the sandbox gateway, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import json
from urllib.parse import urlsplit

import aiohttp
import grpc
import pytest
from sqlalchemy import select

from gateways.sandbox import SandboxGateway
from gateways.types import RefundRequest, RefundResult
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from store.models import EventRow
from store.payment_models import ConnectedAccountRow
from tests.conftest import OTHER_AUTH, TENANT_AUTH, Running
from tests.integration.test_customers import field_violations
from tests.integration.test_surface import error_info

S = res.PaymentIntentStatus
_keys = itertools.count()


def key() -> str:
    return f"k-{next(_keys)}"


async def create(server: Running, **fields: object) -> res.PaymentIntent:
    values: dict[str, object] = {"amount": 2999, "currency": "usd", "idempotency_key": key()}
    values.update(fields)
    response = await server.payments().CreatePaymentIntent(
        pb.CreatePaymentIntentRequest(**values),  # type: ignore[arg-type]
        metadata=TENANT_AUTH,
    )
    return response.payment_intent


async def events(server: Running, resource_id: str) -> list[str]:
    async with server.runtime.db.read() as session:
        rows = await session.scalars(
            select(EventRow).where(EventRow.resource_id == resource_id).order_by(EventRow.id)
        )
        return [row.type for row in rows]


def sandbox_gateway(server: Running) -> SandboxGateway:
    gateway = server.runtime.gateways.find("sandbox")
    assert isinstance(gateway, SandboxGateway)
    return gateway


async def new_customer(server: Running) -> str:
    response = await server.payments().CreateCustomer(
        pb.CreateCustomerRequest(name="Ana", email="ana@example.com"), metadata=TENANT_AUTH
    )
    return response.customer.id


# --- seed 004: one-time card payment ------------------------------------------------------


async def test_one_time_card_payment_succeeds_in_one_call(server: Running) -> None:
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    assert intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert intent.amount_received == 2999
    assert intent.gateway == "sandbox"
    assert intent.gateway_reference
    assert intent.client_secret.startswith(f"{intent.id}_secret_")
    assert await events(server, intent.id) == ["payment.created", "payment.succeeded"]


@pytest.mark.parametrize(
    ("method", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
async def test_a_decline_is_a_business_outcome_with_last_error(
    server: Running, method: str, decline_code: str
) -> None:
    intent = await create(server, payment_method_id=method, confirm=True)
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert intent.last_error.code == "card_declined"
    assert intent.last_error.decline_code == decline_code
    assert intent.amount_received == 0
    assert await events(server, intent.id) == ["payment.created", "payment.failed"]
    # A new card on the same intent then succeeds.
    retried = await server.payments().ConfirmPaymentIntent(
        pb.ConfirmPaymentIntentRequest(
            id=intent.id, payment_method_id="pm_card_visa", idempotency_key=key()
        ),
        metadata=TENANT_AUTH,
    )
    assert retried.payment_intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert not retried.payment_intent.HasField("last_error")


@pytest.mark.parametrize(
    ("succeed", "status"),
    [
        (True, S.PAYMENT_INTENT_STATUS_SUCCEEDED),
        (False, S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD),
    ],
)
async def test_3d_secure_redirects_then_completes_or_fails(
    server: Running, succeed: bool, status: int
) -> None:
    sandbox = sb_grpc.SandboxServiceStub(server.channel)
    token = await sandbox.CreateTestCardToken(
        sb.CreateTestCardTokenRequest(
            number="4000002500003155", exp_month=12, exp_year=2040, cvc="123"
        ),
        metadata=TENANT_AUTH,
    )
    intent = await create(server, payment_method_id=token.token, confirm=True)
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    assert intent.next_action.type == res.NEXT_ACTION_TYPE_REDIRECT
    assert "/sandbox/authenticate/" in intent.next_action.redirect_url
    path = urlsplit(intent.next_action.redirect_url).path  # the relay is on a test port here
    async with aiohttp.ClientSession() as http, http.get(server.relay_url + path) as page:
        assert page.status == 200
        assert "CompleteAuthentication" in await page.text()
    done = await sandbox.CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=intent.id, succeed=succeed),
        metadata=TENANT_AUTH,
    )
    assert done.payment_intent.status == status
    if not succeed:
        assert done.payment_intent.last_error.code == "authentication_failed"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.CompleteAuthentication(
            sb.CompleteAuthenticationRequest(payment_intent_id=intent.id, succeed=True),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "INVALID_STATE"


async def test_test_card_numbers_become_tokens_with_brand_and_last4(server: Running) -> None:
    sandbox = sb_grpc.SandboxServiceStub(server.channel)
    made = await sandbox.CreateTestCardToken(
        sb.CreateTestCardTokenRequest(
            number="4000000000009995", exp_month=1, exp_year=2040, cvc="123"
        ),
        metadata=TENANT_AUTH,
    )
    assert made.token.startswith("tok_")
    assert (made.brand, made.last4) == ("visa", "9995")
    intent = await create(server, payment_method_id=made.token, confirm=True)
    assert intent.last_error.decline_code == "insufficient_funds"
    with pytest.raises(grpc.aio.AioRpcError) as spent:  # single-use, as Stripe's tokens
        await create(server, payment_method_id=made.token, confirm=True)
    assert field_violations(spent.value) == {
        "payment_method_id": "this token was already used: tokenize the card again"
    }
    with pytest.raises(grpc.aio.AioRpcError) as reattached:
        await server.payments().AttachPaymentMethod(
            pb.AttachPaymentMethodRequest(
                customer_id=await new_customer(server), gateway="sandbox", token=made.token
            ),
            metadata=TENANT_AUTH,
        )
    assert set(field_violations(reattached.value)) == {"token"}
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await sandbox.CreateTestCardToken(
            sb.CreateTestCardTokenRequest(
                number="4242424242424241", exp_month=1, exp_year=2040, cvc="1"
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"cvc"}


@pytest.mark.parametrize(
    "request_",
    [
        pb.CreatePaymentIntentRequest(
            amount=100, currency="usd", payment_method_id="4242424242424242", idempotency_key="a"
        ),
        pb.CreatePaymentIntentRequest(
            amount=100, currency="usd", description="card 4242 4242 4242 4242", idempotency_key="b"
        ),
        pb.CreatePaymentIntentRequest(
            amount=100,
            currency="usd",
            metadata={"card": "4000-0025-0000-3155"},
            idempotency_key="c",
        ),
    ],
)
async def test_a_raw_card_number_anywhere_is_refused_and_never_stored(
    server: Running, request_: pb.CreatePaymentIntentRequest
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().CreatePaymentIntent(request_, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "card number" in " ".join(field_violations(caught.value).values())
    assert "4242" not in (caught.value.details() or "")
    listed = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert list(listed.payment_intents) == []


@pytest.mark.parametrize("currency", ["credits", "USD", "xyz"])
async def test_a_payment_in_no_payable_currency_is_refused(server: Running, currency: str) -> None:
    """``credits`` are the ledger's own unit: no gateway can be asked to charge them."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().CreatePaymentIntent(
            pb.CreatePaymentIntentRequest(
                amount=100, currency=currency, payment_method_id="tok_visa", idempotency_key="k"
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {"currency"}


async def test_attach_refuses_a_card_number_as_token(server: Running) -> None:
    customer = await new_customer(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().AttachPaymentMethod(
            pb.AttachPaymentMethodRequest(
                customer_id=customer, gateway="sandbox", token="4242424242424242"
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "token" in field_violations(caught.value)


async def test_a_token_the_gateway_does_not_know_leaves_no_intent_behind(server: Running) -> None:
    """Like Stripe's resource_missing on create: the call fails and nothing was created,
    so no caller is told of (nor webhooks announce) an intent it never got an id for."""
    asked = key()
    for _ in range(2):  # the retry with the same key is answered the same way
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await create(server, payment_method_id="pm_typo", confirm=True, idempotency_key=asked)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert field_violations(refused.value) == {
            "payment_method_id": "the gateway does not know this payment method"
        }
    async with server.runtime.db.read() as session:
        assert (await session.scalars(select(EventRow))).all() == []
    listed = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert list(listed.payment_intents) == []
    fixed = await create(
        server, payment_method_id="pm_card_visa", confirm=True, idempotency_key=asked
    )
    assert fixed.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert await events(server, fixed.id) == ["payment.created", "payment.succeeded"]


async def test_an_unknown_token_on_confirm_keeps_the_intent_it_was_confirming(
    server: Running,
) -> None:
    intent = await create(server)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await server.payments().ConfirmPaymentIntent(
            pb.ConfirmPaymentIntentRequest(
                id=intent.id, payment_method_id="pm_typo", idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fetched = await server.payments().GetPaymentIntent(
        pb.GetPaymentIntentRequest(id=intent.id), metadata=TENANT_AUTH
    )
    assert fetched.payment_intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert await events(server, intent.id) == ["payment.created"]


async def test_create_with_confirm_replays_and_refuses_a_changed_request(server: Running) -> None:
    stub = server.payments()
    request = pb.CreatePaymentIntentRequest(
        amount=500,
        currency="usd",
        payment_method_id="pm_card_visa",
        confirm=True,
        idempotency_key="same",
    )
    first = await stub.CreatePaymentIntent(request, metadata=TENANT_AUTH)
    again = await stub.CreatePaymentIntent(request, metadata=TENANT_AUTH)
    assert again == first
    request.amount = 501
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreatePaymentIntent(request, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert server.runtime.gateways.find("sandbox").charges_made == 1  # type: ignore[union-attr]


async def test_a_key_first_used_by_another_method_is_refused_before_any_charge(
    server: Running,
) -> None:
    stub = server.payments()
    await stub.CreateCustomer(
        pb.CreateCustomerRequest(name="Ana", email="ana@example.com", idempotency_key="shared"),
        metadata=TENANT_AUTH,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreatePaymentIntent(
            pb.CreatePaymentIntentRequest(
                amount=500,
                currency="usd",
                payment_method_id="pm_card_visa",
                confirm=True,
                idempotency_key="shared",
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value).reason == "IDEMPOTENCY_KEY_REUSED"
    listed = await stub.ListPaymentIntents(pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH)
    assert list(listed.payment_intents) == []
    assert server.runtime.gateways.find("sandbox").charges_made == 0  # type: ignore[union-attr]


# --- seeds 000/001: intent → confirm → refund; checkout ------------------------------------


async def test_intent_then_confirm_then_full_refund(server: Running) -> None:
    stub = server.payments()
    intent = await create(server, description="Pro Plan - Monthly", metadata={"product_id": "p1"})
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    confirmed = (
        await stub.ConfirmPaymentIntent(
            pb.ConfirmPaymentIntentRequest(
                id=intent.id, payment_method_id="pm_card_visa", idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert confirmed.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    refund = (
        await stub.CreateRefund(
            pb.CreateRefundRequest(
                payment_intent_id=intent.id, reason="customer_request", idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    ).refund
    assert refund.status == res.REFUND_STATUS_SUCCEEDED
    assert refund.amount == 2999
    after = (
        await stub.GetPaymentIntent(pb.GetPaymentIntentRequest(id=intent.id), metadata=TENANT_AUTH)
    ).payment_intent
    assert after.amount_refunded == 2999
    assert await events(server, refund.id) == ["refund.created", "refund.succeeded"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, amount=1, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    assert error_info(caught.value).reason == "AMOUNT_TOO_LARGE"
    assert error_info(caught.value).metadata["refundable"] == "0"
    with pytest.raises(grpc.aio.AioRpcError) as again:  # "the rest" of nothing
        await stub.CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    assert "already refunded in full" in again.value.details()


async def test_confirming_a_succeeded_intent_is_an_invalid_state(server: Running) -> None:
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().ConfirmPaymentIntent(
            pb.ConfirmPaymentIntentRequest(id=intent.id, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "INVALID_STATE"


async def test_checkout_session_has_a_local_url(server: Running) -> None:
    customer = await new_customer(server)
    made = (
        await server.payments().CreateCheckoutSession(
            pb.CreateCheckoutSessionRequest(
                customer_id=customer,
                mode=res.CHECKOUT_SESSION_MODE_PAYMENT,
                line_items=res.CheckoutLineItems(
                    items=[res.CheckoutLineItem(description="Rent", quantity=2, unit_amount=1500)]
                ),
                success_url="https://tenant.example/ok",
                cancel_url="https://tenant.example/cancel",
            ),
            metadata=TENANT_AUTH,
        )
    ).checkout_session
    assert made.id.startswith("cs_")
    assert made.url.startswith("http://127.0.0.1")
    assert "/sandbox/checkout/" in made.url
    assert made.status == res.CHECKOUT_SESSION_STATUS_OPEN
    assert made.amount_total == 3000
    fetched = await server.payments().GetCheckoutSession(
        pb.GetCheckoutSessionRequest(id=made.id), metadata=TENANT_AUTH
    )
    assert fetched.checkout_session == made


# --- seed 003: create/capture/cancel, partial refunds, saved methods ------------------------


async def test_manual_capture_in_part_then_partial_refunds_never_above_received(
    server: Running,
) -> None:
    stub = server.payments()
    intent = await create(
        server,
        amount=10_000,
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
    )
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE
    assert intent.amount_capturable == 10_000
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CapturePaymentIntent(
            pb.CapturePaymentIntentRequest(
                id=intent.id, amount_to_capture=10_001, idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    assert error_info(caught.value).reason == "AMOUNT_TOO_LARGE"
    captured = (
        await stub.CapturePaymentIntent(
            pb.CapturePaymentIntentRequest(
                id=intent.id, amount_to_capture=8_000, idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert captured.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert (captured.amount_received, captured.amount_capturable) == (8_000, 0)
    for amount in (3_000, 5_000):
        refund = await stub.CreateRefund(
            pb.CreateRefundRequest(
                payment_intent_id=intent.id, amount=amount, idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
        assert refund.refund.status == res.REFUND_STATUS_SUCCEEDED
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, amount=1, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "AMOUNT_TOO_LARGE"
    listed = await stub.ListRefunds(
        pb.ListRefundsRequest(payment_intent_id=intent.id, page_size=1), metadata=TENANT_AUTH
    )
    assert [r.amount for r in listed.refunds] == [5_000]
    second = await stub.ListRefunds(
        pb.ListRefundsRequest(
            payment_intent_id=intent.id, page_size=1, page_token=listed.next_page_token
        ),
        metadata=TENANT_AUTH,
    )
    assert [r.amount for r in second.refunds] == [3_000]
    final = (
        await stub.GetPaymentIntent(pb.GetPaymentIntentRequest(id=intent.id), metadata=TENANT_AUTH)
    ).payment_intent
    assert final.amount_refunded == 8_000


async def test_a_fee_is_refused_on_capturing_a_payment_to_no_connected_account(
    server: Running,
) -> None:
    intent = await create(
        server,
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
    )
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await server.payments().CapturePaymentIntent(
            pb.CapturePaymentIntentRequest(
                id=intent.id, application_fee_amount=100, idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(refused.value)) == {"application_fee_amount"}
    still = await server.payments().GetPaymentIntent(
        pb.GetPaymentIntentRequest(id=intent.id), metadata=TENANT_AUTH
    )
    assert still.payment_intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE
    assert still.payment_intent.application_fee_amount == 0


async def test_cancel_releases_an_authorization_and_cannot_cancel_twice(server: Running) -> None:
    stub = server.payments()
    intent = await create(
        server,
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
    )
    canceled = (
        await stub.CancelPaymentIntent(
            pb.CancelPaymentIntentRequest(id=intent.id, reason="requested_by_customer"),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert canceled.status == S.PAYMENT_INTENT_STATUS_CANCELED
    assert canceled.cancellation_reason == "requested_by_customer"
    assert await events(server, intent.id) == [
        "payment.created",
        "payment.requires_capture",
        "payment.canceled",
    ]
    for call in (
        stub.CancelPaymentIntent(pb.CancelPaymentIntentRequest(id=intent.id), metadata=TENANT_AUTH),
        stub.CapturePaymentIntent(
            pb.CapturePaymentIntentRequest(id=intent.id, idempotency_key=key()),
            metadata=TENANT_AUTH,
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_info(caught.value).reason == "INVALID_STATE"


async def test_saved_methods_attach_list_charge_detach(server: Running) -> None:
    stub = server.payments()
    customer = await new_customer(server)
    attached = (
        await stub.AttachPaymentMethod(
            pb.AttachPaymentMethodRequest(
                customer_id=customer, gateway="sandbox", token="pm_card_visa", set_as_default=True
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_method
    assert attached.id.startswith("pm_")
    assert attached.id != "pm_card_visa"
    assert (attached.brand, attached.last4, attached.is_default) == ("visa", "4242", True)
    assert attached.type == res.PAYMENT_METHOD_TYPE_CARD
    listed = await stub.ListPaymentMethods(
        pb.ListPaymentMethodsRequest(customer_id=customer), metadata=TENANT_AUTH
    )
    assert [m.id for m in listed.payment_methods] == [attached.id]
    paid = await create(server, customer_id=customer, payment_method_id=attached.id, confirm=True)
    assert paid.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    # with the customer left out, the saved method's customer is the payer
    unnamed = await create(server, payment_method_id=attached.id, confirm=True)
    assert unnamed.customer_id == customer
    history = await stub.ListPaymentIntents(
        pb.ListPaymentIntentsRequest(customer_id=customer), metadata=TENANT_AUTH
    )
    assert [i.id for i in history.payment_intents] == [unnamed.id, paid.id]
    detached = (
        await stub.DetachPaymentMethod(
            pb.DetachPaymentMethodRequest(id=attached.id), metadata=TENANT_AUTH
        )
    ).payment_method
    assert detached.customer_id == ""
    assert detached.HasField("detach_time")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.DetachPaymentMethod(
            pb.DetachPaymentMethodRequest(id=attached.id), metadata=TENANT_AUTH
        )
    assert error_info(caught.value).reason == "INVALID_STATE"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(server, customer_id=customer, payment_method_id=attached.id, confirm=True)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "PAYMENT_METHOD_DETACHED"


async def test_the_customer_names_its_default_method_until_it_is_detached(
    server: Running,
) -> None:
    stub = server.payments()
    customer = await new_customer(server)

    async def attach(token: str, *, default: bool) -> str:
        made = await stub.AttachPaymentMethod(
            pb.AttachPaymentMethodRequest(
                customer_id=customer, gateway="sandbox", token=token, set_as_default=default
            ),
            metadata=TENANT_AUTH,
        )
        return made.payment_method.id

    async def default_of() -> str:
        got = await stub.GetCustomer(pb.GetCustomerRequest(id=customer), metadata=TENANT_AUTH)
        listed = await stub.ListCustomers(pb.ListCustomersRequest(), metadata=TENANT_AUTH)
        (in_list,) = [c for c in listed.customers if c.id == customer]
        assert in_list.default_payment_method_id == got.customer.default_payment_method_id
        return got.customer.default_payment_method_id

    assert await default_of() == ""
    first = await attach("pm_card_visa", default=True)
    assert await default_of() == first
    await attach("pm_card_mastercard", default=False)
    assert await default_of() == first
    second = await attach("pm_card_visa", default=True)
    assert await default_of() == second
    methods = await stub.ListPaymentMethods(
        pb.ListPaymentMethodsRequest(customer_id=customer), metadata=TENANT_AUTH
    )
    assert [m.id for m in methods.payment_methods if m.is_default] == [second]
    await stub.DetachPaymentMethod(pb.DetachPaymentMethodRequest(id=second), metadata=TENANT_AUTH)
    assert await default_of() == ""


async def test_history_pages_newest_first_and_filters_by_status(server: Running) -> None:
    made = [
        (await create(server, payment_method_id=m, confirm=True)).id
        for m in ("pm_card_visa", "pm_card_chargeDeclined", "pm_card_visa")
    ]
    stub = server.payments()
    first = await stub.ListPaymentIntents(
        pb.ListPaymentIntentsRequest(page_size=2), metadata=TENANT_AUTH
    )
    rest = await stub.ListPaymentIntents(
        pb.ListPaymentIntentsRequest(page_size=2, page_token=first.next_page_token),
        metadata=TENANT_AUTH,
    )
    assert [i.id for i in [*first.payment_intents, *rest.payment_intents]] == made[::-1]
    assert rest.next_page_token == ""
    succeeded = await stub.ListPaymentIntents(
        pb.ListPaymentIntentsRequest(status=S.PAYMENT_INTENT_STATUS_SUCCEEDED), metadata=TENANT_AUTH
    )
    assert {i.id for i in succeeded.payment_intents} == {made[0], made[2]}
    theirs = await stub.ListPaymentIntents(pb.ListPaymentIntentsRequest(), metadata=OTHER_AUTH)
    assert list(theirs.payment_intents) == []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetPaymentIntent(pb.GetPaymentIntentRequest(id=made[0]), metadata=OTHER_AUTH)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# --- seed 002: escrow with a connected account and commission --------------------------------


async def onboard(server: Running, account_id: str) -> res.ConnectedAccount:
    """The owner finishing the sandbox's onboarding form."""
    done = await sb_grpc.SandboxServiceStub(server.channel).CompleteAccountOnboarding(
        sb.CompleteAccountOnboardingRequest(connected_account_id=account_id),
        metadata=TENANT_AUTH,
    )
    return done.connected_account


async def test_escrow_authorize_then_capture_releases_amount_minus_commission(
    server: Running,
) -> None:
    stub = server.payments()
    account = (
        await stub.CreateConnectedAccount(
            pb.CreateConnectedAccountRequest(
                owner_ref="expert_123", email="expert@test.com", name="John Doe", country="US"
            ),
            metadata=TENANT_AUTH,
        )
    ).connected_account
    assert account.id.startswith("acct_")
    assert account.commission_bps == 1000
    assert account.status == res.CONNECTED_ACCOUNT_STATUS_PENDING
    assert not account.charges_enabled  # as a new Stripe Express account
    assert "/sandbox/connect/" in account.onboarding_url
    with pytest.raises(grpc.aio.AioRpcError) as early:
        await create(
            server,
            payment_method_id="pm_card_visa",
            confirm=True,
            destination_account_id=account.id,
        )
    assert error_info(early.value).reason == "INVALID_STATE"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreateAccountLink(
            pb.CreateAccountLinkRequest(id=account.id, type=res.ACCOUNT_LINK_TYPE_DASHBOARD),
            metadata=TENANT_AUTH,
        )
    assert error_info(caught.value).reason == "INVALID_STATE"
    path = urlsplit(account.onboarding_url).path  # the relay is on a test port here
    async with aiohttp.ClientSession() as http, http.get(server.relay_url + path) as page:
        assert page.status == 200
        assert account.id in await page.text()
    active = await onboard(server, account.id)
    assert active.status == res.CONNECTED_ACCOUNT_STATUS_ACTIVE
    assert (active.charges_enabled, active.payouts_enabled, active.details_submitted) == (
        True,
        True,
        True,
    )
    assert active.onboarding_url == ""
    assert await events(server, account.id) == [
        "connected_account.created",
        "connected_account.updated",
    ]
    async with server.runtime.db.read() as session:
        row = await session.scalar(
            select(EventRow).where(
                EventRow.resource_id == account.id, EventRow.type == "connected_account.created"
            )
        )
    assert row is not None
    created = json.loads(row.payload)["data"]  # the whole account, as .updated carries it
    assert (created["id"], created["status"], created["commission_bps"]) == (
        account.id,
        "pending",
        1000,
    )
    assert "client_id" not in created
    assert (await onboard(server, account.id)) == active  # repeating changes nothing
    assert len(await events(server, account.id)) == 2
    intent = await create(
        server,
        amount=5_000,
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
        destination_account_id=account.id,
    )
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE
    assert (intent.application_fee_amount, intent.destination_amount) == (500, 0)  # not yet
    captured = (
        await stub.CapturePaymentIntent(
            pb.CapturePaymentIntentRequest(id=intent.id, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert captured.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert (captured.amount_received, captured.application_fee_amount) == (5_000, 500)
    assert captured.destination_amount == 4_500
    refund = await stub.CreateRefund(
        pb.CreateRefundRequest(payment_intent_id=intent.id, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    assert refund.refund.amount == 5_000
    link = await stub.CreateAccountLink(
        pb.CreateAccountLinkRequest(id=account.id, type=res.ACCOUNT_LINK_TYPE_ONBOARDING),
        metadata=TENANT_AUTH,
    )
    assert link.account_link.url
    assert link.account_link.account_id == account.id
    dashboard = await stub.CreateAccountLink(
        pb.CreateAccountLinkRequest(id=account.id, type=res.ACCOUNT_LINK_TYPE_DASHBOARD),
        metadata=TENANT_AUTH,
    )
    assert dashboard.account_link.url


async def test_per_account_commission_and_partial_capture_recompute_the_fee(
    server: Running,
) -> None:
    stub = server.payments()
    account = (
        await stub.CreateConnectedAccount(
            pb.CreateConnectedAccountRequest(owner_ref="e2", commission_bps=1500),
            metadata=TENANT_AUTH,
        )
    ).connected_account
    await onboard(server, account.id)
    intent = await create(
        server,
        amount=10_000,
        payment_method_id="pm_card_visa",
        confirm=True,
        capture_method=res.CAPTURE_METHOD_MANUAL,
        destination_account_id=account.id,
    )
    assert intent.application_fee_amount == 1_500
    captured = (
        await stub.CapturePaymentIntent(
            pb.CapturePaymentIntentRequest(
                id=intent.id, amount_to_capture=6_000, idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert (captured.application_fee_amount, captured.destination_amount) == (900, 5_100)


async def test_a_destination_charges_refund_asks_the_gateway_to_reverse_the_transfer(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seller gives back their share and the platform its fee (Stripe's
    reverse_transfer, refund_application_fee); a plain payment's refund asks neither."""
    stub = server.payments()
    account = (
        await stub.CreateConnectedAccount(
            pb.CreateConnectedAccountRequest(owner_ref="e4"), metadata=TENANT_AUTH
        )
    ).connected_account
    await onboard(server, account.id)
    sold = await create(
        server, payment_method_id="pm_card_visa", confirm=True, destination_account_id=account.id
    )
    plain = await create(server, payment_method_id="pm_card_visa", confirm=True)
    gateway = sandbox_gateway(server)
    real_refund, asked = gateway.refund, []

    async def spied(request: RefundRequest) -> RefundResult:
        asked.append((request.gateway_reference, request.reverse_transfer))
        return await real_refund(request)

    monkeypatch.setattr(gateway, "refund", spied)
    for intent in (sold, plain):
        refunded = await stub.CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, amount=400, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
        assert refunded.refund.status == res.REFUND_STATUS_SUCCEEDED
    assert asked == [(sold.gateway_reference, True), (plain.gateway_reference, False)]


async def test_onboarding_finished_at_the_gateway_is_learnt_on_the_next_look(
    server: Running,
) -> None:
    """The owner onboards on the gateway's pages: the platform's next read of the
    account (or a destination charge to it) asks the gateway, no webhook needed."""
    stub = server.payments()
    account = (
        await stub.CreateConnectedAccount(
            pb.CreateConnectedAccountRequest(owner_ref="e3"), metadata=TENANT_AUTH
        )
    ).connected_account
    gateway = sandbox_gateway(server)
    async with server.runtime.db.read() as session:
        row = await session.get(ConnectedAccountRow, account.id)
        assert row is not None
        reference = row.gateway_reference
    await gateway.complete_onboarding(reference)  # on the gateway's page
    intent = await create(
        server, payment_method_id="pm_card_visa", confirm=True, destination_account_id=account.id
    )
    assert intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    read = await stub.GetConnectedAccount(
        pb.GetConnectedAccountRequest(id=account.id), metadata=TENANT_AUTH
    )
    assert read.connected_account.status == res.CONNECTED_ACCOUNT_STATUS_ACTIVE
    assert await events(server, account.id) == [
        "connected_account.created",
        "connected_account.updated",
    ]


async def test_list_gateways_shows_the_sandbox(server: Running) -> None:
    listed = await server.payments().ListGateways(pb.ListGatewaysRequest(), metadata=TENANT_AUTH)
    (sandbox,) = listed.gateways
    assert sandbox.name == "sandbox"
    assert sandbox.mode == res.GATEWAY_MODE_SANDBOX
    assert res.GATEWAY_CAPABILITY_MANUAL_CAPTURE in sandbox.capabilities
    assert "usd" in sandbox.currencies


async def test_event_payloads_carry_the_intent_without_internals(server: Running) -> None:
    intent = await create(server, payment_method_id="pm_card_visa", confirm=True)
    async with server.runtime.db.read() as session:
        row = await session.scalar(
            select(EventRow).where(
                EventRow.resource_id == intent.id, EventRow.type == "payment.succeeded"
            )
        )
    assert row is not None
    data = json.loads(row.payload)["data"]
    assert data["id"] == intent.id
    assert data["status"] == "succeeded"
    assert data["payment_method_type"] == "card"  # as the message says (CARD)
    assert "attempt" not in data
    assert "client_id" not in data


async def test_a_card_number_in_a_read_filter_is_refused_too(server: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().ListCustomers(
            pb.ListCustomersRequest(external_ref="4242424242424242"), metadata=TENANT_AUTH
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "external_ref" in field_violations(caught.value)
