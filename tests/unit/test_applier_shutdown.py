"""The debits a bank verification webhook resumes run after the relay's commit, in the
background: shutdown gives them the grace period, then cancels them (the reconciler
sends what they did not), instead of leaving them to die with the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from gateways.types import BankVerification
from gateways.updates import BankVerificationUpdate, GatewayUpdate
from server.payments.bank import BankPaymentService
from server.payments.gateway_events import PaymentEventApplier
from server.payments.intents import PaymentIntentService

VERIFIED = GatewayUpdate(
    bank_verifications=(
        BankVerificationUpdate(account_reference="acc_1", verification=BankVerification.VERIFIED),
    )
)


class SlowBank:
    """Resumes after ``seconds``; records what it finished and whether it was stopped."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.resumed: list[str] = []
        self.cancelled = False

    async def resume_verified(self, changes: Sequence[BankVerificationUpdate]) -> None:
        try:
            await asyncio.sleep(self.seconds)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.resumed += [change.account_reference for change in changes]


def applier(bank: SlowBank) -> PaymentEventApplier:
    def read(event_type: str, event: Any) -> GatewayUpdate | None:
        return None

    intents = cast(PaymentIntentService, object())  # close never touches the intents
    return PaymentEventApplier(intents, read, cast(BankPaymentService, bank))


async def test_a_resumption_that_finishes_within_the_grace_period_completes() -> None:
    bank = SlowBank(seconds=0.05)
    events = applier(bank)
    events.committed(VERIFIED)
    await events.close(grace=5)
    assert bank.resumed == ["acc_1"]
    assert not bank.cancelled


async def test_a_resumption_still_running_after_the_grace_period_is_cancelled() -> None:
    bank = SlowBank(seconds=60)
    events = applier(bank)
    events.committed(VERIFIED)
    await asyncio.sleep(0)  # the resumption started
    await asyncio.wait_for(events.close(grace=0.05), timeout=5)
    assert bank.cancelled
    assert bank.resumed == []


async def test_closing_with_nothing_running_returns_at_once() -> None:
    events = applier(SlowBank(seconds=60))
    await asyncio.wait_for(events.close(grace=60), timeout=1)
