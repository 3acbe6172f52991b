"""Ids sort by creation; page tokens are opaque and checked; request hashes are stable."""

from __future__ import annotations

import hashlib

import pytest

from isa.payment.v1 import payment_service_pb2 as pb
from server.errors import InvalidInput
from server.servicers.support import (
    Checks,
    decode_page_token,
    encode_page_token,
    request_hash,
)
from store.ids import has_prefix, new_id


def test_ids_are_prefixed_unique_and_sorted_by_creation() -> None:
    ids = [new_id("cus") for _ in range(2000)]
    assert all(has_prefix(i, "cus") for i in ids)
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert not has_prefix(ids[0], "pi")


def test_page_token_round_trip_and_rejection() -> None:
    token = encode_page_token("cus_01abc")
    assert decode_page_token(token) == "cus_01abc"
    assert encode_page_token(None) == ""
    for junk in ("garbage!", "cXdlcnR5", "====", "\u00e9"):
        assert decode_page_token(junk) is None


def test_request_hash_ignores_the_key_but_not_the_content() -> None:
    one = pb.CreateCustomerRequest(name="Ana", metadata={"a": "1", "b": "2"}, idempotency_key="k1")
    same = pb.CreateCustomerRequest(name="Ana", metadata={"b": "2", "a": "1"}, idempotency_key="k2")
    other = pb.CreateCustomerRequest(name="Bob", idempotency_key="k1")
    assert request_hash(one) == request_hash(same)
    assert request_hash(one) != request_hash(other)
    assert one.idempotency_key == "k1", "hashing must not alter the request"
    unkeyed = pb.CreateCustomerRequest(name="Ana", metadata={"a": "1", "b": "2"})
    assert request_hash(one) == request_hash(unkeyed)
    assert (
        request_hash(one)
        == hashlib.sha256(unkeyed.SerializeToString(deterministic=True)).hexdigest()
    ), "stored hashes must keep matching"


def test_checks_collect_every_violation() -> None:
    checks = Checks()
    checks.text("name", "", max_length=10, required=True)
    checks.email("email", "nope")
    checks.idempotency_key("", required=True)
    checks.page(9999, "")
    with pytest.raises(InvalidInput) as caught:
        checks.raise_if_any()
    fields = [v.field for v in caught.value.violations]
    assert fields == ["name", "email", "idempotency_key", "page_size"]
