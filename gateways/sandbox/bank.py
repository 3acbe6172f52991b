"""The sandbox's bank rail: Plaid-shaped linking, micro-deposits and ACH transfers.

Test accounts are chosen by ``account_id`` at ``exchange_public_token`` (any
``public-sandbox-...`` token stands for a finished Link session, once); the account
decides what its bank does:

=============================  ======  ============================================
account_id                     mask    behaviour
=============================  ======  ============================================
``sandbox-checking``           0000    verified; debits settle
``sandbox-savings``            1111    verified (savings); debits settle
``sandbox-insufficient-funds`` 0001    verified; settling a debit returns it ``R01``
``sandbox-account-closed``     0002    verified; settling a debit returns it ``R02``
``sandbox-microdeposits``      0003    pending same-day micro-deposits of 32 and 45
=============================  ======  ============================================

Transfers stay pending until :meth:`SandboxBankRail.advance_transfer` (the bank acting;
``SandboxService.AdvanceBankTransfer``) settles or returns them; each change is logged
for ``sync_transfer_events`` and announced by a signed webhook, like Plaid's
``TRANSFER_EVENTS_UPDATE``. State lives in this process, like the card simulator's.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, TypeVar

from gateways.errors import GatewayRejected
from gateways.sandbox.events import bank_transfer_event
from gateways.sandbox.refs import sandbox_ref
from gateways.sandbox.webhooks import SandboxWebhooks
from gateways.types import (
    BankAccount,
    BankAccountRequest,
    BankTransferDirection,
    BankTransferEvent,
    BankTransferEventPage,
    BankTransferRequest,
    BankTransferResult,
    BankVerification,
    ExchangeRequest,
    LinkToken,
    LinkTokenRequest,
    MicroDepositRequest,
    MicroDepositResult,
    Outcome,
    PaymentError,
    ach_return_error,
)

NAME: Final = "sandbox"
BANK_NAME: Final = "First Platypus Bank"  # Plaid sandbox's test institution
LINK_TOKEN_TTL: Final = dt.timedelta(hours=4)
PUBLIC_TOKEN_PREFIX: Final = "public-sandbox-"  # noqa: S105 - a prefix, not a secret
MICRO_DEPOSIT_AMOUNTS: Final = (32, 45)
MICRO_DEPOSIT_ATTEMPTS: Final = 3
T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class TestBankAccount:
    mask: str
    subtype: str
    verification: BankVerification
    return_on_settle: str = ""  # the ACH code the bank returns instead of settling


TEST_ACCOUNTS: Final = {
    "sandbox-checking": TestBankAccount(
        mask="0000", subtype="checking", verification=BankVerification.VERIFIED
    ),
    "sandbox-savings": TestBankAccount(
        mask="1111", subtype="savings", verification=BankVerification.VERIFIED
    ),
    "sandbox-insufficient-funds": TestBankAccount(
        mask="0001",
        subtype="checking",
        verification=BankVerification.VERIFIED,
        return_on_settle="R01",
    ),
    "sandbox-account-closed": TestBankAccount(
        mask="0002",
        subtype="checking",
        verification=BankVerification.VERIFIED,
        return_on_settle="R02",
    ),
    "sandbox-microdeposits": TestBankAccount(
        mask="0003", subtype="checking", verification=BankVerification.PENDING_MANUAL
    ),
}


class _Status(enum.Enum):
    """Plaid's transfer statuses the simulator uses."""

    PENDING = "pending"
    SETTLED = "settled"
    RETURNED = "returned"


@dataclass(slots=True, kw_only=True)
class _Account:
    account_id: str
    test: TestBankAccount
    verification: BankVerification
    attempts_left: int = MICRO_DEPOSIT_ATTEMPTS


@dataclass(slots=True, kw_only=True)
class _Transfer:
    reference: str
    authorization: str
    account: _Account
    direction: BankTransferDirection
    amount: int
    status: _Status = _Status.PENDING
    return_code: str = ""
    settled_before_return: bool = False

    def result(self) -> BankTransferResult:
        outcome = {
            _Status.PENDING: Outcome.PROCESSING,
            _Status.SETTLED: Outcome.SUCCEEDED,
            _Status.RETURNED: Outcome.DECLINED,
        }[self.status]
        return BankTransferResult(
            outcome=outcome,
            gateway_reference=self.reference,
            authorization_reference=self.authorization,
            amount=self.amount,
            return_code=self.return_code,
            settled_before_return=self.settled_before_return,
            error=(
                ach_return_error(self.return_code, direction=self.direction)
                if self.return_code
                else None
            ),
        )


