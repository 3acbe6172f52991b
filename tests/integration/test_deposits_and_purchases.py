"""Deposit and PurchaseCredits through PaymentService, over gRPC, on SQLite and PostgreSQL.

Each charge is a real payment intent on the sandbox gateway, paid with a saved payment
method. The ledger hears every payment's end — at once, after 3-D Secure, from a gateway
webhook, or from the reconciler — and the invariants (`isa ledger check`) hold after each.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeVar

import grpc
import pytest
from sqlalchemy import select

from gateways.router import Router
from isa.credit.v1 import credit_service_pb2 as cpb
from isa.credit.v1 import credit_service_pb2_grpc as cgrpc
from isa.credit.v1 import resources_pb2 as cres
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from isa.wallet.v1 import resources_pb2 as wres
from isa.wallet.v1 import wallet_service_pb2 as wpb
from isa.wallet.v1 import wallet_service_pb2_grpc as wgrpc
from server.ledger.credits import CreditService
from server.ledger.packages import DEFAULT_PACKAGES
from server.ledger.wallets import WalletService
from server.ledger_payments import LEDGER_REFERENCE, IntentPayments
from server.payments.intents import PaymentIntentService
from server.payments.outcomes import IntentOutcomes
from store.ids import new_id
from store.models import EventRow
from tests.conftest import OTHER_AUTH, TENANT_AUTH, Running, settings_for, start_running
from tests.integration.test_payment_gateway_events import post_sandbox
from tests.integration.test_payments import sandbox_gateway
from tests.ledger_support import (
    assert_ledger_ok,
    error_info,
    error_reason,
    field_violations,
)
from tests.polling import eventually

W = wres.WalletTransactionStatus
P = cres.CreditPurchaseStatus
T = TypeVar("T")
_keys = itertools.count()


def key() -> str:
    return f"dep-{next(_keys)}"


def wallets(server: Running) -> wgrpc.WalletServiceStub:
    return wgrpc.WalletServiceStub(server.channel)


def credits(server: Running) -> cgrpc.CreditServiceStub:
    return cgrpc.CreditServiceStub(server.channel)


def sandbox(server: Running) -> sb_grpc.SandboxServiceStub:
    return sb_grpc.SandboxServiceStub(server.channel)


async def saved_method(server: Running, token: str, auth: object = TENANT_AUTH) -> str:
    """A customer with ``token`` attached on the sandbox: the pm_ id to charge.

    Attaching is a gateway call too: under injected faults each of its calls' first attempt
    fails, and the retries with the same key succeed.
    """
    stub = server.payments()
    customer = (
        await stub.CreateCustomer(
            pb.CreateCustomerRequest(name="Ana", email="ana@example.com"),
            metadata=auth,  # type: ignore[arg-type]
        )
    ).customer.id
    attach = pb.AttachPaymentMethodRequest(
        customer_id=customer, gateway="sandbox", token=token, idempotency_key=key()
    )
    for _ in range(3):  # the gateway customer, then the method: each fails once
        try:
            method = await stub.AttachPaymentMethod(attach, metadata=auth)  # type: ignore[arg-type]
        except grpc.aio.AioRpcError as refused:
            if refused.code() != grpc.StatusCode.UNAVAILABLE:
                raise
        else:
            return str(method.payment_method.id)
    raise AssertionError("the payment method could not be attached")


async def three_d_secure_method(server: Running) -> str:
    card = await sandbox(server).CreateTestCardToken(
        sb.CreateTestCardTokenRequest(
            number="4000002500003155", exp_month=12, exp_year=2040, cvc="123"
        ),
        metadata=TENANT_AUTH,
    )
    return await saved_method(server, card.token)


async def new_wallet(server: Running, owner: str = "ana") -> str:
    response = await wallets(server).CreateWallet(
        wpb.CreateWalletRequest(owner_id=owner), metadata=TENANT_AUTH
    )
    return str(response.wallet.id)


async def balances(server: Running, wallet_id: str) -> tuple[dict[str, int], dict[str, int]]:
    wallet = (
        await wallets(server).GetWallet(
            wpb.GetWalletRequest(wallet_id=wallet_id), metadata=TENANT_AUTH
        )
    ).wallet
    return dict(wallet.balances), dict(wallet.pending)


def deposit_request(
    wallet_id: str, method: str, amount: int = 2_500, **fields: object
) -> wpb.DepositRequest:
    values: dict[str, object] = {
        "wallet_id": wallet_id,
        "amount": amount,
        "currency": "usd",
        "payment_method_id": method,
        "idempotency_key": key(),
    }
    values.update(fields)
    return wpb.DepositRequest(**values)  # type: ignore[arg-type]


async def deposit(server: Running, request: wpb.DepositRequest) -> wres.WalletTransaction:
    response = await wallets(server).Deposit(request, metadata=TENANT_AUTH)
    return response.wallet_transaction


async def transaction(server: Running, transaction_id: str) -> wres.WalletTransaction:
    response = await wallets(server).GetTransaction(
        wpb.GetTransactionRequest(id=transaction_id), metadata=TENANT_AUTH
    )
    return response.wallet_transaction


async def intent(server: Running, intent_id: str) -> res.PaymentIntent:
    response = await server.payments().GetPaymentIntent(
        pb.GetPaymentIntentRequest(id=intent_id), metadata=TENANT_AUTH
    )
    return response.payment_intent


async def all_intents(server: Running) -> list[res.PaymentIntent]:
    response = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(page_size=100), metadata=TENANT_AUTH
    )
    return list(response.payment_intents)


async def events(server: Running, resource_id: str) -> list[tuple[str, dict[str, object]]]:
    async with server.runtime.db.read() as session:
        rows = await session.scalars(
            select(EventRow).where(EventRow.resource_id == resource_id).order_by(EventRow.id)
        )
        return [(row.type, json.loads(row.payload)["data"]) for row in rows]


async def history(server: Running, wallet_id: str) -> list[wres.WalletTransaction]:
    response = await wallets(server).ListTransactions(
        wpb.ListTransactionsRequest(wallet_id=wallet_id), metadata=TENANT_AUTH
    )
    return list(response.wallet_transactions)


# --- deposits -----------------------------------------------------------------------------


async def test_a_deposit_paid_by_card_is_available_at_once(server: Running) -> None:
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    done = await deposit(server, deposit_request(wallet_id, method, description="top-up"))
    assert done.id.startswith("wtx_")
    assert done.type == wres.WALLET_TRANSACTION_TYPE_DEPOSIT
    assert (done.status, done.amount, done.balance_after) == (
        W.WALLET_TRANSACTION_STATUS_SUCCEEDED,
        2_500,
        2_500,
    )
    assert done.payment_method_id == method
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    paid = await intent(server, done.payment_intent_id)
    assert paid.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert (paid.amount, paid.currency, paid.amount_received) == (2_500, "usd", 2_500)
    assert paid.metadata[LEDGER_REFERENCE] == done.id
    assert [t for t, _ in await events(server, done.id)] == ["wallet.deposit.succeeded"]
    assert paid.client_secret  # the caller's, from the RPC; never in an event
    payment_events = await events(server, done.payment_intent_id)
    assert [t for t, _ in payment_events] == ["payment.created", "payment.succeeded"]
    assert not any("client_secret" in data for _, data in payment_events)
    assert (await transaction(server, done.id)) == done
    await assert_ledger_ok(server.runtime.db)


@pytest.mark.parametrize(
    ("token", "decline_code"),
    [
        ("pm_card_chargeDeclined", "generic_decline"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
async def test_a_declined_deposit_fails_says_why_and_credits_nothing(
    server: Running, token: str, decline_code: str
) -> None:
    wallet_id = await new_wallet(server)
    method = await saved_method(server, token)
    failed = await deposit(server, deposit_request(wallet_id, method))
    assert failed.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert (failed.last_error.code, failed.last_error.decline_code) == (
        "card_declined",
        decline_code,
    )
    assert failed.balance_after == 0
    assert await balances(server, wallet_id) == ({}, {"usd": 0})
    declined = await intent(server, failed.payment_intent_id)
    assert declined.status == res.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert failed.last_error == declined.last_error  # the payment's own words
    assert await transaction(server, failed.id) == failed
    [(kind, data)] = await events(server, failed.id)
    assert kind == "wallet.deposit.failed"
    assert data["last_error"] == {
        "code": "card_declined",
        "decline_code": decline_code,
        "message": failed.last_error.message,
    }
    await assert_ledger_ok(server.runtime.db)


async def test_a_failed_deposit_stays_failed_when_its_intent_is_paid_later_and_says_so(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    wallet_id = await new_wallet(server)
    failed = await deposit(
        server, deposit_request(wallet_id, await saved_method(server, "pm_card_chargeDeclined"))
    )
    with caplog.at_level(logging.ERROR, logger="isa.ledger.payments"):
        await server.payments().ConfirmPaymentIntent(
            pb.ConfirmPaymentIntentRequest(
                id=failed.payment_intent_id, payment_method_id="pm_card_visa", idempotency_key=key()
            ),
            metadata=TENANT_AUTH,
        )
    assert (await transaction(server, failed.id)).status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert await balances(server, wallet_id) == ({}, {"usd": 0})
    assert any(failed.id in r.getMessage() and "refund" in r.getMessage() for r in caplog.records)
    await assert_ledger_ok(server.runtime.db)


@pytest.mark.parametrize("succeed", [True, False])
async def test_a_3d_secure_deposit_is_pending_until_authentication_ends(
    server: Running, succeed: bool
) -> None:
    wallet_id = await new_wallet(server)
    method = await three_d_secure_method(server)
    pending = await deposit(server, deposit_request(wallet_id, method))
    assert pending.status == W.WALLET_TRANSACTION_STATUS_PENDING
    assert await balances(server, wallet_id) == ({}, {"usd": 2_500})
    waiting = await intent(server, pending.payment_intent_id)
    assert waiting.status == res.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    assert waiting.next_action.redirect_url
    await assert_ledger_ok(server.runtime.db)

    await sandbox(server).CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=waiting.id, succeed=succeed),
        metadata=TENANT_AUTH,
    )
    after = await transaction(server, pending.id)
    if succeed:
        assert (after.status, after.balance_after) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, 2_500)
        assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
        assert [t for t, _ in await events(server, pending.id)] == ["wallet.deposit.succeeded"]
    else:
        assert after.status == W.WALLET_TRANSACTION_STATUS_FAILED
        assert after.last_error.code == "authentication_failed"
        assert after.last_error.message
        assert await balances(server, wallet_id) == ({}, {"usd": 0})
        # The client's Deposit answered PENDING long ago: the event is its news.
        assert [t for t, _ in await events(server, pending.id)] == ["wallet.deposit.failed"]
    await assert_ledger_ok(server.runtime.db)


async def test_a_gateway_webhook_settles_a_pending_deposit_once(server: Running) -> None:
    wallet_id = await new_wallet(server)
    method = await three_d_secure_method(server)
    pending = await deposit(server, deposit_request(wallet_id, method))
    reference = (await intent(server, pending.payment_intent_id)).gateway_reference
    payment = {"object": "payment_intent", "id": reference, "status": "succeeded"}
    for event_id in ("evt_dep_1", "evt_dep_2"):  # the gateway telling us twice
        await post_sandbox(
            server, event_id, "payment_intent.succeeded", **payment, amount_received=2_500
        )

    async def settled() -> wres.WalletTransaction | None:
        now = await transaction(server, pending.id)
        return now if now.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED else None

    await eventually(settled)
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    assert [t for t, _ in await events(server, pending.id)] == ["wallet.deposit.succeeded"]
    await assert_ledger_ok(server.runtime.db)


async def test_canceling_a_pending_deposits_payment_fails_the_deposit(server: Running) -> None:
    wallet_id = await new_wallet(server)
    pending = await deposit(server, deposit_request(wallet_id, await three_d_secure_method(server)))
    await server.payments().CancelPaymentIntent(
        pb.CancelPaymentIntentRequest(id=pending.payment_intent_id, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    after = await transaction(server, pending.id)
    assert after.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert after.last_error.code == "payment_canceled"
    assert "canceled" in after.last_error.message
    assert await balances(server, wallet_id) == ({}, {"usd": 0})
    assert [t for t, _ in await events(server, pending.id)] == ["wallet.deposit.failed"]
    await assert_ledger_ok(server.runtime.db)


async def test_a_payment_merely_claiming_a_deposit_in_its_metadata_settles_nothing(
    server: Running,
) -> None:
    wallet_id = await new_wallet(server)
    pending = await deposit(
        server, deposit_request(wallet_id, await three_d_secure_method(server), amount=90_000)
    )
    forged = (
        await server.payments().CreatePaymentIntent(
            pb.CreatePaymentIntentRequest(
                amount=1,
                currency="usd",
                payment_method_id="pm_card_visa",
                confirm=True,
                metadata={LEDGER_REFERENCE: pending.id},
                idempotency_key=f"ledger:{pending.id}:charge",
            ),
            metadata=TENANT_AUTH,
        )
    ).payment_intent
    assert forged.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert (await transaction(server, pending.id)).status == W.WALLET_TRANSACTION_STATUS_PENDING
    assert await balances(server, wallet_id) == ({}, {"usd": 90_000})
    await assert_ledger_ok(server.runtime.db)


async def test_replaying_a_deposit_returns_the_same_transaction_and_charges_once(
    server: Running,
) -> None:
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    request = deposit_request(wallet_id, method, amount=700)
    first = await deposit(server, request)
    again = await deposit(server, request)
    assert again == first
    assert len(await all_intents(server)) == 1
    assert sandbox_gateway(server).charges_made == 1
    assert await balances(server, wallet_id) == ({"usd": 700}, {"usd": 0})
    changed = wpb.DepositRequest()
    changed.CopyFrom(request)
    changed.amount = 701
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(server, changed)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_reason(caught.value) == "IDEMPOTENCY_KEY_REUSED"
    assert error_info(caught.value).metadata["first_request"] == "isa.wallet.v1.DepositRequest"
    await assert_ledger_ok(server.runtime.db)


async def test_a_replay_after_3d_secure_answers_with_the_transaction_as_it_is_now(
    server: Running,
) -> None:
    wallet_id = await new_wallet(server)
    method = await three_d_secure_method(server)
    request = deposit_request(wallet_id, method)
    pending = await deposit(server, request)
    await sandbox(server).CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=pending.payment_intent_id, succeed=True),
        metadata=TENANT_AUTH,
    )
    replayed = await deposit(server, request)
    assert (replayed.id, replayed.status) == (pending.id, W.WALLET_TRANSACTION_STATUS_SUCCEEDED)
    assert len(await all_intents(server)) == 1


async def test_bad_deposits_are_refused_field_by_field_and_write_nothing(server: Running) -> None:
    wallet_id = await new_wallet(server)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(
            server,
            wpb.DepositRequest(
                wallet_id="w1", amount=0, currency="credits", payment_method_id="pm_card_visa"
            ),
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {
        "wallet_id",
        "amount",
        "currency",
        "payment_method_id",
        "idempotency_key",
    }
    assert "saved payment method" in field_violations(caught.value)["payment_method_id"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(
            server, deposit_request(wallet_id, "pm_x", amount=100_000_000, currency="USD")
        )
    assert set(field_violations(caught.value)) == {"amount", "currency", "payment_method_id"}
    assert await history(server, wallet_id) == []


async def test_an_unknown_or_another_clients_method_is_not_found_and_nothing_is_recorded(
    server: Running,
) -> None:
    wallet_id = await new_wallet(server)
    theirs = await saved_method(server, "pm_card_visa", auth=OTHER_AUTH)
    unknown = "pm_" + "0" * 26
    for method in (unknown, theirs):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await deposit(server, deposit_request(wallet_id, method))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(
            server, deposit_request("wal_" + "0" * 26, await saved_method(server, "pm_card_visa"))
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert await history(server, wallet_id) == []
    assert await all_intents(server) == []
    await assert_ledger_ok(server.runtime.db)


async def test_a_detached_method_cannot_fund_a_deposit(server: Running) -> None:
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    await server.payments().DetachPaymentMethod(
        pb.DetachPaymentMethodRequest(id=method), metadata=TENANT_AUTH
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(server, deposit_request(wallet_id, method))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "PAYMENT_METHOD_DETACHED"
    assert await history(server, wallet_id) == []


async def test_a_currency_no_card_gateway_takes_is_refused_and_records_nothing(
    server: Running,
) -> None:
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    request = deposit_request(wallet_id, method, currency="usdc")
    for _attempt in range(2):  # a retry with the key is refused the same way
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await deposit(server, request)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error_reason(caught.value) == "GATEWAY_CAPABILITY_MISSING"
        assert dict(error_info(caught.value).metadata) == {
            "method_type": "card",
            "currency": "usdc",
            "gateway": "sandbox",  # the saved method's
        }
    assert await history(server, wallet_id) == []
    assert await balances(server, wallet_id) == ({}, {})
    assert await all_intents(server) == []
    await assert_ledger_ok(server.runtime.db)


# --- gateway faults -----------------------------------------------------------------------


async def _faulty(url: str, clients: Path, kind: str) -> AsyncIterator[Running]:
    running = await start_running(
        settings_for(
            url,
            ISA_CLIENTS_FILE=str(clients),
            ISA_SANDBOX_FAILURE_RATE="1",
            ISA_SANDBOX_FAILURE_KIND=kind,
        )
    )
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


@pytest.fixture
async def unavailable(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """Every gateway call's first attempt is refused before anything is sent."""
    async for running in _faulty(migrated_url, clients_file, "unavailable"):
        yield running


