"""Square: the adapter over the official squareup SDK (imported only in ``client.py``)."""

from gateways.square.client import SquareConfig
from gateways.square.gateway import SquareGateway

__all__ = ["SquareConfig", "SquareGateway"]
