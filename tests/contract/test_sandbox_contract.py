"""The card-payments contract, run over the sandbox simulator."""

from __future__ import annotations

import pytest

from gateways.protocols import CardPayments
from gateways.sandbox import SandboxConfig, SandboxGateway
from tests.contract.card_suite import *  # noqa: F403  (the shared contract tests)


@pytest.fixture
def card_gateway() -> CardPayments:
    return SandboxGateway(SandboxConfig())


@pytest.fixture
def cards() -> dict[str, str]:
    return {
        "visa": "pm_card_visa",
        "declined": "pm_card_chargeDeclined",
        "insufficient_funds": "pm_card_chargeDeclinedInsufficientFunds",
    }


@pytest.fixture
def peer_lacks() -> frozenset[str]:
    return frozenset()
