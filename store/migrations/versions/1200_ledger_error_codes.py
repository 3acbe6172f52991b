"""wallet_transactions, credit_purchases: error_code, error_decline_code

A declined deposit or purchase kept only the message; the API's PaymentError also
carries the code ("card_declined") and the issuer's decline code or the bank's return
code, which is what a consumer branches on. Lines written before keep their message.

Revision ID: 1200
Revises: 1100
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1200"
down_revision: str | Sequence[str] | None = "1100"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("wallet_transactions", "credit_purchases")
_COLUMNS = ("error_code", "error_decline_code")


def upgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in _COLUMNS:
                batch_op.add_column(
                    sa.Column(column, sa.String(length=64), server_default="", nullable=False)
                )


def downgrade() -> None:
    for table in _TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(_COLUMNS):
                batch_op.drop_column(column)
