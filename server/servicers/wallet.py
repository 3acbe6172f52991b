"""isa.wallet.v1.WalletService: wallets, deposits and transfers on the ledger.

Deposit charges a saved payment method through PaymentService (``server.ledger_payments``);
Withdraw holds the amount and pays it out to a verified bank account as an ACH credit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from isa.wallet.v1 import resources_pb2 as resources
from isa.wallet.v1 import wallet_service_pb2 as pb
from server.context import caller
from server.currencies import is_payable
from server.idempotency import Idempotency
from server.interceptors import Context
from server.ledger.money import is_known_currency
from server.ledger.payments import PaymentPort
from server.ledger.wallets import (
    NewMovement,
    NewTransfer,
    NewWallet,
    TransactionFilter,
    TransactionStatus,
    TransactionType,
    Transfer,
    Wallet,
    WalletService,
    WalletTransaction,
    taken_for,
)
from server.payments.money import MAX_AMOUNT
from server.servicers.ledger_calls import run_collecting
from server.servicers.payment_messages import payment_error
from server.servicers.support import (
    Checks,
    page_messages,
    run_idempotent,
    set_timestamp,
    timestamp,
)
from store.ids import has_prefix

#: Methods not built yet, with the note their UNIMPLEMENTED answer carries.
PENDING_WALLET_METHODS: Final[dict[str, str]] = {}

_TYPES: Final = {
    TransactionType.DEPOSIT: resources.WALLET_TRANSACTION_TYPE_DEPOSIT,
    TransactionType.WITHDRAWAL: resources.WALLET_TRANSACTION_TYPE_WITHDRAWAL,
    TransactionType.TRANSFER_IN: resources.WALLET_TRANSACTION_TYPE_TRANSFER_IN,
    TransactionType.TRANSFER_OUT: resources.WALLET_TRANSACTION_TYPE_TRANSFER_OUT,
    TransactionType.PAYMENT: resources.WALLET_TRANSACTION_TYPE_PAYMENT,
    TransactionType.REFUND: resources.WALLET_TRANSACTION_TYPE_REFUND,
}
_TYPE_OF: Final = {wire: kind for kind, wire in _TYPES.items()}
_STATUSES: Final = {
    TransactionStatus.PENDING: resources.WALLET_TRANSACTION_STATUS_PENDING,
    TransactionStatus.SUCCEEDED: resources.WALLET_TRANSACTION_STATUS_SUCCEEDED,
    TransactionStatus.FAILED: resources.WALLET_TRANSACTION_STATUS_FAILED,
}
MAX_OWNER_ID_LENGTH: Final = 200


def wallet_message(wallet: Wallet, message: resources.Wallet | None = None) -> resources.Wallet:
    """``wallet`` on the wire; filled into ``message`` when given (a response's own field:
    setting it in place spares building a message only to copy it in)."""
    if message is None:
        message = resources.Wallet()
    message.id = wallet.id
    message.owner_id = wallet.owner_id
    if wallet.balances:
        message.balances.update(wallet.balances)
    if wallet.pending:
        message.pending.update(wallet.pending)
    if wallet.metadata:
        message.metadata.update(wallet.metadata)
    set_timestamp(message.create_time, wallet.create_time)
    set_timestamp(message.update_time, wallet.update_time)
    return message


def transaction_message(record: WalletTransaction) -> resources.WalletTransaction:
    message = resources.WalletTransaction(
        id=record.id,
        wallet_id=record.wallet_id,
        type=_TYPES[TransactionType(record.type)],
        status=_STATUSES[TransactionStatus(record.status)],
        amount=record.amount,
        currency=record.currency,
        balance_after=record.balance_after,
        payment_method_id=record.payment_method_id,
        transfer_id=record.transfer_id,
        counterparty_wallet_id=record.counterparty_wallet_id,
        description=record.description,
        metadata=record.metadata,
        create_time=timestamp(record.create_time),
        update_time=timestamp(record.update_time),
    )
    _set_reference(message, record)
    if record.last_error is not None:
        message.last_error.CopyFrom(payment_error(record.last_error))
    return message


def _set_reference(message: resources.WalletTransaction, record: WalletTransaction) -> None:
    """Name what the line's payment reference is: a deposit's payment is one of our
    payment intents, a payout's is the gateway's; a refund line's is our refund or
    dispute (``re_…``/``dp_…``)."""
    reference = record.payment_reference
    if record.type == TransactionType.REFUND.value:
        refund_or_dispute = taken_for(record)
        if has_prefix(refund_or_dispute, "re"):
            message.refund_id = refund_or_dispute
        elif has_prefix(refund_or_dispute, "dp"):
            message.dispute_id = refund_or_dispute
    elif reference.startswith("pi_"):
        message.payment_intent_id = reference
    else:
        message.gateway_reference = reference


def transfer_message(
    transfer: Transfer, message: resources.Transfer | None = None
) -> resources.Transfer:
    """``transfer`` on the wire; filled into ``message`` when given (a response's own
    field: filling it in place spares building a message only to copy it in)."""
    if message is None:
        message = resources.Transfer()
    message.id = transfer.id
    message.from_wallet_id = transfer.from_wallet_id
    message.to_wallet_id = transfer.to_wallet_id
    message.amount = transfer.amount
    message.currency = transfer.currency
    message.note = transfer.note
    message.status = resources.TRANSFER_STATUS_COMPLETED
    message.from_transaction_id = transfer.from_transaction_id
    message.to_transaction_id = transfer.to_transaction_id
    if transfer.metadata:
        message.metadata.update(transfer.metadata)
    set_timestamp(message.create_time, transfer.create_time)
    set_timestamp(message.update_time, transfer.update_time)
    return message


def check_amount(
    checks: Checks,
    field: str,
    amount: int,
    *,
    unit: str = "minor units of the currency",
    maximum: int | None = None,
) -> int:
    if amount <= 0:
        checks.fail(field, f"must be positive ({unit})")
    elif maximum is not None and amount > maximum:
        checks.fail(field, f"must be at most {maximum} {unit}")
    return amount


def check_charge(
    checks: Checks, amount: int, currency: str, payment_method_id: str
) -> tuple[int, str, str]:
    """What a charge through PaymentService needs: a currency a card can pay, an amount
    it can take, and one of our saved payment methods (gateway tokens are attached first)."""
    if not currency:
        checks.fail("currency", "is required: a lowercase currency code such as 'usd'")
    elif not is_payable(currency):
        checks.fail("currency", "must be a lowercase currency code a card can pay, e.g. usd")
    if not 0 < amount <= MAX_AMOUNT:
        checks.fail("amount", f"must be between 1 and {MAX_AMOUNT} minor units")
    return amount, currency, check_saved_method(checks, payment_method_id)


def check_saved_method(checks: Checks, payment_method_id: str) -> str:
    if not payment_method_id:
        checks.fail("payment_method_id", "is required: a saved payment method id ('pm_…')")
    elif not has_prefix(payment_method_id, "pm"):
        checks.fail(
            "payment_method_id",
            "must be a saved payment method id ('pm_…' as AttachPaymentMethod answers it); "
            "gateway tokens such as pm_card_visa are not accepted here",
        )
    return payment_method_id


def check_currency(checks: Checks, field: str, currency: str, *, required: bool = True) -> str:
    if not currency:
        if required:
            checks.fail(field, "is required: a lowercase currency code such as 'usd'")
    elif not is_known_currency(currency):
        checks.fail(field, "must be a known lowercase currency code such as 'usd', or 'credits'")
    return currency


def check_movement(request: pb.DepositRequest | pb.WithdrawRequest) -> tuple[NewMovement, str]:
    """A deposit's or withdrawal's input, and its (required) idempotency key."""
    checks = Checks()
    amount, currency, method_id = check_charge(
        checks, request.amount, request.currency, request.payment_method_id
    )
    new = NewMovement(
        wallet_id=checks.resource_id("wallet_id", request.wallet_id, prefix="wal"),
        amount=amount,
        currency=currency,
        payment_method_id=method_id,
        description=checks.text("description", request.description, max_length=1000),
        metadata=checks.metadata("metadata", request.metadata),
    )
    key = checks.idempotency_key(request.idempotency_key, required=True)
    checks.raise_if_any()
    return new, key


class WalletServicer:
    def __init__(
        self, idempotency: Idempotency, wallets: WalletService, payments: PaymentPort
    ) -> None:
        self._idempotency = idempotency
        self._wallets = wallets
        self._payments = payments

    async def CreateWallet(
        self, request: pb.CreateWalletRequest, _context: Context
    ) -> pb.CreateWalletResponse:
        checks = Checks()
        new = NewWallet(
            owner_id=checks.text(
                "owner_id", request.owner_id, max_length=MAX_OWNER_ID_LENGTH, required=True
            ),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def create(session: AsyncSession) -> pb.CreateWalletResponse:
            wallet = await self._wallets.create(session, client_id, new)
            return pb.CreateWalletResponse(wallet=wallet_message(wallet))

        return await run_idempotent(
            self._idempotency, request, key, pb.CreateWalletResponse, create
        )

    async def GetWallet(
        self, request: pb.GetWalletRequest, _context: Context
    ) -> pb.GetWalletResponse:
        checks = Checks()
        which = request.WhichOneof("wallet")
        wallet_id = owner_id = None
        if which == "wallet_id":
            wallet_id = checks.resource_id("wallet_id", request.wallet_id, prefix="wal")
        elif which == "owner_id":
            owner_id = checks.text(
                "owner_id", request.owner_id, max_length=MAX_OWNER_ID_LENGTH, required=True
            )
        else:
            checks.fail("wallet", "set exactly one of wallet_id or owner_id")
        checks.raise_if_any()
        wallet = await self._wallets.get(caller().id, wallet_id=wallet_id, owner_id=owner_id)
        response = pb.GetWalletResponse()
        wallet_message(wallet, response.wallet)
        return response

    async def Deposit(self, request: pb.DepositRequest, _context: Context) -> pb.DepositResponse:
        new, key = check_movement(request)
        client_id = caller().id
        return await run_collecting(
            self._idempotency,
            request,
            key,
            pb.DepositResponse,
            check=lambda: self._wallet_first(
                client_id,
                new.wallet_id,
                lambda: self._payments.check_method(client_id, new.payment_method_id, new.currency),
            ),
            begin=lambda session: self._wallets.begin_deposit(session, client_id, new),
            collect=lambda transaction_id: self._wallets.collect_deposit(
                client_id, transaction_id, self._payments
            ),
            respond=lambda record: pb.DepositResponse(
                wallet_transaction=transaction_message(record)
            ),
            record_id=lambda response: response.wallet_transaction.id,
        )

    async def Withdraw(self, request: pb.WithdrawRequest, _context: Context) -> pb.WithdrawResponse:
        new, key = check_movement(request)
        client_id = caller().id
        return await run_collecting(
            self._idempotency,
            request,
            key,
            pb.WithdrawResponse,
            check=lambda: self._wallet_first(
                client_id,
                new.wallet_id,
                lambda: self._payments.check_payout_method(
                    client_id, new.payment_method_id, new.currency
                ),
            ),
            begin=lambda session: self._wallets.begin_withdrawal(session, client_id, new),
            collect=lambda transaction_id: self._wallets.collect_withdrawal(
                client_id, transaction_id, self._payments
            ),
            respond=lambda record: pb.WithdrawResponse(
                wallet_transaction=transaction_message(record)
            ),
            record_id=lambda response: response.wallet_transaction.id,
        )

    async def _wallet_first(
        self, client_id: str, wallet_id: str, check_method: Callable[[], Awaitable[None]]
    ) -> None:
        """An unknown wallet is NOT_FOUND before anything is said of the method."""
        await self._wallets.get(client_id, wallet_id=wallet_id)
        await check_method()

    async def Transfer(self, request: pb.TransferRequest, _context: Context) -> pb.TransferResponse:
        checks = Checks()
        new = NewTransfer(
            from_wallet_id=checks.resource_id(
                "from_wallet_id", request.from_wallet_id, prefix="wal"
            ),
            to_wallet_id=checks.resource_id("to_wallet_id", request.to_wallet_id, prefix="wal"),
            amount=check_amount(checks, "amount", request.amount),
            currency=check_currency(checks, "currency", request.currency),
            note=checks.text("note", request.note, max_length=500),
            metadata=checks.metadata("metadata", request.metadata),
        )
        if request.from_wallet_id and request.from_wallet_id == request.to_wallet_id:
            checks.fail("to_wallet_id", "must differ from from_wallet_id")
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        async def transfer(session: AsyncSession) -> pb.TransferResponse:
            done = await self._wallets.transfer(session, client_id, new)
            response = pb.TransferResponse()
            transfer_message(done, response.transfer)
            return response

        return await run_idempotent(self._idempotency, request, key, pb.TransferResponse, transfer)

    async def GetTransaction(
        self, request: pb.GetTransactionRequest, _context: Context
    ) -> pb.GetTransactionResponse:
        checks = Checks()
        transaction_id = checks.resource_id("id", request.id, prefix="wtx")
        checks.raise_if_any()
        record = await self._wallets.get_transaction(caller().id, transaction_id)
        return pb.GetTransactionResponse(wallet_transaction=transaction_message(record))

    async def ListTransactions(
        self, request: pb.ListTransactionsRequest, _context: Context
    ) -> pb.ListTransactionsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        wallet_id = checks.resource_id("wallet_id", request.wallet_id, prefix="wal")
        currency = check_currency(checks, "currency", request.currency, required=False)
        kind = None
        if request.type != resources.WALLET_TRANSACTION_TYPE_UNSPECIFIED:
            kind = _TYPE_OF.get(request.type)
            if kind is None:
                checks.fail("type", "is not a known WalletTransactionType")
        checks.raise_if_any()
        page = await self._wallets.list_transactions(
            caller().id,
            wallet_id,
            page_request,
            TransactionFilter(currency=currency or None, type=kind),
        )
        wallet_transactions, next_page_token = page_messages(page, transaction_message)
        return pb.ListTransactionsResponse(
            wallet_transactions=wallet_transactions, next_page_token=next_page_token
        )
