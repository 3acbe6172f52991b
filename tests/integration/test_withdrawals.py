"""WalletService.Withdraw to a bank account over gRPC, on SQLite and PostgreSQL.

A withdrawal holds the amount (available down, pending up) and pays it out as an ACH
credit on the sandbox's bank rail; the bank settling the credit makes it SUCCEEDED, a
return restores the funds. Either reaches the ledger once, whether through the sandbox's
AdvanceBankTransfer or the signed webhook the relay applies. `isa ledger check` stays
clean after each.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message

from gateways.sandbox import SandboxGateway
from gateways.types import BankTransferDirection
from isa.credit.v1 import credit_service_pb2 as cpb
from isa.credit.v1 import resources_pb2 as cres
from isa.payment.v1 import payment_service_pb2 as pb
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from isa.wallet.v1 import resources_pb2 as wres
from isa.wallet.v1 import wallet_service_pb2 as wpb
from isa.wallet.v1 import wallet_service_pb2_grpc as wgrpc
from isa.webhook.v1 import resources_pb2 as gres
from server.ledger.wallets import clearing_account, returned_debits_account
from store.ledger import Ledger
from tests.conftest import (
    OTHER_AUTH,
    TENANT,
    TENANT_AUTH,
    Running,
    settings_for,
    start_running,
)
from tests.integration.test_bank_payments import events
from tests.integration.test_deposits_and_purchases import (
    available_credits,
    credits,
    get_purchase,
    purchase,
    purchase_request,
    saved_method,
)
from tests.integration.test_payment_gateway_events import gateway_events
from tests.ledger_support import assert_ledger_ok, error_info, error_reason, field_violations, fund
from tests.polling import eventually

W = wres.WalletTransactionStatus
P = cres.CreditPurchaseStatus
SETTLE = sb.BANK_TRANSFER_OUTCOME_SETTLE
RETURN = sb.BANK_TRANSFER_OUTCOME_RETURN
FUNDED = 10_000
_keys = itertools.count()


def key() -> str:
    return f"wd-{next(_keys)}"


@pytest.fixture
def server(quick_relay_server: Running) -> Running:
    return quick_relay_server


def wallets(server: Running) -> wgrpc.WalletServiceStub:
    return wgrpc.WalletServiceStub(server.channel)


def sandbox(server: Running) -> sb_grpc.SandboxServiceStub:
    return sb_grpc.SandboxServiceStub(server.channel)


def payouts_sent(server: Running) -> list[int]:
    """The amounts of the ACH credits the sandbox's bank received."""
    gateway = server.runtime.gateways.find("sandbox")
    assert isinstance(gateway, SandboxGateway)
    return [
        t.amount
        for t in gateway._bank.transfers.values()
        if t.direction is BankTransferDirection.CREDIT
    ]


async def bank_account(
    server: Running, account_id: str = "sandbox-checking", auth: Any = TENANT_AUTH
) -> str:
    """A customer's bank account linked through Link and ExchangeBankPublicToken."""
    stub = server.payments()
    customer = await stub.CreateCustomer(
        pb.CreateCustomerRequest(name="Ana", email="ana@example.com"), metadata=auth
    )
    method = await stub.ExchangeBankPublicToken(
        pb.ExchangeBankPublicTokenRequest(
            customer_id=customer.customer.id,
            public_token=f"public-sandbox-{key()}",
            account_id=account_id,
            idempotency_key=key(),
        ),
        metadata=auth,
    )
    return str(method.payment_method.id)


async def funded_wallet(server: Running, amount: int = FUNDED) -> str:
    """A wallet holding ``amount`` usd, deposited by card."""
    wallet = await wallets(server).CreateWallet(
        wpb.CreateWalletRequest(owner_id=key()), metadata=TENANT_AUTH
    )
    card = await saved_method(server, "pm_card_visa")
    deposit = await wallets(server).Deposit(
        wpb.DepositRequest(
            wallet_id=wallet.wallet.id,
            amount=amount,
            currency="usd",
            payment_method_id=card,
            idempotency_key=key(),
        ),
        metadata=TENANT_AUTH,
    )
    assert deposit.wallet_transaction.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    return str(wallet.wallet.id)


def withdraw_request(wallet_id: str, method_id: str, amount: int = 2_500, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "wallet_id": wallet_id,
        "amount": amount,
        "currency": "usd",
        "payment_method_id": method_id,
        "description": "Payout to checking",
        "idempotency_key": key(),
    }
    values.update(fields)
    return wpb.WithdrawRequest(**values)


