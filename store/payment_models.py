"""Tables of the payments area: intents, refunds, saved methods, checkout, accounts.

Integrity lives here: amounts are non-negative integers, a refund never exceeds what its
intent received (checked by the domain under a row lock, backed by a CHECK on the
intent's running totals), and each (client, creation key) names at most one intent or
refund, so a retried create finds its first attempt.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime


class PaymentIntentRow(Base):
    """A payment intent and, while a gateway call is open, the attempt (a recovery point).

    ``attempt_*`` describe the last gateway call: which operation, under which derived
    key, for how much, and whether its outcome is known (``attempt_state``: ``open`` while
    the call runs, ``unknown`` after a timeout, ``done``). A reconciler repeats an open or
    unknown attempt with the same key, so the gateway acts at most once.
    """

    __tablename__ = "payment_intents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    create_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(32))
    capture_method: Mapped[str] = mapped_column(String(16))
    amount_capturable: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_id: Mapped[str] = mapped_column(String(40), default="")
    payment_method_id: Mapped[str] = mapped_column(String(100), default="")
    gateway: Mapped[str] = mapped_column(String(40), default="")
    requested_gateway: Mapped[str] = mapped_column(String(40), default="")
    gateway_reference: Mapped[str] = mapped_column(String(255), default="")
    client_secret: Mapped[str] = mapped_column(String(100))
    next_action_url: Mapped[str] = mapped_column(String(2000), default="")
    #: "bank_account" for ACH debits (set by the bank rail); "" otherwise (cards).
    payment_method_type: Mapped[str] = mapped_column(String(20), default="", server_default="")
    last_error_code: Mapped[str] = mapped_column(String(100), default="")
    last_error_decline_code: Mapped[str] = mapped_column(String(100), default="")
    last_error_message: Mapped[str] = mapped_column(String(500), default="")
    application_fee_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    commission_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    destination_account_id: Mapped[str] = mapped_column(String(40), default="")
    destination_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    description: Mapped[str] = mapped_column(String(1000), default="")
    return_url: Mapped[str] = mapped_column(String(2000), default="")
    cancellation_reason: Mapped[str] = mapped_column(String(200), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    attempt_operation: Mapped[str] = mapped_column(String(16), default="")
    attempt_key: Mapped[str] = mapped_column(String(100), default="")
    attempt_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    attempt_state: Mapped[str] = mapped_column(String(16), default="")
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("client_id", "create_key"),
        Index("ix_payment_intents_client_id_id", "client_id", "id"),
        Index("ix_payment_intents_client_id_customer_id_id", "client_id", "customer_id", "id"),
        Index("ix_payment_intents_attempt_state", "attempt_state"),
        # the relay finds the intent a gateway event is about by the provider's id
        Index("ix_payment_intents_gateway_gateway_reference", "gateway", "gateway_reference"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "amount_received >= 0 AND amount_received <= amount", name="received_in_range"
        ),
        CheckConstraint(
            "amount_refunded >= 0 AND amount_refunded <= amount_received",
            name="refunded_in_range",
        ),
        CheckConstraint("amount_capturable >= 0", name="capturable_non_negative"),
    )


class RefundRow(Base):
    """A refund of an intent; ``attempt_state`` as on the intent."""

    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    create_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    payment_intent_id: Mapped[str] = mapped_column(ForeignKey("payment_intents.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_reference: Mapped[str] = mapped_column(String(255), default="")
    last_error_code: Mapped[str] = mapped_column(String(100), default="")
    last_error_message: Mapped[str] = mapped_column(String(500), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    attempt_key: Mapped[str] = mapped_column(String(100))
    attempt_state: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("client_id", "create_key"),
        Index("ix_refunds_client_id_id", "client_id", "id"),
        Index("ix_refunds_payment_intent_id_id", "payment_intent_id", "id"),
        Index("ix_refunds_attempt_state", "attempt_state"),
        Index("ix_refunds_status_update_time", "status", "update_time"),
        Index("ix_refunds_gateway_gateway_reference", "gateway", "gateway_reference"),
        # one refund per gateway refund, once the gateway gave it an id
        Index(
            "uq_refunds_gateway_gateway_reference",
            "gateway",
            "gateway_reference",
            unique=True,
            sqlite_where=text("gateway_reference <> ''"),
            postgresql_where=text("gateway_reference <> ''"),
        ),
        CheckConstraint("amount > 0", name="amount_positive"),
    )


class PaymentMethodRow(Base):
    """A saved gateway token on a customer. Only the gateway's reference is kept."""

    __tablename__ = "payment_methods"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[str] = mapped_column(String(40), default="")
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_reference: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    brand: Mapped[str] = mapped_column(String(40), default="")
    last4: Mapped[str] = mapped_column(String(4), default="")
    exp_month: Mapped[int] = mapped_column(Integer, default=0)
    exp_year: Mapped[int] = mapped_column(Integer, default=0)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    bank_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    account_type: Mapped[str] = mapped_column(String(40), default="", server_default="")
    #: pending | verified | failed; cards are verified when attached.
    verification_status: Mapped[str] = mapped_column(
        String(20), default="verified", server_default="verified"
    )
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    detach_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_payment_methods_client_id_customer_id_id", "client_id", "customer_id", "id"),
    )


