"""Gateway faults over gRPC: lost answers are reconciled, never charged twice."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from sqlalchemy import select

from gateways.router import Router
from gateways.sandbox import SandboxGateway
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from server.payments.intents import PaymentIntentService
from store.models import EventRow
from tests.conftest import TENANT_AUTH, Running, settings_for, start_running
from tests.integration.test_surface import error_info


async def _running(url: str, clients: Path, kind: str, **env: str) -> AsyncIterator[Running]:
    running = await start_running(
        settings_for(
            url,
            ISA_CLIENTS_FILE=str(clients),
            ISA_SANDBOX_FAILURE_RATE="0" if env else "1",
            ISA_SANDBOX_FAILURE_KIND=kind,
            **env,
        )
    )
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


@pytest.fixture
async def timing_out(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """Every gateway call's first attempt takes effect, then its answer is lost."""
    async for running in _running(migrated_url, clients_file, "timeout-after-effect"):
        yield running


@pytest.fixture
async def unavailable(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """Every gateway call's first attempt is refused before anything is sent."""
    async for running in _running(migrated_url, clients_file, "unavailable"):
        yield running


@pytest.fixture
async def slow(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """Every gateway call takes 300 ms: calls on one intent overlap."""
    async for running in _running(
        migrated_url, clients_file, "unavailable", ISA_SANDBOX_LATENCY_MS="300"
    ):
        yield running


async def event_types(server: Running) -> list[str]:
    async with server.runtime.db.read() as session:
        rows = await session.scalars(select(EventRow).order_by(EventRow.id))
        return [row.type for row in rows]


def reconciler(server: Running) -> PaymentIntentService:
    """The same domain code the background task runs, over the server's store and gateways."""
    return PaymentIntentService(server.runtime.db, Router(server.runtime.gateways))


def sandbox(server: Running) -> SandboxGateway:
    gateway = server.runtime.gateways.find("sandbox")
    assert isinstance(gateway, SandboxGateway)
    return gateway


CHARGE = pb.CreatePaymentIntentRequest(
    amount=4200,
    currency="usd",
    payment_method_id="pm_card_visa",
    confirm=True,
    idempotency_key="charge-once",
)


async def test_timeout_after_the_charge_then_retry_with_the_same_key_charges_once(
    timing_out: Running,
) -> None:
    stub = timing_out.payments()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(caught.value).reason == "GATEWAY_ERROR"
    assert error_info(caught.value).metadata["gateway"] == "sandbox"
    # what the gateway's side said, not a guess ("did not answer in time")
    assert "simulated timeout after charge took effect" in str(caught.value.details())
    assert sandbox(timing_out).charges_made == 1
    (pending,) = (
        await stub.ListPaymentIntents(pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH)
    ).payment_intents
    assert pending.status == res.PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION
    retried = (await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)).payment_intent
    assert retried.id == pending.id
    assert retried.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert retried.amount_received == 4200
    assert sandbox(timing_out).charges_made == 1
    again = (await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)).payment_intent
    assert again == retried
    assert sandbox(timing_out).charges_made == 1


async def test_the_reconciler_settles_a_lost_answer_without_a_retry(timing_out: Running) -> None:
    stub = timing_out.payments()
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)
    assert await reconciler(timing_out).reconcile(stale_after=dt.timedelta(0)) == 1
    (settled,) = (
        await stub.ListPaymentIntents(pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH)
    ).payment_intents
    assert settled.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert sandbox(timing_out).charges_made == 1


async def test_a_lost_refund_answer_stays_pending_then_settles_once(timing_out: Running) -> None:
    stub = timing_out.payments()
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)
    paid = (await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)).payment_intent
    request = pb.CreateRefundRequest(payment_intent_id=paid.id, amount=1000, idempotency_key="r1")
    pending = (await stub.CreateRefund(request, metadata=TENANT_AUTH)).refund
    assert pending.status == res.REFUND_STATUS_PENDING
    replayed = (await stub.CreateRefund(request, metadata=TENANT_AUTH)).refund
    assert replayed == pending  # the stored answer, not a second refund
    assert await reconciler(timing_out).reconcile(stale_after=dt.timedelta(0)) == 1
    done = (await stub.GetRefund(pb.GetRefundRequest(id=pending.id), metadata=TENANT_AUTH)).refund
    assert done.status == res.REFUND_STATUS_SUCCEEDED
    intent = (
        await stub.GetPaymentIntent(pb.GetPaymentIntentRequest(id=paid.id), metadata=TENANT_AUTH)
    ).payment_intent
    assert intent.amount_refunded == 1000
    (only,) = (
        await stub.ListRefunds(
            pb.ListRefundsRequest(payment_intent_id=paid.id), metadata=TENANT_AUTH
        )
    ).refunds
    assert only.id == pending.id


