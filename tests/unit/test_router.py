"""The router: choice by capability, method type and currency; failover only when safe."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateways.errors import GatewayUnavailable, OutcomeUnknown
from gateways.protocols import CardPayments
from gateways.registry import Registry
from gateways.router import Need, NoCapableGateway, Router
from gateways.sandbox import FailureKind, SandboxConfig, SandboxGateway
from gateways.types import Capability, ChargeRequest, MethodType, Outcome


class Renamed(SandboxGateway):
    """A second simulator under another name, to have two capable gateways."""

    def __init__(self, name: str, config: SandboxConfig) -> None:
        super().__init__(config)
        self.info = replace(self.info, name=name)


CARD_USD = Need(protocol=CardPayments, method_type=MethodType.CARD, currency="usd")


def charge(key: str, method: str = "pm_card_visa") -> ChargeRequest:
    return ChargeRequest(amount=1000, currency="usd", payment_method=method, idempotency_key=key)


def two(first: SandboxConfig) -> tuple[Router, SandboxGateway, SandboxGateway]:
    a = Renamed("first", first)
    b = Renamed("second", SandboxConfig())
    return Router(Registry([a, b])), a, b


async def test_unavailable_before_sending_fails_over_to_the_next_gateway() -> None:
    router, first, second = two(SandboxConfig(failure_rate=1.0))
    used, result = await router.first_available(
        router.candidates(CARD_USD, CardPayments), lambda g: g.charge(charge("k1"))
    )
    assert used is second
    assert result.outcome is Outcome.SUCCEEDED
    assert (first.charges_made, second.charges_made) == (0, 1)


async def test_a_decline_does_not_fail_over() -> None:
    router, first, second = two(SandboxConfig())
    used, result = await router.first_available(
        router.candidates(CARD_USD, CardPayments),
        lambda g: g.charge(charge("k2", "pm_card_chargeDeclined")),
    )
    assert used is first
    assert result.outcome is Outcome.DECLINED
    assert second.charges_made == 0


async def test_an_unknown_outcome_does_not_fail_over() -> None:
    router, first, second = two(
        SandboxConfig(failure_rate=1.0, failure_kind=FailureKind.TIMEOUT_AFTER_EFFECT)
    )
    with pytest.raises(OutcomeUnknown):
        await router.first_available(
            router.candidates(CARD_USD, CardPayments), lambda g: g.charge(charge("k3"))
        )
    assert (first.charges_made, second.charges_made) == (1, 0)


async def test_all_unavailable_raises_the_last_refusal() -> None:
    a = Renamed("a", SandboxConfig(failure_rate=1.0))
    router = Router(Registry([a]))
    with pytest.raises(GatewayUnavailable):
        await router.first_available(
            router.candidates(CARD_USD, CardPayments), lambda g: g.charge(charge("k4"))
        )


def test_an_explicit_unknown_gateway_is_refused() -> None:
    router, _, _ = two(SandboxConfig())
    with pytest.raises(NoCapableGateway) as caught:
        router.candidates(CARD_USD, CardPayments, gateway="stripe")
    assert caught.value.unknown_name


def test_currency_and_method_type_filter_the_candidates() -> None:
    router, _, _ = two(SandboxConfig())
    with pytest.raises(NoCapableGateway):
        router.candidates(
            Need(protocol=CardPayments, method_type=MethodType.CARD, currency="usdc"), CardPayments
        )
    with pytest.raises(NoCapableGateway):
        router.candidates(
            Need(protocol=CardPayments, method_type=MethodType.CRYPTO_WALLET), CardPayments
        )
    names = [
        g.info.name
        for g in router.candidates(
            Need(protocol=CardPayments, capabilities=frozenset({Capability.MANUAL_CAPTURE})),
            CardPayments,
        )
    ]
    assert names == ["first", "second"]
