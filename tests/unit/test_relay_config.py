"""The relay's settings: read from ISA_* variables, checked, secrets never shown."""

from __future__ import annotations

import pytest

from server.config import ConfigError, load_settings


def test_relay_settings_are_read_and_checked() -> None:
    relay = load_settings(
        {
            "ISA_WEBHOOK_RETRY_SCHEDULE": "1,2,3",
            "ISA_COINBASE_WEBHOOK_SECRET": "cb-secret-value",
            "ISA_RELAY_MAX_BODY_BYTES": "2048",
        }
    ).relay
    assert relay.retry_schedule == (1.0, 2.0, 3.0)
    assert relay.max_body_bytes == 2048
    assert "cb-secret-value" not in repr(relay)
    assert "whsec_" not in repr(relay)


@pytest.mark.parametrize(
    "env",
    [
        {"ISA_WEBHOOK_LEASE_SECONDS": "10", "ISA_WEBHOOK_TIMEOUT_SECONDS": "15"},
        {"ISA_WEBHOOK_RETRY_SCHEDULE": "5,soon"},
        {"ISA_WEBHOOK_RETRY_SCHEDULE": "5,-1"},
        {"ISA_RELAY_MAX_BODY_BYTES": "10"},
    ],
)
def test_bad_relay_settings_are_refused(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        load_settings(env)