class GatewayCustomerRow(Base):
    """Our customer's counterpart at one gateway (created on first attach)."""

    __tablename__ = "gateway_customers"

    customer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(40), primary_key=True)
    gateway_reference: Mapped[str] = mapped_column(String(255))
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CheckoutSessionRow(Base):
    __tablename__ = "checkout_sessions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    customer_id: Mapped[str] = mapped_column(String(40), default="")
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(10))
    line_items: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    amount_total: Mapped[int] = mapped_column(BigInteger)
    success_url: Mapped[str] = mapped_column(String(2000))
    cancel_url: Mapped[str] = mapped_column(String(2000), default="")
    url: Mapped[str] = mapped_column(String(4000))
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_reference: Mapped[str] = mapped_column(String(255))
    payment_intent_id: Mapped[str] = mapped_column(String(40), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    expire_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_checkout_sessions_client_id_id", "client_id", "id"),
        Index("ix_checkout_sessions_gateway_gateway_reference", "gateway", "gateway_reference"),
        Index(
            "ix_checkout_sessions_gateway_status_expire_time_id",
            "gateway",
            "status",
            "expire_time",
            "id",
        ),
        CheckConstraint("amount_total >= 0", name="amount_total_non_negative"),
    )


class ConnectedAccountRow(Base):
    __tablename__ = "connected_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    owner_ref: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(320), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2))
    business_type: Mapped[str] = mapped_column(String(32))
    commission_bps: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    charges_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    details_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    onboarding_url: Mapped[str] = mapped_column(String(4000), default="")
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_reference: Mapped[str] = mapped_column(String(255))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_connected_accounts_client_id_id", "client_id", "id"),
        Index("ix_connected_accounts_gateway_gateway_reference", "gateway", "gateway_reference"),
        CheckConstraint(
            "commission_bps >= 0 AND commission_bps <= 10000", name="commission_in_range"
        ),
    )


class DisputeRow(Base):
    """A cardholder's dispute of a payment, as its gateway reports it (one row per
    gateway dispute: its webhooks update the row, never add another)."""

    __tablename__ = "disputes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    payment_intent_id: Mapped[str] = mapped_column(ForeignKey("payment_intents.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(100), default="")
    gateway: Mapped[str] = mapped_column(String(40))
    gateway_reference: Mapped[str] = mapped_column(String(255))
    evidence_due_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("gateway", "gateway_reference"),
        Index("ix_disputes_client_id_id", "client_id", "id"),
        Index("ix_disputes_payment_intent_id_id", "payment_intent_id", "id"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
    )
