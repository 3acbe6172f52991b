"""The Plaid adapter: Link, Auth, micro-deposit status and ACH through Plaid Transfer.

It speaks only :class:`~gateways.plaid.client.PlaidApi` (plain dicts). Plaid's states
map through tables where anything unrecognised is never success: an unknown account
verification status cannot be debited, an unknown transfer status is PROCESSING.

Micro-deposits at Plaid are flows of Link, not calls of ours: a Link token with
``auth.automated_microdeposits_enabled`` lets Plaid verify the account itself (the
status reads ``pending_automatic_verification`` until an ``AUTOMATICALLY_VERIFIED`` or
``VERIFICATION_EXPIRED`` webhook); with ``auth.same_day_microdeposits_enabled`` the payer
reads the amounts off their statement and types them into Link opened in update mode
(a Link token made with the item's access token). Either way the adapter learns the
outcome by reading the account's ``verification_status``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from gateways.errors import GatewayRejected, OutcomeUnknown
from gateways.plaid.client import NAME, Params, PaymentRefused, PlaidApi, PlaidConfig
from gateways.types import (
    BankAccount,
    BankAccountRequest,
    BankTransferDirection,
    BankTransferEvent,
    BankTransferEventPage,
    BankTransferRequest,
    BankTransferResult,
    BankVerification,
    Capability,
    ExchangeRequest,
    GatewayInfo,
    GatewayKind,
    GatewayMode,
    LinkToken,
    LinkTokenRequest,
    MethodType,
    MicroDepositRequest,
    MicroDepositResult,
    Outcome,
    PaymentError,
    ach_return_error,
    derive_key,
)

#: Plaid's ``verification_status`` → ours. Absent (None) means instant Auth: verified.
_VERIFICATION: Final = {
    None: BankVerification.VERIFIED,
    "automatically_verified": BankVerification.VERIFIED,
    "manually_verified": BankVerification.VERIFIED,
    "instantly_verified": BankVerification.VERIFIED,
    "database_matched": BankVerification.VERIFIED,
    "pending_automatic_verification": BankVerification.PENDING_AUTOMATIC,
    "pending_manual_verification": BankVerification.PENDING_MANUAL,
    "unsent": BankVerification.PENDING_MANUAL,
    "verification_expired": BankVerification.FAILED,
    "verification_failed": BankVerification.FAILED,
    "database_insights_fail": BankVerification.FAILED,
}
#: A transfer's (or a transfer event's) state → the outcome it means.
_TRANSFER_OUTCOMES: Final = {
    "pending": Outcome.PROCESSING,
    "posted": Outcome.PROCESSING,
    "settled": Outcome.SUCCEEDED,
    "funds_available": Outcome.SUCCEEDED,
    "cancelled": Outcome.CANCELED,
    "failed": Outcome.DECLINED,
    "returned": Outcome.DECLINED,
}
#: Events that change a transfer's state; the others (sweeps, refunds, ...) do not.
STATE_EVENTS: Final = frozenset(_TRANSFER_OUTCOMES)
DESCRIPTION_LIMIT: Final = 15  # Plaid's maximum for /transfer/create ``description``
EVENTS_PER_PAGE: Final = 25
DEFAULT_PRODUCTS: Final = ("auth", "transfer")


def verification_of(status: Any) -> BankVerification:
    """Never debit on a status we do not know: anything unlisted reads FAILED."""
    return _VERIFICATION.get(status, BankVerification.FAILED)


def decimal_amount(minor_units: int) -> str:
    """Minor units → Plaid's decimal dollars string (``1234`` → ``"12.34"``)."""
    return f"{minor_units // 100}.{minor_units % 100:02d}"


def minor_units(amount: Any) -> int:
    """Plaid's decimal string (``"12.34"``) → minor units; 0 when absent or malformed."""
    try:
        return int((Decimal(str(amount)) * 100).to_integral_value())
    except (InvalidOperation, ValueError):
        return 0


def parse_time(value: Any) -> dt.datetime:
    """Plaid's RFC 3339 timestamps (``...Z``) as aware UTC datetimes."""
    parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


#: A Plaid transfer's ``type`` (what we send as ``direction.value``) → the direction.
_DIRECTIONS: Final = {direction.value: direction for direction in BankTransferDirection}


def _failure(found: Any) -> Mapping[str, Any]:
    return found if isinstance(found, dict) else {}


