"""isa.sandbox.v1.SandboxService: what a payer's browser would do, on the simulator."""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from isa.sandbox.v1 import sandbox_service_pb2 as pb
from server.context import caller
from server.errors import FieldViolation, InvalidInput, InvalidState, NotYetAvailable
from server.idempotency import Idempotency
from server.interceptors import Context
from server.ledger.wallets import (
    TransactionStatus,
    TransactionType,
    WalletService,
    WalletTransaction,
)
from server.payments.sandbox import SandboxHelpers
from server.servicers.gateway_calls import run_finishing, run_gateway_idempotent
from server.servicers.payment import payment_token
from server.servicers.payment_messages import (
    account_message,
    checkout_message,
    dispute_message,
    intent_message,
)
from server.servicers.support import Checks, run_idempotent
from server.servicers.wallet import transaction_message

#: Methods not built yet, with the note their UNIMPLEMENTED answer carries.
PENDING_SANDBOX_METHODS: Final = {
    "AdvanceTestClock": "test clocks arrive with subscriptions",
}
#: The one method whose request may hold a card number (``server.handlers`` refuses them
#: everywhere else): CreateTestCardToken stands in for a gateway's client-side library.
CARD_ACCEPTING_SANDBOX_METHODS: Final = frozenset({"CreateTestCardToken"})


_RETURN_CODE: Final = re.compile(r"R[0-9]{2}")


