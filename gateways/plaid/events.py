"""Plaid's webhooks read into domain updates.

Plaid's ``TRANSFER_EVENTS_UPDATE`` carries no state, only "there are new transfer
events": the reader asks ``/transfer/event/sync`` for every event after its cursor and
hands the state changes (pending, posted, settled, returned, failed, cancelled) to the
domain in Plaid's order, which applies each through the intent state machine (repeats
and stale ones change nothing).

Plaid's Auth webhooks end a bank account's micro-deposit verification, each naming the
account (``account_id``) and its Item (``item_id``): ``AUTOMATICALLY_VERIFIED``
(automated micro-deposits confirmed) reads as VERIFIED, ``VERIFICATION_EXPIRED``
(not confirmed seven days after the deposit) as FAILED, and
``SMS_MICRODEPOSITS_VERIFICATION`` (same-day micro-deposits confirmed by text message)
as VERIFIED for ``status: MANUALLY_VERIFIED`` and FAILED for ``VERIFICATION_FAILED``.
The body is trusted as it stands, not re-read from ``/accounts/get``: the relay has
verified it (an ES256 JWT over its SHA-256, at most five minutes old, from Plaid's key),
and re-reading would need the Item's access token, which only the store holds (this
reader never touches the store). Other Plaid webhooks (Item, Auth's ``DEFAULT_UPDATE``,
...) carry no change of ours and read as None.

The cursor lives in this reader and in the store: each update says where it read to
(``cursor``), the relay writes that in the transaction applying it, and a new process
starts its reader from the stored position (``load_position``, asked on the first
read, not at start-up: a server whose store is down must still start, and say so).
In memory it moves on only when the relay says the changes were applied and committed
(``on_applied``): a failed apply, retried, reads the same changes again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from functools import partial
from typing import Any, Final

from gateways.protocols import BankTransfers
from gateways.types import BankTransferResult, BankVerification
from gateways.updates import BankVerificationUpdate, GatewayUpdate

TRANSFER_EVENTS_UPDATE: Final = "TRANSFER_EVENTS_UPDATE"
SMS_MICRODEPOSITS_VERIFICATION: Final = "SMS_MICRODEPOSITS_VERIFICATION"
#: Auth webhooks that end a verification, by ``webhook_code`` (the SMS one by ``status``).
_AUTH_OUTCOMES: Final = {
    "AUTOMATICALLY_VERIFIED": (BankVerification.VERIFIED, ""),
    "VERIFICATION_EXPIRED": (BankVerification.FAILED, "verification_expired"),
}
_SMS_OUTCOMES: Final = {
    "MANUALLY_VERIFIED": (BankVerification.VERIFIED, ""),
    "VERIFICATION_FAILED": (BankVerification.FAILED, "verification_failed"),
}
#: A bound on pages per webhook (25 events each); the next webhook continues from there.
MAX_PAGES: Final = 40


class PlaidTransferEvents:
    """The async update reader for Plaid's webhooks (see the module's docstring)."""

    def __init__(
        self,
        transfers: BankTransfers,
        *,
        load_position: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        self._transfers = transfers
        self._after_id = 0
        self._load_position = load_position
        self._lock = asyncio.Lock()  # one sync at a time, so the cursor only moves forward

    @property
    def after_id(self) -> int:
        return self._after_id

    async def __call__(self, event_type: str, event: Mapping[str, Any]) -> GatewayUpdate | None:
        if event.get("webhook_type") == "AUTH":
            return auth_update(event_type, event)
        if event_type != TRANSFER_EVENTS_UPDATE or event.get("webhook_type") != "TRANSFER":
            return None
        changes: list[BankTransferResult] = []
        async with self._lock:
            if self._load_position is not None:  # once; if it fails, the relay retries
                self._after_id = max(self._after_id, await self._load_position())
                self._load_position = None
            cursor = self._after_id
            for _ in range(MAX_PAGES):
                page = await self._transfers.sync_transfer_events(cursor)
                changes.extend(found.transfer for found in page.events)
                moved = page.next_after_id > cursor
                cursor = max(cursor, page.next_after_id)
                if not page.has_more or not moved:
                    break
        if not changes:
            return None
        return GatewayUpdate(
            bank_transfers=tuple(changes),
            cursor=cursor,
            on_applied=partial(self._advance, cursor),
        )

    def _advance(self, cursor: int) -> None:
        """Applied up to ``cursor``; never backwards (updates may commit out of order)."""
        self._after_id = max(self._after_id, cursor)


def auth_update(webhook_code: str, event: Mapping[str, Any]) -> GatewayUpdate | None:
    """An Auth webhook ending an account's verification (see the module's docstring);
    None for any other, or one without an ``account_id``."""
    if webhook_code == SMS_MICRODEPOSITS_VERIFICATION:
        outcome = _SMS_OUTCOMES.get(str(event.get("status") or ""))
    else:
        outcome = _AUTH_OUTCOMES.get(webhook_code)
    account_id, item_id = event.get("account_id"), event.get("item_id")
    if outcome is None or not isinstance(account_id, str) or not account_id:
        return None
    verification, reason = outcome
    return GatewayUpdate(
        bank_verifications=(
            BankVerificationUpdate(
                account_reference=account_id,
                item_reference=item_id if isinstance(item_id, str) else "",
                verification=verification,
                reason=reason,
            ),
        )
    )