def transfer_result(
    transfer: Mapping[str, Any], *, state: str | None = None, settled_before: bool = False
) -> BankTransferResult:
    """A Plaid ``transfer`` object (or an event, with ``state`` its event type) as a result.

    A return carries its ACH code (``R01`` ...) as ``return_code`` and as the error's code.
    """
    status = str(state if state is not None else transfer.get("status") or "")
    outcome = _TRANSFER_OUTCOMES.get(status, Outcome.PROCESSING)
    failure = _failure(transfer.get("failure_reason"))
    return_code = str(failure.get("ach_return_code") or "") if status == "returned" else ""
    error = None
    if status == "returned":
        direction = _DIRECTIONS.get(str(transfer.get("type") or ""))
        description = str(failure.get("description") or "")
        error = ach_return_error(return_code or "R00", description, direction=direction)
    elif status == "failed":
        error = PaymentError(
            code=str(failure.get("failure_code") or "transfer_failed").lower(),
            message=str(failure.get("description") or "The bank transfer failed."),
        )
    reference = transfer.get("transfer_id") if state is not None else transfer.get("id")
    amount = transfer.get("transfer_amount") if state is not None else transfer.get("amount")
    return BankTransferResult(
        outcome=outcome,
        gateway_reference=str(reference or ""),
        authorization_reference=str(transfer.get("authorization_id") or ""),
        amount=minor_units(amount),
        return_code=return_code,
        settled_before_return=settled_before and status == "returned",
        error=error,
    )


def _declined_authorization(authorization: Mapping[str, Any]) -> BankTransferResult:
    rationale = _failure(authorization.get("decision_rationale"))
    decision = str(authorization.get("decision") or "")
    return BankTransferResult(
        outcome=Outcome.DECLINED,
        gateway_reference="",
        authorization_reference=str(authorization.get("id") or ""),
        error=PaymentError(
            code="authorization_declined",
            decline_code=str(rationale.get("code") or decision).lower(),
            message=str(rationale.get("description") or "The bank transfer was not authorized."),
        ),
    )


def _refused(refused: PaymentRefused) -> BankTransferResult:
    return BankTransferResult(
        outcome=Outcome.DECLINED,
        gateway_reference="",
        error=PaymentError(
            code=refused.code,
            message=refused.display_message or "The bank account cannot be used for this payment.",
        ),
    )


