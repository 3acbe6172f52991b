"""The simulator's own behaviours: test cards, 3-D Secure, injected faults."""

from __future__ import annotations

import pytest

from gateways.errors import GatewayRejected, GatewayUnavailable, OutcomeUnknown
from gateways.sandbox import FailureKind, SandboxConfig, SandboxGateway
from gateways.types import ChargeRequest, Outcome, RefundRequest, RetrieveRequest
from server.servicers.card_guard import looks_like_card_number


def visa(key: str, method: str = "pm_card_visa") -> ChargeRequest:
    return ChargeRequest(amount=500, currency="usd", payment_method=method, idempotency_key=key)


async def test_timeout_after_effect_then_retry_with_the_same_key_charges_once() -> None:
    sandbox = SandboxGateway(
        SandboxConfig(failure_rate=1.0, failure_kind=FailureKind.TIMEOUT_AFTER_EFFECT)
    )
    with pytest.raises(OutcomeUnknown):
        await sandbox.charge(visa("k"))
    result = await sandbox.charge(visa("k"))
    assert result.outcome is Outcome.SUCCEEDED
    assert sandbox.charges_made == 1


async def test_unavailable_acts_on_nothing() -> None:
    sandbox = SandboxGateway(SandboxConfig(failure_rate=1.0))
    with pytest.raises(GatewayUnavailable):
        await sandbox.charge(visa("k"))
    assert sandbox.charges_made == 0


@pytest.mark.parametrize(
    ("number", "outcome", "decline_code"),
    [
        ("4242424242424242", Outcome.SUCCEEDED, None),
        ("4000000000000002", Outcome.DECLINED, "generic_decline"),
        ("4000000000009995", Outcome.DECLINED, "insufficient_funds"),
        ("4000002500003155", Outcome.REQUIRES_ACTION, None),
    ],
)
async def test_test_card_numbers_become_tokens_with_their_behaviour(
    number: str, outcome: Outcome, decline_code: str | None
) -> None:
    sandbox = SandboxGateway(SandboxConfig())
    token, brand, last4 = sandbox.tokenize_test_card(number=number, exp_month=12, exp_year=2040)
    assert token.startswith("tok_")
    assert (brand, last4) == ("visa", number[-4:])
    result = await sandbox.charge(visa("k", token))
    assert result.outcome is outcome
    assert (result.error.decline_code if result.error else None) == decline_code


def test_tokens_never_look_like_the_card_numbers_the_service_refuses() -> None:
    """A token comes back in AttachPaymentMethod, where the card guard refuses anything
    holding a Luhn-valid card-shaped run. Hex tokens held one about once in 2,600 (a CI
    run was refused so): 20,000 would show several."""
    sandbox = SandboxGateway(SandboxConfig())
    tokens = [
        sandbox.tokenize_test_card(number="4242424242424242", exp_month=12, exp_year=2040)[0]
        for _ in range(20_000)
    ]
    assert len(set(tokens)) == len(tokens)
    assert [token for token in tokens if looks_like_card_number(token)] == []


def test_a_number_failing_luhn_is_refused() -> None:
    with pytest.raises(GatewayRejected):
        SandboxGateway(SandboxConfig()).tokenize_test_card(
            number="4242424242424241", exp_month=1, exp_year=2040
        )


@pytest.mark.parametrize(
    ("succeed", "outcome"), [(True, Outcome.SUCCEEDED), (False, Outcome.DECLINED)]
)
async def test_authentication_completes_or_fails(succeed: bool, outcome: Outcome) -> None:
    sandbox = SandboxGateway(SandboxConfig(base_url="http://local"))
    pending = await sandbox.charge(visa("k", "pm_card_authenticationRequired"))
    assert pending.outcome is Outcome.REQUIRES_ACTION
    assert pending.redirect_url.startswith("http://local/sandbox/authenticate/")
    await sandbox.complete_authentication(pending.gateway_reference, succeed=succeed)
    after = await sandbox.retrieve(RetrieveRequest(gateway_reference=pending.gateway_reference))
    assert after.outcome is outcome
    if not succeed:
        assert after.error is not None
        assert after.error.code == "authentication_failed"


async def test_a_refund_says_how_much_of_which_payment_it_refunded() -> None:
    sandbox = SandboxGateway(SandboxConfig())
    paid = await sandbox.charge(visa("k"))
    refund = await sandbox.refund(
        RefundRequest(
            gateway_reference=paid.gateway_reference,
            amount=200,
            currency="usd",
            idempotency_key="r",
        )
    )
    assert (refund.amount, refund.currency, refund.payment_reference) == (
        200,
        "usd",
        paid.gateway_reference,
    )
