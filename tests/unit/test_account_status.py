"""How a gateway's view of a connected account reads as our status."""

from __future__ import annotations

import pytest

from gateways.types import AccountResult
from server.payments.marketplace import account_status


@pytest.mark.parametrize(
    ("charges", "details", "disabled_reason", "status"),
    [
        (False, False, "requirements.past_due", "pending"),
        (True, False, "", "pending"),
        (False, True, "requirements.pending_verification", "restricted"),
        (True, True, "", "active"),
        (False, True, "rejected.fraud", "rejected"),
        (True, True, "rejected.terms_of_service", "rejected"),
    ],
)
def test_status(charges: bool, details: bool, disabled_reason: str, status: str) -> None:
    account = AccountResult(
        gateway_reference="acct_1",
        charges_enabled=charges,
        payouts_enabled=False,
        details_submitted=details,
        disabled_reason=disabled_reason,
    )
    assert account_status(account) == status
