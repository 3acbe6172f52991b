"""Checkout sessions paid on the sandbox's hosted page (SandboxService.CompleteCheckoutSession):
one intent per session, COMPLETE once it succeeds, whichever way it succeeded."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
import grpc
import pytest
from sqlalchemy import select, update

from gateways.errors import GatewayUnavailable, OutcomeUnknown
from gateways.router import Router
from gateways.sandbox.bank import MICRO_DEPOSIT_AMOUNTS
from gateways.types import CancelRequest, ChargeResult, Outcome, RetrieveRequest
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from server import app
from server.errors import InvalidState
from server.payments import marketplace
from server.payments.intents import PaymentIntent, PaymentIntentService
from server.payments.marketplace import CheckoutService
from store.db import Database
from store.models import EventRow
from store.payment_methods import CheckoutSessionRecord, CheckoutSessions
from store.payment_models import CheckoutSessionRow
from store.payments import AttemptState, IntentStatus
from tests.conftest import OTHER_AUTH, TENANT, TENANT_AUTH, Running, serving, settings_for
from tests.integration.test_bank_payments import advance, link_account
from tests.integration.test_customers import field_violations
from tests.integration.test_payments import events, key, new_customer, sandbox_gateway
from tests.integration.test_surface import error_info
from tests.polling import eventually

S = res.PaymentIntentStatus
C = res.CheckoutSessionStatus


async def open_session(server: Running, customer_id: str = "") -> res.CheckoutSession:
    response = await server.payments().CreateCheckoutSession(
        pb.CreateCheckoutSessionRequest(
            customer_id=customer_id,
            mode=res.CHECKOUT_SESSION_MODE_PAYMENT,
            line_items=res.CheckoutLineItems(
                items=[res.CheckoutLineItem(description="Rent", quantity=2, unit_amount=1500)]
            ),
            success_url="https://tenant.example/ok",
            cancel_url="https://tenant.example/cancel",
            metadata={"lease": "L-7"},
            idempotency_key=key(),
        ),
        metadata=TENANT_AUTH,
    )
    return response.checkout_session


async def pay(
    server: Running,
    session_id: str,
    method: str,
    *,
    auth: tuple[tuple[str, str], ...] = TENANT_AUTH,
) -> sb.CompleteCheckoutSessionResponse:
    sandbox = sb_grpc.SandboxServiceStub(server.channel)
    response: sb.CompleteCheckoutSessionResponse = await sandbox.CompleteCheckoutSession(
        sb.CompleteCheckoutSessionRequest(
            checkout_session_id=session_id, payment_method_id=method, idempotency_key=key()
        ),
        metadata=auth,
    )
    return response


async def fetched(server: Running, session_id: str) -> res.CheckoutSession:
    response = await server.payments().GetCheckoutSession(
        pb.GetCheckoutSessionRequest(id=session_id), metadata=TENANT_AUTH
    )
    return response.checkout_session


async def event_data(server: Running, session_id: str, event_type: str) -> dict[str, Any]:
    """The data of the session's one event of ``event_type``, as webhooks carry it."""
    async with server.runtime.db.read() as session:
        row = await session.scalar(
            select(EventRow).where(EventRow.resource_id == session_id, EventRow.type == event_type)
        )
    assert row is not None
    data: dict[str, Any] = json.loads(row.payload)["data"]
    return data


async def test_paying_completes_the_session_with_its_intent(server: Running) -> None:
    customer = await new_customer(server)
    made = await open_session(server, customer)
    paid = await pay(server, made.id, "pm_card_visa")
    intent = paid.payment_intent
    assert intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert (intent.amount_received, intent.currency, intent.customer_id) == (3000, "usd", customer)
    assert intent.metadata["lease"] == "L-7"
    assert paid.checkout_session.status == C.CHECKOUT_SESSION_STATUS_COMPLETE
    assert paid.checkout_session.payment_intent_id == intent.id
    assert await fetched(server, made.id) == paid.checkout_session
    assert await events(server, made.id) == [
        "checkout.session.created",
        "checkout.session.completed",
    ]
    data = await event_data(server, made.id, "checkout.session.completed")
    assert (data["id"], data["status"], data["payment_intent_id"]) == (
        made.id,
        "complete",
        intent.id,
    )
    assert "client_id" not in data

    with pytest.raises(grpc.aio.AioRpcError) as again:  # never charged twice
        await pay(server, made.id, "pm_card_visa")
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(again.value).reason == "INVALID_STATE"
    assert error_info(again.value).metadata["status"] == "complete"
    listed = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert [i.id for i in listed.payment_intents] == [intent.id]


