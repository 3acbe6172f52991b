"""The Square adapter: Payments (delayed capture), Refunds, Customers and Cards on file.

It speaks only :class:`~gateways.square.client.SquareApi` (plain dicts); the SDK stays
in ``client.py``. Square's statuses and error codes map through tables where anything
unrecognised is never success, and declines speak Stripe's codes like every adapter.

Manual capture is Square's delayed capture: CreatePayment with ``autocomplete=false``
(APPROVED), then CompletePayment. Capturing less than authorized first lowers
``amount_money`` with UpdatePayment, which Square allows on APPROVED payments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from gateways.errors import GatewayRejected
from gateways.square.client import (
    NAME,
    Params,
    SquareApi,
    SquareConfig,
    SquareDeclined,
    SquareError,
    errors_of,
)
from gateways.types import (
    AttachRequest,
    CancelRequest,
    Capability,
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    CustomerRequest,
    DetachRequest,
    GatewayInfo,
    GatewayKind,
    GatewayMode,
    MethodType,
    Outcome,
    PaymentError,
    RefundRequest,
    RefundResult,
    RefundRetrieveRequest,
    RetrieveRequest,
    SavedMethod,
    derive_key,
)

_OUTCOMES: Final = {
    "APPROVED": Outcome.REQUIRES_CAPTURE,
    "COMPLETED": Outcome.SUCCEEDED,
    "CANCELED": Outcome.CANCELED,
    "FAILED": Outcome.DECLINED,
    "PENDING": Outcome.PROCESSING,
}
_REFUND_OUTCOMES: Final = {
    "COMPLETED": Outcome.SUCCEEDED,
    "PENDING": Outcome.PROCESSING,
    "REJECTED": Outcome.DECLINED,
    "FAILED": Outcome.DECLINED,
}
#: The statuses a webhook's object may carry and we read (anything else: no update).
PAYMENT_STATUSES: Final = frozenset(_OUTCOMES)
REFUND_STATUSES: Final = frozenset(_REFUND_OUTCOMES)
#: Square's card error codes as Stripe's decline codes (our API speaks Stripe's codes).
DECLINE_CODES: Final = {
    "CARD_DECLINED": "generic_decline",
    "GENERIC_DECLINE": "generic_decline",
    "INSUFFICIENT_FUNDS": "insufficient_funds",
    "GIFT_CARD_AVAILABLE_AMOUNT": "insufficient_funds",
    "CVV_FAILURE": "incorrect_cvc",
    "VERIFY_CVV_FAILURE": "incorrect_cvc",
    "ADDRESS_VERIFICATION_FAILURE": "incorrect_zip",
    "VERIFY_AVS_FAILURE": "incorrect_zip",
    "INVALID_EXPIRATION": "expired_card",
    "CARD_EXPIRED": "expired_card",
    "INVALID_CARD": "invalid_number",
    "INVALID_CARD_DATA": "invalid_number",
    "INVALID_ACCOUNT": "invalid_account",
    "CARD_NOT_SUPPORTED": "card_not_supported",
    "CARD_DECLINED_CALL_ISSUER": "call_issuer",
    "CARD_DECLINED_VERIFICATION_REQUIRED": "authentication_required",
    "INVALID_PIN": "incorrect_pin",
    "ALLOWABLE_PIN_TRIES_EXCEEDED": "pin_try_exceeded",
    "TRANSACTION_LIMIT": "card_velocity_exceeded",
    "AMOUNT_TOO_HIGH": "card_velocity_exceeded",
    "VOICE_FAILURE": "call_issuer",
    "PAN_FAILURE": "invalid_number",
    "EXPIRATION_FAILURE": "expired_card",
    "INVALID_POSTAL_CODE": "incorrect_zip",
    "CHIP_INSERTION_REQUIRED": "card_not_supported",
    "BAD_EXPIRATION": "expired_card",
}
#: Square's ``card_brand`` as Stripe's brand names.
BRANDS: Final = {
    "VISA": "visa",
    "MASTERCARD": "mastercard",
    "AMERICAN_EXPRESS": "amex",
    "DISCOVER": "discover",
    "DISCOVER_DINERS": "diners",
    "JCB": "jcb",
    "CHINA_UNIONPAY": "unionpay",
    "INTERAC": "interac",
    "EFTPOS": "eftpos",
    "FELICA": "felica",
    "EBT": "ebt",
    "SQUARE_GIFT_CARD": "square_gift_card",
}
CURRENCIES: Final = frozenset({"usd", "cad", "gbp", "eur", "aud", "jpy"})
_NOTE_LIMIT: Final = 500  # CreatePayment.note
_REASON_LIMIT: Final = 192  # RefundPayment.reason


def money(amount: int, currency: str) -> Params:
    """Square's Money: integer minor units and an upper-case ISO 4217 code."""
    return {"amount": amount, "currency": currency.upper()}


