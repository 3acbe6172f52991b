"""Bank accounts: display columns on payment_methods, the bank_accounts table, and
payment_intents.payment_method_type

Revision ID: 0500
Revises: 0400
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0500"
down_revision: str | Sequence[str] | None = "0400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bank_name", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("account_type", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "verification_status",
                sa.String(length=20),
                server_default="verified",
                nullable=False,
            )
        )
    with op.batch_alter_table("payment_intents", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "payment_method_type", sa.String(length=20), server_default="", nullable=False
            )
        )
    op.create_table(
        "bank_accounts",
        sa.Column("payment_method_id", sa.String(length=40), nullable=False),
        sa.Column("access_token_ciphertext", sa.Text(), nullable=False),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("item_reference", sa.String(length=255), nullable=False),
        sa.Column("holder_name", sa.String(length=200), nullable=False),
        sa.Column("verification", sa.String(length=20), nullable=False),
        sa.Column("microdeposit_attempts", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_method_id"],
            ["payment_methods.id"],
            name=op.f("fk_bank_accounts_payment_method_id_payment_methods"),
        ),
        sa.PrimaryKeyConstraint("payment_method_id", name=op.f("pk_bank_accounts")),
    )


def downgrade() -> None:
    op.drop_table("bank_accounts")
    with op.batch_alter_table("payment_intents", schema=None) as batch_op:
        batch_op.drop_column("payment_method_type")
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_column("verification_status")
        batch_op.drop_column("account_type")
        batch_op.drop_column("bank_name")
