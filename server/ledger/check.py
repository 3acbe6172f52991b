"""The ledger's invariants, checked on demand (``isa ledger check``, and by the tests).

1. Per currency, all account balances sum to zero.
2. Each account's balance equals the sum of its entries (and no entry is orphaned).
3. Each transfer's entries sum to zero per currency.
4. No user account is negative.
5. Every credit grant's remaining is within 0..amount, and an owner's available
   credits equal the sum of their grants' remaining.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from store.db import Database
from store.ledger import AccountKind, LedgerAudit
from store.ledger_models import CreditGrantRow, LedgerAccountRow


@dataclass(frozen=True, slots=True, kw_only=True)
class LedgerReport:
    accounts_checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


async def check_ledger(db: Database) -> LedgerReport:
    """Read the whole ledger in one snapshot and list every broken invariant."""
    problems: list[str] = []
    async with db.read() as session:
        audit = LedgerAudit(session)
        for currency, total in sorted((await audit.currency_totals()).items()):
            if total != 0:
                problems.append(f"currency {currency}: balances sum to {total}, not 0")
        for account_id, balance, entries in await audit.balance_mismatches():
            problems.append(
                f"account {account_id}: balance {balance} but its entries sum to {entries}"
            )
        for account_id in await audit.orphan_entry_accounts():
            problems.append(f"entries reference unknown account {account_id}")
        for transfer_id, currency, total in await audit.unbalanced_transfers():
            problems.append(f"transfer {transfer_id}: {currency} entries sum to {total}, not 0")
        for account_id, balance in await audit.negative_user_accounts():
            problems.append(f"user account {account_id} is negative: {balance}")
        bad_grants = await session.execute(
            select(CreditGrantRow.id, CreditGrantRow.remaining, CreditGrantRow.amount).where(
                (CreditGrantRow.remaining > CreditGrantRow.amount) | (CreditGrantRow.remaining < 0)
            )
        )
        for grant_id, remaining, amount in bad_grants:
            problems.append(f"grant {grant_id}: remaining {remaining} outside 0..{amount}")
        remaining_by_owner = {
            (row[0], row[1]): int(row[2])
            for row in await session.execute(
                select(
                    CreditGrantRow.client_id,
                    CreditGrantRow.owner_id,
                    func.sum(CreditGrantRow.remaining),
                ).group_by(CreditGrantRow.client_id, CreditGrantRow.owner_id)
            )
        }
        credit_accounts = {
            (row[0], row[1]): int(row[2])
            for row in await session.execute(
                select(
                    LedgerAccountRow.client_id, LedgerAccountRow.owner_id, LedgerAccountRow.balance
                ).where(LedgerAccountRow.kind == AccountKind.USER_CREDITS.value)
            )
        }
        for owner in sorted(set(remaining_by_owner) | set(credit_accounts)):
            available = credit_accounts.get(owner, 0)
            remaining = remaining_by_owner.get(owner, 0)
            if available != remaining:
                problems.append(
                    f"credits of {owner[1]!r} (client {owner[0]}): available {available} "
                    f"but grants hold {remaining}"
                )
        accounts = int(
            await session.scalar(select(func.count()).select_from(LedgerAccountRow)) or 0
        )
    return LedgerReport(accounts_checked=accounts, problems=tuple(problems))
