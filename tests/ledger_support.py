"""Helpers shared by the ledger tests: funding wallets through the deposit settle path."""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from server.ledger.check import check_ledger
from server.ledger.wallets import NewMovement, WalletService, WalletTransaction
from store.db import Database


async def fund(
    db: Database, client_id: str, wallet_id: str, amount: int, currency: str = "usd"
) -> WalletTransaction:
    """Deposit and settle, the way the payments side will once a charge succeeds."""
    wallets = WalletService(db)
    async with db.write() as session:
        pending = await wallets.begin_deposit(
            session,
            client_id,
            NewMovement(
                wallet_id=wallet_id, amount=amount, currency=currency, payment_method_id="pm_test"
            ),
        )
    async with db.write() as session:
        return await wallets.settle_deposit(session, pending.id)


async def assert_ledger_ok(db: Database) -> None:
    report = await check_ledger(db)
    assert report.problems == (), report.problems


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    status = rpc_status.from_call(error)
    assert status is not None, "the status carries no details"
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError("no ErrorInfo in the status details")


def error_reason(error: grpc.aio.AioRpcError) -> str:
    return str(error_info(error).reason)


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return {v.field: v.description for v in bad.field_violations}
    raise AssertionError("no BadRequest in the status details")
