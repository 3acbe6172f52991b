"""bank_accounts: index account_id

A gateway's webhook about a linked account (Plaid's AUTH verification webhooks) finds
its row by the gateway's account id; without an index each lookup read the whole table,
inside the write transaction.

Revision ID: 0800
Revises: 0700
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0800"
down_revision: str | Sequence[str] | None = "0700"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_bank_accounts_account_id", "bank_accounts", ["account_id"])


def downgrade() -> None:
    op.drop_index("ix_bank_accounts_account_id", table_name="bank_accounts")
