"""Customers over gRPC: validation, per-client visibility, keyset pages."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from isa.payment.v1 import payment_service_pb2 as pb
from tests.conftest import OTHER_AUTH, TENANT_AUTH, Running


def field_violations(error: grpc.aio.AioRpcError) -> dict[str, str]:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return {v.field: v.description for v in bad.field_violations}
    raise AssertionError("no BadRequest in the status details")


async def test_create_then_get_returns_the_same_customer(server: Running) -> None:
    stub = server.payments()
    created = (
        await stub.CreateCustomer(
            pb.CreateCustomerRequest(
                external_ref="tenant-42",
                email="ana@example.com",
                name="Ana",
                metadata={"unit": "4B"},
                idempotency_key="create-ana",
            ),
            metadata=TENANT_AUTH,
        )
    ).customer
    assert created.id.startswith("cus_")
    assert created.create_time.seconds > 0
    fetched = (
        await stub.GetCustomer(pb.GetCustomerRequest(id=created.id), metadata=TENANT_AUTH)
    ).customer
    assert fetched == created
    assert dict(fetched.metadata) == {"unit": "4B"}


async def test_another_clients_customer_is_not_found(server: Running) -> None:
    stub = server.payments()
    mine = (
        await stub.CreateCustomer(pb.CreateCustomerRequest(name="Mine"), metadata=TENANT_AUTH)
    ).customer
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetCustomer(pb.GetCustomerRequest(id=mine.id), metadata=OTHER_AUTH)
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = await stub.ListCustomers(pb.ListCustomersRequest(), metadata=OTHER_AUTH)
    assert list(listed.customers) == []


async def test_unknown_customer_is_not_found(server: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().GetCustomer(
            pb.GetCustomerRequest(id="cus_01jd0000000000000000000000"), metadata=TENANT_AUTH
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_every_bad_field_is_reported_at_once(server: Running) -> None:
    request = pb.CreateCustomerRequest(
        email="not-an-email",
        name="x" * 201,
        metadata={"k" * 41: "v", "long": "v" * 501},
        idempotency_key="has spaces",
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().CreateCustomer(request, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = field_violations(caught.value)
    assert set(violations) == {
        "email",
        "name",
        f"metadata[{'k' * 41!r}]",
        "metadata['long']",
        "idempotency_key",
    }


async def test_nothing_is_written_when_the_request_is_invalid(server: Running) -> None:
    stub = server.payments()
    with pytest.raises(grpc.aio.AioRpcError):
        await stub.CreateCustomer(
            pb.CreateCustomerRequest(email="bad", idempotency_key="k-invalid"), metadata=TENANT_AUTH
        )
    listed = await stub.ListCustomers(pb.ListCustomersRequest(), metadata=TENANT_AUTH)
    assert list(listed.customers) == []
    # The key was not burnt: a corrected request with it succeeds.
    fixed = await stub.CreateCustomer(
        pb.CreateCustomerRequest(email="ok@example.com", idempotency_key="k-invalid"),
        metadata=TENANT_AUTH,
    )
    assert fixed.customer.email == "ok@example.com"


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.GetCustomerRequest(id=""), "id"),
        (pb.GetCustomerRequest(id="pi_123"), "id"),
        (pb.ListCustomersRequest(page_size=501), "page_size"),
        (pb.ListCustomersRequest(page_size=-1), "page_size"),
        (pb.ListCustomersRequest(page_token="garbage!"), "page_token"),
    ],
)
async def test_malformed_requests_name_the_field(
    server: Running, request_: pb.GetCustomerRequest | pb.ListCustomersRequest, field: str
) -> None:
    stub = server.payments()
    method = stub.GetCustomer if isinstance(request_, pb.GetCustomerRequest) else stub.ListCustomers
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await method(request_, metadata=TENANT_AUTH)  # type: ignore[operator]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in field_violations(caught.value)


async def test_list_pages_newest_first_without_gaps_or_repeats(server: Running) -> None:
    stub = server.payments()
    made = []
    for index in range(7):
        response = await stub.CreateCustomer(
            pb.CreateCustomerRequest(name=f"c{index}"), metadata=TENANT_AUTH
        )
        made.append(response.customer.id)
    seen: list[str] = []
    sizes = []
    token = ""
    for _ in range(10):
        page = await stub.ListCustomers(
            pb.ListCustomersRequest(page_size=3, page_token=token), metadata=TENANT_AUTH
        )
        sizes.append(len(page.customers))
        seen += [c.id for c in page.customers]
        token = page.next_page_token
        if not token:
            break
    assert sizes == [3, 3, 1]
    assert seen == list(reversed(made))


async def test_list_filters_by_email_and_external_ref(server: Running) -> None:
    stub = server.payments()
    for name, email, ref in (("a", "a@x.io", "r1"), ("b", "b@x.io", "r2"), ("c", "a@x.io", "r3")):
        await stub.CreateCustomer(
            pb.CreateCustomerRequest(name=name, email=email, external_ref=ref), metadata=TENANT_AUTH
        )
    by_email = await stub.ListCustomers(
        pb.ListCustomersRequest(email="a@x.io"), metadata=TENANT_AUTH
    )
    assert [c.name for c in by_email.customers] == ["c", "a"]
    by_ref = await stub.ListCustomers(
        pb.ListCustomersRequest(external_ref="r2"), metadata=TENANT_AUTH
    )
    assert [c.name for c in by_ref.customers] == ["b"]
    both = await stub.ListCustomers(
        pb.ListCustomersRequest(email="a@x.io", external_ref="r2"), metadata=TENANT_AUTH
    )
    assert list(both.customers) == []


async def test_default_page_size_is_fifty(server: Running) -> None:
    stub = server.payments()
    for index in range(51):
        await stub.CreateCustomer(pb.CreateCustomerRequest(name=f"c{index}"), metadata=TENANT_AUTH)
    page = await stub.ListCustomers(pb.ListCustomersRequest(), metadata=TENANT_AUTH)
    assert len(page.customers) == 50
    assert page.next_page_token


async def test_a_page_too_large_for_a_grpc_message_is_cut_and_continued(server: Running) -> None:
    """A client refuses a message over 4 MiB (RESOURCE_EXHAUSTED, the page lost): 45
    customers with full metadata in 4-byte characters are ~4.5 MB, so one page of 100
    stops short and the next token carries on from its last customer."""
    stub = server.payments()
    full = {f"k{index:02d}": "😀" * 500 for index in range(50)}
    made = set()
    for index in range(45):
        created = await stub.CreateCustomer(
            pb.CreateCustomerRequest(email=f"big{index}@example.com", metadata=full),
            metadata=TENANT_AUTH,
        )
        made.add(created.customer.id)
    pages: list[list[str]] = []
    token = ""
    while True:
        listed = await stub.ListCustomers(
            pb.ListCustomersRequest(page_size=100, page_token=token), metadata=TENANT_AUTH
        )
        assert listed.ByteSize() < 4 * 1024 * 1024
        pages.append([customer.id for customer in listed.customers])
        token = listed.next_page_token
        if not token:
            break
    assert len(pages) >= 2  # the first page was cut
    assert all(pages)
    seen = [customer_id for page in pages for customer_id in page]
    assert sorted(seen) == sorted(made)  # every customer once, none twice
    assert seen == sorted(seen, reverse=True)  # newest first across the cut