async def test_a_decline_leaves_the_session_open_for_another_card(server: Running) -> None:
    made = await open_session(server)
    declined = await pay(server, made.id, "pm_card_chargeDeclined")
    assert declined.payment_intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert declined.payment_intent.last_error.code == "card_declined"
    assert declined.checkout_session.status == C.CHECKOUT_SESSION_STATUS_OPEN
    assert declined.checkout_session.payment_intent_id == declined.payment_intent.id

    paid = await pay(server, made.id, "pm_card_visa")
    assert paid.payment_intent.id == declined.payment_intent.id  # the session's one intent
    assert paid.payment_intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert paid.checkout_session.status == C.CHECKOUT_SESSION_STATUS_COMPLETE


async def test_3d_secure_completes_the_session_when_the_payer_passes_it(server: Running) -> None:
    made = await open_session(server)
    waiting = await pay(server, made.id, "pm_card_authenticationRequired")
    assert waiting.payment_intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    assert waiting.checkout_session.status == C.CHECKOUT_SESSION_STATUS_OPEN
    with pytest.raises(grpc.aio.AioRpcError) as busy:  # its intent awaits the challenge
        await pay(server, made.id, "pm_card_visa")
    assert busy.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    sandbox = sb_grpc.SandboxServiceStub(server.channel)
    await sandbox.CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=waiting.payment_intent.id, succeed=True),
        metadata=TENANT_AUTH,
    )
    done = await fetched(server, made.id)
    assert done.status == C.CHECKOUT_SESSION_STATUS_COMPLETE
    assert done.payment_intent_id == waiting.payment_intent.id


async def lapse(
    server: Running, session_id: str, ago: dt.timedelta = dt.timedelta(seconds=1), **values: object
) -> None:
    """Move the session's expire_time ``ago`` (a second) into the past (and set ``values``)."""
    async with server.runtime.db.write() as session:
        await session.execute(
            update(CheckoutSessionRow)
            .where(CheckoutSessionRow.id == session_id)
            .values(expire_time=dt.datetime.now(dt.UTC) - ago, **values)
        )


async def stored_status(server: Running, session_id: str) -> str:
    """The status in the store, not as a read shows it (a lapsed one reads EXPIRED)."""
    async with server.runtime.db.read() as session:
        status = await session.scalar(
            select(CheckoutSessionRow.status).where(CheckoutSessionRow.id == session_id)
        )
    assert status is not None
    return status


def sweeper(server: Running, db: Database | None = None) -> CheckoutService:
    """The domain code the background sweep runs, over the server's (or ``db``'s) store."""
    store, router = db or server.runtime.db, Router(server.runtime.gateways)
    return CheckoutService(store, router, PaymentIntentService(store, router))


async def test_an_expired_session_reads_expired_and_takes_no_payment(server: Running) -> None:
    made = await open_session(server)
    await lapse(server, made.id)
    assert (await fetched(server, made.id)).status == C.CHECKOUT_SESSION_STATUS_EXPIRED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await pay(server, made.id, "pm_card_visa")
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(refused.value).metadata["status"] == "expired"
    listed = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert list(listed.payment_intents) == []


async def test_bad_requests_are_precise(server: Running) -> None:
    made = await open_session(server)
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await pay(server, "pi_123", "")
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(bad.value)) == {"checkout_session_id", "payment_method_id"}
    with pytest.raises(grpc.aio.AioRpcError) as card:
        await pay(server, made.id, "4242424242424242")
    assert card.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as other:  # another client's session
        await pay(server, made.id, "pm_card_visa", auth=OTHER_AUTH)
    assert other.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await pay(server, made.id, "pm_typo")
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (await fetched(server, made.id)).status == C.CHECKOUT_SESSION_STATUS_OPEN


async def test_the_hosted_page_says_how_to_pay(server: Running) -> None:
    made = await open_session(server)
    path = urlsplit(made.url).path  # the relay is on a test port here
    async with aiohttp.ClientSession() as http:
        async with http.get(server.relay_url + path) as page:
            assert page.status == 200
            text = await page.text()
        async with http.get(server.relay_url + "/sandbox/checkout/cs_nope") as missing:
            assert missing.status == 404
    assert "CompleteCheckoutSession" in text
    assert made.id in text
    assert "3000" in text