def _amount(payment: Mapping[str, Any]) -> int:
    total = payment.get("total_money") or payment.get("amount_money") or {}
    return int(total.get("amount") or 0)


def payment_error(errors: Sequence[SquareError]) -> PaymentError:
    """The first card error Square gave, in Stripe's terms (``card_declined`` + reason)."""
    first = errors[0] if errors else SquareError(category="", code="GENERIC_DECLINE")
    return PaymentError(
        code="card_declined",
        decline_code=DECLINE_CODES.get(first.code, "generic_decline"),
        message=first.detail or "The card was declined.",
    )


def charge_result(payment: Mapping[str, Any]) -> ChargeResult:
    """A Square Payment (an API answer or a webhook's object) as a result."""
    outcome = _OUTCOMES.get(str(payment.get("status") or ""), Outcome.PROCESSING)
    error = None
    if outcome is Outcome.DECLINED:
        error = payment_error(errors_of(payment.get("card_details") or {}))
    amount = _amount(payment)
    return ChargeResult(
        outcome=outcome,
        gateway_reference=str(payment["id"]),
        amount_capturable=amount if outcome is Outcome.REQUIRES_CAPTURE else 0,
        amount_received=amount if outcome is Outcome.SUCCEEDED else 0,
        error=error,
    )


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """A Square PaymentRefund (an API answer or a webhook's object) as a result."""
    status = str(refund.get("status") or "")
    outcome = _REFUND_OUTCOMES.get(status, Outcome.PROCESSING)
    error = None
    if outcome is Outcome.DECLINED:
        error = PaymentError(code="refund_failed", message=f"Square refund {status.lower()}")
    money_ = refund.get("amount_money") or {}
    return RefundResult(
        outcome=outcome,
        gateway_reference=str(refund["id"]),
        error=error,
        amount=int(money_.get("amount") or 0),
        currency=str(money_.get("currency") or "").lower(),
        payment_reference=str(refund.get("payment_id") or ""),
    )


def _declined(declined: SquareDeclined) -> ChargeResult:
    payment = declined.payment or {}
    return ChargeResult(
        outcome=Outcome.DECLINED,
        gateway_reference=str(payment.get("id") or ""),
        error=payment_error(declined.errors),
    )


def saved_card(card: Mapping[str, Any]) -> SavedMethod:
    return SavedMethod(
        gateway_reference=str(card["id"]),
        type=MethodType.CARD,
        brand=BRANDS.get(str(card.get("card_brand") or ""), "unknown"),
        last4=str(card.get("last_4") or ""),
        exp_month=int(card.get("exp_month") or 0),
        exp_year=int(card.get("exp_year") or 0),
    )


def _mode(base_url: str | None) -> GatewayMode:
    return GatewayMode.LIVE if base_url is None else GatewayMode.TEST


