"""The bank area's table: what a linked bank account needs beyond its payment method row.

The gateway's access token is a credential to move money from the account: only its
ciphertext is stored (``server.payments.bank_secrets``), never the plaintext.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime


class BankAccountRow(Base):
    """One linked account (1:1 with its ``payment_methods`` row)."""

    __tablename__ = "bank_accounts"

    payment_method_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("payment_methods.id"), primary_key=True
    )
    access_token_ciphertext: Mapped[str] = mapped_column(Text)
    account_id: Mapped[str] = mapped_column(String(255))
    item_reference: Mapped[str] = mapped_column(String(255))
    holder_name: Mapped[str] = mapped_column(String(200), default="")
    #: BankVerification's value: verified | pending_automatic | pending_manual | failed
    verification: Mapped[str] = mapped_column(String(20))
    microdeposit_attempts: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    #: A gateway's webhook about an account (Plaid's Auth webhooks) finds it by its id.
    __table_args__ = (Index("ix_bank_accounts_account_id", "account_id"),)
