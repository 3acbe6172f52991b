"""credit_transactions: index purchase_id, type

Refunding a credit purchase (CreateRefund on its intent, or a refund made in the
gateway's dashboard) reads that purchase's history lines by purchase id; without an
index each such read went through every credit movement ever recorded, inside the
write transaction of the refund.

Revision ID: 1000
Revises: 0900
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "1000"
down_revision: str | Sequence[str] | None = "0900"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_credit_transactions_purchase_id_type", "credit_transactions", ["purchase_id", "type"]
    )


def downgrade() -> None:
    op.drop_index("ix_credit_transactions_purchase_id_type", table_name="credit_transactions")
