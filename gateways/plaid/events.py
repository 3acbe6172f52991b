"""Plaid's webhooks read into domain updates.

Plaid's ``TRANSFER_EVENTS_UPDATE`` carries no state, only "there are new transfer
events": the reader asks ``/transfer/event/sync`` for every event after its cursor and
hands the state changes (pending, posted, settled, returned, failed, cancelled) to the
domain in Plaid's order, which applies each through the intent state machine (repeats
and stale ones change nothing). Other Plaid webhooks (Item, Auth) carry no payment
change and read as None.

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
from gateways.types import BankTransferResult
from gateways.updates import GatewayUpdate

TRANSFER_EVENTS_UPDATE: Final = "TRANSFER_EVENTS_UPDATE"
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