async def test_the_sessions_intent_is_paid_and_ended_only_through_the_session(
    server: Running,
) -> None:
    """Confirmed directly, an expired session's intent would still take money (and
    complete it); canceled directly, an OPEN session could never be paid."""
    made = await open_session(server)
    declined = await pay(server, made.id, "pm_card_chargeDeclined")
    intent_id = declined.payment_intent.id
    stub = server.payments()
    for call, request in (
        (
            stub.ConfirmPaymentIntent,
            pb.ConfirmPaymentIntentRequest(
                id=intent_id, payment_method_id="pm_card_visa", idempotency_key=key()
            ),
        ),
        (stub.CancelPaymentIntent, pb.CancelPaymentIntentRequest(id=intent_id)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await call(request, metadata=TENANT_AUTH)  # type: ignore[operator]
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_info(refused.value).reason == "INVALID_STATE"
        assert error_info(refused.value).metadata["checkout_session_id"] == made.id
    assert (await fetched(server, made.id)).status == C.CHECKOUT_SESSION_STATUS_OPEN
    paid = await pay(server, made.id, "pm_card_visa")
    assert paid.checkout_session.status == C.CHECKOUT_SESSION_STATUS_COMPLETE


async def saved_method(server: Running, customer_id: str) -> str:
    made = await server.payments().AttachPaymentMethod(
        pb.AttachPaymentMethodRequest(
            customer_id=customer_id, gateway="sandbox", token="pm_card_visa"
        ),
        metadata=TENANT_AUTH,
    )
    return made.payment_method.id


async def test_a_saved_method_pays_only_its_own_customers_session(server: Running) -> None:
    ana, bea = await new_customer(server), await new_customer(server)
    anas_card = await saved_method(server, ana)
    for session_customer, reason in (("", "names no customer"), (bea, "another customer")):
        made = await open_session(server, session_customer)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await pay(server, made.id, anas_card)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert reason in field_violations(refused.value)["payment_method_id"]
        assert (await fetched(server, made.id)).payment_intent_id == ""  # nothing written
    listed = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert list(listed.payment_intents) == []
    anas_session = await open_session(server, ana)
    paid = await pay(server, anas_session.id, anas_card)
    assert paid.checkout_session.status == C.CHECKOUT_SESSION_STATUS_COMPLETE
    assert paid.payment_intent.customer_id == ana


async def test_the_success_url_template_gets_our_session_id(server: Running) -> None:
    response = await server.payments().CreateCheckoutSession(
        pb.CreateCheckoutSessionRequest(
            mode=res.CHECKOUT_SESSION_MODE_PAYMENT,
            line_items=res.CheckoutLineItems(
                items=[res.CheckoutLineItem(description="Rent", quantity=1, unit_amount=1500)]
            ),
            success_url="https://tenant.example/ok?session={CHECKOUT_SESSION_ID}",
        ),
        metadata=TENANT_AUTH,
    )
    made = response.checkout_session
    assert made.success_url == f"https://tenant.example/ok?session={made.id}"
    paid = await pay(server, made.id, "pm_card_visa")
    assert paid.payment_intent.return_url == made.success_url


# --- the expiry sweep ----------------------------------------------------------------------


async def test_the_sweep_stores_a_lapsed_session_expired_once(server: Running) -> None:
    made = await open_session(server)
    await lapse(server, made.id)
    assert await stored_status(server, made.id) == "open"  # it only reads EXPIRED
    assert await sweeper(server).expire_lapsed() == 1
    assert await stored_status(server, made.id) == "expired"
    assert await events(server, made.id) == ["checkout.session.created", "checkout.session.expired"]
    data = await event_data(server, made.id, "checkout.session.expired")
    assert (data["id"], data["status"]) == (made.id, "expired")

    assert await sweeper(server).expire_lapsed() == 0  # a second run changes nothing
    assert await events(server, made.id) == ["checkout.session.created", "checkout.session.expired"]
    assert (await fetched(server, made.id)).status == C.CHECKOUT_SESSION_STATUS_EXPIRED


async def test_the_sweep_leaves_open_and_stripe_sessions_alone(server: Running) -> None:
    """Not yet lapsed, it stays open; Stripe's are expired by Stripe's webhook."""
    fresh, stripes = await open_session(server), await open_session(server)
    await lapse(server, stripes.id, gateway="stripe")
    assert await sweeper(server).expire_lapsed() == 0
    for made in (fresh, stripes):
        assert await stored_status(server, made.id) == "open"
        assert await events(server, made.id) == ["checkout.session.created"]


async def test_the_sweep_never_expires_a_paid_session(server: Running) -> None:
    made = await open_session(server)
    await pay(server, made.id, "pm_card_visa")
    await lapse(server, made.id)
    assert await sweeper(server).expire_lapsed() == 0
    assert await stored_status(server, made.id) == "complete"
    assert await events(server, made.id) == [
        "checkout.session.created",
        "checkout.session.completed",
    ]


async def test_a_session_awaiting_3d_secure_is_not_expired_and_completes(
    server: Running,
) -> None:
    """Paid is complete even if the payer finishes 3-D Secure after expire_time: the
    sweep must leave the session OPEN while its intent requires_action, within the grace."""
    made = await open_session(server)
    waiting = await pay(server, made.id, "pm_card_authenticationRequired")
    assert waiting.payment_intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    within_the_grace = marketplace.ABANDONED_AFTER / 2 + dt.timedelta(seconds=1)
    await lapse(server, made.id, ago=within_the_grace)
    assert await sweeper(server).expire_lapsed() == 0
    assert await stored_status(server, made.id) == "open"

    sandbox = sb_grpc.SandboxServiceStub(server.channel)
    await sandbox.CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=waiting.payment_intent.id, succeed=True),
        metadata=TENANT_AUTH,
    )
    assert await stored_status(server, made.id) == "complete"
    assert await sweeper(server).expire_lapsed() == 0
    assert await events(server, made.id) == [
        "checkout.session.created",
        "checkout.session.completed",
    ]


