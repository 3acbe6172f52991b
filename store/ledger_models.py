"""Tables of the double-entry ledger, wallets and credits.

Integrity lives here: a user account's balance can never go negative (a CHECK in the
database), a grant's remaining stays within 0..amount, ids are unique. Entries are
append-only; the only row updated per posting is the account's balance.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime

#: Account kinds that belong to a user: their balance may never be negative.
USER_KINDS = ("user_wallet", "user_pending", "user_credits", "user_credits_reserved")
_USER_KINDS_SQL = ", ".join(f"'{kind}'" for kind in USER_KINDS)

_EntryId = BigInteger().with_variant(Integer(), "sqlite")


class LedgerAccountRow(Base):
    """One balance: an owner's (or the system's) holding of one currency."""

    __tablename__ = "ledger_accounts"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(16))
    balance: Mapped[int] = mapped_column(BigInteger)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(
            f"balance >= 0 OR kind NOT IN ({_USER_KINDS_SQL})", name="user_not_negative"
        ),
        Index("ix_ledger_accounts_client_id_owner_id", "client_id", "owner_id"),
    )


class LedgerEntryRow(Base):
    """One leg of a transfer: immutable; a transfer's legs sum to zero per currency."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(_EntryId, primary_key=True, autoincrement=True)
    transfer_id: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_ledger_entries_account_id_id", "account_id", "id"),
        Index("ix_ledger_entries_transfer_id", "transfer_id"),
    )


class WalletRow(Base):
    __tablename__ = "wallets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(200))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("client_id", "owner_id"),)


class WalletTransactionRow(Base):
    """A wallet's history line (what a user sees), backed by ledger entries."""

    __tablename__ = "wallet_transactions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    wallet_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(16))
    balance_after: Mapped[int] = mapped_column(BigInteger)
    payment_method_id: Mapped[str] = mapped_column(String(64), default="")
    payment_reference: Mapped[str] = mapped_column(String(200), default="")
    transfer_id: Mapped[str] = mapped_column(String(40), default="")
    counterparty_wallet_id: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    error_code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    error_decline_code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    error_message: Mapped[str] = mapped_column(String(500), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_wallet_transactions_wallet_id_id", "wallet_id", "id"),
        Index("ix_wallet_transactions_wallet_id_currency_id", "wallet_id", "currency", "id"),
        Index("ix_wallet_transactions_payment_reference", "payment_reference"),
    )


class WalletTransferRow(Base):
    __tablename__ = "wallet_transfers"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    from_wallet_id: Mapped[str] = mapped_column(String(40))
    to_wallet_id: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16))
    from_transaction_id: Mapped[str] = mapped_column(String(40))
    to_transaction_id: Mapped[str] = mapped_column(String(40))
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)


class CreditGrantRow(Base):
    """A lot of credits with its own expiry; consumption draws down ``remaining``."""

    __tablename__ = "credit_grants"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    expire_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(16))
    purchase_id: Mapped[str] = mapped_column(String(40), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_in_range"),
        Index("ix_credit_grants_client_id_owner_id", "client_id", "owner_id"),
        Index("ix_credit_grants_expire_time", "expire_time"),
    )


class CreditReservationRow(Base):
    __tablename__ = "credit_reservations"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(200))
    amount: Mapped[int] = mapped_column(BigInteger)
    committed_amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    #: Where the held credits came from: [[grant_id, credits], …], soonest-expiring first.
    allocations: Mapped[list[list[str | int]]] = mapped_column(JSON, default=list)
    expire_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(500), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_credit_reservations_status_expire_time", "status", "expire_time"),)


class CreditTransactionRow(Base):
    __tablename__ = "credit_transactions"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500), default="")
    grant_id: Mapped[str] = mapped_column(String(40), default="")
    reservation_id: Mapped[str] = mapped_column(String(40), default="")
    purchase_id: Mapped[str] = mapped_column(String(40), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_credit_transactions_client_id_owner_id_id", "client_id", "owner_id", "id"),
        Index("ix_credit_transactions_purchase_id_type", "purchase_id", "type"),
    )


class CreditPurchaseRow(Base):
    """A package bought with a payment; its grant is made when the payment succeeds."""

    __tablename__ = "credit_purchases"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    owner_id: Mapped[str] = mapped_column(String(200))
    package_id: Mapped[str] = mapped_column(String(64))
    credits: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    payment_method_id: Mapped[str] = mapped_column(String(64), default="")
    payment_reference: Mapped[str] = mapped_column(String(200), default="")
    grant_id: Mapped[str] = mapped_column(String(40), default="")
    error_code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    error_decline_code: Mapped[str] = mapped_column(String(64), default="", server_default="")
    error_message: Mapped[str] = mapped_column(String(500), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_credit_purchases_payment_reference", "payment_reference"),)
