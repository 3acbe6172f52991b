"""Payments: intents, refunds, saved methods, checkout sessions, connected accounts

Revision ID: 0100
Revises: 0002
Create Date: 2026-11-23 05:56:08.970308
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkout_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("line_items", sa.JSON(), nullable=False),
        sa.Column("amount_total", sa.BigInteger(), nullable=False),
        sa.Column("success_url", sa.String(length=2000), nullable=False),
        sa.Column("cancel_url", sa.String(length=2000), nullable=False),
        sa.Column("url", sa.String(length=4000), nullable=False),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=40), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("expire_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "amount_total >= 0", name=op.f("ck_checkout_sessions_amount_total_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_sessions")),
    )
    with op.batch_alter_table("checkout_sessions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_checkout_sessions_client_id_id", ["client_id", "id"], unique=False
        )

    op.create_table(
        "connected_accounts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("owner_ref", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("commission_bps", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("charges_enabled", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("onboarding_url", sa.String(length=4000), nullable=False),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "commission_bps >= 0 AND commission_bps <= 10000",
            name=op.f("ck_connected_accounts_commission_in_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connected_accounts")),
    )
    with op.batch_alter_table("connected_accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_connected_accounts_client_id_id", ["client_id", "id"], unique=False
        )

    op.create_table(
        "gateway_customers",
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "gateway", name=op.f("pk_gateway_customers")),
    )
    op.create_table(
        "payment_intents",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("create_key", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("capture_method", sa.String(length=16), nullable=False),
        sa.Column("amount_capturable", sa.BigInteger(), nullable=False),
        sa.Column("amount_received", sa.BigInteger(), nullable=False),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("payment_method_id", sa.String(length=100), nullable=False),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("requested_gateway", sa.String(length=40), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=False),
        sa.Column("client_secret", sa.String(length=100), nullable=False),
        sa.Column("next_action_url", sa.String(length=2000), nullable=False),
        sa.Column("last_error_code", sa.String(length=100), nullable=False),
        sa.Column("last_error_decline_code", sa.String(length=100), nullable=False),
        sa.Column("last_error_message", sa.String(length=500), nullable=False),
        sa.Column("application_fee_amount", sa.BigInteger(), nullable=True),
        sa.Column("commission_bps", sa.Integer(), nullable=True),
        sa.Column("destination_account_id", sa.String(length=40), nullable=False),
        sa.Column("destination_amount", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("return_url", sa.String(length=2000), nullable=False),
        sa.Column("cancellation_reason", sa.String(length=200), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("attempt_operation", sa.String(length=16), nullable=False),
        sa.Column("attempt_key", sa.String(length=100), nullable=False),
        sa.Column("attempt_amount", sa.BigInteger(), nullable=False),
        sa.Column("attempt_state", sa.String(length=16), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payment_intents_amount_positive")),
        sa.CheckConstraint(
            "amount_capturable >= 0", name=op.f("ck_payment_intents_capturable_non_negative")
        ),
        sa.CheckConstraint(
            "amount_received >= 0 AND amount_received <= amount",
            name=op.f("ck_payment_intents_received_in_range"),
        ),
        sa.CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount_received",
            name=op.f("ck_payment_intents_refunded_in_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_intents")),
        sa.UniqueConstraint("client_id", "create_key", name=op.f("uq_payment_intents_client_id")),
    )
    with op.batch_alter_table("payment_intents", schema=None) as batch_op:
        batch_op.create_index("ix_payment_intents_attempt_state", ["attempt_state"], unique=False)
        batch_op.create_index(
            "ix_payment_intents_client_id_customer_id_id",
            ["client_id", "customer_id", "id"],
            unique=False,
        )
        batch_op.create_index("ix_payment_intents_client_id_id", ["client_id", "id"], unique=False)

    op.create_table(
        "payment_methods",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("brand", sa.String(length=40), nullable=False),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("exp_month", sa.Integer(), nullable=False),
        sa.Column("exp_year", sa.Integer(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detach_time", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_methods")),
    )
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_methods_client_id_customer_id_id",
            ["client_id", "customer_id", "id"],
            unique=False,
        )

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=100), nullable=False),
        sa.Column("create_key", sa.String(length=255), nullable=True),
        sa.Column("payment_intent_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("gateway", sa.String(length=40), nullable=False),
        sa.Column("gateway_reference", sa.String(length=255), nullable=False),
        sa.Column("last_error_code", sa.String(length=100), nullable=False),
        sa.Column("last_error_message", sa.String(length=500), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("attempt_key", sa.String(length=100), nullable=False),
        sa.Column("attempt_state", sa.String(length=16), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
        sa.ForeignKeyConstraint(
            ["payment_intent_id"],
            ["payment_intents.id"],
            name=op.f("fk_refunds_payment_intent_id_payment_intents"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("client_id", "create_key", name=op.f("uq_refunds_client_id")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index("ix_refunds_attempt_state", ["attempt_state"], unique=False)
        batch_op.create_index("ix_refunds_client_id_id", ["client_id", "id"], unique=False)
        batch_op.create_index(
            "ix_refunds_payment_intent_id_id", ["payment_intent_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index("ix_refunds_payment_intent_id_id")
        batch_op.drop_index("ix_refunds_client_id_id")
        batch_op.drop_index("ix_refunds_attempt_state")

    op.drop_table("refunds")
    with op.batch_alter_table("payment_methods", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_methods_client_id_customer_id_id")

    op.drop_table("payment_methods")
    with op.batch_alter_table("payment_intents", schema=None) as batch_op:
        batch_op.drop_index("ix_payment_intents_client_id_id")
        batch_op.drop_index("ix_payment_intents_client_id_customer_id_id")
        batch_op.drop_index("ix_payment_intents_attempt_state")

    op.drop_table("payment_intents")
    op.drop_table("gateway_customers")
    with op.batch_alter_table("connected_accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_connected_accounts_client_id_id")

    op.drop_table("connected_accounts")
    with op.batch_alter_table("checkout_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_checkout_sessions_client_id_id")

    op.drop_table("checkout_sessions")
