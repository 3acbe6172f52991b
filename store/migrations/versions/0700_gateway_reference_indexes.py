"""payment_intents, refunds: index (gateway, gateway_reference)

Every gateway webhook about a payment or a refund finds its row by the provider's id;
without an index each lookup read the whole table, inside the write transaction.

Revision ID: 0700
Revises: 0600
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0700"
down_revision: str | Sequence[str] | None = "0600"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_payment_intents_gateway_gateway_reference",
        "payment_intents",
        ["gateway", "gateway_reference"],
    )
    op.create_index(
        "ix_refunds_gateway_gateway_reference", "refunds", ["gateway", "gateway_reference"]
    )


def downgrade() -> None:
    op.drop_index("ix_refunds_gateway_gateway_reference", table_name="refunds")
    op.drop_index("ix_payment_intents_gateway_gateway_reference", table_name="payment_intents")
