"""The one module that imports ``square`` (squareup >= 42): the SDK seam.

:class:`SquareApi` makes the official SDK's async calls through ``AsyncSquare`` and
hands back plain dicts. Every call Square lets us key carries the caller's derived key
as ``idempotency_key`` (CompletePayment, CancelPayment and DisableCard take none: they
act on one existing object and repeating them cannot act twice). The SDK's own retries
are off: a retry is our reconciler's decision, with the same key.

Square's answers become ours here, by what is known about the request's fate:

- a ``PAYMENT_METHOD_ERROR`` (HTTP 402 and friends) → :class:`SquareDeclined`, an answer
- HTTP 429 → :class:`GatewayUnavailable` (Square did nothing)
- connection refused / connect timeout → :class:`GatewayUnavailable` (nothing was sent)
- other transport errors, HTTP 5xx → :class:`OutcomeUnknown` (it may have acted)
- HTTP 401 / 403 → :class:`GatewayAuthError`
- ``IDEMPOTENCY_KEY_REUSED`` → :class:`OutcomeUnknown` (the key acted before, with other
  parameters: what it did is Square's record, not this answer's)
- any other refusal (400, 404, 409 …) → :class:`GatewayRejected` with Square's code
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
from square import AsyncSquare
from square.core.api_error import ApiError
from square.core.request_options import RequestOptions
from square.environment import SquareEnvironment

from gateways.errors import (
    KEY_REUSED,
    GatewayAuthError,
    GatewayRejected,
    GatewayUnavailable,
    OutcomeUnknown,
)
from server.config import Secret

NAME: Final = "square"
Params = dict[str, Any]
#: No SDK retries (its default is two, on 408/409/429/5xx): see the module docstring.
_NO_RETRIES: Final[RequestOptions] = {"max_retries": 0}
_DECLINE_CATEGORY: Final = "PAYMENT_METHOD_ERROR"


@dataclass(frozen=True, slots=True, kw_only=True)
class SquareConfig:
    access_token: Secret
    location_id: str
    base_url: str | None = None  # e.g. a mock server in tests; default: Square production
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SquareError:
    """One entry of Square's ``errors`` array."""

    category: str
    code: str
    detail: str = ""


class SquareDeclined(Exception):
    """Square refused the card (category ``PAYMENT_METHOD_ERROR``).

    ``payment`` is the FAILED payment Square returns alongside the errors, when it does.
    """

    def __init__(self, errors: Sequence[SquareError], payment: Params | None) -> None:
        super().__init__(errors[0].code if errors else "declined")
        self.errors = tuple(errors)
        self.payment = payment


def errors_of(body: Any) -> list[SquareError]:
    """Square's ``errors`` array from an answer body (dict or JSON text already parsed)."""
    raw = body.get("errors") if isinstance(body, Mapping) else None
    if not isinstance(raw, list):
        return []
    return [
        SquareError(
            category=str(item.get("category") or ""),
            code=str(item.get("code") or ""),
            detail=str(item.get("detail") or ""),
        )
        for item in raw
        if isinstance(item, Mapping)
    ]


def _translate(error: ApiError) -> Exception:
    status = error.status_code or 0
    errors = errors_of(error.body)
    if any(e.category == _DECLINE_CATEGORY for e in errors):
        payment = error.body.get("payment") if isinstance(error.body, Mapping) else None
        return SquareDeclined(errors, payment if isinstance(payment, dict) else None)
    first = errors[0] if errors else SquareError(category="", code="", detail="")
    if status == 429:
        return GatewayUnavailable(NAME, "rate limited (429): nothing was done")
    if status >= 500:
        return OutcomeUnknown(NAME, f"Square answered {status}: outcome unknown")
    if status in (401, 403):
        return GatewayAuthError(NAME, f"the access token was refused ({first.code or status})")
    if first.code == "IDEMPOTENCY_KEY_REUSED":
        # The key made something before, with other parameters: not "nothing was done".
        return OutcomeUnknown(NAME, KEY_REUSED)
    return GatewayRejected(
        NAME, first.detail or f"Square refused the request ({status})", code=first.code.lower()
    )


class SquareApi:
    """Async Square calls returning plain dicts; nothing else in the code base sees the SDK."""

    def __init__(self, config: SquareConfig) -> None:
        self._location_id = config.location_id
        self._http = httpx.AsyncClient(timeout=config.timeout_seconds)
        self._client = AsyncSquare(
            token=config.access_token.reveal(),
            base_url=config.base_url.rstrip("/") if config.base_url else None,
            environment=SquareEnvironment.PRODUCTION,
            httpx_client=self._http,
        )

    @property
    def location_id(self) -> str:
        return self._location_id

    async def _call(self, call: Callable[[], Awaitable[Any]]) -> Params:
        try:
            response = await call()
        except ApiError as error:
            raise _translate(error) from None
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise GatewayUnavailable(NAME, "connection refused: nothing was sent") from None
        except httpx.TransportError as error:
            raise OutcomeUnknown(NAME, f"{type(error).__name__}: outcome unknown") from None
        converted: Params = response.dict()
        return converted

    async def close(self) -> None:
        await self._http.aclose()

    # --- payments and refunds ------------------------------------------------------------

    async def create_payment(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.payments.create(
                idempotency_key=key,
                location_id=self._location_id,
                **params,
                request_options=_NO_RETRIES,
            )
        )

    async def get_payment(self, payment_id: str) -> Params:
        return await self._call(
            lambda: self._client.payments.get(payment_id, request_options=_NO_RETRIES)
        )

    async def update_payment(self, payment_id: str, payment: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.payments.update(
                payment_id,
                idempotency_key=key,
                payment=payment,
                request_options=_NO_RETRIES,
            )
        )

    async def complete_payment(self, payment_id: str, *, version_token: str | None) -> Params:
        """``version_token`` makes Square refuse if the payment changed since we read it."""
        token = {"version_token": version_token} if version_token else {}
        return await self._call(
            lambda: self._client.payments.complete(payment_id, **token, request_options=_NO_RETRIES)
        )

    async def cancel_payment(self, payment_id: str) -> Params:
        return await self._call(
            lambda: self._client.payments.cancel(payment_id, request_options=_NO_RETRIES)
        )

    async def refund_payment(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.refunds.refund_payment(
                idempotency_key=key, **params, request_options=_NO_RETRIES
            )
        )

    async def get_refund(self, refund_id: str) -> Params:
        return await self._call(
            lambda: self._client.refunds.get(refund_id, request_options=_NO_RETRIES)
        )

    # --- customers and cards on file -----------------------------------------------------

    async def create_customer(self, params: Params, key: str) -> Params:
        return await self._call(
            lambda: self._client.customers.create(
                idempotency_key=key, **params, request_options=_NO_RETRIES
            )
        )

    async def create_card(self, source_id: str, customer_id: str, key: str) -> Params:
        return await self._call(
            lambda: self._client.cards.create(
                idempotency_key=key,
                source_id=source_id,
                card={"customer_id": customer_id},
                request_options=_NO_RETRIES,
            )
        )

    async def disable_card(self, card_id: str) -> Params:
        return await self._call(
            lambda: self._client.cards.disable(card_id, request_options=_NO_RETRIES)
        )
