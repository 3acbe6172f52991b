"""refunds: one refund per gateway refund (unique (gateway, gateway_reference) when set)

A refund made at the gateway and adopted from its webhook is looked up by its gateway
reference under the intent's row lock; this makes the database refuse a second row for
the same gateway refund whatever the code path. Refunds not yet sent (an empty
reference) are not constrained. The plain index of 0700 stays: lookups bind the
reference as a parameter, which a partial index cannot serve.

Revision ID: 0900
Revises: 0800
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0900"
down_revision: str | Sequence[str] | None = "0800"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SENT: sa.TextClause = sa.text("gateway_reference <> ''")


def upgrade() -> None:
    op.create_index(
        "uq_refunds_gateway_gateway_reference",
        "refunds",
        ["gateway", "gateway_reference"],
        unique=True,
        sqlite_where=_SENT,
        postgresql_where=_SENT,
    )


def downgrade() -> None:
    op.drop_index("uq_refunds_gateway_gateway_reference", table_name="refunds")
