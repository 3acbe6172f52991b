"""The one module that imports ``plaid``: the SDK seam (like ``gateways/stripe/client.py``).

:class:`PlaidApi` builds and sends each request with the official ``plaid-python`` SDK
(its request models validate what we send; it adds the client id, secret and
``Plaid-Version`` headers) and hands back the answer as a plain dict read from the JSON
body. We read the body ourselves rather than through the SDK's response models because
those are stricter than Plaid: a field or enum value newer than the SDK (or, against
the 2020-09-14 description, a field the SDK now requires) makes the SDK raise *after*
the request took effect. The SDK is synchronous, so every call runs in a worker thread.

Plaid's errors become ours here, by what is known about the request's fate:

- connection refused or not established → :class:`GatewayUnavailable` (nothing sent)
- ``RATE_LIMIT_EXCEEDED``, ``INSTITUTION_ERROR``, ``PLANNED_MAINTENANCE`` →
  :class:`GatewayUnavailable` (refused before acting)
- read timeout, connection lost, ``API_ERROR`` / 5xx → :class:`OutcomeUnknown`
- ``INVALID_API_KEYS``, ``UNAUTHORIZED_ENVIRONMENT``, 401/403 → :class:`GatewayAuthError`
- ``ITEM_ERROR`` and the transfer errors about the payer's account → :class:`PaymentRefused`
  (an answer about the payment: the adapter reports DECLINED)
- anything else (``INVALID_REQUEST``, ``INVALID_INPUT``, ...) → :class:`GatewayRejected`

Access tokens, account and routing numbers never reach a message: Plaid's own text is
scrubbed of token-shaped strings, and the SDK's debug logger (which prints every
response body) is held at WARNING.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import plaid
import urllib3
from plaid.api import plaid_api

from gateways.errors import (
    GatewayAuthError,
    GatewayError,
    GatewayRejected,
    GatewayUnavailable,
    OutcomeUnknown,
)
from gateways.webhooks.plaid import HOSTS
from server.config import Secret

NAME: Final = "plaid"
#: The API version this adapter is written against (the SDK sends it on every request).
API_VERSION: Final = "2020-09-14"

Params = dict[str, Any]

# The SDK logs each response body at DEBUG: exchanges carry access tokens, Auth carries
# account numbers. Nothing of the SDK's may log below WARNING, whatever ISA_LOG_LEVEL says.
logging.getLogger("plaid").setLevel(logging.WARNING)

#: Error codes that mean our credentials or our Plaid account's setup are wrong.
AUTH_ERROR_CODES: Final = frozenset(
    {"INVALID_API_KEYS", "UNAUTHORIZED_ENVIRONMENT", "UNAUTHORIZED_ROUTE_ACCESS", "INVALID_PRODUCT"}
)
#: Error types Plaid answers before acting, when asking again later may work.
UNAVAILABLE_ERROR_TYPES: Final = frozenset({"RATE_LIMIT_EXCEEDED", "INSTITUTION_ERROR"})
#: Errors about the payer's item or account: the payment is refused, not our request.
REFUSING_ERROR_TYPES: Final = frozenset({"ITEM_ERROR"})
REFUSING_ERROR_CODES: Final = frozenset(
    {
        "TRANSFER_ACCOUNT_BLOCKED",
        "TRANSFER_NETWORK_LIMIT_EXCEEDED",
        "TRANSFER_LIMIT_REACHED",
        "TRANSFER_UNSUPPORTED_ACCOUNT_TYPE",
        "BANK_TRANSFER_ACCOUNT_BLOCKED",
        "NO_AUTH_ACCOUNTS",
        "PRODUCTS_NOT_SUPPORTED",
    }
)
_TOKEN_SHAPED: Final = re.compile(r"\b(access|public|link|processor)-[a-z]+-[0-9a-f-]{8,}\b", re.I)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaidConfig:
    client_id: str
    secret: Secret
    env: str = "sandbox"  # sandbox | production (ISA_PLAID_ENV)
    host: str | None = None  # overrides the environment's address (ISA_PLAID_HOST: tests, Prism)
    webhook_url: str = ""  # where Plaid sends Item and micro-deposit webhooks
    timeout_seconds: float = 30.0

    @property
    def base_url(self) -> str:
        if self.host:
            return self.host.rstrip("/")
        if self.env not in HOSTS:
            raise ValueError(f"unknown Plaid environment {self.env!r}: one of {sorted(HOSTS)}")
        return HOSTS[self.env]


class PaymentRefused(GatewayRejected):
    """Plaid refused the payer's item or account (it must be re-linked, it is blocked,
    it is over a limit): an answer about the payment, which the adapter reports as
    DECLINED. ``display_message`` is Plaid's text meant for the payer, when it gave one."""

    def __init__(self, message: str, *, code: str, display_message: str = "") -> None:
        super().__init__(NAME, message, code=code)
        self.display_message = display_message


def redact(text: str) -> str:
    """Plaid's message without anything shaped like a token (defence in depth)."""
    return _TOKEN_SHAPED.sub(lambda found: f"{found.group(1)}-***", text)