@pytest.fixture
async def timing_out(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """Every gateway call's first attempt takes effect, then its answer is lost."""
    async for running in _faulty(migrated_url, clients_file, "timeout-after-effect"):
        yield running


async def test_an_unreachable_gateway_fails_the_deposit_and_the_rpc_unavailable(
    unavailable: Running,
) -> None:
    server = unavailable
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    request = deposit_request(wallet_id, method)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(server, request)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert error_reason(caught.value) == "GATEWAY_UNAVAILABLE"
    (failed,) = await history(server, wallet_id)
    assert failed.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert failed.last_error.code == "gateway_unavailable"
    assert "nothing was charged" in failed.last_error.message
    assert await balances(server, wallet_id) == ({}, {"usd": 0})
    assert sandbox_gateway(server).charges_made == 0
    # UNAVAILABLE promises a retry with the same key may run: it does, afresh.
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(server, request)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert [t.status for t in await history(server, wallet_id)] == [
        W.WALLET_TRANSACTION_STATUS_FAILED
    ] * 2
    assert failed.last_error.message.count("nothing was charged") == 1
    # no payment intent is left behind for a charge never sent
    intents = await server.payments().ListPaymentIntents(
        pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH
    )
    assert list(intents.payment_intents) == []
    await assert_ledger_ok(server.runtime.db)


@pytest.fixture
async def slow(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """Every gateway call takes half a second: long enough for a concurrent repeat."""
    running = await start_running(
        settings_for(migrated_url, ISA_CLIENTS_FILE=str(clients_file), ISA_SANDBOX_LATENCY_MS="500")
    )
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


async def test_a_repeat_while_the_charge_runs_is_told_of_its_own_key(slow: Running) -> None:
    server = slow
    wallet_id = await new_wallet(server)
    request = deposit_request(wallet_id, await saved_method(server, "pm_card_visa"))
    first = asyncio.ensure_future(deposit(server, request))

    # The deposit's charge is recorded with its attempt started: now in flight. (The
    # deposit's own record shows earlier, while its charge may not have begun; a repeat
    # then may take the charge over, and the first is the one told to retry.)
    await eventually(lambda: all_intents(server))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await deposit(server, request)
    assert caught.value.code() == grpc.StatusCode.ABORTED
    info = error_info(caught.value)
    assert info.reason == "IDEMPOTENCY_KEY_IN_USE"
    assert info.metadata["idempotency_key"] == request.idempotency_key
    assert repr(request.idempotency_key) in str(caught.value.details())
    assert "ledger" not in str(caught.value.details())  # the charge's own key stays ours
    done = await first
    assert done.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    assert await deposit(server, request) == done
    assert sandbox_gateway(server).charges_made == 1
    await assert_ledger_ok(server.runtime.db)


async def test_a_lost_answer_stays_pending_then_a_replay_settles_it_with_one_charge(
    timing_out: Running,
) -> None:
    server = timing_out
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    request = deposit_request(wallet_id, method)
    pending = await deposit(server, request)
    assert pending.status == W.WALLET_TRANSACTION_STATUS_PENDING
    assert await balances(server, wallet_id) == ({}, {"usd": 2_500})
    assert sandbox_gateway(server).charges_made == 1
    settled = await deposit(server, request)
    assert (settled.id, settled.status) == (pending.id, W.WALLET_TRANSACTION_STATUS_SUCCEEDED)
    assert sandbox_gateway(server).charges_made == 1
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_the_reconciler_settles_a_deposit_whose_answer_was_lost(timing_out: Running) -> None:
    server = timing_out
    wallet_id = await new_wallet(server)
    method = await saved_method(server, "pm_card_visa")
    pending = await deposit(server, deposit_request(wallet_id, method))
    assert pending.status == W.WALLET_TRANSACTION_STATUS_PENDING
    # The reconciler as the server wires it: same store, same gateways, same listener.
    db = server.runtime.db
    outcomes = IntentOutcomes()
    reconciler = PaymentIntentService(db, Router(server.runtime.gateways), outcomes)
    ledger = IntentPayments(db, reconciler, WalletService(db), CreditService(db, DEFAULT_PACKAGES))
    outcomes.subscribe(ledger.on_intent_outcome)
    assert await reconciler.reconcile(stale_after=dt.timedelta(0)) == 1
    after = await transaction(server, pending.id)
    assert after.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    assert after.payment_intent_id
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    assert sandbox_gateway(server).charges_made == 1
    await assert_ledger_ok(db)


# --- credit purchases ---------------------------------------------------------------------


def purchase_request(
    method: str, package: str = "credits_100", **fields: object
) -> cpb.PurchaseCreditsRequest:
    values: dict[str, object] = {
        "owner_id": "ana",
        "package_id": package,
        "payment_method_id": method,
        "idempotency_key": key(),
    }
    values.update(fields)
    return cpb.PurchaseCreditsRequest(**values)  # type: ignore[arg-type]


async def get_purchase(server: Running, purchase_id: str) -> cres.CreditPurchase:
    response = await credits(server).GetCreditPurchase(
        cpb.GetCreditPurchaseRequest(id=purchase_id), metadata=TENANT_AUTH
    )
    return response.credit_purchase


async def test_a_purchase_is_read_by_its_owner_only_and_by_a_valid_id(server: Running) -> None:
    pending = await purchase(server, purchase_request(await three_d_secure_method(server)))
    assert await get_purchase(server, pending.id) == pending
    for auth, wanted_id, code in (
        (OTHER_AUTH, pending.id, grpc.StatusCode.NOT_FOUND),
        (TENANT_AUTH, "crp_unknown", grpc.StatusCode.NOT_FOUND),
        (TENANT_AUTH, "wtx_not_a_purchase", grpc.StatusCode.INVALID_ARGUMENT),
        (TENANT_AUTH, "", grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await credits(server).GetCreditPurchase(
                cpb.GetCreditPurchaseRequest(id=wanted_id), metadata=auth
            )
        assert caught.value.code() == code, wanted_id


async def purchase(server: Running, request: cpb.PurchaseCreditsRequest) -> cres.CreditPurchase:
    response = await credits(server).PurchaseCredits(request, metadata=TENANT_AUTH)
    return response.credit_purchase


async def available_credits(server: Running, owner: str = "ana") -> int:
    response = await credits(server).GetCreditBalance(
        cpb.GetCreditBalanceRequest(owner_id=owner), metadata=TENANT_AUTH
    )
    return int(response.credit_balance.available)


async def test_a_paid_purchase_grants_its_credits(server: Running) -> None:
    method = await saved_method(server, "pm_card_visa")
    request = purchase_request(method, "credits_1000")
    bought = await purchase(server, request)
    assert bought.id.startswith("crp_")
    assert bought.status == P.CREDIT_PURCHASE_STATUS_SUCCEEDED
    assert (bought.credits, bought.amount, bought.currency) == (1_000, 8_000, "usd")
    assert bought.grant_id.startswith("crg_")
    assert await available_credits(server) == 1_000
    paid = await intent(server, bought.payment_intent_id)
    assert (paid.status, paid.amount_received) == (res.PAYMENT_INTENT_STATUS_SUCCEEDED, 8_000)
    assert paid.metadata[LEDGER_REFERENCE] == bought.id
    assert [t for t, _ in await events(server, bought.id)] == ["credit.purchased"]
    assert await purchase(server, request) == bought  # a replay: same purchase, one charge
    assert await available_credits(server) == 1_000
    assert len(await all_intents(server)) == 1
    await assert_ledger_ok(server.runtime.db)


async def test_a_declined_purchase_grants_nothing(server: Running) -> None:
    method = await saved_method(server, "pm_card_chargeDeclined")
    failed = await purchase(server, purchase_request(method))
    assert failed.status == P.CREDIT_PURCHASE_STATUS_FAILED
    assert (failed.last_error.code, failed.last_error.decline_code) == (
        "card_declined",
        "generic_decline",
    )
    assert failed.last_error.message
    assert failed.grant_id == ""
    assert await available_credits(server) == 0
    [(kind, data)] = await events(server, failed.id)
    assert kind == "credit.purchase_failed"
    assert data["last_error"]["code"] == "card_declined"
    await assert_ledger_ok(server.runtime.db)


@pytest.mark.parametrize("succeed", [True, False])
async def test_a_3d_secure_purchase_grants_credits_only_once_authenticated(
    server: Running, succeed: bool
) -> None:
    method = await three_d_secure_method(server)
    pending = await purchase(server, purchase_request(method))
    assert pending.status == P.CREDIT_PURCHASE_STATUS_PENDING
    assert await available_credits(server) == 0
    await sandbox(server).CompleteAuthentication(
        sb.CompleteAuthenticationRequest(
            payment_intent_id=pending.payment_intent_id, succeed=succeed
        ),
        metadata=TENANT_AUTH,
    )
    assert await available_credits(server) == (100 if succeed else 0)
    kinds = [t for t, _ in await events(server, pending.id)]
    assert kinds == (["credit.purchased"] if succeed else ["credit.purchase_failed"])
    ended = await get_purchase(server, pending.id)
    wanted = P.CREDIT_PURCHASE_STATUS_SUCCEEDED if succeed else P.CREDIT_PURCHASE_STATUS_FAILED
    assert (ended.status, ended.payment_intent_id) == (wanted, pending.payment_intent_id)
    assert bool(ended.grant_id) == succeed
    assert ended.last_error.code == ("" if succeed else "authentication_failed")
    await assert_ledger_ok(server.runtime.db)


@pytest.mark.parametrize("settles", [True, False])
async def test_a_purchase_processing_at_the_gateway_ends_by_webhook(
    server: Running, settles: bool
) -> None:
    """The way an ACH debit ends: PROCESSING for a while, then settled or returned."""
    request = purchase_request(await three_d_secure_method(server))
    pending = await purchase(server, request)
    reference = (await intent(server, pending.payment_intent_id)).gateway_reference
    payment = {"object": "payment_intent", "id": reference}
    await post_sandbox(
        server, f"evt_p_{settles}_1", "payment_intent.processing", **payment, status="processing"
    )

    async def processing() -> bool:
        now = await intent(server, pending.payment_intent_id)
        return now.status == res.PAYMENT_INTENT_STATUS_PROCESSING

    await eventually(processing)
    # A replay of the request answers with the purchase as it stands.
    assert (await purchase(server, request)).status == P.CREDIT_PURCHASE_STATUS_PENDING
    if settles:
        await post_sandbox(
            server,
            "evt_p_settled",
            "payment_intent.succeeded",
            **payment,
            status="succeeded",
            amount_received=pending.amount,
        )
    else:
        await post_sandbox(
            server,
            "evt_p_returned",
            "payment_intent.payment_failed",
            **payment,
            status="declined",
            last_payment_error={"code": "payment_failed", "message": "the debit was returned"},
        )
    wanted = P.CREDIT_PURCHASE_STATUS_SUCCEEDED if settles else P.CREDIT_PURCHASE_STATUS_FAILED

    async def ended() -> cres.CreditPurchase | None:
        now = await purchase(server, request)
        return now if now.status == wanted else None

    final = await eventually(ended)
    assert await available_credits(server) == (100 if settles else 0)
    if not settles:
        assert final.last_error.message == "the debit was returned"
        assert final.last_error.code == "payment_failed"
    await assert_ledger_ok(server.runtime.db)


async def test_an_unknown_package_or_method_buys_nothing(server: Running) -> None:
    method = await saved_method(server, "pm_card_visa")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await purchase(server, purchase_request(method, "credits_7"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await purchase(server, purchase_request("pm_" + "0" * 26))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await purchase(server, purchase_request("pm_card_visa", owner_id="", idempotency_key=""))
    assert set(field_violations(caught.value)) == {
        "owner_id",
        "payment_method_id",
        "idempotency_key",
    }
    assert await all_intents(server) == []
    assert await available_credits(server) == 0


async def test_an_unknown_wallet_is_not_found_before_anything_about_the_method(
    server: Running,
) -> None:
    nowhere = new_id("wal")
    for call, request in (
        (wallets(server).Deposit, deposit_request(nowhere, new_id("pm"))),
        (
            wallets(server).Withdraw,
            wpb.WithdrawRequest(
                wallet_id=nowhere,
                amount=100,
                currency="usd",
                payment_method_id=new_id("pm"),
                idempotency_key=key(),
            ),
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(request, metadata=TENANT_AUTH)  # type: ignore[operator]
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
        assert error_info(caught.value).metadata["resource"] == "wallet"
