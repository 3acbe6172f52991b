"""merge the payments, ledger and relay branches into one head

Revision ID: 0400
Revises: 0100, 0200, 0300
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0400"
down_revision: str | Sequence[str] | None = ("0100", "0200", "0300")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to change: the three branches touched separate tables."""


def downgrade() -> None:
    """Nothing to undo."""
