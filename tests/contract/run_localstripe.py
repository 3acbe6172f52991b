"""localstripe, isolated: its state stays in this process's memory.

Upstream pickles its whole store to the fixed path /tmp/localstripe.pickle on every
change and reloads it at start, so two instances (parallel test runs on one machine)
share state and corrupt each other's file. A test peer must start empty and private.
"""

from localstripe import resources
from localstripe.server import start


def _nothing(_store: resources.Store) -> None:
    """Neither load nor persist: the peer lives and dies with the test session."""


resources.Store.try_load_from_disk = _nothing  # type: ignore[method-assign]
resources.Store.dump_to_disk = _nothing  # type: ignore[method-assign]

start()