# --- payments abandoned in 3-D Secure ---------------------------------------------------

#: Lapsed longer ago than the grace given to a payer still in 3-D Secure.
PAST_THE_GRACE: Final = marketplace.ABANDONED_AFTER + dt.timedelta(seconds=30)


async def abandoned_in_3ds(server: Running) -> tuple[res.CheckoutSession, str]:
    """A session whose payer started 3-D Secure and left, lapsed past the grace; and
    its intent's id."""
    made = await open_session(server)
    waiting = await pay(server, made.id, "pm_card_authenticationRequired")
    assert waiting.payment_intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    await lapse(server, made.id, ago=PAST_THE_GRACE)
    return made, waiting.payment_intent.id


async def stored_intent(server: Running, intent_id: str) -> PaymentIntent:
    router = Router(server.runtime.gateways)
    return await PaymentIntentService(server.runtime.db, router).get(TENANT[0], intent_id)


async def at_the_gateway(server: Running, intent: PaymentIntent) -> ChargeResult:
    """The payment as the sandbox itself has it: what money moved."""
    return await sandbox_gateway(server).retrieve(
        RetrieveRequest(gateway_reference=intent.gateway_reference)
    )


async def complete_3ds(server: Running, intent_id: str) -> sb.CompleteAuthenticationResponse:
    sandbox = sb_grpc.SandboxServiceStub(server.channel)
    done: sb.CompleteAuthenticationResponse = await sandbox.CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=intent_id, succeed=True),
        metadata=TENANT_AUTH,
    )
    return done


async def test_a_payment_abandoned_in_3d_secure_is_canceled_and_its_session_expired(
    server: Running,
) -> None:
    """As Stripe does when it expires a session: its payment ends canceled, abandoned."""
    made, intent_id = await abandoned_in_3ds(server)
    assert await sweeper(server).expire_lapsed() == 1
    assert await stored_status(server, made.id) == "expired"
    intent = await stored_intent(server, intent_id)
    assert (intent.status, intent.cancellation_reason) == (IntentStatus.CANCELED, "abandoned")
    assert (intent.amount_received, intent.attempt.state if intent.attempt else None) == (
        0,
        AttemptState.DONE,
    )
    assert (await at_the_gateway(server, intent)).outcome is Outcome.CANCELED
    assert (await events(server, intent_id))[-1] == "payment.canceled"
    assert await events(server, made.id) == ["checkout.session.created", "checkout.session.expired"]

    assert await sweeper(server).expire_lapsed() == 0  # a second run changes nothing
    assert (await events(server, intent_id)).count("payment.canceled") == 1
    assert await events(server, made.id) == ["checkout.session.created", "checkout.session.expired"]