class SquareGateway:
    """Card payments (delayed capture, partial refunds) and cards on file on Square."""

    def __init__(self, config: SquareConfig, api: SquareApi | None = None) -> None:
        self._api = api or SquareApi(config)
        self.info = GatewayInfo(
            name=NAME,
            display_name="Square",
            kind=GatewayKind.CARD,
            mode=_mode(config.base_url),
            capabilities=frozenset(
                {
                    Capability.MANUAL_CAPTURE,
                    Capability.PARTIAL_CAPTURE,
                    Capability.REFUNDS,
                    Capability.SAVED_METHODS,
                    Capability.WEBHOOKS,
                }
            ),
            currencies=CURRENCIES,
            method_types=frozenset({MethodType.CARD}),
        )

    async def close(self) -> None:
        await self._api.close()

    # --- card payments -------------------------------------------------------------------

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.destination_reference:
            raise GatewayRejected(
                NAME, "Square does not make destination charges", code="unsupported"
            )
        params: Params = {
            "source_id": request.payment_method,
            "amount_money": money(request.amount, request.currency),
            "autocomplete": not request.manual_capture,
        }
        if request.customer_reference:
            params["customer_id"] = request.customer_reference
        if request.description:
            params["note"] = request.description[:_NOTE_LIMIT]
        try:
            answer = await self._api.create_payment(params, request.idempotency_key)
        except SquareDeclined as declined:
            return _declined(declined)
        return charge_result(answer["payment"])

    async def retrieve(self, request: RetrieveRequest) -> ChargeResult:
        answer = await self._api.get_payment(request.gateway_reference)
        return charge_result(answer["payment"])

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        """Complete an APPROVED payment, first lowering its amount for a partial capture.

        Reading first makes a repeat safe: a payment already COMPLETED (the first try's
        answer was lost) is returned as it is rather than completed twice.
        """
        payment = (await self._api.get_payment(request.gateway_reference))["payment"]
        if payment.get("status") != "APPROVED":
            return charge_result(payment)
        authorized = payment.get("amount_money") or {}
        if str(authorized.get("currency") or "").upper() != request.currency.upper():
            raise GatewayRejected(
                NAME, "capture currency differs from the payment's", code="currency_mismatch"
            )
        if int(authorized.get("amount") or 0) != request.amount:
            payment = (
                await self._api.update_payment(
                    request.gateway_reference,
                    {"amount_money": money(request.amount, request.currency)},
                    derive_key(request.idempotency_key, "square-amount"),
                )
            )["payment"]
        try:
            answer = await self._api.complete_payment(
                request.gateway_reference, version_token=payment.get("version_token")
            )
        except SquareDeclined as declined:
            return _declined(declined)
        return charge_result(answer["payment"])

    async def cancel(self, request: CancelRequest) -> ChargeResult:
        answer = await self._api.cancel_payment(request.gateway_reference)
        return charge_result(answer["payment"])

    async def refund(self, request: RefundRequest) -> RefundResult:
        params: Params = {
            "payment_id": request.gateway_reference,
            "amount_money": money(request.amount, request.currency),
        }
        if request.reason:
            params["reason"] = request.reason[:_REASON_LIMIT]
        answer = await self._api.refund_payment(params, request.idempotency_key)
        return refund_result(answer["refund"])

    async def retrieve_refund(self, request: RefundRetrieveRequest) -> RefundResult:
        answer = await self._api.get_refund(request.gateway_reference)
        return refund_result(answer["refund"])

    # --- customers and cards on file -----------------------------------------------------

    async def create_customer(self, request: CustomerRequest) -> str:
        params: Params = {}
        if request.email:
            params["email_address"] = request.email
        given, _, family = request.name.strip().partition(" ")
        if given:
            params["given_name"] = given
        if family.strip():
            params["family_name"] = family.strip()
        answer = await self._api.create_customer(params, request.idempotency_key)
        return str(answer["customer"]["id"])

    async def attach(self, request: AttachRequest) -> SavedMethod:
        """CreateCard from a Web Payments SDK token (``source_id``) on the customer."""
        try:
            answer = await self._api.create_card(
                request.token, request.customer_reference, request.idempotency_key
            )
        except SquareDeclined as declined:
            return SavedMethod(
                gateway_reference=request.token,
                type=MethodType.CARD,
                error=payment_error(declined.errors),
            )
        return saved_card(answer["card"])

    async def detach(self, request: DetachRequest) -> None:
        """DisableCard: Square keeps the card but never charges it again."""
        await self._api.disable_card(request.gateway_reference)
