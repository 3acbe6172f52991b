"""Inputs at and past their types' edges get INVALID_ARGUMENT naming the field, never
INTERNAL: out-of-range Timestamps and Durations, amounts that would overflow a 64-bit
balance, and card numbers in any service's request (refused unread, never stored)."""

from __future__ import annotations

import itertools
import logging

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text

from isa.credit.v1 import credit_service_pb2 as cpb
from isa.payment.v1 import payment_service_pb2 as ppb
from isa.payment.v1 import resources_pb2 as pres
from isa.wallet.v1 import wallet_service_pb2 as wpb
from isa.webhook.v1 import webhook_service_pb2 as hpb
from server.ledger.credits import MAX_GRANT
from tests.conftest import TENANT_AUTH, Running
from tests.integration.test_deposits_and_purchases import credits, wallets
from tests.integration.test_payment_gateway_events import webhooks
from tests.ledger_support import assert_ledger_ok, field_violations

INT64_MAX = 2**63 - 1
CARD = "4242424242424242"
_keys = itertools.count()


def key() -> str:
    return f"bounds-{next(_keys)}"


async def invalid(call: grpc.aio.UnaryUnaryMultiCallable, request: Message) -> dict[str, str]:
    """The field violations of a call that must be refused INVALID_ARGUMENT."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(request, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    return field_violations(caught.value)


@pytest.mark.parametrize(
    "stamp",
    [
        Timestamp(seconds=INT64_MAX),
        Timestamp(seconds=-(2**63)),
        Timestamp(seconds=253_402_300_800),  # 10000-01-01
        Timestamp(seconds=4_102_444_800, nanos=-1),
        Timestamp(seconds=4_102_444_800, nanos=1_000_000_000),
    ],
)
async def test_a_grant_expiring_at_no_valid_time_is_refused(
    server: Running, stamp: Timestamp
) -> None:
    request = cpb.GrantCreditsRequest(
        owner_id="ana", amount=10, expire_time=stamp, idempotency_key=key()
    )
    assert set(await invalid(credits(server).GrantCredits, request)) == {"expire_time"}


@pytest.mark.parametrize(
    "ttl",
    [
        Duration(seconds=INT64_MAX),
        Duration(seconds=-(2**63)),
        Duration(seconds=60, nanos=-1),  # nanos must share the seconds' sign
        Duration(seconds=0, nanos=1_000_000_000),
        Duration(seconds=0),
    ],
)
async def test_a_reservation_for_no_valid_span_is_refused(server: Running, ttl: Duration) -> None:
    request = cpb.ReserveCreditsRequest(owner_id="ana", amount=1, ttl=ttl, idempotency_key=key())
    assert set(await invalid(credits(server).ReserveCredits, request)) == {"ttl"}


@pytest.mark.parametrize("ttl", [Duration(seconds=INT64_MAX), Duration(seconds=-(2**63))])
async def test_rotating_a_secret_with_no_valid_overlap_is_refused(
    server: Running, ttl: Duration
) -> None:
    created = await webhooks(server).CreateEndpoint(
        hpb.CreateEndpointRequest(url="https://example.com/hooks"), metadata=TENANT_AUTH
    )
    request = hpb.RotateEndpointSecretRequest(id=created.endpoint.id, previous_secret_ttl=ttl)
    fields = await invalid(webhooks(server).RotateEndpointSecret, request)
    assert set(fields) == {"previous_secret_ttl"}


async def test_a_zero_overlap_still_retires_the_old_secret_at_once(server: Running) -> None:
    created = await webhooks(server).CreateEndpoint(
        hpb.CreateEndpointRequest(url="https://example.com/hooks"), metadata=TENANT_AUTH
    )
    rotated = await webhooks(server).RotateEndpointSecret(
        hpb.RotateEndpointSecretRequest(id=created.endpoint.id, previous_secret_ttl=Duration()),
        metadata=TENANT_AUTH,
    )
    assert rotated.endpoint.secret != created.endpoint.secret


@pytest.mark.parametrize("amount", [MAX_GRANT + 1, INT64_MAX])
async def test_a_grant_too_large_for_the_ledger_is_refused_and_moves_nothing(
    server: Running, amount: int
) -> None:
    request = cpb.GrantCreditsRequest(owner_id="ana", amount=amount, idempotency_key=key())
    fields = await invalid(credits(server).GrantCredits, request)
    assert fields == {"amount": f"must be at most {MAX_GRANT} credits"}
    balance = await credits(server).GetCreditBalance(
        cpb.GetCreditBalanceRequest(owner_id="ana"), metadata=TENANT_AUTH
    )
    assert balance.credit_balance.total == 0
    await assert_ledger_ok(server.runtime.db)


async def test_the_largest_grant_is_given_whole(server: Running) -> None:
    made = await credits(server).GrantCredits(
        cpb.GrantCreditsRequest(owner_id="ana", amount=MAX_GRANT, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    assert made.credit_grant.remaining == MAX_GRANT
    await assert_ledger_ok(server.runtime.db)


CARD_CARRYING = [
    pytest.param(wallets, "CreateWallet", wpb.CreateWalletRequest(owner_id=CARD), "owner_id"),
    pytest.param(
        wallets,
        "Transfer",
        wpb.TransferRequest(
            from_wallet_id="wal_a",
            to_wallet_id="wal_b",
            amount=1,
            currency="usd",
            note=f"card {CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}",
            idempotency_key="t-1",
        ),
        "note",
    ),
    pytest.param(
        credits,
        "GrantCredits",
        cpb.GrantCreditsRequest(
            owner_id="ana", amount=5, metadata={"card": CARD}, idempotency_key="g-1"
        ),
        "metadata['card']",
    ),
    pytest.param(
        credits,
        "PurchaseCredits",
        cpb.PurchaseCreditsRequest(
            owner_id="ana", package_id=CARD, payment_method_id="pm_card_visa", idempotency_key="p"
        ),
        "package_id",
    ),
    pytest.param(
        webhooks,
        "CreateEndpoint",
        hpb.CreateEndpointRequest(url=f"https://example.com/{CARD}"),
        "url",
    ),
    pytest.param(
        credits,
        "ConsumeCredits",
        cpb.ConsumeCreditsRequest(owner_id="ana", amount=1, idempotency_key=f"k-{CARD}"),
        "idempotency_key",
    ),
]


@pytest.mark.parametrize(("stub", "method", "request_message", "field"), CARD_CARRYING)
async def test_a_card_number_in_any_service_is_refused_unread_and_never_stored(
    server: Running,
    caplog: pytest.LogCaptureFixture,
    stub: object,
    method: str,
    request_message: Message,
    field: str,
) -> None:
    call = getattr(stub(server), method)  # type: ignore[operator]
    with caplog.at_level(logging.DEBUG), pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(request_message, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    violations = field_violations(caught.value)
    assert list(violations) == [field]
    assert CARD not in str(caught.value.details()) + str(violations)
    assert CARD not in caplog.text
    async with server.runtime.db.read() as session:
        stored = await session.execute(
            text(
                "SELECT (SELECT count(*) FROM idempotency_records) + (SELECT count(*) FROM "
                "wallets) + (SELECT count(*) FROM webhook_endpoints) + (SELECT count(*) "
                "FROM credit_grants) + (SELECT count(*) FROM events)"
            )
        )
        assert stored.scalar_one() == 0


def _intent(**fields: object) -> ppb.CreatePaymentIntentRequest:
    values: dict[str, object] = {"amount": 500, "currency": "usd", "idempotency_key": key()}
    values.update(fields)
    return ppb.CreatePaymentIntentRequest(**values)  # type: ignore[arg-type]


def _checkout(**fields: object) -> ppb.CreateCheckoutSessionRequest:
    values: dict[str, object] = {
        "mode": pres.CHECKOUT_SESSION_MODE_PAYMENT,
        "line_items": pres.CheckoutLineItems(
            items=[pres.CheckoutLineItem(description="rent", quantity=1, unit_amount=500)]
        ),
        "success_url": "https://portal.example/paid",
        "idempotency_key": key(),
    }
    values.update(fields)
    return ppb.CreateCheckoutSessionRequest(**values)  # type: ignore[arg-type]


def _lines(*lines: tuple[int, int]) -> pres.CheckoutLineItems:
    return pres.CheckoutLineItems(
        items=[pres.CheckoutLineItem(description="x", quantity=q, unit_amount=u) for q, u in lines]
    )


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (_intent(return_url="not a url"), "return_url"),
        (_intent(return_url="javascript:alert(1)"), "return_url"),
        (_intent(capture_method=7), "capture_method"),  # type: ignore[arg-type]
        (_checkout(success_url="nope"), "success_url"),
        (_checkout(success_url=""), "success_url"),
        (_checkout(cancel_url="ftp://portal.example/back"), "cancel_url"),
        (_checkout(mode=pres.CHECKOUT_SESSION_MODE_UNSPECIFIED), "mode"),
        (_checkout(mode=9), "mode"),  # type: ignore[arg-type]
        (_checkout(line_items=_lines((1, 0), (3, 0))), "line_items"),  # nothing to pay
        (_checkout(line_items=_lines((2, 60_000_000))), "line_items"),  # above one payment
    ],
)
async def test_urls_and_enum_values_a_payment_cannot_use_are_refused(
    server: Running, request_: Message, field: str
) -> None:
    stub = server.payments()
    call = (
        stub.CreatePaymentIntent
        if isinstance(request_, ppb.CreatePaymentIntentRequest)
        else stub.CreateCheckoutSession
    )
    assert set(await invalid(call, request_)) == {field}


async def test_listing_by_an_unknown_status_is_refused_not_unfiltered(server: Running) -> None:
    request = ppb.ListPaymentIntentsRequest(status=99)  # type: ignore[arg-type]
    assert set(await invalid(server.payments().ListPaymentIntents, request)) == {"status"}


async def test_control_characters_are_refused_in_any_field_not_internal(server: Running) -> None:
    """PostgreSQL cannot store NUL in text: it was INTERNAL there (and stored on SQLite)."""
    stub = server.payments()
    named = ppb.CreateCustomerRequest(name="Ana\x00", email="ana@example.com")
    assert await invalid(stub.CreateCustomer, named) == {
        "name": "must not contain control characters (such as NUL)"
    }
    tagged = ppb.CreateCustomerRequest(name="Ana", metadata={"unit": "4\x00B", "ok": "fine"})
    assert set(await invalid(stub.CreateCustomer, tagged)) == {"metadata['unit']"}
    described = _intent(description="rent\x1b[31m")
    assert set(await invalid(stub.CreatePaymentIntent, described)) == {"description"}
    fine = await stub.CreateCustomer(
        ppb.CreateCustomerRequest(name="Ana\tMaria", metadata={"note": "line 1\nline 2"}),
        metadata=TENANT_AUTH,
    )
    assert fine.customer.name == "Ana\tMaria"
    listed = await stub.ListCustomers(ppb.ListCustomersRequest(), metadata=TENANT_AUTH)
    assert [c.name for c in listed.customers] == ["Ana\tMaria"]


async def test_an_unknown_business_type_is_refused_not_read_as_individual(
    server: Running,
) -> None:
    request = ppb.CreateConnectedAccountRequest(owner_ref="s1", business_type=99)  # type: ignore[arg-type]
    assert set(await invalid(server.payments().CreateConnectedAccount, request)) == {
        "business_type"
    }


async def test_onboarding_urls_must_be_pages_a_browser_can_open(server: Running) -> None:
    """The gateway sends the seller's browser to refresh_url when a link has lapsed: a
    typo there strands onboarding, as it would on return_url."""
    stub = server.payments()
    account = ppb.CreateConnectedAccountRequest(
        owner_ref="s1", return_url="https://portal.example/done", refresh_url="portal/again"
    )
    assert await invalid(stub.CreateConnectedAccount, account) == {
        "refresh_url": "must be an absolute http or https URL"
    }
    created = await stub.CreateConnectedAccount(
        ppb.CreateConnectedAccountRequest(owner_ref="s1"), metadata=TENANT_AUTH
    )
    link = ppb.CreateAccountLinkRequest(
        id=created.connected_account.id,
        type=pres.ACCOUNT_LINK_TYPE_ONBOARDING,
        return_url="https://portal.example/done",
        refresh_url="javascript:alert(1)",
    )
    assert await invalid(stub.CreateAccountLink, link) == {
        "refresh_url": "must be an absolute http or https URL"
    }


async def test_a_line_item_quantity_is_a_count_not_money(server: Running) -> None:
    request = _checkout(line_items=_lines((0, 500)))
    violations = await invalid(server.payments().CreateCheckoutSession, request)
    assert violations["line_items.items[0].quantity"] == "must be between 1 and 99999999"


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data",  # a cloud metadata service
        "https://[fe80::1]/hooks",
        "https://[::ffff:169.254.169.254]/hooks",  # the same, written as IPv6
        "https://0.0.0.0/hooks",
        "https://224.0.0.1/hooks",
    ],
)
async def test_an_endpoint_on_an_address_no_consumer_lives_at_is_refused(
    server: Running, url: str
) -> None:
    request = hpb.CreateEndpointRequest(url=url)
    assert await invalid(webhooks(server).CreateEndpoint, request) == {
        "url": "must not be a link-local, unspecified, multicast or reserved address"
    }


async def test_an_endpoint_on_a_private_network_is_an_internal_consumer(server: Running) -> None:
    made = await webhooks(server).CreateEndpoint(
        hpb.CreateEndpointRequest(url="https://10.0.3.7/hooks"), metadata=TENANT_AUTH
    )
    assert made.endpoint.url == "https://10.0.3.7/hooks"


async def test_a_refusal_echoing_huge_input_still_reaches_the_caller_whole(
    server: Running,
) -> None:
    """Violations quote what was sent; 20 metadata keys of 5,000 characters each made a
    status too large for gRPC's 8 KiB trailer limit, and the client saw
    RESOURCE_EXHAUSTED "Stream removed" instead of INVALID_ARGUMENT."""
    request = ppb.CreateCustomerRequest(
        email="huge@example.com",
        metadata={f"{index}{'ü' * 5000}": "v" for index in range(20)},
        idempotency_key=key(),
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await server.payments().CreateCustomer(request, metadata=TENANT_AUTH)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, caught.value.details()
    details = caught.value.details() or ""
    assert details.startswith("invalid request: metadata[")
    assert details.endswith("…")
    violations = field_violations(caught.value)
    named = [field for field in violations if field.startswith("metadata[")]
    assert named
    assert all(field.endswith("…") and len(field) <= 120 for field in named)
    assert all(violations[field] == "keys must be 1 to 40 characters" for field in named)
    assert len(named) < 20
    assert "and " in violations[""]
    assert "more violations" in violations[""]


@pytest.mark.parametrize(("lines", "accepted"), [(100, True), (101, False)])
async def test_a_checkout_takes_at_most_a_hundred_line_items(
    server: Running, lines: int, accepted: bool
) -> None:
    """As Stripe Checkout: 50,000 lines were taken, stored and echoed (450 KB)."""
    request = ppb.CreateCheckoutSessionRequest(
        mode=pres.CHECKOUT_SESSION_MODE_PAYMENT,
        line_items=pres.CheckoutLineItems(
            items=[pres.CheckoutLineItem(description="seat", quantity=1, unit_amount=100)] * lines
        ),
        success_url="https://portal.example/paid",
        cancel_url="https://portal.example/cart",
        idempotency_key=key(),
    )
    if accepted:
        created = await server.payments().CreateCheckoutSession(request, metadata=TENANT_AUTH)
        assert len(created.checkout_session.line_items) == lines
        assert created.checkout_session.amount_total == 100 * lines
        return
    violations = await invalid(server.payments().CreateCheckoutSession, request)
    assert violations == {"line_items.items": "may hold at most 100 line items"}
