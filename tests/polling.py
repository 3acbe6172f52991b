"""Waiting for what the server does in the background (deliveries, sweeps, webhooks).

Tests poll with a deadline rather than sleep for a guessed time: a fast machine does
not wait, a slow one does not flake, and a condition never met fails by name.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

T = TypeVar("T")

#: Between two looks: short enough not to slow a test, long enough not to spin.
POLL_INTERVAL_SECONDS: Final = 0.05


async def eventually(check: Callable[[], Awaitable[T | None]], seconds: float = 30) -> T:
    """Poll ``check`` until it returns something truthy (and return it), failing at the
    deadline."""
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("not reached before the deadline")
        await asyncio.sleep(POLL_INTERVAL_SECONDS)


async def until(condition: Callable[[], bool], seconds: float = 15) -> None:
    """Wait until a synchronous ``condition`` holds (state a test's receiver collects)."""

    async def holds() -> bool:
        return condition()

    await eventually(holds, seconds)
