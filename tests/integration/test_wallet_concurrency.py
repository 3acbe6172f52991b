"""Many transfers at once through the real server: no lost update, no overdraft, no deadlock.

Run on PostgreSQL (row locks in a fixed order) and on SQLite (one batched writer).
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from isa.wallet.v1 import resources_pb2 as resources
from isa.wallet.v1 import wallet_service_pb2 as pb
from isa.wallet.v1 import wallet_service_pb2_grpc
from tests.conftest import TENANT, TENANT_AUTH, Running
from tests.ledger_support import assert_ledger_ok, error_reason, fund

FUNDS = 1_000


async def wallets(server: Running, count: int, prefix: str) -> list[str]:
    stub = wallet_service_pb2_grpc.WalletServiceStub(server.channel)
    made = await asyncio.gather(
        *(
            stub.CreateWallet(
                pb.CreateWalletRequest(owner_id=f"{prefix}-{i}"), metadata=TENANT_AUTH
            )
            for i in range(count)
        )
    )
    return [response.wallet.id for response in made]


async def attempt(
    stub: wallet_service_pb2_grpc.WalletServiceStub, source: str, target: str, amount: int, key: str
) -> resources.Transfer | grpc.aio.AioRpcError:
    try:
        response = await stub.Transfer(
            pb.TransferRequest(
                from_wallet_id=source,
                to_wallet_id=target,
                amount=amount,
                currency="usd",
                idempotency_key=key,
            ),
            metadata=TENANT_AUTH,
        )
    except grpc.aio.AioRpcError as error:
        return error
    return response.transfer


async def history(stub: wallet_service_pb2_grpc.WalletServiceStub, wallet_id: str) -> list[Any]:
    lines: list[Any] = []
    token = ""
    while True:
        page = await stub.ListTransactions(
            pb.ListTransactionsRequest(wallet_id=wallet_id, page_size=500, page_token=token),
            metadata=TENANT_AUTH,
        )
        lines += page.wallet_transactions
        token = page.next_page_token
        if not token:
            return lines


async def test_fifty_transfers_from_one_wallet_that_affords_only_some(server: Running) -> None:
    stub = wallet_service_pb2_grpc.WalletServiceStub(server.channel)
    source, *targets = await wallets(server, 51, "hot")
    await fund(server.runtime.db, TENANT[0], source, FUNDS)
    amounts = [20 + (i * 7) % 40 for i in range(50)]  # 20..59: together far more than FUNDS
    outcomes = await asyncio.gather(
        *(attempt(stub, source, targets[i], amounts[i], f"hot-{i}") for i in range(50))
    )
    accepted = [o for o in outcomes if isinstance(o, resources.Transfer)]
    rejected = [
        (amounts[i], o) for i, o in enumerate(outcomes) if isinstance(o, grpc.aio.AioRpcError)
    ]
    assert accepted
    assert rejected
    for _amount, error in rejected:
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION, error.details()
        assert error_reason(error) == "INSUFFICIENT_FUNDS"
    spent = sum(t.amount for t in accepted)
    final = (
        await stub.GetWallet(pb.GetWalletRequest(wallet_id=source), metadata=TENANT_AUTH)
    ).wallet.balances["usd"]
    assert final == FUNDS - spent >= 0
    # Each rejection saw a balance below its amount, and balances only fell after it.
    assert final < min(amount for amount, _ in rejected)
    lines = await history(stub, source)
    out = [line for line in lines if line.type == resources.WALLET_TRANSACTION_TYPE_TRANSFER_OUT]
    assert {line.id for line in out} == {t.from_transaction_id for t in accepted}
    # Replaying the history from the deposit reproduces every balance_after: no lost update.
    running = FUNDS
    for line in sorted(out, key=lambda line: line.id):
        running += line.amount
        assert line.balance_after == running >= 0
    assert running == final
    await assert_ledger_ok(server.runtime.db)


async def test_crossing_transfers_neither_deadlock_nor_lose_money(server: Running) -> None:
    stub = wallet_service_pb2_grpc.WalletServiceStub(server.channel)
    left, right = await wallets(server, 2, "cross")
    await fund(server.runtime.db, TENANT[0], left, FUNDS)
    await fund(server.runtime.db, TENANT[0], right, FUNDS)
    outcomes = await asyncio.gather(
        *(
            attempt(stub, *((left, right) if i % 2 else (right, left)), 5, f"cross-{i}")
            for i in range(60)
        )
    )
    assert all(isinstance(o, resources.Transfer) for o in outcomes), [
        o.details() for o in outcomes if isinstance(o, grpc.aio.AioRpcError)
    ]
    balances = [
        (await stub.GetWallet(pb.GetWalletRequest(wallet_id=w), metadata=TENANT_AUTH)).wallet
        for w in (left, right)
    ]
    assert [w.balances["usd"] for w in balances] == [FUNDS, FUNDS]
    await assert_ledger_ok(server.runtime.db)
