"""Where the sandbox posts its webhooks: the public relay URL, or this relay itself."""

from __future__ import annotations

import pytest

from server.app import _sandbox_webhook_url
from server.config import load_settings


@pytest.mark.parametrize(
    ("env", "bound", "expected"),
    [
        ({"ISA_RELAY_ADDR": "127.0.0.1:0"}, 40123, "http://127.0.0.1:40123/webhooks/sandbox"),
        (
            {"ISA_RELAY_ADDR": "127.0.0.1:0", "ISA_PUBLIC_RELAY_URL": "https://relay.example.com"},
            40123,
            "http://127.0.0.1:40123/webhooks/sandbox",
        ),
        (
            {
                "ISA_RELAY_ADDR": "0.0.0.0:9090",
                "ISA_PUBLIC_RELAY_URL": "https://relay.example.com/",
            },
            9090,
            "https://relay.example.com/webhooks/sandbox",
        ),
        ({"ISA_RELAY_ADDR": "0.0.0.0:9090"}, 9090, "http://127.0.0.1:9090/webhooks/sandbox"),
        ({"ISA_RELAY_ADDR": "[::1]:9090"}, 9090, "http://[::1]:9090/webhooks/sandbox"),
    ],
)
def test_sandbox_webhook_target(env: dict[str, str], bound: int, expected: str) -> None:
    settings = load_settings(env)
    host = settings.relay_addr.rpartition(":")[0].strip("[]")
    assert _sandbox_webhook_url(settings, host, bound) == expected
