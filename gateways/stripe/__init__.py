"""Stripe: the adapter over the official SDK (imported only in ``client.py``)."""

from gateways.stripe.client import StripeConfig
from gateways.stripe.gateway import StripeGateway

__all__ = ["StripeConfig", "StripeGateway"]
