"""Seeding what no RPC can make yet, straight into the server's store.

Deposits need PaymentService (not merged yet), so funded wallets come from the ledger's
own deposit path (begin, then settle: what the payments side will call). A history of
100,000 lines would take minutes through Transfer; it is bulk-inserted as settled
deposits of 1 backed by one balanced ledger posting, so ``isa ledger check`` still holds.
"""

from __future__ import annotations

import asyncio
import os
from typing import Final

from sqlalchemy import insert, text

from server.config import DEV_CLIENT_ID
from server.ledger.wallets import (
    NewMovement,
    TransactionStatus,
    TransactionType,
    WalletService,
    clearing_account,
    wallet_account,
)
from store.db import Database
from store.ids import new_id
from store.ledger import Ledger, Leg
from store.ledger_models import WalletTransactionRow
from store.models import utcnow

STORE_URL_VARIABLE: Final = "ISA_BENCH_STORE_URL"
CHUNK: Final = 5_000


def store() -> Database:
    url = os.environ.get(STORE_URL_VARIABLE)
    if not url:
        raise RuntimeError(f"{STORE_URL_VARIABLE} is not set: run rows through `make bench`")
    return Database(url)


async def fund(wallet_ids: list[str], amount: int, currency: str = "usd") -> None:
    """Deposit and settle ``amount`` into each wallet, through the ledger's deposit path."""
    db = store()
    wallets = WalletService(db)
    try:
        for wallet_id in wallet_ids:
            async with db.write() as session:
                pending = await wallets.begin_deposit(
                    session,
                    DEV_CLIENT_ID,
                    NewMovement(
                        wallet_id=wallet_id,
                        amount=amount,
                        currency=currency,
                        payment_method_id="pm_bench",
                    ),
                )
                await wallets.settle_deposit(session, pending.id)
    finally:
        await db.dispose()


async def history(wallet_id: str, lines: int, currency: str = "usd") -> None:
    """``lines`` settled deposits of 1 in the wallet's history, one balanced posting."""
    db = store()
    try:
        now = utcnow()
        async with db.write() as session:
            await Ledger(session).post(
                new_id("tr"),
                [
                    Leg(clearing_account(DEV_CLIENT_ID, currency), -lines),
                    Leg(wallet_account(DEV_CLIENT_ID, wallet_id, currency), lines),
                ],
                now=now,
            )
        for start in range(0, lines, CHUNK):
            rows = [
                {
                    "id": new_id("wtx"),
                    "client_id": DEV_CLIENT_ID,
                    "wallet_id": wallet_id,
                    "type": TransactionType.DEPOSIT.value,
                    "status": TransactionStatus.SUCCEEDED.value,
                    "amount": 1,
                    "currency": currency,
                    "balance_after": n + 1,
                    "payment_method_id": "pm_bench",
                    "metadata_": {},
                    "create_time": now,
                    "update_time": now,
                }
                for n in range(start, min(start + CHUNK, lines))
            ]
            async with db.write() as session:
                await session.execute(insert(WalletTransactionRow), rows)
            await asyncio.sleep(0)
        # A store that grew to this size over time has fresh planner statistics
        # (autovacuum); a bulk load has none until ANALYZE.
        async with db.write() as session:
            await session.execute(text("ANALYZE wallet_transactions"))
    finally:
        await db.dispose()