@dataclass(slots=True)
class _BankState:
    link_tokens: set[str] = field(default_factory=set)
    used_public_tokens: set[str] = field(default_factory=set)
    items: dict[str, dict[str, _Account]] = field(default_factory=dict)  # access token → accounts
    transfers: dict[str, _Transfer] = field(default_factory=dict)
    events: list[BankTransferEvent] = field(default_factory=list)


def _ref(prefix: str) -> str:
    return sandbox_ref(prefix, separator="-")


class SandboxBankRail:
    """The bank half of :class:`gateways.sandbox.SandboxGateway` (a mixin).

    It reuses the gateway's network simulation (``_call`` replays by idempotency key
    and injects faults; ``_read`` adds latency) and its webhook sender.
    """

    _webhooks: SandboxWebhooks | None
    _bank: _BankState

    async def _call(self, operation: str, key: str, act: Callable[[], T]) -> T:
        raise NotImplementedError  # provided by SandboxGateway

    async def _read(self, act: Callable[[], T]) -> T:
        raise NotImplementedError  # provided by SandboxGateway

    # --- BankAccounts ----------------------------------------------------------------

    async def create_link_token(self, request: LinkTokenRequest) -> LinkToken:
        def act() -> LinkToken:
            token = _ref("link")
            self._bank.link_tokens.add(token)
            return LinkToken(link_token=token, expire_time=dt.datetime.now(dt.UTC) + LINK_TOKEN_TTL)

        return await self._call("link_token", request.idempotency_key, act)

    async def exchange_public_token(self, request: ExchangeRequest) -> BankAccount:
        def act() -> BankAccount:
            token = request.public_token
            if not token.startswith(PUBLIC_TOKEN_PREFIX) or len(token) == len(PUBLIC_TOKEN_PREFIX):
                raise GatewayRejected(
                    NAME, "not a sandbox public token", code="INVALID_PUBLIC_TOKEN"
                )
            if token in self._bank.used_public_tokens:
                raise GatewayRejected(
                    NAME, "the public token was already exchanged", code="INVALID_PUBLIC_TOKEN"
                )
            test = TEST_ACCOUNTS.get(request.account_id)
            if test is None:
                raise GatewayRejected(
                    NAME, f"no such account: {request.account_id!r}", code="INVALID_ACCOUNT_ID"
                )
            self._bank.used_public_tokens.add(token)
            access_token = _ref("access")
            account = _Account(
                account_id=request.account_id, test=test, verification=test.verification
            )
            self._bank.items[access_token] = {request.account_id: account}
            return self._describe(access_token, account)

        return await self._call("exchange", request.idempotency_key, act)

    @staticmethod
    def _describe(access_token: str, account: _Account) -> BankAccount:
        return BankAccount(
            access_token=access_token,
            item_reference=f"item-sandbox-{access_token[-16:]}",
            account_id=account.account_id,
            mask=account.test.mask,
            bank_name=BANK_NAME,
            subtype=account.test.subtype,
            holder_name="Alberta Bobbeth Charleson",  # Plaid sandbox's test identity
            verification=account.verification,
        )

    def _account(self, access_token: str, account_id: str) -> _Account:
        account = self._bank.items.get(access_token, {}).get(account_id)
        if account is None:
            raise GatewayRejected(
                NAME, "unknown access token or account", code="INVALID_ACCESS_TOKEN"
            )
        return account

    async def get_account(self, request: BankAccountRequest) -> BankAccount:
        return await self._read(
            lambda: self._describe(
                request.access_token, self._account(request.access_token, request.account_id)
            )
        )

    async def verify_micro_deposits(self, request: MicroDepositRequest) -> MicroDepositResult:
        def act() -> MicroDepositResult:
            account = self._account(request.access_token, request.account_id)
            if account.verification is not BankVerification.PENDING_MANUAL:
                raise GatewayRejected(
                    NAME, "the account is not awaiting micro-deposits", code="INVALID_STATE"
                )
            if tuple(sorted(request.amounts)) == MICRO_DEPOSIT_AMOUNTS:
                account.verification = BankVerification.VERIFIED
                return MicroDepositResult(verified=True, verification=account.verification)
            account.attempts_left -= 1
            if account.attempts_left <= 0:
                account.verification = BankVerification.FAILED
            return MicroDepositResult(
                verified=False,
                verification=account.verification,
                attempts_remaining=account.attempts_left,
                error=PaymentError(
                    code="microdeposit_amounts_mismatch",
                    message="The amounts do not match the micro-deposits sent.",
                ),
            )

        return await self._call("verify_micro_deposits", request.idempotency_key, act)

    # --- BankTransfers ---------------------------------------------------------------

    async def create_transfer(self, request: BankTransferRequest) -> BankTransferResult:
        def act() -> BankTransferResult:
            account = self._account(request.access_token, request.account_id)
            if request.currency != "usd":
                raise GatewayRejected(NAME, "ACH moves usd only", code="INVALID_FIELD")
            authorization = _ref("authz")
            if account.verification is not BankVerification.VERIFIED:
                return BankTransferResult(
                    outcome=Outcome.DECLINED,
                    gateway_reference="",
                    authorization_reference=authorization,
                    amount=request.amount,
                    error=PaymentError(
                        code="authorization_declined",
                        decline_code="manually_verified_item",
                        message="The bank account is not verified.",
                    ),
                )
            transfer = _Transfer(
                reference=_ref("transfer"),
                authorization=authorization,
                account=account,
                direction=request.direction,
                amount=request.amount,
            )
            self._bank.transfers[transfer.reference] = transfer
            self._log(transfer, "pending")
            return transfer.result()

        return await self._call("transfer", request.idempotency_key, act)

    def _transfer(self, reference: str) -> _Transfer:
        transfer = self._bank.transfers.get(reference)
        if transfer is None:
            raise GatewayRejected(NAME, f"no such transfer: {reference!r}", code="NOT_FOUND")
        return transfer

    async def retrieve_transfer(self, gateway_reference: str) -> BankTransferResult:
        return await self._read(lambda: self._transfer(gateway_reference).result())

    async def sync_transfer_events(self, after_id: int) -> BankTransferEventPage:
        def act() -> BankTransferEventPage:
            events = tuple(e for e in self._bank.events if e.event_id > after_id)
            return BankTransferEventPage(
                events=events, next_after_id=events[-1].event_id if events else after_id
            )

        return await self._read(act)

    def _log(self, transfer: _Transfer, event_type: str) -> None:
        self._bank.events.append(
            BankTransferEvent(
                event_id=len(self._bank.events) + 1,
                event_type=event_type,
                transfer=transfer.result(),
                time=dt.datetime.now(dt.UTC),
            )
        )

    # --- test helper (SandboxService.AdvanceBankTransfer) ----------------------------

    async def advance_transfer(
        self, gateway_reference: str, *, settle: bool, return_code: str = ""
    ) -> BankTransferResult:
        """The bank settling or returning a transfer; announced by webhook."""

        def act() -> BankTransferResult:
            transfer = self._transfer(gateway_reference)
            if transfer.status is _Status.RETURNED or (
                settle and transfer.status is _Status.SETTLED
            ):
                raise GatewayRejected(
                    NAME, f"the transfer is already {transfer.status.value}", code="INVALID_STATE"
                )
            code = return_code or "R01"
            settles = settle
            if settle and transfer.account.test.return_on_settle:
                settles, code = False, transfer.account.test.return_on_settle
            if settles:
                transfer.status = _Status.SETTLED
                self._log(transfer, "settled")
            else:
                transfer.settled_before_return = transfer.status is _Status.SETTLED
                transfer.status = _Status.RETURNED
                transfer.return_code = code
                self._log(transfer, "returned")
            return transfer.result()

        result = await self._read(act)
        if self._webhooks is not None:
            self._webhooks.emit(bank_transfer_event(result))
        return result
