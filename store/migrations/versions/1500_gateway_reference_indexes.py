"""checkout_sessions, connected_accounts: index gateway, gateway_reference

Stripe's checkout.session.* and account.updated webhooks find their session or
account by the provider's id, in the write transaction applying them: without an
index each webhook read every session or account the service holds.

Revision ID: 1500
Revises: 1400
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "1500"
down_revision: str | Sequence[str] | None = "1400"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = {
    "checkout_sessions": "ix_checkout_sessions_gateway_gateway_reference",
    "connected_accounts": "ix_connected_accounts_gateway_gateway_reference",
}


def upgrade() -> None:
    for table, name in _INDEXES.items():
        op.create_index(name, table, ["gateway", "gateway_reference"])


def downgrade() -> None:
    for table, name in _INDEXES.items():
        op.drop_index(name, table_name=table)
