"""Where each provider's event stream was applied to, kept across restarts.

Plaid's webhooks only say "something changed"; the relay reads what from
``/transfer/event/sync`` after a cursor. Kept in memory alone, the cursor started at 0
in every new process, and its first sync read the whole history again, page by page.
The position is written in the transaction that applies the changes read up to it, so
it never runs ahead of what committed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from store.webhook_models import GatewayCursorRow


class GatewayCursors:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._postgres = session.get_bind().dialect.name == "postgresql"

    async def position(self, gateway: str) -> int:
        """``gateway``'s position; 0 (the start of its stream) when none is stored."""
        found = await self._session.scalar(
            select(GatewayCursorRow.position).where(GatewayCursorRow.gateway == gateway)
        )
        return 0 if found is None else int(found)

    async def advance(self, gateway: str, position: int, now: dt.datetime) -> None:
        """Move ``gateway``'s position to ``position``, never backwards (applies of
        overlapping reads may commit out of order)."""
        insert = pg_insert if self._postgres else sqlite_insert
        statement = insert(GatewayCursorRow).values(
            gateway=gateway, position=position, update_time=now
        )
        await self._session.execute(
            statement.on_conflict_do_update(
                index_elements=[GatewayCursorRow.gateway],
                set_={"position": statement.excluded.position, "update_time": now},
                where=GatewayCursorRow.position < statement.excluded.position,
            )
        )
