"""The call policy's per-call shortcuts: the bearer token lookup and made request ids."""

from __future__ import annotations

import re

from server.config import Client, token_digest
from server.interceptors import MAX_KNOWN_TOKENS, CallPolicy, RequestIds
from server.metrics import Metrics

TENANT = Client(id="tenant", token_sha256=token_digest("tenant-token"), services=frozenset())
OTHER = Client(id="other", token_sha256=token_digest("other-token"), services=frozenset())


def test_a_known_header_names_its_client_every_time_and_unknown_ones_none() -> None:
    policy = CallPolicy(Metrics(), [TENANT, OTHER])
    for _ in range(2):  # the second time from what the first remembered
        assert policy.client_for("Bearer tenant-token") is TENANT
        assert policy.client_for("bearer  other-token ") is OTHER
        assert policy.client_for("Bearer nobody") is None
        assert policy.client_for("Basic tenant-token") is None
        assert policy.client_for("tenant-token") is None
        assert policy.client_for("") is None
        assert policy.client_for(None) is None


def test_only_tokens_that_matched_are_remembered_and_never_too_many() -> None:
    policy = CallPolicy(Metrics(), [TENANT])
    for n in range(MAX_KNOWN_TOKENS * 2):
        assert policy.client_for(f"Bearer wrong-{n}") is None
        assert policy.client_for(f"Bearer tenant-token{' ' * (n % 300)}") is TENANT
    assert 0 < len(policy._known) <= MAX_KNOWN_TOKENS
    assert all(client is TENANT for client in policy._known.values())


def test_made_request_ids_are_32_hex_digits_and_all_different() -> None:
    made = RequestIds()
    ids = [made() for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", value) for value in ids)
    assert len(set(ids)) == len(ids)
    assert RequestIds()()[:16] != made()[:16]  # another process run, another prefix