def _error_body(error: plaid.ApiException) -> Params:
    try:
        body = json.loads(error.body or b"{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def translate(error: Exception) -> Exception:
    """The service's exception for what the SDK raised (see the module's docstring)."""
    if isinstance(error, plaid.ApiException):
        return _translate_answer(error)
    if isinstance(error, urllib3.exceptions.ConnectTimeoutError):
        # NewConnectionError is one: the connection was never made, nothing was sent.
        return GatewayUnavailable(NAME, "could not connect: nothing was sent")
    if isinstance(error, urllib3.exceptions.HTTPError):
        return OutcomeUnknown(NAME, f"{type(error).__name__} after sending: outcome unknown")
    if isinstance(error, plaid.OpenApiException | TypeError | ValueError):
        # The SDK's own validation of our arguments (its models raise TypeError for a
        # missing required field,
        # ValueError for a value out of range), before anything was sent.
        return GatewayRejected(
            NAME, "the request is invalid: nothing was sent", code="invalid_request"
        )
    return error


def _translate_answer(error: plaid.ApiException) -> GatewayError:
    status = int(error.status or 0)
    body = _error_body(error)
    error_type = str(body.get("error_type") or "")
    code = str(body.get("error_code") or "")
    message = redact(str(body.get("error_message") or error.reason or f"HTTP {status}"))
    if status == 0:
        return GatewayUnavailable(NAME, "no connection (TLS): nothing was sent")
    if code in AUTH_ERROR_CODES or status in (401, 403):
        return GatewayAuthError(NAME, f"Plaid refused our credentials ({code or status})")
    if error_type in UNAVAILABLE_ERROR_TYPES or code == "PLANNED_MAINTENANCE" or status == 429:
        return GatewayUnavailable(NAME, f"{code or status}: nothing was done")
    if error_type == "API_ERROR" or status >= 500:
        return OutcomeUnknown(NAME, f"Plaid answered {code or status}: outcome unknown")
    if error_type in REFUSING_ERROR_TYPES or code in REFUSING_ERROR_CODES:
        display = redact(str(body.get("display_message") or ""))
        return PaymentRefused(message, code=code.lower(), display_message=display)
    # A 4xx without Plaid's error body (a proxy's, a mock's 422) refused the request too.
    return GatewayRejected(NAME, message, code=code.lower() or f"http_{status}")


class PlaidApi:
    """Plaid calls returning plain dicts; nothing else in the code base sees the SDK.

    Every method takes the JSON body as a dict (the SDK converts it into its request
    model, refusing unknown fields and wrong types before sending).
    """

    def __init__(self, config: PlaidConfig) -> None:
        configuration = plaid.Configuration(
            host=config.base_url,
            api_key={"clientId": config.client_id, "secret": config.secret.reveal()},
        )
        configuration.retries = False  # a retry is the caller's decision, with the same key
        self._client = plaid.ApiClient(configuration)
        self._api = plaid_api.PlaidApi(self._client)
        self._timeout = config.timeout_seconds

    async def close(self) -> None:
        self._client.rest_client.pool_manager.clear()
        await asyncio.to_thread(self._client.close)

    async def _call(self, operation: Callable[..., Any], body: Params) -> Params:
        return await asyncio.to_thread(self._call_blocking, operation, body)

    def _call_blocking(self, operation: Callable[..., Any], body: Params) -> Params:
        try:
            response = operation(body, _preload_content=False, _request_timeout=self._timeout)
            raw = response.data
            response.release_conn()
        except Exception as error:  # the SDK's and urllib3's, translated just below
            translated = translate(error)
            if translated is error:
                raise
            raise translated from None
        try:
            answer = json.loads(raw)
        except ValueError:
            raise OutcomeUnknown(NAME, "Plaid's answer is not JSON: outcome unknown") from None
        if not isinstance(answer, dict):
            raise OutcomeUnknown(NAME, "Plaid's answer is not an object: outcome unknown")
        return answer

    # --- Link and items --------------------------------------------------------------

    async def create_link_token(self, body: Params) -> Params:
        return await self._call(self._api.link_token_create, body)

    async def exchange_public_token(self, body: Params) -> Params:
        return await self._call(self._api.item_public_token_exchange, body)

    async def get_accounts(self, body: Params) -> Params:
        return await self._call(self._api.accounts_get, body)

    async def get_auth(self, body: Params) -> Params:
        return await self._call(self._api.auth_get, body)

    # --- Transfer --------------------------------------------------------------------

    async def create_transfer_authorization(self, body: Params) -> Params:
        return await self._call(self._api.transfer_authorization_create, body)

    async def create_transfer(self, body: Params) -> Params:
        return await self._call(self._api.transfer_create, body)

    async def get_transfer(self, body: Params) -> Params:
        return await self._call(self._api.transfer_get, body)

    async def sync_transfer_events(self, body: Params) -> Params:
        return await self._call(self._api.transfer_event_sync, body)

    # --- Sandbox helpers (Plaid's sandbox environment only) --------------------------

    async def sandbox_create_public_token(self, body: Params) -> Params:
        return await self._call(self._api.sandbox_public_token_create, body)

    async def sandbox_set_verification_status(self, body: Params) -> Params:
        return await self._call(self._api.sandbox_item_set_verification_status, body)

    async def sandbox_simulate_transfer(self, body: Params) -> Params:
        return await self._call(self._api.sandbox_transfer_simulate, body)
