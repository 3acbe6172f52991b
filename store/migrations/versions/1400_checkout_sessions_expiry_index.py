"""checkout_sessions: index gateway, status, expire_time, id

The expiry sweep looks every half minute for the sandbox's OPEN sessions past their
expire_time; without an index each run read every session ever made, and paging on
past the ones it must leave open needs (expire_time, id) in order.

Revision ID: 1400
Revises: 1300
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "1400"
down_revision: str | Sequence[str] | None = "1300"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_checkout_sessions_gateway_status_expire_time_id",
        "checkout_sessions",
        ["gateway", "status", "expire_time", "id"],
    )


def downgrade() -> None:
    op.drop_index(
        "ix_checkout_sessions_gateway_status_expire_time_id", table_name="checkout_sessions"
    )