class SandboxServicer:
    def __init__(
        self,
        idempotency: Idempotency,
        helpers: SandboxHelpers,
        wallets: WalletService | None = None,
    ) -> None:
        self._idempotency = idempotency
        self._helpers = helpers
        self._wallets = wallets

    async def CreateTestCardToken(
        self, request: pb.CreateTestCardTokenRequest, _context: Context
    ) -> pb.CreateTestCardTokenResponse:
        checks = Checks()
        if not (request.number.isdigit() and 13 <= len(request.number) <= 19):
            checks.fail("number", "must be 13 to 19 digits, no spaces")
        if not 1 <= request.exp_month <= 12:
            checks.fail("exp_month", "must be 1 to 12")
        today = dt.datetime.now(dt.UTC).date()
        if (request.exp_year, request.exp_month) < (today.year, today.month):
            checks.fail("exp_year", "the card has expired")
        if not (request.cvc.isdigit() and 3 <= len(request.cvc) <= 4):
            checks.fail("cvc", "must be 3 or 4 digits")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()

        async def tokenize(_session: AsyncSession) -> pb.CreateTestCardTokenResponse:
            made = self._helpers.tokenize(
                number=request.number, exp_month=request.exp_month, exp_year=request.exp_year
            )
            return pb.CreateTestCardTokenResponse(
                token=made.token, brand=made.brand, last4=made.last4
            )

        return await run_idempotent(
            self._idempotency, request, key, pb.CreateTestCardTokenResponse, tokenize
        )

    async def CompleteAuthentication(
        self, request: pb.CompleteAuthenticationRequest, _context: Context
    ) -> pb.CompleteAuthenticationResponse:
        checks = Checks()
        intent_id = checks.resource_id("payment_intent_id", request.payment_intent_id, prefix="pi")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        return await run_finishing(
            self._idempotency,
            request,
            key,
            pb.CompleteAuthenticationResponse,
            respond=lambda intent: pb.CompleteAuthenticationResponse(
                payment_intent=intent_message(intent)
            ),
            action=lambda finish: self._helpers.complete_authentication(
                client_id, intent_id, succeed=request.succeed, finish=finish
            ),
        )

    async def CompleteCheckoutSession(
        self, request: pb.CompleteCheckoutSessionRequest, _context: Context
    ) -> pb.CompleteCheckoutSessionResponse:
        checks = Checks()
        session_id = checks.resource_id(
            "checkout_session_id", request.checkout_session_id, prefix="cs"
        )
        method_id = payment_token(
            checks, "payment_method_id", request.payment_method_id, required=True
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def pay() -> pb.CompleteCheckoutSessionResponse:
            checkout, intent = await self._helpers.complete_checkout(
                client_id, session_id, method_id, key
            )
            return pb.CompleteCheckoutSessionResponse(
                checkout_session=checkout_message(checkout), payment_intent=intent_message(intent)
            )

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.CompleteCheckoutSessionResponse, pay
        )

    async def CompleteAccountOnboarding(
        self, request: pb.CompleteAccountOnboardingRequest, _context: Context
    ) -> pb.CompleteAccountOnboardingResponse:
        checks = Checks()
        account_id = checks.resource_id(
            "connected_account_id", request.connected_account_id, prefix="acct"
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def onboard() -> pb.CompleteAccountOnboardingResponse:
            account = await self._helpers.complete_onboarding(client_id, account_id)
            return pb.CompleteAccountOnboardingResponse(connected_account=account_message(account))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.CompleteAccountOnboardingResponse, onboard
        )

    async def OpenTestDispute(
        self, request: pb.OpenTestDisputeRequest, _context: Context
    ) -> pb.OpenTestDisputeResponse:
        checks = Checks()
        intent_id = checks.resource_id("payment_intent_id", request.payment_intent_id, prefix="pi")
        if request.amount < 0:
            checks.fail("amount", "must be 0 (all the payment received) or positive")
        reason = checks.text("reason", request.reason, max_length=100) or "fraudulent"
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def open_dispute() -> pb.OpenTestDisputeResponse:
            dispute = await self._helpers.open_dispute(
                client_id, intent_id, amount=request.amount, reason=reason.lower()
            )
            return pb.OpenTestDisputeResponse(dispute=dispute_message(dispute))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.OpenTestDisputeResponse, open_dispute
        )

    async def CloseTestDispute(
        self, request: pb.CloseTestDisputeRequest, _context: Context
    ) -> pb.CloseTestDisputeResponse:
        checks = Checks()
        dispute_id = checks.resource_id("dispute_id", request.dispute_id, prefix="dp")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def close_dispute() -> pb.CloseTestDisputeResponse:
            dispute = await self._helpers.close_dispute(client_id, dispute_id, won=request.won)
            return pb.CloseTestDisputeResponse(dispute=dispute_message(dispute))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.CloseTestDisputeResponse, close_dispute
        )

    async def AdvanceBankTransfer(
        self, request: pb.AdvanceBankTransferRequest, _context: Context
    ) -> pb.AdvanceBankTransferResponse:
        checks = Checks()
        intent_id = transaction_id = ""
        if request.wallet_transaction_id and request.payment_intent_id:
            checks.fail("wallet_transaction_id", "set exactly one of this and payment_intent_id")
        elif request.wallet_transaction_id:
            transaction_id = checks.resource_id(
                "wallet_transaction_id", request.wallet_transaction_id, prefix="wtx"
            )
        else:
            intent_id = checks.resource_id(
                "payment_intent_id", request.payment_intent_id, prefix="pi"
            )
        if request.outcome not in (
            pb.BANK_TRANSFER_OUTCOME_SETTLE,
            pb.BANK_TRANSFER_OUTCOME_RETURN,
        ):
            checks.fail("outcome", "must be BANK_TRANSFER_OUTCOME_SETTLE or _RETURN")
        if request.return_code and not _RETURN_CODE.fullmatch(request.return_code):
            checks.fail("return_code", 'must be a NACHA return code such as "R01"')
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id
        settle = request.outcome == pb.BANK_TRANSFER_OUTCOME_SETTLE
        if transaction_id:

            async def advance_payout() -> pb.AdvanceBankTransferResponse:
                record = await self._advance_payout(
                    client_id, transaction_id, settle=settle, return_code=request.return_code
                )
                return pb.AdvanceBankTransferResponse(
                    wallet_transaction=transaction_message(record)
                )

            return await run_gateway_idempotent(
                self._idempotency, request, key, pb.AdvanceBankTransferResponse, advance_payout
            )
        return await run_finishing(
            self._idempotency,
            request,
            key,
            pb.AdvanceBankTransferResponse,
            respond=lambda intent: pb.AdvanceBankTransferResponse(
                payment_intent=intent_message(intent)
            ),
            action=lambda finish: self._helpers.advance_bank_transfer(
                client_id,
                intent_id,
                settle=settle,
                return_code=request.return_code,
                finish=finish,
            ),
        )

    async def _advance_payout(
        self, client_id: str, transaction_id: str, *, settle: bool, return_code: str
    ) -> WalletTransaction:
        """Settle or return the payout of the caller's PENDING withdrawal, or return the
        payout of a SUCCEEDED one (the bank sending it back after settlement)."""
        if self._wallets is None:
            raise NotYetAvailable("wallets are not served here")
        record = await self._wallets.get_transaction(client_id, transaction_id)
        if record.type != TransactionType.WITHDRAWAL.value:
            hint = (
                f"; advance its payment with payment_intent_id {record.payment_reference!r}"
                if record.type == TransactionType.DEPOSIT.value and record.payment_reference
                else ""
            )
            raise InvalidInput(
                [
                    FieldViolation(
                        "wallet_transaction_id",
                        f"is a {record.type}, not a withdrawal: only a withdrawal's payout is "
                        f"advanced by wallet_transaction_id{hint}",
                    )
                ]
            )
        late_return = not settle and record.status == TransactionStatus.SUCCEEDED.value
        pending = record.status == TransactionStatus.PENDING.value
        if not (pending or late_return) or not record.payment_reference:
            raise InvalidState(
                f"withdrawal {transaction_id} is {record.status}"
                + ("" if record.payment_reference else " and has no payout yet")
                + ": only a PENDING withdrawal's payout can be settled or returned,"
                " and a SUCCEEDED one's returned",
                metadata={"status": record.status},
            )
        await self._helpers.advance_payout(
            client_id,
            record.payment_method_id,
            record.payment_reference,
            settle=settle,
            return_code=return_code,
        )
        return await self._wallets.get_transaction(client_id, transaction_id)
