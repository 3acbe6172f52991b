"""Bank (ACH) payments over gRPC on the sandbox's bank rail, on SQLite and PostgreSQL.

Seed 004's one-time ACH payment: link -> exchange -> pay -> PROCESSING -> the bank
settles (SUCCEEDED) or returns it (R01, also after settlement); micro-deposits; replays;
bad input; and the access token's plaintext is never seen outside the gateway.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from sqlalchemy import MetaData, select, text

from gateways.sandbox.bank import MICRO_DEPOSIT_AMOUNTS
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from isa.webhook.v1 import resources_pb2 as wres
from server.payments.bank_secrets import TokenCipher
from server.secret import Secret
from store.bank_models import BankAccountRow
from store.models import EventRow
from tests.conftest import (
    OTHER_AUTH,
    TENANT_AUTH,
    TEST_ENCRYPTION_KEY,
    Running,
    settings_for,
    start_running,
)
from tests.integration.test_customers import field_violations
from tests.integration.test_payment_gateway_events import (
    callbacks,
    endpoint,
    gateway_events,
)
from tests.integration.test_surface import error_info
from tests.polling import eventually
from tests.webhook_support import Receiver

S = res.PaymentIntentStatus
V = res.PaymentMethodVerificationStatus
G = wres.GatewayEventStatus
_keys = itertools.count()


def key() -> str:
    return f"bank-{next(_keys)}"


@pytest.fixture
def server(quick_relay_server: Running) -> Running:
    return quick_relay_server


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    started = await Receiver().start()
    yield started
    await started.stop()


def sandbox(server: Running) -> sb_grpc.SandboxServiceStub:
    return sb_grpc.SandboxServiceStub(server.channel)


async def new_customer(server: Running) -> str:
    response = await server.payments().CreateCustomer(
        pb.CreateCustomerRequest(name="Tenant", email="tenant@example.com"), metadata=TENANT_AUTH
    )
    return response.customer.id


async def link_account(
    server: Running, customer_id: str, account_id: str = "sandbox-checking", **fields: Any
) -> res.PaymentMethod:
    """What the tenant portal does: a link token, Link in the browser, then the exchange."""
    link = await server.payments().CreateBankLinkToken(
        pb.CreateBankLinkTokenRequest(customer_id=customer_id), metadata=TENANT_AUTH
    )
    assert link.link_token.startswith("link-sandbox-")
    values: dict[str, Any] = {
        "customer_id": customer_id,
        "public_token": f"public-sandbox-{key()}",  # what Link hands the browser
        "account_id": account_id,
        "idempotency_key": key(),
    }
    values.update(fields)
    response = await server.payments().ExchangeBankPublicToken(
        pb.ExchangeBankPublicTokenRequest(**values), metadata=TENANT_AUTH
    )
    return response.payment_method


async def pay(
    server: Running, customer_id: str, method_id: str, **fields: Any
) -> res.PaymentIntent:
    values: dict[str, Any] = {
        "amount": 125000,
        "currency": "usd",
        "customer_id": customer_id,
        "payment_method_id": method_id,
        "confirm": True,
        "description": "May rent",
        "idempotency_key": key(),
    }
    values.update(fields)
    response = await server.payments().CreatePaymentIntent(
        pb.CreatePaymentIntentRequest(**values), metadata=TENANT_AUTH
    )
    return response.payment_intent


async def advance(
    server: Running, intent_id: str, outcome: int, return_code: str = "", **fields: Any
) -> res.PaymentIntent:
    response = await sandbox(server).AdvanceBankTransfer(
        sb.AdvanceBankTransferRequest(
            payment_intent_id=intent_id, outcome=outcome, return_code=return_code, **fields
        ),
        metadata=TENANT_AUTH,
    )
    return response.payment_intent


async def get_intent(server: Running, intent_id: str) -> res.PaymentIntent:
    response = await server.payments().GetPaymentIntent(
        pb.GetPaymentIntentRequest(id=intent_id), metadata=TENANT_AUTH
    )
    return response.payment_intent


async def events(server: Running, resource_id: str) -> list[str]:
    """Our own events about a resource (not the raw gateway events the relay forwards)."""
    async with server.runtime.db.read() as session:
        rows = await session.scalars(
            select(EventRow).where(EventRow.resource_id == resource_id).order_by(EventRow.id)
        )
        return [row.type for row in rows if not row.type.startswith("gateway.")]


SETTLE = sb.BANK_TRANSFER_OUTCOME_SETTLE
RETURN = sb.BANK_TRANSFER_OUTCOME_RETURN


# --- seed 004: one-time ACH payment -------------------------------------------------------


async def test_one_time_ach_payment_processes_then_settles_with_event_and_callback(
    server: Running, receiver: Receiver
) -> None:
    hook = await endpoint(server, receiver)
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id)
    assert method.type == res.PAYMENT_METHOD_TYPE_BANK_ACCOUNT
    assert method.gateway == "sandbox"
    assert (method.last4, method.account_type) == ("0000", "checking")
    assert method.bank_name == "First Platypus Bank"
    assert method.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED

    intent = await pay(server, customer_id, method.id)
    assert intent.status == S.PAYMENT_INTENT_STATUS_PROCESSING
    assert intent.payment_method_type == res.PAYMENT_METHOD_TYPE_BANK_ACCOUNT
    assert intent.amount_received == 0
    assert intent.gateway_reference.startswith("transfer-sandbox-")

    settled = await advance(server, intent.id, SETTLE)
    assert settled.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert settled.amount_received == 125000
    assert (await get_intent(server, intent.id)).status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    assert await events(server, intent.id) == [
        "payment.created",
        "payment.processing",
        "payment.succeeded",
    ]

    async def called_back() -> list[dict[str, Any]]:
        return callbacks(receiver, hook.secret, "payment.succeeded")

    [callback] = await eventually(called_back)
    assert callback["data"]["id"] == intent.id
    assert callback["data"]["amount_received"] == 125000

    async def relayed() -> list[wres.GatewayEvent]:  # the sandbox's signed webhook, applied
        return [
            e
            for e in await gateway_events(server, gateway="sandbox")
            if e.type == "bank_transfer.settled" and e.status == G.GATEWAY_EVENT_STATUS_PROCESSED
        ]

    [webhook] = await eventually(relayed)
    assert webhook.resource_id == intent.id


async def test_a_settle_on_an_insufficient_funds_account_is_returned_r01(server: Running) -> None:
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id, "sandbox-insufficient-funds")
    intent = await pay(server, customer_id, method.id)
    assert intent.status == S.PAYMENT_INTENT_STATUS_PROCESSING

    returned = await advance(server, intent.id, SETTLE)
    assert returned.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert returned.amount_received == 0
    assert returned.last_error.code == "bank_account_returned"
    assert returned.last_error.decline_code == "R01"
    assert "insufficient funds" in returned.last_error.message
    assert (await events(server, intent.id))[-1] == "payment.failed"


async def test_an_explicit_return_before_settlement_carries_its_code(server: Running) -> None:
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id)
    intent = await pay(server, customer_id, method.id)
    returned = await advance(server, intent.id, RETURN, "R02")
    assert returned.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert (returned.last_error.code, returned.last_error.decline_code) == (
        "bank_account_returned",
        "R02",
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await advance(server, intent.id, SETTLE)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "INVALID_STATE"


async def test_a_return_after_settlement_reverses_the_settlement(
    server: Running, receiver: Receiver
) -> None:
    hook = await endpoint(server, receiver)
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id)
    intent = await pay(server, customer_id, method.id)
    assert (await advance(server, intent.id, SETTLE)).amount_received == 125000

    reversed_ = await advance(server, intent.id, RETURN, "R01")
    assert reversed_.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert reversed_.amount_received == 0
    assert reversed_.last_error.decline_code == "R01"
    assert (await get_intent(server, intent.id)).amount_received == 0
    assert await events(server, intent.id) == [
        "payment.created",
        "payment.processing",
        "payment.succeeded",
        "payment.failed",
    ]

    async def failed() -> list[dict[str, Any]]:
        return callbacks(receiver, hook.secret, "payment.failed")

    [callback] = await eventually(failed)
    assert callback["data"]["id"] == intent.id
    assert callback["data"]["amount_received"] == 0
    assert callback["data"]["last_error"]["decline_code"] == "R01"

    for outcome in (SETTLE, RETURN):  # a returned debit is final
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await advance(server, intent.id, outcome)
        assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


# --- micro-deposits -------------------------------------------------------------------------


async def test_micro_deposits_refuse_wrong_amounts_then_verify_and_allow_payment(
    server: Running,
) -> None:
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id, "sandbox-microdeposits")
    assert method.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_PENDING

    waiting = await pay(server, customer_id, method.id)  # Stripe's flow: the intent waits
    assert waiting.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    assert waiting.next_action.type == res.NEXT_ACTION_TYPE_VERIFY_MICRODEPOSITS
    assert waiting.next_action.redirect_url == ""
    assert waiting.gateway_reference == ""  # nothing was sent to the bank yet

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().VerifyMicroDeposits(
            pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=[10, 20]),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value).reason == "MICRODEPOSIT_AMOUNTS_MISMATCH"
    assert "2 attempts left" in field_violations(caught.value)["amounts"]

    verified = await server.payments().VerifyMicroDeposits(
        pb.VerifyMicroDepositsRequest(
            payment_method_id=method.id, amounts=list(reversed(MICRO_DEPOSIT_AMOUNTS))
        ),
        metadata=TENANT_AUTH,
    )
    assert (
        verified.payment_method.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED
    )
    assert "bank_account.verified" in await events(server, method.id)
    listed = await server.payments().ListPaymentMethods(
        pb.ListPaymentMethodsRequest(customer_id=customer_id), metadata=TENANT_AUTH
    )
    [shown] = listed.payment_methods
    assert shown.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED

    resumed = await get_intent(server, waiting.id)  # the waiting debit started by itself
    assert resumed.status == S.PAYMENT_INTENT_STATUS_PROCESSING
    assert resumed.gateway_reference.startswith("transfer-sandbox-")
    assert not resumed.HasField("next_action")
    assert await events(server, waiting.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.processing",
    ]
    settled = await advance(server, waiting.id, SETTLE)
    assert settled.status == S.PAYMENT_INTENT_STATUS_SUCCEEDED
    intent = await pay(server, customer_id, method.id)
    assert intent.status == S.PAYMENT_INTENT_STATUS_PROCESSING

    with pytest.raises(grpc.aio.AioRpcError) as caught:  # nothing left to verify
        await server.payments().VerifyMicroDeposits(
            pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=[32, 45]),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_three_wrong_micro_deposit_attempts_fail_the_account(server: Running) -> None:
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id, "sandbox-microdeposits")
    waiting = await pay(server, customer_id, method.id)
    assert waiting.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    for left in ("2 attempts left", "1 attempt left", "no longer be verified"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await server.payments().VerifyMicroDeposits(
                pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=[1, 2]),
                metadata=TENANT_AUTH,
            )
        assert error_info(caught.value).reason == "MICRODEPOSIT_AMOUNTS_MISMATCH"
        assert left in field_violations(caught.value)["amounts"]
    assert "no longer be verified" in field_violations(caught.value)["amounts"]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().VerifyMicroDeposits(
            pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=[32, 45]),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    failed = await get_intent(server, waiting.id)
    assert failed.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert failed.last_error.code == "bank_account_verification_failed"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pay(server, customer_id, method.id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    listed = await server.payments().ListPaymentMethods(
        pb.ListPaymentMethodsRequest(customer_id=customer_id), metadata=TENANT_AUTH
    )
    [shown] = listed.payment_methods
    assert shown.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_FAILED
    # the wrong tries before the last wrote nothing; the one that ended it, its event
    assert await events(server, method.id) == [
        "payment_method.attached",
        "bank_account.verification_failed",
    ]


async def test_a_waiting_intent_can_be_canceled_before_verification(server: Running) -> None:
    customer_id = await new_customer(server)
    method = await link_account(server, customer_id, "sandbox-microdeposits")
    waiting = await pay(server, customer_id, method.id)
    canceled = await server.payments().CancelPaymentIntent(
        pb.CancelPaymentIntentRequest(id=waiting.id, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    assert canceled.payment_intent.status == S.PAYMENT_INTENT_STATUS_CANCELED
    await server.payments().VerifyMicroDeposits(
        pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=[32, 45]),
        metadata=TENANT_AUTH,
    )
    after = await get_intent(server, waiting.id)
    assert after.status == S.PAYMENT_INTENT_STATUS_CANCELED  # not debited after all


# --- idempotency ----------------------------------------------------------------------------


async def test_replays_return_the_first_answer_and_move_money_once(server: Running) -> None:
    customer_id = await new_customer(server)
    request = pb.ExchangeBankPublicTokenRequest(
        customer_id=customer_id,
        public_token="public-sandbox-replayed",
        account_id="sandbox-checking",
        idempotency_key=key(),
    )
    first = await server.payments().ExchangeBankPublicToken(request, metadata=TENANT_AUTH)
    again = await server.payments().ExchangeBankPublicToken(request, metadata=TENANT_AUTH)
    assert again.payment_method.id == first.payment_method.id
    listed = await server.payments().ListPaymentMethods(
        pb.ListPaymentMethodsRequest(customer_id=customer_id), metadata=TENANT_AUTH
    )
    assert len(listed.payment_methods) == 1

    changed = pb.ExchangeBankPublicTokenRequest()
    changed.CopyFrom(request)
    changed.account_id = "sandbox-savings"
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().ExchangeBankPublicToken(changed, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_info(caught.value).reason == "IDEMPOTENCY_KEY_REUSED"

    pay_key = key()
    method_id = first.payment_method.id
    intent = await pay(server, customer_id, method_id, idempotency_key=pay_key)
    replayed = await pay(server, customer_id, method_id, idempotency_key=pay_key)
    assert replayed.id == intent.id
    assert replayed.gateway_reference == intent.gateway_reference  # one transfer

    settle_key = key()
    settled = await advance(server, intent.id, SETTLE, idempotency_key=settle_key)
    again_settled = await advance(server, intent.id, SETTLE, idempotency_key=settle_key)
    assert again_settled == settled
    assert (await events(server, intent.id)).count("payment.succeeded") == 1

    with pytest.raises(grpc.aio.AioRpcError) as caught:  # not built: refused, nothing written
        await server.payments().CreateRefund(
            pb.CreateRefundRequest(payment_intent_id=intent.id, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_info(caught.value).reason == "GATEWAY_CAPABILITY_MISSING"
    refunds = await server.payments().ListRefunds(
        pb.ListRefundsRequest(payment_intent_id=intent.id), metadata=TENANT_AUTH
    )
    assert list(refunds.refunds) == []

    with pytest.raises(grpc.aio.AioRpcError) as caught:  # a public token is single use
        await server.payments().ExchangeBankPublicToken(
            pb.ExchangeBankPublicTokenRequest(
                customer_id=customer_id,
                public_token="public-sandbox-replayed",
                account_id="sandbox-checking",
                idempotency_key=key(),
            ),
            metadata=TENANT_AUTH,
        )
    assert error_info(caught.value).reason == "PUBLIC_TOKEN_INVALID"


# --- bad input ------------------------------------------------------------------------------


async def test_bad_input_gets_precise_statuses_and_writes_nothing(server: Running) -> None:
    customer_id = await new_customer(server)
    stub = server.payments()

    async def refused(call: Any, request: Message, auth: Any = TENANT_AUTH) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call(request, metadata=auth)
        return caught.value

    error = await refused(
        stub.ExchangeBankPublicToken,
        pb.ExchangeBankPublicTokenRequest(customer_id=customer_id, public_token="nope"),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(error)) == {"account_id"}
    error = await refused(
        stub.ExchangeBankPublicToken,
        pb.ExchangeBankPublicTokenRequest(
            customer_id=customer_id, public_token="nope", account_id="sandbox-checking"
        ),
    )
    assert (error.code(), error_info(error).reason) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "PUBLIC_TOKEN_INVALID",
    )
    assert "public_token" in field_violations(error)
    error = await refused(
        stub.ExchangeBankPublicToken,
        pb.ExchangeBankPublicTokenRequest(
            customer_id=customer_id, public_token="public-sandbox-x1", account_id="acc-unknown"
        ),
    )
    assert "account_id" in field_violations(error)
    error = await refused(
        stub.CreateBankLinkToken, pb.CreateBankLinkTokenRequest(customer_id="cus_missing")
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await refused(
        stub.CreateBankLinkToken, pb.CreateBankLinkTokenRequest(customer_id=customer_id), OTHER_AUTH
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND  # another client's customer

    method = await link_account(server, customer_id)
    for amounts in ([32], [32, 45, 1], [0, 45], [32, 500]):
        error = await refused(
            stub.VerifyMicroDeposits,
            pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=amounts),
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "amounts" in field_violations(error)
    error = await refused(  # verified already
        stub.VerifyMicroDeposits,
        pb.VerifyMicroDepositsRequest(payment_method_id=method.id, amounts=[32, 45]),
    )
    assert (error.code(), error_info(error).reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "INVALID_STATE",
    )

    error = await refused(
        stub.CreatePaymentIntent,
        pb.CreatePaymentIntentRequest(
            amount=1000,
            currency="eur",
            customer_id=customer_id,
            payment_method_id=method.id,
            confirm=True,
            idempotency_key=key(),
        ),
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "currency" in field_violations(error)
    error = await refused(
        stub.CreatePaymentIntent,
        pb.CreatePaymentIntentRequest(
            amount=1000,
            currency="usd",
            customer_id=customer_id,
            payment_method_id=method.id,
            confirm=True,
            capture_method=res.CAPTURE_METHOD_MANUAL,
            idempotency_key=key(),
        ),
    )
    assert "capture_method" in field_violations(error)
    listed = await stub.ListPaymentIntents(pb.ListPaymentIntentsRequest(), metadata=TENANT_AUTH)
    assert list(listed.payment_intents) == []  # no half-written intent

    intent = await pay(server, customer_id, method.id)
    for request in (
        sb.AdvanceBankTransferRequest(payment_intent_id=intent.id),
        sb.AdvanceBankTransferRequest(payment_intent_id=intent.id, outcome=RETURN, return_code="X"),
        sb.AdvanceBankTransferRequest(payment_intent_id="bogus", outcome=SETTLE),
    ):
        error = await refused(sandbox(server).AdvanceBankTransfer, request)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    card = await pay(server, "", "pm_card_visa")
    error = await refused(
        sandbox(server).AdvanceBankTransfer,
        sb.AdvanceBankTransferRequest(payment_intent_id=card.id, outcome=SETTLE),
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await get_intent(server, intent.id)).status == S.PAYMENT_INTENT_STATUS_PROCESSING


# --- the access token never leaves --------------------------------------------------------


def _sandbox_access_tokens(server: Running) -> list[str]:
    gateway = server.runtime.gateways.find("sandbox")
    return list(gateway._bank.items)  # type: ignore[union-attr]  # the simulator's own state


async def _every_stored_value(server: Running) -> list[str]:
    """Every column of every row of every table, as text."""
    tables = MetaData()
    async with server.runtime.db.read() as session:
        connection = await session.connection()
        await connection.run_sync(tables.reflect)
        values: list[str] = []
        for table in tables.sorted_tables:
            rows = await session.execute(text(f'SELECT * FROM "{table.name}"'))
            values.extend(str(value) for row in rows for value in row)
    return values


async def test_the_access_token_plaintext_is_never_logged_returned_or_stored(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []

    def keep(message: Message) -> None:
        seen.append(str(message))
        seen.append(message.SerializeToString().decode("latin-1"))

    customer_id = await new_customer(server)
    method = await link_account(server, customer_id)
    keep(method)
    pending = await link_account(server, customer_id, "sandbox-microdeposits", set_as_default=True)
    keep(pending)
    for amounts in ([1, 2], [32, 45]):
        try:
            keep(
                await server.payments().VerifyMicroDeposits(
                    pb.VerifyMicroDepositsRequest(payment_method_id=pending.id, amounts=amounts),
                    metadata=TENANT_AUTH,
                )
            )
        except grpc.aio.AioRpcError as error:
            seen.append(str(error.details()))
            seen.append(repr(error.trailing_metadata()))
    intent = await pay(server, customer_id, method.id)
    keep(intent)
    keep(await advance(server, intent.id, SETTLE))
    keep(await advance(server, intent.id, RETURN, "R01"))
    keep(
        await server.payments().ListPaymentMethods(
            pb.ListPaymentMethodsRequest(customer_id=customer_id), metadata=TENANT_AUTH
        )
    )

    tokens = _sandbox_access_tokens(server)
    assert len(tokens) == 2
    stored = await _every_stored_value(server)
    async with server.runtime.db.read() as session:
        ciphertexts = list(await session.scalars(select(BankAccountRow.access_token_ciphertext)))
    cipher = TokenCipher(Secret(TEST_ENCRYPTION_KEY))
    assert sorted(cipher.decrypt(c) for c in ciphertexts) == sorted(tokens)  # kept, encrypted
    logs = [record.getMessage() for record in caplog.records] + [caplog.text]
    async with server.runtime.db.read() as session:
        payloads = [json.dumps(p) for p in await session.scalars(select(EventRow.payload))]
    for token in tokens:
        for where, values in (
            ("responses", seen),
            ("logs", logs),
            ("database", stored),
            ("events", payloads),
        ):
            assert not [v for v in values if token in v], f"access token found in {where}"


# --- lost answers -----------------------------------------------------------------------------


@pytest.fixture
async def lossy_server(migrated_url: str, clients_file: Path) -> AsyncIterator[Running]:
    """Every first gateway call under a key takes effect but its answer is lost."""
    running = await start_running(
        settings_for(
            migrated_url,
            ISA_CLIENTS_FILE=str(clients_file),
            ISA_SANDBOX_FAILURE_RATE="1",
            ISA_SANDBOX_FAILURE_KIND="timeout-after-effect",
        )
    )
    yield running
    await running.channel.close()
    await running.runtime.stop(grace=0)


async def test_a_lost_answer_is_retried_with_the_same_key_and_debits_once(
    lossy_server: Running,
) -> None:
    server = lossy_server
    customer_id = await new_customer(server)
    exchange = pb.ExchangeBankPublicTokenRequest(
        customer_id=customer_id,
        public_token="public-sandbox-lossy",
        account_id="sandbox-checking",
        idempotency_key=key(),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().ExchangeBankPublicToken(exchange, metadata=TENANT_AUTH)
    assert (caught.value.code(), error_info(caught.value).reason) == (
        grpc.StatusCode.UNAVAILABLE,
        "GATEWAY_ERROR",
    )
    method = (
        await server.payments().ExchangeBankPublicToken(exchange, metadata=TENANT_AUTH)
    ).payment_method
    assert len(_sandbox_access_tokens(server)) == 1  # the retry found the first exchange

    pay_key = key()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await pay(server, customer_id, method.id, idempotency_key=pay_key)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    intent = await pay(server, customer_id, method.id, idempotency_key=pay_key)
    assert intent.status == S.PAYMENT_INTENT_STATUS_PROCESSING
    gateway = server.runtime.gateways.find("sandbox")
    transfers = gateway._bank.transfers  # type: ignore[union-attr]  # the simulator's state
    assert list(transfers) == [intent.gateway_reference]  # one debit, not two