async def test_unavailable_before_sending_with_no_other_gateway_is_retryable(
    unavailable: Running,
) -> None:
    stub = unavailable.payments()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_info(caught.value).reason == "GATEWAY_UNAVAILABLE"
    assert sandbox(unavailable).charges_made == 0
    # nothing was sent, and nothing is left behind: no intent the caller has no id for
    listed = await stub.ListPaymentIntents(pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH)
    assert list(listed.payment_intents) == []
    assert await event_types(unavailable) == []
    retried = (await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)).payment_intent
    assert retried.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert sandbox(unavailable).charges_made == 1
    assert await event_types(unavailable) == ["payment.created", "payment.succeeded"]


async def test_an_unknown_token_after_an_outage_leaves_nothing_and_a_fix_goes_through(
    unavailable: Running,
) -> None:
    stub = unavailable.payments()
    typo = pb.CreatePaymentIntentRequest()
    typo.CopyFrom(CHARGE)
    typo.payment_method_id = "pm_typo"
    typo.idempotency_key = "typo-key"
    with pytest.raises(grpc.aio.AioRpcError) as outage:
        await stub.CreatePaymentIntent(typo, metadata=TENANT_AUTH)
    assert outage.value.code() == grpc.StatusCode.UNAVAILABLE
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.CreatePaymentIntent(typo, metadata=TENANT_AUTH)
    assert unknown.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await event_types(unavailable) == []
    fixed = pb.CreatePaymentIntentRequest()
    fixed.CopyFrom(typo)
    fixed.payment_method_id = "pm_card_visa"
    paid = (await stub.CreatePaymentIntent(fixed, metadata=TENANT_AUTH)).payment_intent
    assert paid.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    listed = await stub.ListPaymentIntents(pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH)
    assert [i.id for i in listed.payment_intents] == [paid.id]


async def test_a_different_request_with_the_key_of_a_lost_answer_is_refused(
    timing_out: Running,
) -> None:
    """The first call may have charged: its key stays its own, never the second's."""
    stub = timing_out.payments()
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)
    other = pb.CreatePaymentIntentRequest()
    other.CopyFrom(CHARGE)
    other.amount, other.currency, other.payment_method_id = 999, "eur", "pm_card_chargeDeclined"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.CreatePaymentIntent(other, metadata=TENANT_AUTH)
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(refused.value).reason == "IDEMPOTENCY_KEY_REUSED"
    assert sandbox(timing_out).charges_made == 1
    first = (await stub.CreatePaymentIntent(CHARGE, metadata=TENANT_AUTH)).payment_intent
    assert (first.status, first.amount_received) == (res.PAYMENT_INTENT_STATUS_SUCCEEDED, 4200)
    assert sandbox(timing_out).charges_made == 1


async def test_two_confirmations_at_once_with_different_keys_charge_once(slow: Running) -> None:
    stub = slow.payments()
    intent = (
        await stub.CreatePaymentIntent(
            pb.CreatePaymentIntentRequest(
                amount=700, currency="usd", payment_method_id="pm_card_visa", idempotency_key="c0"
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    outcomes = await asyncio.gather(
        *(
            stub.ConfirmPaymentIntent(
                pb.ConfirmPaymentIntentRequest(id=intent.id, idempotency_key=f"c{n}"),
                metadata=TENANT_AUTH,
            )
            for n in (1, 2)
        ),
        return_exceptions=True,
    )
    succeeded = [o for o in outcomes if isinstance(o, pb.ConfirmPaymentIntentResponse)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(succeeded) == 1
    assert succeeded[0].payment_intent.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert len(refused) == 1
    assert (refused[0].code(), error_info(refused[0]).reason) in {
        (grpc.StatusCode.ABORTED, "RESOURCE_BUSY"),
        (grpc.StatusCode.FAILED_PRECONDITION, "INVALID_STATE"),
    }
    assert sandbox(slow).charges_made == 1


async def test_concurrent_creates_with_one_key_charge_once_and_tell_the_rest_to_retry(
    slow: Running,
) -> None:
    stub = slow.payments()
    request = pb.CreatePaymentIntentRequest()
    request.CopyFrom(CHARGE)
    request.idempotency_key = "one-key-many-calls"
    outcomes = await asyncio.gather(
        *(stub.CreatePaymentIntent(request, metadata=TENANT_AUTH) for _ in range(8)),
        return_exceptions=True,
    )
    answers = [o for o in outcomes if isinstance(o, pb.CreatePaymentIntentResponse)]
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert len(answers) + len(refused) == 8
    assert len(answers) == 1, "the gateway is slow: only the first can have finished"
    assert answers[0].payment_intent.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert {(r.code(), error_info(r).reason) for r in refused} == {
        (grpc.StatusCode.ABORTED, "IDEMPOTENCY_KEY_IN_USE")
    }
    assert sandbox(slow).charges_made == 1
    retried = await stub.CreatePaymentIntent(request, metadata=TENANT_AUTH)
    assert retried == answers[0]
    assert sandbox(slow).charges_made == 1
