"""Wallet use cases: create, read, transfer, and the ledger side of deposits and withdrawals.

Every balance change is one balanced ledger transfer written in the caller's
transaction (so it commits with the idempotency record and the outbox event):

- transfer:          from.user_wallet -a, to.user_wallet +a
- deposit begins:    gateway_clearing -a, user_pending +a      (pending, not spendable)
- deposit settles:   user_pending -a, user_wallet +a           (available)
- deposit fails:     user_pending -a, gateway_clearing +a      (nothing credited)
- withdrawal begins: user_wallet -a, user_pending +a           (held while in flight)
- payout settles:    user_pending -a, gateway_clearing +a
- payout fails:      user_pending -a, user_wallet +a           (restored)
- deposit refund:    user_wallet -r, user_pending +r           (held while the card refund runs)
- refund succeeds:   user_pending -r, gateway_clearing +r      (the money went back to the card)
- refund fails:      user_pending -r, user_wallet +r           (restored)

A refund made at the gateway (a dashboard) and adopted from its webhook is never refused
(the card was refunded already): what the wallet no longer holds of it is owed, advanced
first, and the whole r is held as above:

- owed advanced:     returned_debits -o, user_wallet +o        (a REFUND line of +o)
- advance undone:    user_wallet -o, returned_debits +o        (if that refund fails)

A chargeback of the deposit's payment books the same way, its dispute in the refund's
place: held (and what was spent advanced) when it opens, out through clearing when the
dispute is lost, restored (and the advance undone) when it is won.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.errors import AlreadyExists, InsufficientFunds, InvalidState, NotFound
from server.events import record_event
from server.ledger.payments import (
    DISPUTE_WON,
    ChargeNotMade,
    ChargeRequest,
    PaymentOutcome,
    PaymentPort,
    PaymentReference,
    PayoutRequest,
    charge_key,
    payout_key,
)
from server.pagination import Page, PageRequest, page_of
from store.db import Database
from store.ids import new_id
from store.last_error import LastError
from store.ledger import AccountBalance, AccountKind, AccountRef, Ledger, Leg, Overdraft
from store.models import utcnow
from store.raw import InlineReader
from store.wallets import (
    WalletRecord,
    Wallets,
    WalletTransactionRecord,
    WalletTransactions,
    WalletTransferRecord,
    WalletTransfers,
    transaction_inline,
    transactions_page_inline,
    wallet_view,
    wallet_view_inline,
)

log = logging.getLogger("isa.ledger.wallets")

WalletTransaction = WalletTransactionRecord
Transfer = WalletTransferRecord


class TransactionType(enum.Enum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER_IN = "transfer_in"
    TRANSFER_OUT = "transfer_out"
    PAYMENT = "payment"
    REFUND = "refund"


class TransactionStatus(enum.Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


TRANSFER_COMPLETED = "completed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Wallet:
    id: str
    owner_id: str
    balances: dict[str, int]
    pending: dict[str, int]
    metadata: dict[str, str]
    create_time: dt.datetime
    update_time: dt.datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class NewWallet:
    owner_id: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTransfer:
    from_wallet_id: str
    to_wallet_id: str
    amount: int
    currency: str
    note: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewMovement:
    """A deposit into, or a withdrawal out of, one wallet through a payment method."""

    wallet_id: str
    amount: int
    currency: str
    payment_method_id: str
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransactionFilter:
    currency: str | None = None
    type: TransactionType | None = None


def wallet_account(client_id: str, wallet_id: str, currency: str) -> AccountRef:
    return AccountRef(client_id, wallet_id, AccountKind.USER_WALLET, currency)


def pending_account(client_id: str, wallet_id: str, currency: str) -> AccountRef:
    return AccountRef(client_id, wallet_id, AccountKind.USER_PENDING, currency)


def clearing_account(client_id: str, currency: str) -> AccountRef:
    return AccountRef.system(client_id, AccountKind.GATEWAY_CLEARING, currency)


def returned_debits_account(client_id: str, currency: str) -> AccountRef:
    return AccountRef.system(client_id, AccountKind.RETURNED_DEBITS, currency)


class WalletService:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._inline = InlineReader(db)

    # -- wallets ---------------------------------------------------------------------

    async def create(self, session: AsyncSession, client_id: str, new: NewWallet) -> Wallet:
        wallets = Wallets(session)
        existing = await wallets.get_by_owner(client_id, new.owner_id)
        if existing is not None:
            raise _wallet_exists(existing)
        now = utcnow()
        record = WalletRecord(
            id=new_id("wal"),
            client_id=client_id,
            owner_id=new.owner_id,
            metadata=dict(new.metadata),
            create_time=now,
            update_time=now,
        )
        try:
            async with session.begin_nested():
                await wallets.add(record)
        except IntegrityError:  # a concurrent create for the same owner won
            winner = await wallets.get_by_owner(client_id, new.owner_id)
            if winner is None:  # it won on the unique key yet cannot be read: impossible
                raise
            raise _wallet_exists(winner) from None
        return _wallet_of(record, [])

    async def get(
        self, client_id: str, *, wallet_id: str | None = None, owner_id: str | None = None
    ) -> Wallet:
        conn = self._inline.connection()
        if conn is not None:  # SQLite: one indexed join, no session (store.raw)
            view = wallet_view_inline(conn, client_id, wallet_id=wallet_id, owner_id=owner_id)
        else:
            async with self._db.read() as session:
                view = await wallet_view(session, client_id, wallet_id=wallet_id, owner_id=owner_id)
        if view is None:
            if wallet_id is None:
                raise NotFound("wallet", owner_id or "", by="owner_id")
            raise NotFound("wallet", wallet_id)
        return _wallet_of(
            view.wallet,
            [
                AccountBalance(
                    id="",
                    owner_id=view.wallet.id,
                    kind=AccountKind(kind),
                    currency=currency,
                    balance=balance,
                    update_time=update_time,
                )
                for kind, currency, balance, update_time in view.accounts
            ],
        )

    # -- transfers -------------------------------------------------------------------

    async def transfer(self, session: AsyncSession, client_id: str, new: NewTransfer) -> Transfer:
        """Move funds between two wallets atomically; INSUFFICIENT_FUNDS when short."""
        found = await Wallets(session).existing_ids(
            client_id, (new.from_wallet_id, new.to_wallet_id)
        )
        for wallet_id in (new.from_wallet_id, new.to_wallet_id):
            if wallet_id not in found:
                raise NotFound("wallet", wallet_id)
        now = utcnow()
        transfer_id = new_id("tr")
        source = wallet_account(client_id, new.from_wallet_id, new.currency)
        target = wallet_account(client_id, new.to_wallet_id, new.currency)
        try:
            after = await Ledger(session).post(
                transfer_id, [Leg(source, -new.amount), Leg(target, new.amount)], now=now
            )
        except Overdraft:
            raise await _insufficient(session, source, new.amount) from None
        out_id, in_id = new_id("wtx"), new_id("wtx")

        def line(
            transaction_id: str, account: AccountRef, kind: TransactionType, amount: int, other: str
        ) -> WalletTransaction:
            return WalletTransaction(
                id=transaction_id,
                client_id=client_id,
                wallet_id=account.owner_id,
                type=kind.value,
                status=TransactionStatus.SUCCEEDED.value,
                amount=amount,
                currency=new.currency,
                balance_after=after[account.id],
                transfer_id=transfer_id,
                counterparty_wallet_id=other,
                description=new.note,
                metadata=dict(new.metadata),
                create_time=now,
                update_time=now,
            )

        await WalletTransactions(session).add_all(
            [
                line(out_id, source, TransactionType.TRANSFER_OUT, -new.amount, new.to_wallet_id),
                line(in_id, target, TransactionType.TRANSFER_IN, new.amount, new.from_wallet_id),
            ]
        )
        transfer = await WalletTransfers(session).add(
            Transfer(
                id=transfer_id,
                client_id=client_id,
                from_wallet_id=new.from_wallet_id,
                to_wallet_id=new.to_wallet_id,
                amount=new.amount,
                currency=new.currency,
                note=new.note,
                status=TRANSFER_COMPLETED,
                from_transaction_id=out_id,
                to_transaction_id=in_id,
                metadata=dict(new.metadata),
                create_time=now,
                update_time=now,
            )
        )
        await record_event(
            session,
            client_id=client_id,
            event_type="wallet.transfer.completed",
            resource_id=transfer_id,
            data=transfer,
        )
        return transfer

    # -- history ---------------------------------------------------------------------

    async def get_transaction(self, client_id: str, transaction_id: str) -> WalletTransaction:
        conn = self._inline.connection()
        if conn is not None:
            record = transaction_inline(conn, client_id, transaction_id)
        else:
            async with self._db.read() as session:
                record = await WalletTransactions(session).get(client_id, transaction_id)
        if record is None:
            raise NotFound("wallet transaction", transaction_id)
        return record

    async def list_transactions(
        self,
        client_id: str,
        wallet_id: str,
        page: PageRequest,
        where: TransactionFilter | None = None,
    ) -> Page[WalletTransaction]:
        where = where or TransactionFilter()
        kind = None if where.type is None else where.type.value
        conn = self._inline.connection()
        if conn is not None:
            found = transactions_page_inline(
                conn,
                client_id,
                wallet_id,
                before_id=page.before_id,
                limit=page.size + 1,
                currency=where.currency,
                type=kind,
            )
            if found is None:
                raise NotFound("wallet", wallet_id)
            return page_of(found, page)
        async with self._db.read() as session:
            rows = await WalletTransactions(session).page(
                client_id,
                wallet_id,
                before_id=page.before_id,
                limit=page.size + 1,
                currency=where.currency,
                type=kind,
            )
        if rows is None:
            raise NotFound("wallet", wallet_id)
        return page_of(rows, page)

    # -- deposits: the ledger side; the payment itself goes through a PaymentPort ----

    async def begin_deposit(
        self, session: AsyncSession, client_id: str, new: NewMovement
    ) -> WalletTransaction:
        """Record a PENDING deposit: counted in ``pending``, not spendable yet."""
        await self._require_wallet(session, client_id, new.wallet_id)
        now = utcnow()
        record = _movement(client_id, new, TransactionType.DEPOSIT, new.amount, now)
        await Ledger(session).post(
            record.id,
            [
                Leg(clearing_account(client_id, new.currency), -new.amount),
                Leg(pending_account(client_id, new.wallet_id, new.currency), new.amount),
            ],
            now=now,
        )
        await WalletTransactions(session).add_all([record])
        return record

    async def settle_deposit(self, session: AsyncSession, transaction_id: str) -> WalletTransaction:
        """The payment succeeded: pending → available; event wallet.deposit.succeeded.

        Called by the payments side; repeating it changes nothing.
        """
        record = await self._pending(session, transaction_id, TransactionType.DEPOSIT)
        if record.status != TransactionStatus.PENDING.value:
            return record
        now = utcnow()
        available = wallet_account(record.client_id, record.wallet_id, record.currency)
        after = await Ledger(session).post(
            f"{record.id}:settle",
            [
                Leg(
                    pending_account(record.client_id, record.wallet_id, record.currency),
                    -record.amount,
                ),
                Leg(available, record.amount),
            ],
            now=now,
        )
        settled = await self._finish(
            session,
            record,
            status=TransactionStatus.SUCCEEDED,
            balance_after=after[available.id],
            error=None,
            now=now,
        )
        return await _ended_event(session, settled)

    async def fail_deposit(
        self, session: AsyncSession, transaction_id: str, failure: LastError
    ) -> WalletTransaction:
        """The payment failed: the pending amount goes back; nothing was credited; event
        wallet.deposit.failed."""
        record = await self._pending(session, transaction_id, TransactionType.DEPOSIT)
        if record.status != TransactionStatus.PENDING.value:
            return record
        now = utcnow()
        await Ledger(session).post(
            f"{record.id}:fail",
            [
                Leg(
                    pending_account(record.client_id, record.wallet_id, record.currency),
                    -record.amount,
                ),
                Leg(clearing_account(record.client_id, record.currency), record.amount),
            ],
            now=now,
        )
        failed = await self._finish(
            session,
            record,
            status=TransactionStatus.FAILED,
            balance_after=0,
            error=failure,
            now=now,
        )
        return await _ended_event(session, failed)

    async def reverse_deposit(
        self, session: AsyncSession, transaction_id: str, failure: LastError
    ) -> WalletTransaction:
        """The deposit's payment came back (an ACH return), possibly after settlement.

        A deposit still PENDING simply fails. A settled one is taken back: the whole
        amount returns to clearing (the bank took it back), out of the wallet as far as
        it still holds it; what was spent meanwhile is owed, booked to the client's
        returned-debits account (no wallet goes negative) and named in ``last_error``.
        The deposit ends FAILED (event wallet.deposit.failed). Repeats change nothing.
        """
        record = await self._pending(session, transaction_id, TransactionType.DEPOSIT)
        if record.status == TransactionStatus.PENDING.value:
            return await self.fail_deposit(session, transaction_id, failure)
        if record.status != TransactionStatus.SUCCEEDED.value:
            return record
        available = wallet_account(record.client_id, record.wallet_id, record.currency)
        ledger = Ledger(session)
        # Locked: a transfer out committing between this read and the reversal would
        # leave the wallet short of what the reversal takes, failing it.
        owed = max(0, record.amount - await ledger.lock(available))
        now = utcnow()
        if owed:
            line = await self._advance_owed(
                session,
                record,
                owed,
                reference=f"{record.id}:owed",
                what=f"returned deposit {record.id}",
                whole=record.amount,
                now=now,
            )
            failure = LastError(
                code=failure.code,
                decline_code=failure.decline_code,
                message=f"{failure.message.rstrip('.')}; {owed} of it had already left the "
                f"wallet and is owed (line {line.id})",
            )
        after = await ledger.post(
            f"{record.id}:reverse",
            [
                Leg(available, -record.amount),
                Leg(clearing_account(record.client_id, record.currency), record.amount),
            ],
            now=now,
        )
        reversed_ = await self._finish(
            session,
            record,
            status=TransactionStatus.FAILED,
            balance_after=after[available.id],
            error=failure,
            now=now,
        )
        return await _ended_event(session, reversed_)

    async def _advance_owed(
        self,
        session: AsyncSession,
        deposit: WalletTransaction,
        owed: int,
        *,
        reference: str,
        what: str,
        whole: int,
        now: dt.datetime,
    ) -> WalletTransaction:
        """The part of money leaving the wallet (``what``, ``whole`` in all: a returned
        deposit, a gateway-made refund of a deposit's payment) that the wallet no longer
        holds, advanced to it from the returned-debits account (a SUCCEEDED REFUND line
        of +owed, payment reference ``reference``) so the whole amount can leave and the
        wallet's history still adds up to its balance; the debt stays on the books
        there. Returns the line."""
        line = await self._owed_line(
            session,
            deposit,
            owed,
            reference=reference,
            description=f"{what}: {owed} already spent, now owed",
            now=now,
        )
        log.warning(
            "%s is %d %s, %d of which had already left wallet %s: advanced from returned "
            "debits (line %s) and owed",
            what,
            whole,
            deposit.currency,
            owed,
            deposit.wallet_id,
            line.id,
        )
        return line

    @staticmethod
    async def _owed_line(
        session: AsyncSession,
        of: WalletTransaction,
        amount: int,
        *,
        reference: str,
        description: str,
        now: dt.datetime,
    ) -> WalletTransaction:
        """A SUCCEEDED REFUND line moving ``amount`` from the returned-debits account into
        ``of``'s wallet (negative: back out of it), so the history adds up."""
        line = WalletTransaction(
            id=new_id("wtx"),
            client_id=of.client_id,
            wallet_id=of.wallet_id,
            type=TransactionType.REFUND.value,
            status=TransactionStatus.SUCCEEDED.value,
            amount=amount,
            currency=of.currency,
            balance_after=0,
            payment_method_id=of.payment_method_id,
            payment_reference=reference,
            description=description,
            create_time=now,
            update_time=now,
        )
        available = wallet_account(of.client_id, of.wallet_id, of.currency)
        after = await Ledger(session).post(
            line.id,
            [
                Leg(returned_debits_account(of.client_id, of.currency), -amount),
                Leg(available, amount),
            ],
            now=now,
        )
        stored = replace(line, balance_after=after[available.id])
        await WalletTransactions(session).add_all([stored])
        return stored

    async def _undo_owed(
        self,
        session: AsyncSession,
        refund_id: str,
        refund: WalletTransaction,
        *,
        ended: str = "",
    ) -> WalletTransaction | None:
        """A gateway-made refund whose shortfall was advanced (:meth:`hold_adopted_refund`)
        failed: its held amount is the wallet's again, so the advance goes back to the
        returned-debits account (a SUCCEEDED REFUND line of -owed keeps the history
        adding up) and nothing is owed for it. None when nothing was advanced; a repeat
        returns the same line and moves nothing. ``ended`` says why, for the line and the
        log (default: "refund <refund_id> failed")."""
        ended = ended or f"refund {refund_id} failed"
        transactions = WalletTransactions(session)
        advanced = await transactions.find_by_payment_reference(
            f"{refund_id}:owed", TransactionType.REFUND.value
        )
        if advanced is None:
            return None
        undone = await transactions.find_by_payment_reference(
            f"{refund_id}:owed:undone", TransactionType.REFUND.value
        )
        if undone is not None:
            return undone
        owed = advanced.amount
        # The released hold gave the wallet the whole refund back, at least ``owed``.
        line = await self._owed_line(
            session,
            refund,
            -owed,
            reference=f"{refund_id}:owed:undone",
            description=f"{ended}: the {owed} advanced for it "
            f"(line {advanced.id}) is no longer owed",
            now=utcnow(),
        )
        log.warning(
            "%s: the %d %s advanced to wallet %s for it (line %s) went back "
            "to returned debits (line %s)",
            ended,
            owed,
            refund.currency,
            refund.wallet_id,
            advanced.id,
            line.id,
        )
        return line

    # -- refunds of deposits: the card refund takes the deposit's money back out ------

    async def hold_deposit_refund(
        self,
        session: AsyncSession,
        deposit_id: str,
        refund_id: str,
        amount: int,
        *,
        what: str = "",
    ) -> WalletTransaction | None:
        """Take ``amount`` of a settled deposit out of the wallet while its payment is
        refunded (available → pending, a PENDING REFUND line of -amount).

        Raises :class:`InsufficientFunds` (reason ``DEPOSIT_FUNDS_SPENT``) when the
        wallet no longer holds it: the refund must then not happen. None when there is
        nothing to take back (the deposit FAILED, so its payment credited nothing).
        Repeating it for the same refund returns the same line and moves nothing.
        ``what`` names the taking in the line (default: "refund <refund_id>").
        """
        transactions = WalletTransactions(session)
        existing = await transactions.find_by_payment_reference(
            refund_id, TransactionType.REFUND.value
        )
        if existing is not None:
            return existing
        deposit = await self._pending(session, deposit_id, TransactionType.DEPOSIT)
        if deposit.status == TransactionStatus.FAILED.value:
            return None
        if deposit.status != TransactionStatus.SUCCEEDED.value:
            raise InvalidState(
                f"deposit {deposit.id} is still pending; refund its payment once it settled",
                metadata={"wallet_transaction_id": deposit.id},
            )
        now = utcnow()
        record = WalletTransaction(
            id=new_id("wtx"),
            client_id=deposit.client_id,
            wallet_id=deposit.wallet_id,
            type=TransactionType.REFUND.value,
            status=TransactionStatus.PENDING.value,
            amount=-amount,
            currency=deposit.currency,
            balance_after=0,
            payment_method_id=deposit.payment_method_id,
            payment_reference=refund_id,
            description=f"{what or f'refund {refund_id}'} of deposit {deposit.id}",
            create_time=now,
            update_time=now,
        )
        try:
            await Ledger(session).post(
                record.id,
                [
                    Leg(
                        wallet_account(deposit.client_id, deposit.wallet_id, deposit.currency),
                        -amount,
                    ),
                    Leg(
                        pending_account(deposit.client_id, deposit.wallet_id, deposit.currency),
                        amount,
                    ),
                ],
                now=now,
            )
        except Overdraft:
            raise InsufficientFunds(
                f"wallet {deposit.wallet_id} no longer holds the {amount} {deposit.currency} "
                f"of deposit {deposit.id} (spent, transferred or withdrawn); nothing was refunded",
                reason="DEPOSIT_FUNDS_SPENT",
                metadata={
                    "wallet_id": deposit.wallet_id,
                    "wallet_transaction_id": deposit.id,
                    "currency": deposit.currency,
                    "amount": str(amount),
                },
            ) from None
        await transactions.add_all([record])
        return record

    async def hold_adopted_refund(
        self,
        session: AsyncSession,
        deposit_id: str,
        refund_id: str,
        amount: int,
        *,
        what: str = "",
    ) -> WalletTransaction | None:
        """A refund of the deposit's payment was made at the gateway (a dashboard): the
        money is gone already, so the whole ``amount`` is held as for our own refunds
        (settled or restored with the refund's outcome), never refusing. What the wallet
        no longer holds of it is owed: advanced first from the returned-debits account
        (a REFUND line of +owed, payment reference ``{refund_id}:owed``), taken back if
        the refund fails. None when the deposit FAILED (its payment credited nothing).
        Repeating it for the same refund returns the same line and moves nothing.
        ``what`` names the taking in the lines (default: "refund <refund_id>")."""
        what = what or f"refund {refund_id}"
        existing = await WalletTransactions(session).find_by_payment_reference(
            refund_id, TransactionType.REFUND.value
        )
        if existing is not None:
            return existing
        deposit = await self._pending(session, deposit_id, TransactionType.DEPOSIT)
        if deposit.status != TransactionStatus.SUCCEEDED.value:  # FAILED: None; PENDING: raises
            return await self.hold_deposit_refund(session, deposit_id, refund_id, amount, what=what)
        available = wallet_account(deposit.client_id, deposit.wallet_id, deposit.currency)
        owed = max(0, amount - await Ledger(session).lock(available))
        if owed:
            await self._advance_owed(
                session,
                deposit,
                owed,
                reference=f"{refund_id}:owed",
                what=f"{what} of deposit {deposit.id}",
                whole=amount,
                now=utcnow(),
            )
        return await self.hold_deposit_refund(session, deposit_id, refund_id, amount, what=what)

    async def settle_deposit_refund(
        self,
        session: AsyncSession,
        refund_id: str,
        *,
        event_type: str = "wallet.deposit.refunded",
    ) -> WalletTransaction | None:
        """The card refund succeeded: the held amount leaves through gateway clearing."""
        record = await self._refund_line(session, refund_id)
        if record is None or record.status != TransactionStatus.PENDING.value:
            return record
        settled = await self._settle_held(session, record)
        await record_event(
            session,
            client_id=record.client_id,
            event_type=event_type,
            resource_id=record.id,
            data=settled,
        )
        return settled

    async def fail_deposit_refund(
        self, session: AsyncSession, refund_id: str, failure: LastError, *, ended: str = ""
    ) -> WalletTransaction | None:
        """The card refund failed: the held amount is available again, less what was
        advanced for it (:meth:`hold_adopted_refund`), which goes back (``ended``: why,
        as :meth:`_undo_owed` says it)."""
        record = await self._refund_line(session, refund_id)
        if record is None or record.status != TransactionStatus.PENDING.value:
            return record
        released = await self._release_held(session, record, failure)
        await self._undo_owed(session, refund_id, released, ended=ended)
        return released

    # -- chargebacks of deposits: a dispute's withdrawal takes the money back out ------

    async def hold_charged_back_deposit(
        self, session: AsyncSession, deposit_id: str, dispute_id: str, amount: int
    ) -> WalletTransaction | None:
        """A chargeback took ``amount`` of the deposit's payment back while the dispute is
        decided: held out of the wallet as for a refund made at the gateway (never
        refused; what was spent is advanced and owed), a PENDING REFUND line whose
        payment reference is the dispute. None when the deposit FAILED."""
        return await self.hold_adopted_refund(
            session, deposit_id, dispute_id, amount, what=f"chargeback {dispute_id}"
        )

    async def settle_charged_back_deposit(
        self, session: AsyncSession, dispute_id: str
    ) -> WalletTransaction | None:
        """The dispute was lost: the held money is gone for good, through gateway
        clearing (event wallet.deposit.charged_back); what was advanced stays owed."""
        return await self.settle_deposit_refund(
            session, dispute_id, event_type="wallet.deposit.charged_back"
        )

    async def reinstate_charged_back_deposit(
        self, session: AsyncSession, dispute_id: str
    ) -> WalletTransaction | None:
        """The dispute was won: the held money is the wallet's again (the line FAILED,
        code ``dispute_won``), and what was advanced for it is no longer owed."""
        won = LastError(
            code=DISPUTE_WON,
            message=f"dispute {dispute_id} was won: the money it withdrew is back",
        )
        return await self.fail_deposit_refund(
            session, dispute_id, won, ended=f"dispute {dispute_id} was won"
        )

    async def _refund_line(self, session: AsyncSession, refund_id: str) -> WalletTransaction | None:
        found = await WalletTransactions(session).find_by_payment_reference(
            refund_id, TransactionType.REFUND.value
        )
        return None if found is None else await self._reload(session, found.id)

    # -- withdrawals -----------------------------------------------------------------

    async def begin_withdrawal(
        self, session: AsyncSession, client_id: str, new: NewMovement
    ) -> WalletTransaction:
        """Hold the amount (available → pending) while the payout is in flight."""
        await self._require_wallet(session, client_id, new.wallet_id)
        now = utcnow()
        record = _movement(client_id, new, TransactionType.WITHDRAWAL, -new.amount, now)
        try:
            await Ledger(session).post(
                record.id,
                [
                    Leg(wallet_account(client_id, new.wallet_id, new.currency), -new.amount),
                    Leg(pending_account(client_id, new.wallet_id, new.currency), new.amount),
                ],
                now=now,
            )
        except Overdraft:
            raise await _insufficient(
                session, wallet_account(client_id, new.wallet_id, new.currency), new.amount
            ) from None
        await WalletTransactions(session).add_all([record])
        return record

    async def settle_withdrawal(
        self, session: AsyncSession, transaction_id: str
    ) -> WalletTransaction:
        """The payout settled: the held amount leaves through gateway clearing; event
        wallet.withdrawal.succeeded."""
        record = await self._pending(session, transaction_id, TransactionType.WITHDRAWAL)
        if record.status != TransactionStatus.PENDING.value:
            return record
        return await _ended_event(session, await self._settle_held(session, record))

    async def fail_withdrawal(
        self, session: AsyncSession, transaction_id: str, failure: LastError
    ) -> WalletTransaction:
        """The payout failed or was returned: the held amount is available again; event
        wallet.withdrawal.failed."""
        record = await self._pending(session, transaction_id, TransactionType.WITHDRAWAL)
        if record.status != TransactionStatus.PENDING.value:
            return record
        released = await self._release_held(session, record, failure)
        return await _ended_event(session, released)

    # -- orchestration with the payments side ---------------------------------------

    async def deposit(
        self, client_id: str, new: NewMovement, payments: PaymentPort
    ) -> WalletTransaction:
        """Record the intent, charge with a derived key, then apply what is known."""
        async with self._db.write() as session:
            record = await self.begin_deposit(session, client_id, new)
        try:
            return await self.collect_deposit(client_id, record.id, payments)
        except ChargeNotMade as not_made:
            raise not_made.error from None

    async def collect_deposit(
        self, client_id: str, transaction_id: str, payments: PaymentPort
    ) -> WalletTransaction:
        """Charge for a PENDING deposit (or resume its charge) and apply what is known.

        Safe to repeat: the charge's key derives from the transaction id, so a retry
        after a crash or a lost answer reaches the same payment, never a second one.
        A success or failure the payments side reported in its own transaction (its
        outcome listener) has already been applied; applying it again changes nothing.
        Raises :class:`ChargeNotMade` after failing the deposit when nothing was charged.
        """
        record = await self._own_transaction(client_id, transaction_id, TransactionType.DEPOSIT)
        if record.status != TransactionStatus.PENDING.value:
            return record
        try:
            result = await payments.charge(
                ChargeRequest(
                    client_id=client_id,
                    amount=record.amount,
                    currency=record.currency,
                    payment_method_id=record.payment_method_id,
                    description=record.description,
                    idempotency_key=charge_key(record.id),
                    reference=record.id,
                )
            )
        except ChargeNotMade as not_made:
            async with self._db.write() as session:
                await self.fail_deposit(session, record.id, not_made.failure("charged"))
            raise
        async with self._db.write() as session:
            return await self.apply_charge(session, record.id, result)

    async def apply_charge(
        self, session: AsyncSession, transaction_id: str, result: PaymentReference
    ) -> WalletTransaction:
        """Link the deposit to its payment and apply the payment's outcome, if final."""
        await self.link_payment(session, transaction_id, result.reference)
        if result.outcome is PaymentOutcome.SUCCEEDED:
            return await self.settle_deposit(session, transaction_id)
        if result.outcome is PaymentOutcome.FAILED:
            return await self.fail_deposit(session, transaction_id, result.failure)
        return await self._reload(session, transaction_id)

    async def link_payment(
        self, session: AsyncSession, transaction_id: str, reference: str
    ) -> None:
        """Remember which payment collects (or pays out) the transaction."""
        if reference:
            await WalletTransactions(session).record_reference(transaction_id, reference)

    async def collect_withdrawal(
        self, client_id: str, transaction_id: str, payments: PaymentPort
    ) -> WalletTransaction:
        """Pay out a PENDING withdrawal (or resume its payout) and apply what is known.

        Safe to repeat, like :meth:`collect_deposit`: the payout's key derives from the
        transaction id, so a retry reaches the same transfer. Raises
        :class:`ChargeNotMade` after restoring the held funds when nothing was sent.
        """
        record = await self._own_transaction(client_id, transaction_id, TransactionType.WITHDRAWAL)
        if record.status != TransactionStatus.PENDING.value:
            return record
        try:
            result = await payments.payout(
                PayoutRequest(
                    client_id=client_id,
                    amount=-record.amount,
                    currency=record.currency,
                    payment_method_id=record.payment_method_id,
                    description=record.description,
                    idempotency_key=payout_key(record.id),
                    reference=record.id,
                )
            )
        except ChargeNotMade as not_made:
            async with self._db.write() as session:
                await self.fail_withdrawal(session, record.id, not_made.failure("paid out"))
            raise
        async with self._db.write() as session:
            return await self.apply_payout(session, record.id, result)

    async def return_settled_withdrawal(
        self, session: AsyncSession, transaction_id: str, failure: LastError
    ) -> WalletTransaction:
        """The bank sent a settled payout back (an ACH return after settlement).

        The money is ours again, so it goes back into the wallet through clearing and the
        withdrawal ends FAILED with the return's reason. A payout still PENDING simply
        fails (its hold is released); anything else is a repeat and changes nothing.
        """
        record = await self._pending(session, transaction_id, TransactionType.WITHDRAWAL)
        if record.status == TransactionStatus.PENDING.value:
            return await self.fail_withdrawal(session, transaction_id, failure)
        if record.status != TransactionStatus.SUCCEEDED.value:
            return record
        clearing = clearing_account(record.client_id, record.currency)
        restored = await self._restore(session, record, clearing, "returned", failure)
        return await _ended_event(session, restored)

    async def apply_payout(
        self, session: AsyncSession, transaction_id: str, result: PaymentReference
    ) -> WalletTransaction:
        """Link the withdrawal to its payout and apply the payout's outcome, if final."""
        await self.link_payment(session, transaction_id, result.reference)
        if result.outcome is PaymentOutcome.SUCCEEDED:
            return await self.settle_withdrawal(session, transaction_id)
        if result.outcome is PaymentOutcome.FAILED:
            return await self.fail_withdrawal(session, transaction_id, result.failure)
        return await self._reload(session, transaction_id)

    async def find_payout(self, session: AsyncSession, reference: str) -> WalletTransaction | None:
        """The withdrawal whose payout the gateway knows as ``reference``, if any."""
        return await WalletTransactions(session).find_by_payment_reference(
            reference, TransactionType.WITHDRAWAL.value
        )

    # -- helpers ---------------------------------------------------------------------

    async def _settle_held(
        self, session: AsyncSession, record: WalletTransaction
    ) -> WalletTransaction:
        """An outgoing line's held amount (a payout, a deposit refund) leaves through
        gateway clearing; the line SUCCEEDED."""
        now = utcnow()
        amount = -record.amount
        await Ledger(session).post(
            f"{record.id}:settle",
            [
                Leg(pending_account(record.client_id, record.wallet_id, record.currency), -amount),
                Leg(clearing_account(record.client_id, record.currency), amount),
            ],
            now=now,
        )
        balance = await Ledger(session).balance(
            wallet_account(record.client_id, record.wallet_id, record.currency)
        )
        return await self._finish(
            session,
            record,
            status=TransactionStatus.SUCCEEDED,
            balance_after=balance,
            error=None,
            now=now,
        )

    async def _release_held(
        self, session: AsyncSession, record: WalletTransaction, failure: LastError
    ) -> WalletTransaction:
        """An outgoing line's held amount is available again; the line FAILED."""
        held = pending_account(record.client_id, record.wallet_id, record.currency)
        return await self._restore(session, record, held, "fail", failure)

    async def _restore(
        self,
        session: AsyncSession,
        record: WalletTransaction,
        source: AccountRef,
        step: str,
        failure: LastError,
    ) -> WalletTransaction:
        """An outgoing line's amount comes back from ``source`` (where it was held, or
        gateway clearing once paid out) to the wallet's available balance; the line FAILED."""
        now = utcnow()
        amount = -record.amount
        available = wallet_account(record.client_id, record.wallet_id, record.currency)
        after = await Ledger(session).post(
            f"{record.id}:{step}", [Leg(source, -amount), Leg(available, amount)], now=now
        )
        return await self._finish(
            session,
            record,
            status=TransactionStatus.FAILED,
            balance_after=after[available.id],
            error=failure,
            now=now,
        )

    async def _require_wallet(self, session: AsyncSession, client_id: str, wallet_id: str) -> None:
        if await Wallets(session).get(client_id, wallet_id) is None:
            raise NotFound("wallet", wallet_id)

    async def _own_transaction(
        self, client_id: str, transaction_id: str, kind: TransactionType
    ) -> WalletTransaction:
        async with self._db.read() as session:
            record = await WalletTransactions(session).get(client_id, transaction_id)
        if record is None or record.type != kind.value:
            raise NotFound("wallet transaction", transaction_id)
        return record

    async def _pending(
        self, session: AsyncSession, transaction_id: str, kind: TransactionType
    ) -> WalletTransaction:
        record = await WalletTransactions(session).get_for_update(transaction_id)
        if record is None or record.type != kind.value:
            raise NotFound("wallet transaction", transaction_id)
        return record

    async def _reload(self, session: AsyncSession, transaction_id: str) -> WalletTransaction:
        record = await WalletTransactions(session).get_for_update(transaction_id)
        if record is None:
            raise InvalidState(f"wallet transaction {transaction_id} vanished")
        return record

    async def _finish(
        self,
        session: AsyncSession,
        record: WalletTransaction,
        *,
        status: TransactionStatus,
        balance_after: int,
        error: LastError | None,
        now: dt.datetime,
    ) -> WalletTransaction:
        transactions = WalletTransactions(session)
        await transactions.record_outcome(
            record.id, status=status.value, balance_after=balance_after, error=error, now=now
        )
        return await self._reload(session, record.id)


def taken_for(line: WalletTransaction) -> str:
    """What a REFUND line takes money back or advances for, a refund's or a dispute's
    id: its payment reference, less the suffix (``:owed``, ``:owed:undone``) of the
    lines booking what is owed (:meth:`WalletService._owed_line`)."""
    return line.payment_reference.split(":", 1)[0]


def _movement(
    client_id: str, new: NewMovement, kind: TransactionType, signed: int, now: dt.datetime
) -> WalletTransaction:
    return WalletTransaction(
        id=new_id("wtx"),
        client_id=client_id,
        wallet_id=new.wallet_id,
        type=kind.value,
        status=TransactionStatus.PENDING.value,
        amount=signed,
        currency=new.currency,
        balance_after=0,
        payment_method_id=new.payment_method_id,
        description=new.description,
        metadata=dict(new.metadata),
        create_time=now,
        update_time=now,
    )


def _wallet_of(record: WalletRecord, accounts: list[AccountBalance]) -> Wallet:
    balances: dict[str, int] = {}
    pending: dict[str, int] = {}
    update_time = record.update_time
    for account in accounts:
        kind = account.kind
        if kind is AccountKind.USER_WALLET:
            balances[account.currency] = account.balance
        elif kind is AccountKind.USER_PENDING:
            pending[account.currency] = account.balance
        update_time = max(update_time, account.update_time)
    return Wallet(
        id=record.id,
        owner_id=record.owner_id,
        balances=balances,
        pending=pending,
        metadata=dict(record.metadata),
        create_time=record.create_time,
        update_time=update_time,
    )


def _wallet_exists(existing: WalletRecord) -> AlreadyExists:
    return AlreadyExists(
        f"owner {existing.owner_id!r} already has wallet {existing.id}",
        reason="WALLET_ALREADY_EXISTS",
        metadata={"owner_id": existing.owner_id, "wallet_id": existing.id},
    )


async def _insufficient(
    session: AsyncSession, account: AccountRef, amount: int
) -> InsufficientFunds:
    """Says what the wallet holds, so the caller can ask for less or top up. The failed
    debit changed nothing (its UPDATE matched no row), so the balance reads as it is."""
    available = await Ledger(session).balance(account)
    wallet_id, currency = account.owner_id, account.currency
    return InsufficientFunds(
        f"wallet {wallet_id} has {available} {currency} available, less than {amount}",
        metadata={
            "wallet_id": wallet_id,
            "currency": currency,
            "amount": str(amount),
            "available": str(available),
        },
    )


async def _ended_event(session: AsyncSession, record: WalletTransaction) -> WalletTransaction:
    """Tell the client how its deposit or payout ended: wallet.deposit.succeeded /
    .failed, wallet.withdrawal.succeeded / .failed. The end is often news the call
    could not give (3-D Secure finished later, a debit or payout the bank returned days
    later, even after it settled: then a .failed follows the .succeeded)."""
    ended = "succeeded" if record.status == TransactionStatus.SUCCEEDED.value else "failed"
    await record_event(
        session,
        client_id=record.client_id,
        event_type=f"wallet.{record.type}.{ended}",
        resource_id=record.id,
        data=record,
    )
    return record
