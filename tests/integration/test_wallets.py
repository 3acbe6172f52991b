"""WalletService over gRPC: wallets, transfers, history, errors and replays."""

from __future__ import annotations

import grpc
import pytest

from isa.wallet.v1 import resources_pb2 as resources
from isa.wallet.v1 import wallet_service_pb2 as pb
from isa.wallet.v1 import wallet_service_pb2_grpc
from tests.conftest import OTHER_AUTH, TENANT, TENANT_AUTH, Running
from tests.ledger_support import assert_ledger_ok, error_info, error_reason, field_violations, fund


def stub(server: Running) -> wallet_service_pb2_grpc.WalletServiceStub:
    return wallet_service_pb2_grpc.WalletServiceStub(server.channel)


async def new_wallet(server: Running, owner: str) -> resources.Wallet:
    response = await stub(server).CreateWallet(
        pb.CreateWalletRequest(owner_id=owner), metadata=TENANT_AUTH
    )
    return response.wallet


async def get_wallet(server: Running, wallet_id: str) -> resources.Wallet:
    response = await stub(server).GetWallet(
        pb.GetWalletRequest(wallet_id=wallet_id), metadata=TENANT_AUTH
    )
    return response.wallet


async def test_created_wallet_is_empty_and_found_by_id_and_owner(server: Running) -> None:
    created = await new_wallet(server, "user-1")
    assert created.id.startswith("wal_")
    assert dict(created.balances) == {}
    by_owner = await stub(server).GetWallet(
        pb.GetWalletRequest(owner_id="user-1"), metadata=TENANT_AUTH
    )
    assert by_owner.wallet.id == created.id
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).GetWallet(pb.GetWalletRequest(wallet_id=created.id), metadata=OTHER_AUTH)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_second_wallet_for_an_owner_is_refused_naming_the_first(server: Running) -> None:
    first = await new_wallet(server, "user-1")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await new_wallet(server, "user-1")
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_reason(caught.value) == "WALLET_ALREADY_EXISTS"
    assert dict(error_info(caught.value).metadata) == {"owner_id": "user-1", "wallet_id": first.id}