async def withdraw(server: Running, request: wpb.WithdrawRequest) -> wres.WalletTransaction:
    response = await wallets(server).Withdraw(request, metadata=TENANT_AUTH)
    return response.wallet_transaction


async def advance(
    server: Running, transaction_id: str, outcome: int, return_code: str = ""
) -> wres.WalletTransaction:
    response = await sandbox(server).AdvanceBankTransfer(
        sb.AdvanceBankTransferRequest(
            wallet_transaction_id=transaction_id, outcome=outcome, return_code=return_code
        ),
        metadata=TENANT_AUTH,
    )
    return response.wallet_transaction


async def balances(server: Running, wallet_id: str) -> tuple[dict[str, int], dict[str, int]]:
    wallet = (
        await wallets(server).GetWallet(
            wpb.GetWalletRequest(wallet_id=wallet_id), metadata=TENANT_AUTH
        )
    ).wallet
    return dict(wallet.balances), dict(wallet.pending)


async def transaction(server: Running, transaction_id: str) -> wres.WalletTransaction:
    response = await wallets(server).GetTransaction(
        wpb.GetTransactionRequest(id=transaction_id), metadata=TENANT_AUTH
    )
    return response.wallet_transaction


async def history(server: Running, wallet_id: str) -> list[wres.WalletTransaction]:
    response = await wallets(server).ListTransactions(
        wpb.ListTransactionsRequest(wallet_id=wallet_id), metadata=TENANT_AUTH
    )
    return list(response.wallet_transactions)


# --- the payout settles or comes back ---------------------------------------------------


