"""The Stripe adapter: PaymentIntents, refunds, saved methods, Checkout and Connect.

It speaks only :class:`~gateways.stripe.client.StripeApi` (plain dicts); the SDK stays
in ``client.py``. Stripe's statuses map through one table where anything unrecognised
is never success.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from gateways.errors import GatewayRejected
from gateways.stripe.client import NAME, CardDeclined, Params, StripeApi, StripeConfig
from gateways.types import (
    AccountLinkRequest,
    AccountLinkResult,
    AccountRequest,
    AccountResult,
    AttachRequest,
    CancelRequest,
    Capability,
    CaptureRequest,
    ChargeRequest,
    ChargeResult,
    CheckoutRequest,
    CheckoutResult,
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
)

_OUTCOMES: Final = {
    "succeeded": Outcome.SUCCEEDED,
    "requires_capture": Outcome.REQUIRES_CAPTURE,
    "requires_action": Outcome.REQUIRES_ACTION,
    "processing": Outcome.PROCESSING,
    "canceled": Outcome.CANCELED,
    "requires_payment_method": Outcome.DECLINED,  # after a confirm: the attempt failed
}
_REFUND_OUTCOMES: Final = {
    "succeeded": Outcome.SUCCEEDED,
    "pending": Outcome.PROCESSING,
    "requires_action": Outcome.PROCESSING,
    "failed": Outcome.DECLINED,
    "canceled": Outcome.DECLINED,
}
_CANCELLATION_REASONS: Final = frozenset(
    {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
)
_REFUND_REASONS: Final = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
CURRENCIES: Final = frozenset({"usd", "eur", "gbp", "cad", "aud", "jpy", "chf", "sek"})


def outcome_of(status: str) -> Outcome:
    return _OUTCOMES.get(status, Outcome.PROCESSING)


def _amount_received(intent: Params) -> int:
    if intent.get("amount_received") is not None:
        return int(intent["amount_received"])
    if intent.get("status") != "succeeded":
        return 0
    # Older API shapes (and localstripe) omit amount_received: read the charge.
    charge = intent.get("latest_charge")
    if not isinstance(charge, dict):
        charges = (intent.get("charges") or {}).get("data") or []
        charge = charges[0] if charges else None
    if isinstance(charge, dict):
        captured = charge.get("amount_captured")
        if captured is not None:
            return int(captured)
        return int(charge.get("amount", 0)) - int(charge.get("amount_refunded") or 0)
    return int(intent.get("amount", 0))


def _amount_capturable(intent: Params) -> int:
    if intent.get("amount_capturable") is not None:
        return int(intent["amount_capturable"])
    return int(intent.get("amount", 0)) if intent.get("status") == "requires_capture" else 0


def _redirect(intent: Params) -> str:
    action = intent.get("next_action") or {}
    redirect = action.get("redirect_to_url") or {}
    return str(redirect.get("url") or "")


def charge_result(intent: Params) -> ChargeResult:
    """A PaymentIntent object (an API answer or a webhook's data.object) as a result."""
    outcome = outcome_of(str(intent.get("status", "")))
    error = None
    failure = intent.get("last_payment_error")
    if outcome is Outcome.DECLINED:
        failure = failure or {}
        error = PaymentError(
            code=str(failure.get("code") or "payment_failed"),
            decline_code=str(failure.get("decline_code") or ""),
            message=str(failure.get("message") or "The payment failed."),
        )
    return ChargeResult(
        outcome=outcome,
        gateway_reference=str(intent["id"]),
        amount_capturable=_amount_capturable(intent),
        amount_received=_amount_received(intent),
        redirect_url=_redirect(intent),
        error=error,
    )


def refund_result(refund: Params) -> RefundResult:
    """A Refund object (an API answer or a webhook's) as a result."""
    outcome = _REFUND_OUTCOMES.get(str(refund.get("status")), Outcome.PROCESSING)
    error = None
    if outcome is Outcome.DECLINED:
        error = PaymentError(
            code="refund_failed", message=str(refund.get("failure_reason") or "refund failed")
        )
    return RefundResult(
        outcome=outcome,
        gateway_reference=str(refund["id"]),
        error=error,
        amount=int(refund.get("amount") or 0),
        currency=str(refund.get("currency") or "").lower(),
        payment_reference=id_of(refund.get("payment_intent")),
    )


def id_of(value: object) -> str:
    """An id field that may be expanded into its object (or be absent)."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _declined(error: CardDeclined) -> ChargeResult:
    intent = error.payment_intent or {}
    return ChargeResult(
        outcome=Outcome.DECLINED,
        gateway_reference=str(intent.get("id", "")),
        error=PaymentError(code=error.code, decline_code=error.decline_code, message=error.message),
    )


def _set(params: Params, name: str, value: Any) -> None:
    """Send optional parameters only when given (Stripe rejects empty strings for some)."""
    if value not in (None, "", {}):
        params[name] = value


class StripeGateway:
    """Card payments, saved methods, Checkout and Connect on Stripe."""

    def __init__(self, config: StripeConfig, api: StripeApi | None = None) -> None:
        self._api = api or StripeApi(config)
        live = config.api_key.reveal().startswith(("sk_live", "rk_live"))
        self.info = GatewayInfo(
            name=NAME,
            display_name="Stripe",
            kind=GatewayKind.CARD,
            mode=GatewayMode.LIVE if live else GatewayMode.TEST,
            capabilities=frozenset(Capability),
            currencies=CURRENCIES,
            method_types=frozenset({MethodType.CARD}),
        )

    async def close(self) -> None:
        await self._api.close()

    # --- card payments -------------------------------------------------------------------

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        params: Params = {
            "amount": request.amount,
            "currency": request.currency,
            "payment_method": request.payment_method,
            "payment_method_types": ["card"],
            "confirm": True,
            "capture_method": "manual" if request.manual_capture else "automatic",
        }
        _set(params, "customer", request.customer_reference)
        _set(params, "description", request.description)
        _set(params, "metadata", dict(request.metadata))
        _set(params, "return_url", request.return_url)
        if request.destination_reference:
            params["transfer_data"] = {"destination": request.destination_reference}
            _set(params, "application_fee_amount", request.application_fee_amount)
        try:
            intent = await self._api.create_payment_intent(params, request.idempotency_key)
        except CardDeclined as declined:
            return _declined(declined)
        return charge_result(intent)

    async def retrieve(self, request: RetrieveRequest) -> ChargeResult:
        return charge_result(await self._api.retrieve_payment_intent(request.gateway_reference))

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        params: Params = {"amount_to_capture": request.amount}
        _set(params, "application_fee_amount", request.application_fee_amount)
        try:
            intent = await self._api.capture_payment_intent(
                request.gateway_reference, params, request.idempotency_key
            )
        except CardDeclined as declined:
            return _declined(declined)
        return charge_result(intent)

    async def cancel(self, request: CancelRequest) -> ChargeResult:
        params: Params = {}
        if request.reason in _CANCELLATION_REASONS:
            params["cancellation_reason"] = request.reason
        intent = await self._api.cancel_payment_intent(
            request.gateway_reference, params, request.idempotency_key
        )
        return charge_result(intent)

    async def refund(self, request: RefundRequest) -> RefundResult:
        params: Params = {"payment_intent": request.gateway_reference, "amount": request.amount}
        if request.reason in _REFUND_REASONS:
            params["reason"] = request.reason
        if request.reverse_transfer:  # else the connected account keeps its whole share
            params["reverse_transfer"] = True
            params["refund_application_fee"] = True
        return refund_result(await self._api.create_refund(params, request.idempotency_key))

    async def retrieve_refund(self, request: RefundRetrieveRequest) -> RefundResult:
        return refund_result(await self._api.retrieve_refund(request.gateway_reference))

    # --- saved methods -------------------------------------------------------------------

    async def create_customer(self, request: CustomerRequest) -> str:
        params: Params = {}
        _set(params, "email", request.email)
        _set(params, "name", request.name)
        customer = await self._api.create_customer(params, request.idempotency_key)
        return str(customer["id"])

    async def attach(self, request: AttachRequest) -> SavedMethod:
        try:
            method = await self._api.attach_payment_method(
                request.token, {"customer": request.customer_reference}, request.idempotency_key
            )
        except CardDeclined as declined:
            return SavedMethod(
                gateway_reference=request.token,
                type=MethodType.CARD,
                error=PaymentError(
                    code=declined.code,
                    decline_code=declined.decline_code,
                    message=declined.message,
                ),
            )
        card = method.get("card") or {}
        return SavedMethod(
            gateway_reference=str(method["id"]),
            type=MethodType.CARD,
            brand=str(card.get("brand") or ""),
            last4=str(card.get("last4") or ""),
            exp_month=int(card.get("exp_month") or 0),
            exp_year=int(card.get("exp_year") or 0),
        )

    async def detach(self, request: DetachRequest) -> None:
        await self._api.detach_payment_method(request.gateway_reference, request.idempotency_key)

    # --- checkout and connect ------------------------------------------------------------

    async def create_checkout_session(self, request: CheckoutRequest) -> CheckoutResult:
        params: Params = {
            "mode": "payment",
            # Cards only, as our own charges: a delayed method (ACH, SEPA) would complete
            # the session unpaid and decide later, a path sessions here do not model.
            "payment_method_types": ["card"],
            "success_url": request.success_url,
            "line_items": [
                {
                    "quantity": item.quantity,
                    "price_data": {
                        "currency": request.currency,
                        "unit_amount": item.unit_amount,
                        "product_data": {"name": item.description},
                    },
                }
                for item in request.line_items
            ],
        }
        _set(params, "cancel_url", request.cancel_url)
        _set(params, "customer", request.customer_reference)
        _set(params, "metadata", dict(request.metadata))
        session = await self._api.create_checkout_session(params, request.idempotency_key)
        return CheckoutResult(
            gateway_reference=str(session["id"]),
            url=str(session.get("url") or ""),
            expire_time=dt.datetime.fromtimestamp(int(session["expires_at"]), dt.UTC),
        )

    async def create_account(self, request: AccountRequest) -> AccountResult:
        params: Params = {
            "type": "express",
            "country": request.country,
            "business_type": request.business_type,
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
        }
        _set(params, "email", request.email)
        return account_result(await self._api.create_account(params, request.idempotency_key))

    async def retrieve_account(self, gateway_reference: str) -> AccountResult:
        return account_result(await self._api.retrieve_account(gateway_reference))

    async def create_account_link(self, request: AccountLinkRequest) -> AccountLinkResult:
        if request.type not in {"account_onboarding", "account_update"}:
            raise GatewayRejected(NAME, f"unknown link type {request.type!r}", code="invalid_type")
        if request.type == "account_update":
            # The Express dashboard is reached through a login link, not an account link.
            link = await self._api.create_login_link(
                request.gateway_reference, request.idempotency_key
            )
            return AccountLinkResult(
                url=str(link["url"]),
                expire_time=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5),
            )
        link = await self._api.create_account_link(
            {
                "account": request.gateway_reference,
                "type": "account_onboarding",
                "return_url": request.return_url,
                "refresh_url": request.refresh_url,
            },
            request.idempotency_key,
        )
        return AccountLinkResult(
            url=str(link["url"]),
            expire_time=dt.datetime.fromtimestamp(int(link["expires_at"]), dt.UTC),
        )


def account_result(account: Params) -> AccountResult:
    requirements = account.get("requirements") or {}
    return AccountResult(
        gateway_reference=str(account["id"]),
        charges_enabled=bool(account.get("charges_enabled")),
        payouts_enabled=bool(account.get("payouts_enabled")),
        details_submitted=bool(account.get("details_submitted")),
        disabled_reason=str(requirements.get("disabled_reason") or ""),
    )