async def test_an_owner_without_a_wallet_is_not_found_as_an_owner(server: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).GetWallet(pb.GetWalletRequest(owner_id="nobody"), metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "no wallet with owner_id 'nobody'"
    assert dict(error_info(caught.value).metadata) == {"resource": "wallet", "owner_id": "nobody"}


async def test_transfer_moves_funds_and_both_sides_see_it(server: Running) -> None:
    alice, bob = await new_wallet(server, "alice"), await new_wallet(server, "bob")
    await fund(server.runtime.db, TENANT[0], alice.id, 10_000)
    response = await stub(server).Transfer(
        pb.TransferRequest(
            from_wallet_id=alice.id,
            to_wallet_id=bob.id,
            amount=2_500,
            currency="usd",
            note="rent share",
            idempotency_key="t-1",
        ),
        metadata=TENANT_AUTH,
    )
    transfer = response.transfer
    assert transfer.id.startswith("tr_")
    assert transfer.status == resources.TRANSFER_STATUS_COMPLETED
    assert dict((await get_wallet(server, alice.id)).balances) == {"usd": 7_500}
    assert dict((await get_wallet(server, bob.id)).balances) == {"usd": 2_500}
    out = (
        await stub(server).GetTransaction(
            pb.GetTransactionRequest(id=transfer.from_transaction_id), metadata=TENANT_AUTH
        )
    ).wallet_transaction
    assert out.type == resources.WALLET_TRANSACTION_TYPE_TRANSFER_OUT
    assert (out.amount, out.balance_after, out.counterparty_wallet_id) == (-2_500, 7_500, bob.id)
    history = await stub(server).ListTransactions(
        pb.ListTransactionsRequest(wallet_id=bob.id), metadata=TENANT_AUTH
    )
    assert [t.id for t in history.wallet_transactions] == [transfer.to_transaction_id]
    await assert_ledger_ok(server.runtime.db)


async def test_transfer_beyond_the_balance_is_insufficient_funds(server: Running) -> None:
    alice, bob = await new_wallet(server, "alice"), await new_wallet(server, "bob")
    await fund(server.runtime.db, TENANT[0], alice.id, 1_000)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).Transfer(
            pb.TransferRequest(
                from_wallet_id=alice.id,
                to_wallet_id=bob.id,
                amount=1_001,
                currency="usd",
                idempotency_key="t-big",
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "INSUFFICIENT_FUNDS"
    assert dict(error_info(caught.value).metadata) == {
        "wallet_id": alice.id,
        "currency": "usd",
        "amount": "1001",
        "available": "1000",
    }
    assert dict((await get_wallet(server, alice.id)).balances) == {"usd": 1_000}
    assert dict((await get_wallet(server, bob.id)).balances) == {}
    await assert_ledger_ok(server.runtime.db)


async def test_bad_transfers_are_invalid_argument_with_every_violation(server: Running) -> None:
    alice = await new_wallet(server, "alice")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).Transfer(
            pb.TransferRequest(
                from_wallet_id=alice.id, to_wallet_id=alice.id, amount=0, currency="zzz"
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {
        "to_wallet_id",
        "amount",
        "currency",
        "idempotency_key",
    }
    with pytest.raises(grpc.aio.AioRpcError) as negative:
        await stub(server).Transfer(
            pb.TransferRequest(
                from_wallet_id=alice.id,
                to_wallet_id="wal_other",
                amount=-5,
                currency="usd",
                idempotency_key="neg",
            ),
            metadata=TENANT_AUTH,
        )
    assert negative.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(negative.value)) == {"amount"}


async def test_transfer_to_another_clients_wallet_is_not_found(server: Running) -> None:
    alice = await new_wallet(server, "alice")
    theirs = (
        await stub(server).CreateWallet(pb.CreateWalletRequest(owner_id="x"), metadata=OTHER_AUTH)
    ).wallet
    await fund(server.runtime.db, TENANT[0], alice.id, 1_000)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).Transfer(
            pb.TransferRequest(
                from_wallet_id=alice.id,
                to_wallet_id=theirs.id,
                amount=10,
                currency="usd",
                idempotency_key="cross",
            ),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert dict((await get_wallet(server, alice.id)).balances) == {"usd": 1_000}


async def test_replaying_a_transfer_changes_nothing(server: Running) -> None:
    alice, bob = await new_wallet(server, "alice"), await new_wallet(server, "bob")
    await fund(server.runtime.db, TENANT[0], alice.id, 1_000)
    request = pb.TransferRequest(
        from_wallet_id=alice.id,
        to_wallet_id=bob.id,
        amount=300,
        currency="usd",
        idempotency_key="once",
    )
    first = await stub(server).Transfer(request, metadata=TENANT_AUTH)
    again = await stub(server).Transfer(request, metadata=TENANT_AUTH)
    assert again == first
    assert dict((await get_wallet(server, alice.id)).balances) == {"usd": 700}
    changed = pb.TransferRequest()
    changed.CopyFrom(request)
    changed.amount = 301
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).Transfer(changed, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_reason(caught.value) == "IDEMPOTENCY_KEY_REUSED"
    create = pb.CreateWalletRequest(owner_id="carol", idempotency_key="carol")
    made = await stub(server).CreateWallet(create, metadata=TENANT_AUTH)
    assert await stub(server).CreateWallet(create, metadata=TENANT_AUTH) == made


async def test_history_pages_newest_first_without_gaps(server: Running) -> None:
    alice, bob = await new_wallet(server, "alice"), await new_wallet(server, "bob")
    await fund(server.runtime.db, TENANT[0], alice.id, 1_000)
    for n in range(7):
        await stub(server).Transfer(
            pb.TransferRequest(
                from_wallet_id=alice.id,
                to_wallet_id=bob.id,
                amount=n + 1,
                currency="usd",
                idempotency_key=f"k{n}",
            ),
            metadata=TENANT_AUTH,
        )
    seen: list[int] = []
    token = ""
    while True:
        page = await stub(server).ListTransactions(
            pb.ListTransactionsRequest(wallet_id=bob.id, page_size=3, page_token=token),
            metadata=TENANT_AUTH,
        )
        seen += [t.amount for t in page.wallet_transactions]
        token = page.next_page_token
        if not token:
            break
    assert seen == [7, 6, 5, 4, 3, 2, 1]