class PlaidGateway:
    """Bank accounts (Link, Auth, micro-deposits) and ACH transfers on Plaid."""

    def __init__(
        self,
        config: PlaidConfig,
        api: PlaidApi | None = None,
        *,
        products: tuple[str, ...] = DEFAULT_PRODUCTS,
    ) -> None:
        self._api = api or PlaidApi(config)
        self._config = config
        self._products = products
        self.info = GatewayInfo(
            name=NAME,
            display_name="Plaid",
            kind=GatewayKind.BANK,
            mode=GatewayMode.LIVE if config.env == "production" else GatewayMode.SANDBOX,
            capabilities=frozenset({Capability.WEBHOOKS}),
            currencies=frozenset({"usd"}),
            method_types=frozenset({MethodType.BANK_ACCOUNT}),
        )

    async def close(self) -> None:
        await self._api.close()

    # --- bank accounts -----------------------------------------------------------------

    async def create_link_token(self, request: LinkTokenRequest) -> LinkToken:
        body: Params = {
            "client_name": request.client_name,
            "language": request.language,
            "country_codes": list(request.country_codes),
            "user": {"client_user_id": request.customer_reference},
        }
        if request.access_token:
            body["access_token"] = request.access_token  # update mode: the item's products
        else:
            body["products"] = list(self._products)
            # Accounts without instant Auth: Plaid's two micro-deposit flows.
            body["auth"] = {
                "automated_microdeposits_enabled": True,
                "same_day_microdeposits_enabled": True,
            }
        webhook = request.webhook_url or self._config.webhook_url
        if webhook:
            body["webhook"] = webhook
        answer = await self._api.create_link_token(body)
        return LinkToken(
            link_token=str(answer["link_token"]), expire_time=parse_time(answer["expiration"])
        )

    async def exchange_public_token(self, request: ExchangeRequest) -> BankAccount:
        exchanged = await self._api.exchange_public_token({"public_token": request.public_token})
        access_token = str(exchanged["access_token"])
        return await self._describe(access_token, str(exchanged["item_id"]), request.account_id)

    async def get_account(self, request: BankAccountRequest) -> BankAccount:
        return await self._describe(request.access_token, None, request.account_id)

    async def verify_micro_deposits(self, request: MicroDepositRequest) -> MicroDepositResult:
        """Plaid takes the amounts in Link (update mode), not through its API: this reads
        the verification status Link left; ``request.amounts`` are not sent anywhere."""
        account = await self.get_account(
            BankAccountRequest(access_token=request.access_token, account_id=request.account_id)
        )
        error = None
        if account.verification is BankVerification.FAILED:
            error = PaymentError(
                code="verification_failed",
                message="The micro-deposits were not confirmed; link the account again.",
            )
        return MicroDepositResult(
            verified=account.verification is BankVerification.VERIFIED,
            verification=account.verification,
            error=error,
        )

    async def _describe(
        self, access_token: str, item_reference: str | None, account_id: str
    ) -> BankAccount:
        """/accounts/get for the chosen account; /auth/get for its numbers once verified
        (Plaid answers PRODUCT_NOT_READY while micro-deposits are pending)."""
        body = {"access_token": access_token, "options": {"account_ids": [account_id]}}
        answer = await self._api.get_accounts(body)
        account = _chosen(answer.get("accounts"), account_id)
        item = _failure(answer.get("item"))
        verification = verification_of(account.get("verification_status"))
        numbers: Mapping[str, Any] = {}
        if verification is BankVerification.VERIFIED:
            auth = await self._api.get_auth(body)
            numbers = next(
                (
                    found
                    for found in (_failure(auth.get("numbers")).get("ach") or [])
                    if isinstance(found, dict) and found.get("account_id") == account_id
                ),
                {},
            )
        return BankAccount(
            access_token=access_token,
            item_reference=item_reference or str(item.get("item_id") or ""),
            account_id=account_id,
            mask=str(account.get("mask") or ""),
            bank_name=str(account.get("official_name") or account.get("name") or ""),
            subtype=str(account.get("subtype") or ""),
            verification=verification,
            account_number=str(numbers.get("account") or ""),
            routing_number=str(numbers.get("routing") or ""),
        )

    # --- transfers -----------------------------------------------------------------------

    async def create_transfer(self, request: BankTransferRequest) -> BankTransferResult:
        _check_transfer(request)
        authorization_body: Params = {
            "access_token": request.access_token,
            "account_id": request.account_id,
            "type": request.direction.value,
            "network": "ach",
            "amount": decimal_amount(request.amount),
            "ach_class": request.ach_class,
            "user": {"legal_name": request.legal_name},
            "idempotency_key": derive_key(request.idempotency_key, "plaid-authorization"),
        }
        try:
            answer = await self._api.create_transfer_authorization(authorization_body)
            authorization = _failure(answer.get("authorization"))
            if authorization.get("decision") != "approved":
                return _authorization_outcome(authorization)
            transfer_body: Params = {
                "access_token": request.access_token,
                "account_id": request.account_id,
                "authorization_id": str(authorization["id"]),
                "description": (request.description or "isa payment")[:DESCRIPTION_LIMIT],
                "idempotency_key": derive_key(request.idempotency_key, "plaid-transfer"),
            }
            if request.metadata:
                transfer_body["metadata"] = dict(request.metadata)
            created = await self._api.create_transfer(transfer_body)
        except PaymentRefused as refused:
            return _refused(refused)
        return transfer_result(_failure(created.get("transfer")))

    async def retrieve_transfer(self, gateway_reference: str) -> BankTransferResult:
        answer = await self._api.get_transfer({"transfer_id": gateway_reference})
        return transfer_result(_failure(answer.get("transfer")))

    async def sync_transfer_events(self, after_id: int) -> BankTransferEventPage:
        """One page of ``/transfer/event/sync``. Only state changes are returned, but the
        cursor moves past every event (sweeps and the like too)."""
        answer = await self._api.sync_transfer_events(
            {"after_id": after_id, "count": EVENTS_PER_PAGE}
        )
        listed = [e for e in answer.get("transfer_events") or [] if isinstance(e, dict)]
        listed.sort(key=lambda event: int(event["event_id"]))
        settled: set[str] = set()
        events = []
        for event in listed:
            kind = str(event.get("event_type") or "")
            if kind in ("settled", "funds_available"):
                settled.add(str(event.get("transfer_id")))
            if kind not in STATE_EVENTS:
                continue
            transfer = transfer_result(
                event, state=kind, settled_before=str(event.get("transfer_id")) in settled
            )
            events.append(
                BankTransferEvent(
                    event_id=int(event["event_id"]),
                    event_type=kind,
                    transfer=transfer,
                    time=parse_time(event["timestamp"]),
                )
            )
        last = int(listed[-1]["event_id"]) if listed else after_id
        return BankTransferEventPage(
            events=tuple(events),
            next_after_id=max(last, after_id),
            has_more=bool(answer.get("has_more")),
        )


def _chosen(accounts: Any, account_id: str) -> Mapping[str, Any]:
    for account in accounts or []:
        if isinstance(account, dict) and account.get("account_id") == account_id:
            return account
    raise GatewayRejected(NAME, "the item has no such account", code="invalid_account_id")


def _check_transfer(request: BankTransferRequest) -> None:
    """What Plaid would refuse anyway, refused before anything is sent."""
    if request.currency.lower() != "usd":
        raise GatewayRejected(NAME, "ACH moves US dollars only", code="currency_not_supported")
    if request.amount <= 0:
        raise GatewayRejected(NAME, "the amount must be positive", code="invalid_amount")
    if not request.legal_name.strip():
        raise GatewayRejected(
            NAME, "Plaid's authorization needs the account holder's legal name", code="legal_name"
        )


def _authorization_outcome(authorization: Mapping[str, Any]) -> BankTransferResult:
    decision = authorization.get("decision")
    if decision in ("declined", "user_action_required"):
        return _declined_authorization(authorization)
    # Plaid decided something we cannot read: no transfer exists, but never guess.
    raise OutcomeUnknown(NAME, f"unknown authorization decision {decision!r}")
