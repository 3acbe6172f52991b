"""Loads every generated module so the default descriptor pool knows every service."""

from __future__ import annotations

import importlib
import pkgutil

import isa


def load_descriptors() -> None:
    """Import each ``isa.…_pb2`` module once; the servers then look services up by name."""
    for module in pkgutil.walk_packages(isa.__path__, prefix="isa."):
        if module.name.endswith("_pb2"):
            importlib.import_module(module.name)