async def test_a_withdrawal_holds_the_funds_until_its_payout_settles(server: Running) -> None:
    wallet_id = await funded_wallet(server)
    account = await bank_account(server)
    held = await withdraw(server, withdraw_request(wallet_id, account))
    assert held.status == W.WALLET_TRANSACTION_STATUS_PENDING
    assert held.type == wres.WALLET_TRANSACTION_TYPE_WITHDRAWAL
    assert (held.amount, held.currency, held.payment_method_id) == (-2_500, "usd", account)
    assert held.gateway_reference.startswith("transfer-sandbox-")
    assert await balances(server, wallet_id) == ({"usd": 7_500}, {"usd": 2_500})
    assert payouts_sent(server) == [2_500]
    await assert_ledger_ok(server.runtime.db)

    settled = await advance(server, held.id, SETTLE)
    assert settled.id == held.id
    assert settled.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    assert settled.balance_after == 7_500
    assert await balances(server, wallet_id) == ({"usd": 7_500}, {"usd": 0})
    assert await events(server, held.id) == ["wallet.withdrawal.succeeded"]
    assert (await transaction(server, held.id)).status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED

    async def relayed() -> list[gres.GatewayEvent]:  # the sandbox's webhook: a no-op repeat
        return [
            e
            for e in await gateway_events(server, gateway="sandbox")
            if e.type == "bank_transfer.settled" and e.resource_id == held.id
        ]

    [webhook] = await eventually(relayed)
    assert webhook.status in (
        gres.GATEWAY_EVENT_STATUS_PROCESSED,
        gres.GATEWAY_EVENT_STATUS_IGNORED,
    )
    assert await balances(server, wallet_id) == ({"usd": 7_500}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_a_returned_payout_restores_the_funds(server: Running) -> None:
    wallet_id = await funded_wallet(server)
    held = await withdraw(server, withdraw_request(wallet_id, await bank_account(server)))
    returned = await advance(server, held.id, RETURN, "R03")
    assert returned.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert returned.last_error.message == (
        "The bank returned the payout (R03: no account or unable to locate the account)."
    )
    assert (returned.last_error.code, returned.last_error.decline_code) == (
        "bank_account_returned",
        "R03",
    )
    assert await events(server, held.id) == ["wallet.withdrawal.failed"]
    assert returned.balance_after == FUNDED
    assert await balances(server, wallet_id) == ({"usd": FUNDED}, {"usd": 0})
    with pytest.raises(grpc.aio.AioRpcError) as again:  # a failed payout is final
        await advance(server, held.id, SETTLE)
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert await balances(server, wallet_id) == ({"usd": FUNDED}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_a_payout_to_an_account_the_bank_bounces_is_returned_on_settle(
    server: Running,
) -> None:
    wallet_id = await funded_wallet(server)
    account = await bank_account(server, "sandbox-account-closed")
    held = await withdraw(server, withdraw_request(wallet_id, account, amount=4_000))
    returned = await advance(server, held.id, SETTLE)
    assert returned.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert "R02" in returned.last_error.message
    assert returned.last_error.decline_code == "R02"
    assert await balances(server, wallet_id) == ({"usd": FUNDED}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_the_banks_webhook_alone_settles_the_withdrawal(server: Running) -> None:
    """The provider's own notice, through the relay's update path, with no helper call."""
    wallet_id = await funded_wallet(server)
    held = await withdraw(server, withdraw_request(wallet_id, await bank_account(server)))
    gateway = server.runtime.gateways.find("sandbox")
    assert isinstance(gateway, SandboxGateway)
    await gateway.advance_transfer(held.gateway_reference, settle=True)  # emits the webhook

    async def settled() -> wres.WalletTransaction | None:
        record = await transaction(server, held.id)
        return record if record.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED else None

    await eventually(settled)
    [webhook] = [
        e
        for e in await gateway_events(server, gateway="sandbox")
        if e.type == "bank_transfer.settled"
    ]
    assert (webhook.status, webhook.resource_id) == (gres.GATEWAY_EVENT_STATUS_PROCESSED, held.id)
    assert await balances(server, wallet_id) == ({"usd": 7_500}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_a_replayed_withdrawal_pays_out_once(server: Running) -> None:
    wallet_id = await funded_wallet(server)
    request = withdraw_request(wallet_id, await bank_account(server))
    first = await withdraw(server, request)
    second = await withdraw(server, request)
    assert second.id == first.id
    assert second.gateway_reference == first.gateway_reference
    assert payouts_sent(server) == [2_500]
    assert await balances(server, wallet_id) == ({"usd": 7_500}, {"usd": 2_500})
    await advance(server, first.id, SETTLE)
    after = await withdraw(server, request)  # the replay tells the outcome as it stands now
    assert after.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    assert payouts_sent(server) == [2_500]
    with pytest.raises(grpc.aio.AioRpcError) as reused:
        await withdraw(
            server,
            withdraw_request(
                wallet_id, request.payment_method_id, 1, idempotency_key=request.idempotency_key
            ),
        )
    assert reused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert [t.id for t in await history(server, wallet_id)].count(first.id) == 1
    assert len(await history(server, wallet_id)) == 2  # the deposit and this withdrawal
    await assert_ledger_ok(server.runtime.db)


# --- refused up front: nothing written, nothing paid out -----------------------------------


async def refused(server: Running, request: Message) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await wallets(server).Withdraw(request, metadata=TENANT_AUTH)
    return caught.value


async def test_a_withdrawal_beyond_the_available_balance_is_insufficient_funds(
    server: Running,
) -> None:
    wallet_id = await funded_wallet(server)
    account = await bank_account(server)
    held = await withdraw(server, withdraw_request(wallet_id, account, amount=6_000))
    short = await refused(server, withdraw_request(wallet_id, account, amount=4_001))
    assert short.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(short) == "INSUFFICIENT_FUNDS"
    assert error_info(short).metadata["available"] == "4000"
    newest, _deposit = await history(server, wallet_id)
    assert newest.id == held.id
    assert payouts_sent(server) == [6_000]
    assert await balances(server, wallet_id) == ({"usd": 4_000}, {"usd": 6_000})
    await assert_ledger_ok(server.runtime.db)


async def test_bad_withdrawals_get_precise_statuses_and_write_nothing(server: Running) -> None:
    wallet_id = await funded_wallet(server)
    account = await bank_account(server)
    card = await saved_method(server, "pm_card_visa")
    unverified = await bank_account(server, "sandbox-microdeposits")
    others = await bank_account(server, auth=OTHER_AUTH)

    by_card = await refused(server, withdraw_request(wallet_id, card))
    assert by_card.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(by_card) == "PAYMENT_METHOD_NOT_SUPPORTED"
    assert "bank account" in field_violations(by_card)["payment_method_id"]

    pending = await refused(server, withdraw_request(wallet_id, unverified))
    assert pending.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_reason(pending) == "PAYMENT_METHOD_NOT_SUPPORTED"
    assert "verified" in field_violations(pending)["payment_method_id"]

    foreign = await refused(server, withdraw_request(wallet_id, others))
    assert foreign.code() == grpc.StatusCode.NOT_FOUND

    other_wallet = await refused(server, withdraw_request("wal_missing", account))
    assert other_wallet.code() == grpc.StatusCode.NOT_FOUND

    euros = await refused(server, withdraw_request(wallet_id, account, currency="eur"))
    assert euros.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "usd" in field_violations(euros)["currency"]

    empty = await refused(server, wpb.WithdrawRequest())
    assert empty.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(empty)) >= {
        "wallet_id",
        "amount",
        "currency",
        "payment_method_id",
        "idempotency_key",
    }
    token = await refused(server, withdraw_request(wallet_id, "btok_123", amount=-5))
    assert set(field_violations(token)) == {"payment_method_id", "amount"}

    assert len(await history(server, wallet_id)) == 1  # only the deposit
    assert payouts_sent(server) == []
    assert await balances(server, wallet_id) == ({"usd": FUNDED}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_advancing_a_payout_names_exactly_one_pending_withdrawal(server: Running) -> None:
    wallet_id = await funded_wallet(server)
    held = await withdraw(server, withdraw_request(wallet_id, await bank_account(server)))
    deposit = (await history(server, wallet_id))[-1]

    async def advance_refused(**fields: Any) -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await sandbox(server).AdvanceBankTransfer(
                sb.AdvanceBankTransferRequest(outcome=SETTLE, **fields), metadata=TENANT_AUTH
            )
        return caught.value

    both = await advance_refused(wallet_transaction_id=held.id, payment_intent_id="pi_x")
    assert both.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "wallet_transaction_id" in field_violations(both)
    not_a_payout = await advance_refused(wallet_transaction_id=deposit.id)
    assert not_a_payout.code() == grpc.StatusCode.INVALID_ARGUMENT  # it exists: say what it is
    said = field_violations(not_a_payout)["wallet_transaction_id"]
    assert "is a deposit, not a withdrawal" in said
    assert deposit.payment_intent_id in said
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await sandbox(server).AdvanceBankTransfer(
            sb.AdvanceBankTransferRequest(wallet_transaction_id=held.id, outcome=SETTLE),
            metadata=OTHER_AUTH,
        )
    assert foreign.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await transaction(server, held.id)).status == W.WALLET_TRANSACTION_STATUS_PENDING
    await advance(server, held.id, SETTLE)
    settled_twice = await advance_refused(wallet_transaction_id=held.id)
    assert settled_twice.code() == grpc.StatusCode.FAILED_PRECONDITION
    await assert_ledger_ok(server.runtime.db)


# --- an ACH deposit returned after it settled -------------------------------------------


async def ach_deposit(server: Running, wallet_id: str, amount: int) -> wres.WalletTransaction:
    """A deposit debited from a bank account and settled by the bank."""
    account = await bank_account(server)
    response = await wallets(server).Deposit(
        wpb.DepositRequest(
            wallet_id=wallet_id,
            amount=amount,
            currency="usd",
            payment_method_id=account,
            idempotency_key=key(),
        ),
        metadata=TENANT_AUTH,
    )
    pending = response.wallet_transaction
    assert pending.status == W.WALLET_TRANSACTION_STATUS_PENDING
    await sandbox(server).AdvanceBankTransfer(
        sb.AdvanceBankTransferRequest(payment_intent_id=pending.payment_intent_id, outcome=SETTLE),
        metadata=TENANT_AUTH,
    )
    settled = await transaction(server, pending.id)
    assert settled.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    return settled


async def return_debit(server: Running, intent_id: str) -> None:
    await sandbox(server).AdvanceBankTransfer(
        sb.AdvanceBankTransferRequest(
            payment_intent_id=intent_id, outcome=RETURN, return_code="R10"
        ),
        metadata=TENANT_AUTH,
    )


async def test_a_late_ach_return_takes_back_a_deposit_still_in_the_wallet(
    server: Running,
) -> None:
    wallet_id = await funded_wallet(server, 1_000)
    deposit = await ach_deposit(server, wallet_id, 3_000)
    assert await balances(server, wallet_id) == ({"usd": 4_000}, {"usd": 0})
    await return_debit(server, deposit.payment_intent_id)
    reversed_ = await transaction(server, deposit.id)
    assert reversed_.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert "returned" in reversed_.last_error.message
    assert (reversed_.last_error.code, reversed_.last_error.decline_code) == (
        "bank_account_returned",
        "R10",
    )
    assert reversed_.balance_after == 1_000
    # It said wallet.deposit.succeeded when it settled; now the money left again.
    assert await events(server, deposit.id) == ["wallet.deposit.succeeded", "wallet.deposit.failed"]
    assert await balances(server, wallet_id) == ({"usd": 1_000}, {"usd": 0})

    async def relayed() -> list[gres.GatewayEvent]:  # the bank's webhook too: changes nothing
        return [
            e
            for e in await gateway_events(server, gateway="sandbox")
            if e.type == "bank_transfer.returned"
        ]

    await eventually(relayed)
    assert await balances(server, wallet_id) == ({"usd": 1_000}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


async def test_a_late_ach_return_of_a_spent_deposit_takes_what_is_left_and_books_the_rest_owed(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """The bank took all 3,000 back: the ledger says so (clearing whole again), the
    wallet gives the 500 it still holds, and the 2,500 spent is owed, never lost."""
    wallet_id = await funded_wallet(server, 1_000)
    deposit = await ach_deposit(server, wallet_id, 3_000)
    spent = await withdraw(server, withdraw_request(wallet_id, await bank_account(server), 3_500))
    await advance(server, spent.id, SETTLE)
    async with server.runtime.db.read() as session:
        clearing_before = await Ledger(session).balance(clearing_account(TENANT[0], "usd"))
    with caplog.at_level(logging.WARNING, logger="isa.ledger.wallets"):
        await return_debit(server, deposit.payment_intent_id)
    reversed_ = await transaction(server, deposit.id)
    assert reversed_.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert (reversed_.last_error.code, reversed_.last_error.decline_code) == (
        "bank_account_returned",
        "R10",
    )
    assert "2500 of it had already left the wallet and is owed" in reversed_.last_error.message
    assert reversed_.balance_after == 0
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    # the history adds up to the balance: the 2,500 owed shows as advanced to the wallet
    lines = await history(server, wallet_id)
    (owed,) = [t for t in lines if t.type == wres.WALLET_TRANSACTION_TYPE_REFUND]
    assert (owed.amount, owed.status) == (2_500, W.WALLET_TRANSACTION_STATUS_SUCCEEDED)
    assert deposit.id in owed.description
    assert owed.id in reversed_.last_error.message
    assert sum(t.amount for t in lines if t.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED) == 0
    assert await events(server, deposit.id) == ["wallet.deposit.succeeded", "wallet.deposit.failed"]
    async with server.runtime.db.read() as session:
        ledger = Ledger(session)
        assert await ledger.balance(returned_debits_account(TENANT[0], "usd")) == -2_500
        assert await ledger.balance(clearing_account(TENANT[0], "usd")) == clearing_before + 3_000
    assert any(deposit.id in r.getMessage() and "owed" in r.getMessage() for r in caplog.records)

    async def relayed() -> list[gres.GatewayEvent]:  # the bank's webhook too: changes nothing
        return [
            e
            for e in await gateway_events(server, gateway="sandbox")
            if e.type == "bank_transfer.returned"
            and e.status in (gres.GATEWAY_EVENT_STATUS_PROCESSED, gres.GATEWAY_EVENT_STATUS_IGNORED)
        ]

    await eventually(relayed)
    async with server.runtime.db.read() as session:
        assert await Ledger(session).balance(returned_debits_account(TENANT[0], "usd")) == -2_500
    await assert_ledger_ok(server.runtime.db)


async def ach_purchase(server: Running) -> str:
    """A purchase of 100 credits debited from a bank account and settled by the bank."""
    pending = await purchase(server, purchase_request(await bank_account(server)))
    assert pending.status == P.CREDIT_PURCHASE_STATUS_PENDING
    await sandbox(server).AdvanceBankTransfer(
        sb.AdvanceBankTransferRequest(payment_intent_id=pending.payment_intent_id, outcome=SETTLE),
        metadata=TENANT_AUTH,
    )
    assert (await get_purchase(server, pending.id)).status == P.CREDIT_PURCHASE_STATUS_SUCCEEDED
    assert await available_credits(server) == 100
    return pending.id


@pytest.mark.parametrize("used", [0, 30])
async def test_a_late_ach_return_takes_back_what_a_purchase_bought(
    server: Running, caplog: pytest.LogCaptureFixture, used: int
) -> None:
    purchase_id = await ach_purchase(server)
    if used:
        await credits(server).ConsumeCredits(
            cpb.ConsumeCreditsRequest(owner_id="ana", amount=used, idempotency_key=key()),
            metadata=TENANT_AUTH,
        )
    bought = await get_purchase(server, purchase_id)
    with caplog.at_level(logging.ERROR, logger="isa.ledger"):
        await return_debit(server, bought.payment_intent_id)
        await return_debit_again_by_webhook(server, bought.payment_intent_id)
    returned = await get_purchase(server, purchase_id)
    assert returned.status == P.CREDIT_PURCHASE_STATUS_FAILED
    assert (returned.last_error.code, returned.last_error.decline_code) == (
        "bank_account_returned",
        "R10",
    )
    assert await available_credits(server) == 0  # what was left of the 100, revoked once
    assert await events(server, purchase_id) == ["credit.purchased", "credit.purchase_failed"]
    shortfall = [r for r in caplog.records if "shortfall" in r.getMessage()]
    assert bool(shortfall) == bool(used)
    await assert_ledger_ok(server.runtime.db)


async def return_debit_again_by_webhook(server: Running, intent_id: str) -> None:
    """The bank's webhook for the return arrives too: applying it changes nothing."""

    async def relayed() -> list[gres.GatewayEvent]:
        return [
            e
            for e in await gateway_events(server, gateway="sandbox")
            if e.type == "bank_transfer.returned"
        ]

    await eventually(relayed)


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


async def test_a_payout_whose_answer_is_lost_is_resumed_by_the_replay_and_sent_once(
    lossy_server: Running,
) -> None:
    server = lossy_server
    wallet = await wallets(server).CreateWallet(
        wpb.CreateWalletRequest(owner_id="lossy"), metadata=TENANT_AUTH
    )
    wallet_id = wallet.wallet.id
    await fund(server.runtime.db, TENANT[0], wallet_id, FUNDED)
    customer = await server.payments().CreateCustomer(
        pb.CreateCustomerRequest(name="Ana", email="ana@example.com"), metadata=TENANT_AUTH
    )
    exchange = pb.ExchangeBankPublicTokenRequest(
        customer_id=customer.customer.id,
        public_token="public-sandbox-lossy-payout",
        account_id="sandbox-checking",
        idempotency_key=key(),
    )
    with pytest.raises(grpc.aio.AioRpcError):  # the exchange's answer is lost too
        await server.payments().ExchangeBankPublicToken(exchange, metadata=TENANT_AUTH)
    account = (
        await server.payments().ExchangeBankPublicToken(exchange, metadata=TENANT_AUTH)
    ).payment_method.id

    request = withdraw_request(wallet_id, account)
    first = await withdraw(server, request)  # sent, but we never heard back
    assert first.status == W.WALLET_TRANSACTION_STATUS_PENDING
    assert first.gateway_reference == ""
    assert payouts_sent(server) == [2_500]
    assert await balances(server, wallet_id) == ({"usd": 7_500}, {"usd": 2_500})
    resumed = await withdraw(server, request)  # same derived key: the same transfer
    assert resumed.id == first.id
    assert resumed.gateway_reference.startswith("transfer-sandbox-")
    assert payouts_sent(server) == [2_500]
    settled = await advance(server, first.id, SETTLE)
    assert settled.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    assert await balances(server, wallet_id) == ({"usd": 7_500}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)


# --- a payout returned after it settled ---------------------------------------------------


async def test_a_payout_returned_after_settlement_credits_the_wallet_back(server: Running) -> None:
    wallet_id = await funded_wallet(server)
    held = await withdraw(server, withdraw_request(wallet_id, await bank_account(server)))
    settled = await advance(server, held.id, SETTLE)
    assert settled.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED
    assert await balances(server, wallet_id) == ({"usd": FUNDED - 2_500}, {"usd": 0})

    returned = await advance(server, held.id, RETURN, "R04")
    assert returned.status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert "R04" in returned.last_error.message
    assert returned.last_error.decline_code == "R04"
    assert returned.balance_after == FUNDED
    assert await balances(server, wallet_id) == ({"usd": FUNDED}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)
    # the bounce is news the client could not learn otherwise
    assert await events(server, held.id) == [
        "wallet.withdrawal.succeeded",
        "wallet.withdrawal.failed",
    ]

    async def relayed() -> list[gres.GatewayEvent]:  # the bank's webhook too: a repeat
        return [
            e
            for e in await gateway_events(server, gateway="sandbox")
            if e.type == "bank_transfer.returned"
        ]

    await eventually(relayed)
    assert await balances(server, wallet_id) == ({"usd": FUNDED}, {"usd": 0})
    with pytest.raises(grpc.aio.AioRpcError) as again:  # returned once; now final
        await advance(server, held.id, RETURN, "R04")
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert (await transaction(server, held.id)).status == W.WALLET_TRANSACTION_STATUS_FAILED
    assert await balances(server, wallet_id) == ({"usd": FUNDED}, {"usd": 0})
    await assert_ledger_ok(server.runtime.db)
