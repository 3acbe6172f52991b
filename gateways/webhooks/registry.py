"""Builds the verifier of every gateway that has its webhook secret configured."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from gateways.webhooks import WebhookVerifier
from gateways.webhooks.coinbase import CoinbaseVerifier
from gateways.webhooks.paypal import PayPalVerifier
from gateways.webhooks.plaid import HOSTS, PlaidVerifier
from gateways.webhooks.sandbox import SandboxVerifier
from gateways.webhooks.square import SquareVerifier
from gateways.webhooks.stripe import StripeVerifier

WEBHOOK_GATEWAYS: Final = ("stripe", "square", "plaid", "paypal", "coinbase", "sandbox")


def build_verifiers(
    *,
    stripe_secret: str | None = None,
    stripe_tolerance_seconds: int = 300,
    square_signature_key: str | None = None,
    square_notification_url: str = "",
    plaid_client_id: str | None = None,
    plaid_secret: str | None = None,
    plaid_env: str = "sandbox",
    plaid_host: str | None = None,
    plaid_max_age_seconds: int = 300,
    paypal_client_id: str | None = None,
    paypal_secret: str | None = None,
    paypal_webhook_id: str | None = None,
    paypal_api_base: str = "",
    coinbase_secret: str | None = None,
    sandbox_secret: str | None = None,
) -> Mapping[str, WebhookVerifier]:
    verifiers: dict[str, WebhookVerifier] = {}
    if stripe_secret:
        verifiers["stripe"] = StripeVerifier(
            stripe_secret, tolerance_seconds=stripe_tolerance_seconds
        )
    if square_signature_key:
        verifiers["square"] = SquareVerifier(
            square_signature_key, notification_url=square_notification_url
        )
    if plaid_client_id and plaid_secret:
        verifiers["plaid"] = PlaidVerifier(
            client_id=plaid_client_id,
            secret=plaid_secret,
            host=plaid_host or HOSTS.get(plaid_env, HOSTS["sandbox"]),
            max_age_seconds=plaid_max_age_seconds,
        )
    if paypal_client_id and paypal_secret and paypal_webhook_id:
        verifiers["paypal"] = PayPalVerifier(
            client_id=paypal_client_id,
            secret=paypal_secret,
            webhook_id=paypal_webhook_id,
            api_base=paypal_api_base,
        )
    if coinbase_secret:
        verifiers["coinbase"] = CoinbaseVerifier(coinbase_secret)
    if sandbox_secret:
        verifiers["sandbox"] = SandboxVerifier(sandbox_secret)
    return verifiers


async def close_verifiers(verifiers: Mapping[str, WebhookVerifier]) -> None:
    for verifier in verifiers.values():
        if isinstance(verifier, PlaidVerifier | PayPalVerifier):
            await verifier.close()
