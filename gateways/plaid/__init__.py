"""Plaid: the adapter over the official SDK (imported only in ``client.py``)."""

from gateways.plaid.client import PlaidConfig
from gateways.plaid.gateway import PlaidGateway

__all__ = ["PlaidConfig", "PlaidGateway"]
