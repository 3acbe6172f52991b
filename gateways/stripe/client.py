"""The one module that imports ``stripe``: the SDK seam (STYLE.md, after Saleor).

:class:`StripeApi` makes the official SDK's async calls through a ``StripeClient`` and
hands back plain dicts; every mutating call carries the caller's derived key as
``Idempotency-Key``. Stripe's exceptions become ours here, by what is known about the
request's fate:

- ``CardError`` → :class:`CardDeclined` (an answer: the adapter turns it into DECLINED)
- ``RateLimitError``, connection refused → :class:`GatewayUnavailable` (nothing done)
- other connection errors, ``APIError`` (5xx) → :class:`OutcomeUnknown` (may have acted)
- ``AuthenticationError``, ``PermissionError`` → :class:`GatewayAuthError`
- ``IdempotencyError`` → :class:`OutcomeUnknown`: the key was used before, with other
  parameters, and what that first request did is Stripe's record, not this answer's
  (refusing it as "nothing charged" could forget a payment made under the key)
- ``InvalidRequestError`` → :class:`GatewayRejected`
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import stripe

from gateways.errors import (
    KEY_REUSED,
    GatewayAuthError,
    GatewayRejected,
    GatewayUnavailable,
    OutcomeUnknown,
)
from server.config import Secret

NAME: Final = "stripe"
#: The API version this adapter is written against (sent on every request).
API_VERSION: Final = "2024-06-20"

Params = dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class StripeConfig:
    api_key: Secret
    api_base: str | None = None  # e.g. a localstripe address in tests
    timeout_seconds: float = 30.0


class CardDeclined(Exception):
    """Stripe's 402 card_error: the payment was refused; ``payment_intent`` when one exists."""

    def __init__(
        self, *, code: str, decline_code: str, message: str, payment_intent: Params | None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.decline_code = decline_code
        self.message = message
        self.payment_intent = payment_intent


def _translate(error: Exception) -> Exception:
    if isinstance(error, stripe.CardError):
        body = error.json_body or {}
        details = body.get("error", {}) if isinstance(body, dict) else {}
        return CardDeclined(
            code=error.code or "card_declined",
            decline_code=str(details.get("decline_code") or ""),
            message=error.user_message or "Your card was declined.",
            payment_intent=details.get("payment_intent"),
        )
    if isinstance(error, stripe.RateLimitError):
        return GatewayUnavailable(NAME, "rate limited (429): nothing was done")
    if isinstance(error, stripe.APIConnectionError):
        if isinstance(error.__cause__, aiohttp.ClientConnectorError):
            return GatewayUnavailable(NAME, "connection refused: nothing was sent")
        return OutcomeUnknown(NAME, "connection lost after sending: outcome unknown")
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayAuthError(NAME, "the API key was refused")
    if isinstance(error, stripe.IdempotencyError):
        return OutcomeUnknown(NAME, KEY_REUSED)
    if isinstance(error, stripe.InvalidRequestError):
        # Stripe documents 404 as "the requested resource doesn't exist"; it names it
        # resource_missing, but not every answer (nor localstripe's) carries the code.
        missing = "resource_missing" if error.http_status == 404 else "invalid_request"
        return GatewayRejected(NAME, error.user_message or str(error), code=error.code or missing)
    if isinstance(error, stripe.APIError):
        return OutcomeUnknown(NAME, "Stripe answered with a server error: outcome unknown")
    return error


class StripeApi:
    """Async Stripe calls returning plain dicts; nothing else in the code base sees the SDK."""

    def __init__(self, config: StripeConfig) -> None:
        base = {"api": config.api_base.rstrip("/")} if config.api_base else None
        self._client = stripe.StripeClient(
            config.api_key.reveal(),
            stripe_version=API_VERSION,
            base_addresses=base,  # type: ignore[arg-type]
            max_network_retries=0,  # a retry is our reconciler's decision, with the same key
            http_client=stripe.AIOHTTPClient(timeout=config.timeout_seconds),
        )

    async def _call(self, call: Callable[[], Awaitable[Any]]) -> Params:
        try:
            result = await call()
        except stripe.StripeError as error:
            raise _translate(error) from None
        except aiohttp.ClientError as error:
            raise OutcomeUnknown(NAME, f"{type(error).__name__}: outcome unknown") from None
        converted: Params = result.to_dict() if result is not None else {}
        return converted

    @staticmethod
    def _options(key: str) -> Any:
        return {"idempotency_key": key}

    async def close(self) -> None:
        await self._client._requestor._get_http_client().close_async()  # type: ignore[no-untyped-call]

    # --- payment intents and refunds ---------------------------------------------------

    async def create_payment_intent(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.payment_intents.create_async(params, self._options(key))  # type: ignore[arg-type]
        )

    async def retrieve_payment_intent(self, intent_id: str) -> Params:
        return await self._call(lambda: self._client.v1.payment_intents.retrieve_async(intent_id))

    async def capture_payment_intent(self, intent_id: str, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.payment_intents.capture_async(
                intent_id,
                params,  # type: ignore[arg-type]
                self._options(key),
            )
        )

    async def cancel_payment_intent(self, intent_id: str, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.payment_intents.cancel_async(
                intent_id,
                params,  # type: ignore[arg-type]
                self._options(key),
            )
        )

    async def create_refund(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.refunds.create_async(params, self._options(key))  # type: ignore[arg-type]
        )

    async def retrieve_refund(self, refund_id: str) -> Params:
        return await self._call(lambda: self._client.v1.refunds.retrieve_async(refund_id))

    # --- customers and payment methods ---------------------------------------------------

    async def create_customer(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.customers.create_async(params, self._options(key))  # type: ignore[arg-type]
        )

    async def attach_payment_method(self, method_id: str, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.payment_methods.attach_async(
                method_id,
                params,  # type: ignore[arg-type]
                self._options(key),
            )
        )

    async def detach_payment_method(self, method_id: str, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.payment_methods.detach_async(
                method_id, None, self._options(key)
            )
        )

    # --- checkout and connect ------------------------------------------------------------

    async def create_checkout_session(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.checkout.sessions.create_async(params, self._options(key))  # type: ignore[arg-type]
        )

    async def create_account(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.accounts.create_async(params, self._options(key))  # type: ignore[arg-type]
        )

    async def retrieve_account(self, account_id: str) -> Params:
        return await self._call(lambda: self._client.v1.accounts.retrieve_async(account_id))

    async def create_account_link(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.account_links.create_async(params, self._options(key))  # type: ignore[arg-type]
        )

    async def create_login_link(self, account_id: str, key: str) -> Params:
        return await self._call(
            lambda: self._client.v1.accounts.login_links.create_async(
                account_id, None, self._options(key)
            )
        )


def card_error_fields(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """``last_payment_error`` of a PaymentIntent dict, or an empty mapping."""
    return value or {}