async def test_3d_secure_finished_after_the_sweep_canceled_it_is_refused(
    server: Running,
) -> None:
    made, intent_id = await abandoned_in_3ds(server)
    assert await sweeper(server).expire_lapsed() == 1
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await complete_3ds(server, intent_id)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(refused.value).reason == "INVALID_STATE"
    assert error_info(refused.value).metadata["status"] == "canceled"
    intent = await stored_intent(server, intent_id)
    assert (intent.status, intent.amount_received) == (IntentStatus.CANCELED, 0)
    assert (await at_the_gateway(server, intent)).amount_received == 0
    assert await stored_status(server, made.id) == "expired"
    assert "payment.succeeded" not in await events(server, intent_id)


async def test_3d_secure_finished_as_the_sweep_cancels_loses_cleanly(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payer finishes 3-D Secure after the gateway took the cancel, before we stored
    it: the gateway refuses the payer, and the session expires with nothing paid."""
    made, intent_id = await abandoned_in_3ds(server)
    gateway = sandbox_gateway(server)
    real_cancel, refusals = gateway.cancel, []

    async def cancel_then_payer(request: CancelRequest) -> ChargeResult:
        answer = await real_cancel(request)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await complete_3ds(server, intent_id)
        info = error_info(refused.value)
        refusals.append((refused.value.code(), info.reason, info.metadata["status"]))
        return answer

    monkeypatch.setattr(gateway, "cancel", cancel_then_payer)
    assert await sweeper(server).expire_lapsed() == 1
    # the same refusal as once the cancel is stored: the gateway's status, not ours yet
    assert refusals == [(grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE", "canceled")]
    intent = await stored_intent(server, intent_id)
    assert (intent.status, intent.amount_received) == (IntentStatus.CANCELED, 0)
    assert (await at_the_gateway(server, intent)).amount_received == 0
    assert await events(server, made.id) == ["checkout.session.created", "checkout.session.expired"]


async def test_3d_secure_finished_before_the_sweeps_cancel_wins(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The payer finishes 3-D Secure after the sweep read the session, before its cancel
    reached the gateway: the gateway refuses the cancel, and the session completes."""
    made, intent_id = await abandoned_in_3ds(server)
    gateway = sandbox_gateway(server)
    real_cancel = gateway.cancel

    async def payer_then_cancel(request: CancelRequest) -> ChargeResult:
        done = await complete_3ds(server, intent_id)
        assert done.payment_intent.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
        return await real_cancel(request)

    monkeypatch.setattr(gateway, "cancel", payer_then_cancel)
    assert await sweeper(server).expire_lapsed() == 0
    intent = await stored_intent(server, intent_id)
    assert (intent.status, intent.amount_received) == (IntentStatus.SUCCEEDED, 3000)
    assert intent.attempt is None  # the refused cancel was cleared
    assert "payment.canceled" not in await events(server, intent_id)
    assert await stored_status(server, made.id) == "complete"
    monkeypatch.undo()
    assert await sweeper(server).expire_lapsed() == 0
    assert await events(server, made.id) == [
        "checkout.session.created",
        "checkout.session.completed",
    ]


async def test_a_cancel_the_gateway_cannot_take_leaves_the_session_open_for_later(
    server: Running, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    made, intent_id = await abandoned_in_3ds(server)
    gateway = sandbox_gateway(server)

    async def outage(_request: CancelRequest) -> ChargeResult:
        raise GatewayUnavailable("sandbox", "simulated outage before cancel")

    monkeypatch.setattr(gateway, "cancel", outage)
    assert await sweeper(server).expire_lapsed() == 0
    assert await stored_status(server, made.id) == "open"
    intent = await stored_intent(server, intent_id)
    assert intent.status is IntentStatus.REQUIRES_ACTION
    assert intent.attempt is None  # the cancel no gateway took was cleared
    assert "payment.canceled" not in await events(server, intent_id)
    assert await events(server, made.id) == ["checkout.session.created"]
    assert any(made.id in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)

    monkeypatch.undo()  # the gateway is back: the next run cancels and expires it
    assert await sweeper(server).expire_lapsed() == 1
    assert (await stored_intent(server, intent_id)).status is IntentStatus.CANCELED
    assert await stored_status(server, made.id) == "expired"


async def test_a_cancel_with_no_answer_is_settled_then_its_session_expired(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway took the cancel but its answer was lost: the sweep leaves the session
    OPEN (the payment's fate is unknown, so it may still be paid); the reconciler learns
    the cancel with the same key, and the next sweep expires the session."""
    made, intent_id = await abandoned_in_3ds(server)
    gateway = sandbox_gateway(server)
    real_cancel, keys = gateway.cancel, []

    async def canceled_then_lost(request: CancelRequest) -> ChargeResult:
        keys.append(request.idempotency_key)
        await real_cancel(request)
        raise OutcomeUnknown("sandbox", "simulated timeout after the cancel")

    monkeypatch.setattr(gateway, "cancel", canceled_then_lost)
    assert await sweeper(server).expire_lapsed() == 0
    assert await stored_status(server, made.id) == "open"
    intent = await stored_intent(server, intent_id)
    assert intent.attempt is not None
    assert intent.attempt.state is AttemptState.UNKNOWN
    assert (await at_the_gateway(server, intent)).outcome is Outcome.CANCELED
    assert await sweeper(server).expire_lapsed() == 0  # still unknown: not expired
    assert len(keys) == 1  # and not asked again while unknown

    monkeypatch.undo()
    router = Router(server.runtime.gateways)
    reconciler = PaymentIntentService(server.runtime.db, router)
    assert await reconciler.reconcile(stale_after=dt.timedelta(0)) == 1
    intent = await stored_intent(server, intent_id)
    assert (intent.status, intent.cancellation_reason) == (IntentStatus.CANCELED, "abandoned")
    assert await sweeper(server).expire_lapsed() == 1
    assert await stored_status(server, made.id) == "expired"
    assert (await events(server, intent_id)).count("payment.canceled") == 1
    assert await events(server, made.id) == ["checkout.session.created", "checkout.session.expired"]


async def test_a_bank_payment_awaiting_micro_deposits_is_not_abandoned(
    server: Running,
) -> None:
    """The payer paid by a bank account whose micro-deposits take a day or two to
    arrive: the payer is done, so the session stays OPEN past the grace, and completes
    once the account is verified and the debit settles."""
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id, "sandbox-microdeposits")
    made = await open_session(server, customer_id)
    paid = await pay(server, made.id, method.id)
    intent_id = paid.payment_intent.id
    assert paid.payment_intent.next_action.type == res.NEXT_ACTION_TYPE_VERIFY_MICRODEPOSITS
    await lapse(server, made.id, ago=PAST_THE_GRACE)
    assert await sweeper(server).expire_lapsed() == 0
    assert await stored_status(server, made.id) == "open"
    assert (await stored_intent(server, intent_id)).status is IntentStatus.REQUIRES_ACTION

    await server.payments().VerifyMicroDeposits(
        pb.VerifyMicroDepositsRequest(
            payment_method_id=method.id, amounts=list(MICRO_DEPOSIT_AMOUNTS)
        ),
        metadata=TENANT_AUTH,
    )
    assert (await stored_intent(server, intent_id)).status is IntentStatus.PROCESSING
    assert await sweeper(server).expire_lapsed() == 0  # the debit may still settle
    settled = await advance(server, intent_id, sb.BANK_TRANSFER_OUTCOME_SETTLE)
    assert settled.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert await stored_status(server, made.id) == "complete"
    assert "payment.canceled" not in await events(server, intent_id)


async def test_a_bank_payment_whose_account_fails_verification_expires_its_session(
    server: Running,
) -> None:
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id, "sandbox-microdeposits")
    made = await open_session(server, customer_id)
    intent_id = (await pay(server, made.id, method.id)).payment_intent.id
    await lapse(server, made.id, ago=PAST_THE_GRACE)
    for _ in range(3):  # every try wrong: the account can no longer be verified
        with pytest.raises(grpc.aio.AioRpcError):
            await server.payments().VerifyMicroDeposits(
                pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=[1, 2]),
                metadata=TENANT_AUTH,
            )
    assert (await stored_intent(server, intent_id)).status is IntentStatus.REQUIRES_PAYMENT_METHOD
    assert await sweeper(server).expire_lapsed() == 1
    assert await stored_status(server, made.id) == "expired"


async def test_a_declined_session_is_expired_once_lapsed(server: Running) -> None:
    """A decline leaves the intent requires_payment_method: nothing can pay it now."""
    made = await open_session(server)
    await pay(server, made.id, "pm_card_chargeDeclined")
    await lapse(server, made.id)
    assert await sweeper(server).expire_lapsed() == 1
    assert await stored_status(server, made.id) == "expired"
    assert (await events(server, made.id))[-1] == "checkout.session.expired"


async def test_the_sweep_pages_on_past_the_sessions_it_leaves_open(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sessions left OPEN (awaiting 3-D Secure) lapsed first never hold up later ones."""
    monkeypatch.setattr(marketplace, "EXPIRY_BATCH", 1)
    waiting, unpaid = await open_session(server), await open_session(server)
    await pay(server, waiting.id, "pm_card_authenticationRequired")
    await lapse(server, waiting.id)
    await lapse(server, unpaid.id)  # a little later
    assert await sweeper(server).expire_lapsed() == 1
    assert [await stored_status(server, m.id) for m in (waiting, unpaid)] == ["open", "expired"]


async def test_two_sweeps_at_once_expire_a_session_once(
    server: Running, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two server processes (two pools) sweeping together, both having read the session
    lapsed before either wrote: one expiry, one event, and neither fails."""
    made = await open_session(server)
    await lapse(server, made.id)
    first_read: dict[str, list[CheckoutSessionRecord]] = {}
    read = CheckoutSessions.lapsed

    async def as_first_read(self: CheckoutSessions, *args: Any, **kw: Any) -> list[Any]:
        return first_read.setdefault("rows", await read(self, *args, **kw))

    monkeypatch.setattr(CheckoutSessions, "lapsed", as_first_read)
    other = Database(migrated_url)
    try:
        done = await asyncio.gather(
            sweeper(server).expire_lapsed(), sweeper(server, other).expire_lapsed()
        )
    finally:
        await other.dispose()
    assert [c.id for c in first_read["rows"]] == [made.id]
    assert sorted(done) == [0, 1]
    assert (await events(server, made.id)).count("checkout.session.expired") == 1


async def test_a_session_expired_while_its_payer_pays_takes_no_payment(server: Running) -> None:
    """pay() reads the session open, then the sweep expires it before the charge: the
    charge is refused under the intent's lock, so no money is taken for an ended session."""
    made = await open_session(server)

    class SweptBeforeConfirm(PaymentIntentService):
        async def confirm(self, *args: Any, **kwargs: Any) -> PaymentIntent:
            await lapse(server, made.id)
            assert await sweeper(server).expire_lapsed() == 1
            return await super().confirm(*args, **kwargs)

    router = Router(server.runtime.gateways)
    checkout = CheckoutService(
        server.runtime.db, router, SweptBeforeConfirm(server.runtime.db, router)
    )
    with pytest.raises(InvalidState) as refused:
        await checkout.pay(TENANT[0], made.id, "pm_card_visa", key())
    assert refused.value.metadata["status"] == "expired"
    listed = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert [(i.status, i.amount_received) for i in listed.payment_intents] == [
        (S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD, 0)
    ]
    assert await stored_status(server, made.id) == "expired"
    assert await events(server, made.id) == ["checkout.session.created", "checkout.session.expired"]


@pytest.fixture
async def sweeping_server(
    migrated_url: str, clients_file: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Running]:
    """:func:`server` whose expiry sweep runs every 50 ms."""
    monkeypatch.setattr(app, "CHECKOUT_EXPIRY_SECONDS", 0.05)
    async for running in serving(settings_for(migrated_url, ISA_CLIENTS_FILE=str(clients_file))):
        yield running


async def test_the_server_runs_the_sweep(sweeping_server: Running) -> None:
    made = await open_session(sweeping_server)
    await lapse(sweeping_server, made.id)

    async def expired() -> bool:
        return await stored_status(sweeping_server, made.id) == "expired"

    await eventually(expired, seconds=10)
    assert await events(sweeping_server, made.id) == [
        "checkout.session.created",
        "checkout.session.expired",
    ]
