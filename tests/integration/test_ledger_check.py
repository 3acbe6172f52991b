"""The invariant check: clean on a healthy ledger, loud on each kind of damage."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from server.ledger.check import check_ledger
from server.ledger.wallets import NewTransfer, NewWallet, WalletService
from store.db import Database
from tests.ledger_support import fund


async def two_wallets(db: Database) -> tuple[str, str]:
    wallets = WalletService(db)
    async with db.write() as session:
        first = await wallets.create(session, "c1", NewWallet(owner_id="a"))
        second = await wallets.create(session, "c1", NewWallet(owner_id="b"))
    await fund(db, "c1", first.id, 500)
    async with db.write() as session:
        await wallets.transfer(
            session,
            "c1",
            NewTransfer(
                from_wallet_id=first.id, to_wallet_id=second.id, amount=200, currency="usd"
            ),
        )
    return first.id, second.id


async def test_a_healthy_ledger_passes(db: Database) -> None:
    await two_wallets(db)
    report = await check_ledger(db)
    assert report.ok, report.problems
    assert report.accounts_checked == 4  # two wallets, one pending account, clearing


async def test_a_balance_edited_behind_the_ledgers_back_is_reported(db: Database) -> None:
    await two_wallets(db)
    async with db.write() as session:
        await session.execute(
            text("UPDATE ledger_accounts SET balance = balance + 7 WHERE kind = 'user_wallet'")
        )
    problems = (await check_ledger(db)).problems
    assert any("balances sum to 14" in p for p in problems)
    assert any("its entries sum to" in p for p in problems)


async def test_an_unbalanced_transfer_is_reported(db: Database) -> None:
    await two_wallets(db)
    async with db.write() as session:
        await session.execute(text("UPDATE ledger_entries SET amount = amount + 1 WHERE id = 1"))
    problems = (await check_ledger(db)).problems
    assert any("entries sum to 1, not 0" in p for p in problems)


async def test_the_database_refuses_a_negative_user_balance(db: Database) -> None:
    await two_wallets(db)
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await session.execute(
                text("UPDATE ledger_accounts SET balance = -1 WHERE kind = 'user_wallet'")
            )
    assert (await check_ledger(db)).ok


async def test_a_grant_overspent_is_reported_and_refused(db: Database) -> None:
    async with db.write() as session:
        await session.execute(
            text(
                "INSERT INTO credit_grants (id, client_id, owner_id, amount, remaining, reason,"
                " source, purchase_id, metadata, create_time, update_time) VALUES ('crg_x', 'c1',"
                " 'o', 5, 5, '', 'grant', '', '{}', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await session.execute(text("UPDATE credit_grants SET remaining = 6"))
    problems = (await check_ledger(db)).problems
    assert any("available 0 but grants hold 5" in p for p in problems)


async def isa_ledger_check(url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "server",
        "ledger",
        "check",
        env={**os.environ, "ISA_DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    return process.returncode or 0, stdout.decode()


async def test_isa_ledger_check_exits_by_verdict(db: Database, migrated_url: str) -> None:
    await two_wallets(db)
    code, out = await isa_ledger_check(migrated_url)
    assert (code, out.strip()) == (0, "ledger OK: 4 accounts checked")
    async with db.write() as session:
        await session.execute(text("UPDATE ledger_accounts SET balance = balance + 1"))
    code, out = await isa_ledger_check(migrated_url)
    assert code == 1
    assert "PROBLEM: currency usd: balances sum to 4, not 0" in out
    assert "ledger BROKEN" in out
