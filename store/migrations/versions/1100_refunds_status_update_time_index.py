"""refunds: index status, update_time

The reconciler asks the gateway about refunds it left pending, least recently looked
at first; without an index each of its runs (every few seconds) read every refund ever
made.

Revision ID: 1100
Revises: 1000
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "1100"
down_revision: str | Sequence[str] | None = "1000"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_refunds_status_update_time", "refunds", ["status", "update_time"])


def downgrade() -> None:
    op.drop_index("ix_refunds_status_update_time", table_name="refunds")
