"""CreditService over gRPC, and the credit rules in the domain with a movable clock."""

from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import text

from isa.credit.v1 import credit_service_pb2 as pb
from isa.credit.v1 import credit_service_pb2_grpc
from isa.credit.v1 import resources_pb2 as resources
from server.errors import InsufficientCredits, InvalidState
from server.ledger.credits import (
    CreditService,
    NewConsumption,
    NewGrant,
    NewPurchase,
    NewReservation,
)
from server.ledger.packages import DEFAULT_PACKAGES, CreditPackage
from server.ledger.payments import (
    ChargeRequest,
    PaymentOutcome,
    PaymentReference,
    PayoutRequest,
)
from store.db import Database
from store.last_error import LastError
from tests.conftest import OTHER_AUTH, TENANT_AUTH, Running
from tests.ledger_support import assert_ledger_ok, error_info, error_reason, field_violations

CLIENT = "c1"
START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def stub(server: Running) -> credit_service_pb2_grpc.CreditServiceStub:
    return credit_service_pb2_grpc.CreditServiceStub(server.channel)


def at(when: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(when)
    return stamp


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now


# -- over gRPC -----------------------------------------------------------------------


async def test_packages_are_the_configured_defaults(server: Running) -> None:
    listed = await stub(server).ListCreditPackages(
        pb.ListCreditPackagesRequest(), metadata=TENANT_AUTH
    )
    assert [(p.id, p.name, p.credits, p.price, p.currency) for p in listed.credit_packages] == [
        ("credits_100", "Starter", 100, 1_000, "usd"),
        ("credits_500", "Standard", 500, 4_500, "usd"),
        ("credits_1000", "Pro", 1_000, 8_000, "usd"),
        ("credits_5000", "Enterprise", 5_000, 35_000, "usd"),
    ]
    first = await stub(server).ListCreditPackages(
        pb.ListCreditPackagesRequest(page_size=3), metadata=TENANT_AUTH
    )
    rest = await stub(server).ListCreditPackages(
        pb.ListCreditPackagesRequest(page_size=3, page_token=first.next_page_token),
        metadata=TENANT_AUTH,
    )
    assert [p.id for p in rest.credit_packages] == ["credits_5000"]
    assert rest.next_page_token == ""


async def test_grant_consume_and_balance(server: Running) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=10)
    granted = (
        await stub(server).GrantCredits(
            pb.GrantCreditsRequest(
                owner_id="org-1",
                amount=300,
                expire_time=at(later),
                reason="signup_bonus",
                idempotency_key="g1",
            ),
            metadata=TENANT_AUTH,
        )
    ).credit_grant
    assert granted.id.startswith("crg_")
    assert (granted.remaining, granted.source) == (300, resources.CREDIT_GRANT_SOURCE_GRANT)
    spent = (
        await stub(server).ConsumeCredits(
            pb.ConsumeCreditsRequest(
                owner_id="org-1", amount=120, reason="image", idempotency_key="c1"
            ),
            metadata=TENANT_AUTH,
        )
    ).credit_transaction
    assert (spent.type, spent.amount, spent.balance_after) == (
        resources.CREDIT_TRANSACTION_TYPE_CONSUME,
        -120,
        180,
    )
    balance = (
        await stub(server).GetCreditBalance(
            pb.GetCreditBalanceRequest(owner_id="org-1"), metadata=TENANT_AUTH
        )
    ).credit_balance
    assert (balance.total, balance.available, balance.reserved) == (180, 180, 0)
    assert balance.expiring_soon.amount == 180
    assert balance.expiring_soon.expire_time.ToDatetime(dt.UTC) == later.replace(
        microsecond=later.microsecond // 1000 * 1000
    ) or abs(balance.expiring_soon.expire_time.ToDatetime(dt.UTC) - later) < dt.timedelta(
        milliseconds=1
    )
    other = (
        await stub(server).GetCreditBalance(
            pb.GetCreditBalanceRequest(owner_id="org-1"), metadata=OTHER_AUTH
        )
    ).credit_balance
    assert (other.total, other.available) == (0, 0)
    history = await stub(server).ListCreditTransactions(
        pb.ListCreditTransactionsRequest(owner_id="org-1"), metadata=TENANT_AUTH
    )
    assert [t.amount for t in history.credit_transactions] == [-120, 300]
    await assert_ledger_ok(server.runtime.db)


async def test_consuming_more_than_available_is_insufficient_credits(server: Running) -> None:
    await stub(server).GrantCredits(
        pb.GrantCreditsRequest(owner_id="o", amount=10, idempotency_key="g"), metadata=TENANT_AUTH
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).ConsumeCredits(
            pb.ConsumeCreditsRequest(owner_id="o", amount=11, idempotency_key="c"),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "INSUFFICIENT_CREDITS"
    assert error_info(caught.value).metadata["available"] == "10"
    balance = await stub(server).GetCreditBalance(
        pb.GetCreditBalanceRequest(owner_id="o"), metadata=TENANT_AUTH
    )
    assert balance.credit_balance.available == 10
    await assert_ledger_ok(server.runtime.db)


async def test_bad_credit_requests_name_each_field(server: Running) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(server).GrantCredits(
            pb.GrantCreditsRequest(owner_id="", amount=0, expire_time=at(START.replace(year=2001))),
            metadata=TENANT_AUTH,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(field_violations(caught.value)) == {
        "owner_id",
        "amount",
        "expire_time",
        "idempotency_key",
    }
    with pytest.raises(grpc.aio.AioRpcError) as reserve:
        await stub(server).ReserveCredits(
            pb.ReserveCreditsRequest(
                owner_id="o", amount=5, ttl=Duration(seconds=25 * 3600), idempotency_key="r"
            ),
            metadata=TENANT_AUTH,
        )
    assert set(field_violations(reserve.value)) == {"ttl"}


async def test_reserve_commit_part_and_release(server: Running) -> None:
    await stub(server).GrantCredits(
        pb.GrantCreditsRequest(owner_id="o", amount=100, idempotency_key="g"),
        metadata=TENANT_AUTH,
    )
    held = (
        await stub(server).ReserveCredits(
            pb.ReserveCreditsRequest(owner_id="o", amount=40, idempotency_key="r1"),
            metadata=TENANT_AUTH,
        )
    ).credit_reservation
    assert held.status == resources.CREDIT_RESERVATION_STATUS_ACTIVE
    balance = (
        await stub(server).GetCreditBalance(
            pb.GetCreditBalanceRequest(owner_id="o"), metadata=TENANT_AUTH
        )
    ).credit_balance
    assert (balance.total, balance.available, balance.reserved) == (100, 60, 40)
    with pytest.raises(grpc.aio.AioRpcError) as too_much:
        await stub(server).CommitReservation(
            pb.CommitReservationRequest(id=held.id, amount=41, idempotency_key="k-big"),
            metadata=TENANT_AUTH,
        )
    assert error_reason(too_much.value) == "AMOUNT_TOO_LARGE"
    committed = (
        await stub(server).CommitReservation(
            pb.CommitReservationRequest(id=held.id, amount=25, idempotency_key="k1"),
            metadata=TENANT_AUTH,
        )
    ).credit_reservation
    assert (committed.status, committed.committed_amount) == (
        resources.CREDIT_RESERVATION_STATUS_COMMITTED,
        25,
    )
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await stub(server).ReleaseReservation(
            pb.ReleaseReservationRequest(id=held.id), metadata=TENANT_AUTH
        )
    assert again.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(again.value) == "INVALID_STATE"
    second = (
        await stub(server).ReserveCredits(
            pb.ReserveCreditsRequest(owner_id="o", amount=30, idempotency_key="r2"),
            metadata=TENANT_AUTH,
        )
    ).credit_reservation
    released = (
        await stub(server).ReleaseReservation(
            pb.ReleaseReservationRequest(id=second.id), metadata=TENANT_AUTH
        )
    ).credit_reservation
    assert released.status == resources.CREDIT_RESERVATION_STATUS_RELEASED
    balance = (
        await stub(server).GetCreditBalance(
            pb.GetCreditBalanceRequest(owner_id="o"), metadata=TENANT_AUTH
        )
    ).credit_balance
    assert (balance.total, balance.available, balance.reserved) == (75, 75, 0)
    with pytest.raises(grpc.aio.AioRpcError) as theirs:
        await stub(server).ReleaseReservation(
            pb.ReleaseReservationRequest(id=second.id), metadata=OTHER_AUTH
        )
    assert theirs.value.code() == grpc.StatusCode.NOT_FOUND
    await assert_ledger_ok(server.runtime.db)


async def test_replaying_credit_calls_changes_nothing(server: Running) -> None:
    grant = pb.GrantCreditsRequest(owner_id="o", amount=50, idempotency_key="g")
    first = await stub(server).GrantCredits(grant, metadata=TENANT_AUTH)
    assert await stub(server).GrantCredits(grant, metadata=TENANT_AUTH) == first
    consume = pb.ConsumeCreditsRequest(owner_id="o", amount=20, idempotency_key="c")
    spent = await stub(server).ConsumeCredits(consume, metadata=TENANT_AUTH)
    assert await stub(server).ConsumeCredits(consume, metadata=TENANT_AUTH) == spent
    reserve = pb.ReserveCreditsRequest(owner_id="o", amount=5, idempotency_key="r")
    held = await stub(server).ReserveCredits(reserve, metadata=TENANT_AUTH)
    assert await stub(server).ReserveCredits(reserve, metadata=TENANT_AUTH) == held
    commit = pb.CommitReservationRequest(id=held.credit_reservation.id, idempotency_key="k")
    done = await stub(server).CommitReservation(commit, metadata=TENANT_AUTH)
    assert await stub(server).CommitReservation(commit, metadata=TENANT_AUTH) == done
    other = await stub(server).ReserveCredits(
        pb.ReserveCreditsRequest(owner_id="o", amount=3, idempotency_key="r2"), metadata=TENANT_AUTH
    )
    release = pb.ReleaseReservationRequest(id=other.credit_reservation.id, idempotency_key="rel")
    freed = await stub(server).ReleaseReservation(release, metadata=TENANT_AUTH)
    assert await stub(server).ReleaseReservation(release, metadata=TENANT_AUTH) == freed
    balance = await stub(server).GetCreditBalance(
        pb.GetCreditBalanceRequest(owner_id="o"), metadata=TENANT_AUTH
    )
    assert balance.credit_balance.total == 25
    assert balance.credit_balance.available == 25
    await assert_ledger_ok(server.runtime.db)


async def test_a_grant_is_announced_once_with_the_grant(server: Running) -> None:
    request = pb.GrantCreditsRequest(
        owner_id="org-9",
        amount=40,
        reason="goodwill",
        metadata={"ticket": "T-1"},
        idempotency_key="g-announced",
    )
    grant = (await stub(server).GrantCredits(request, metadata=TENANT_AUTH)).credit_grant
    assert (await stub(server).GrantCredits(request, metadata=TENANT_AUTH)).credit_grant == grant
    async with server.runtime.db.read() as session:
        rows = (
            await session.execute(
                text("SELECT type, payload FROM events WHERE resource_id = :id ORDER BY id"),
                {"id": grant.id},
            )
        ).all()
    assert [row[0] for row in rows] == ["credit.granted"]
    data = json.loads(rows[0][1])["data"]
    assert (data["id"], data["owner_id"], data["amount"], data["remaining"]) == (
        grant.id,
        "org-9",
        40,
        40,
    )
    assert (data["reason"], data["metadata"], data["expire_time"]) == (
        "goodwill",
        {"ticket": "T-1"},
        None,
    )


# -- domain rules with a movable clock -----------------------------------------------


def credits_for(db: Database, clock: Clock) -> CreditService:
    return CreditService(db, DEFAULT_PACKAGES, clock=clock)


async def test_spends_soonest_expiring_first_and_grants_before_purchases(db: Database) -> None:
    clock = Clock()
    day = CreditPackage(
        id="day_pass", name="Day", credits=100, price=500, currency="usd",
        validity=dt.timedelta(days=1),
    )  # fmt: skip
    credits = CreditService(db, (day,), clock=clock)
    soon, later = START + dt.timedelta(days=1), START + dt.timedelta(days=5)
    async with db.write() as session:
        never = await credits.grant(session, CLIENT, NewGrant(owner_id="o", amount=100))
        late = await credits.grant(
            session, CLIENT, NewGrant(owner_id="o", amount=100, expire_time=later)
        )
        purchase = await credits.begin_purchase(
            session,
            CLIENT,
            NewPurchase(owner_id="o", package_id="day_pass", payment_method_id="pm_1"),
        )
    async with db.write() as session:
        bought = await credits.settle_purchase(session, purchase.id)  # expires at ``soon``
        granted_soon = await credits.grant(
            session, CLIENT, NewGrant(owner_id="o", amount=50, expire_time=soon)
        )
    async with db.write() as session:
        await credits.consume(session, CLIENT, NewConsumption(owner_id="o", amount=120))
    async with db.read() as session:
        remaining = dict(
            (await session.execute(text("SELECT id, remaining FROM credit_grants"))).all()
        )
    assert remaining[granted_soon.id] == 0  # granted, soonest: first
    assert remaining[bought.grant_id] == 30  # purchased, same expiry: second
    assert (remaining[late.id], remaining[never.id]) == (100, 100)
    await assert_ledger_ok(db)


async def test_expired_credits_move_to_the_expired_account(db: Database) -> None:
    clock = Clock()
    credits = credits_for(db, clock)
    async with db.write() as session:
        grant = await credits.grant(
            session,
            CLIENT,
            NewGrant(owner_id="o", amount=80, expire_time=START + dt.timedelta(hours=1)),
        )
        await credits.consume(session, CLIENT, NewConsumption(owner_id="o", amount=30))
    assert await credits.expire_grants() == 0
    clock.now = START + dt.timedelta(hours=2)
    with pytest.raises(InsufficientCredits):  # expired credits cannot be spent, even unswept
        async with db.write() as session:
            await credits.consume(session, CLIENT, NewConsumption(owner_id="o", amount=1))
    assert (await credits.balance(CLIENT, "o")).total == 0
    assert await credits.expire_grants() == 1
    assert await credits.expire_grants() == 0
    async with db.read() as session:
        events = (
            await session.execute(
                text("SELECT type, payload FROM events WHERE type <> 'credit.granted'")
            )
        ).all()
        expired = await session.scalar(
            text("SELECT balance FROM ledger_accounts WHERE kind = 'expired_credits'")
        )
    assert expired == 50
    assert [e[0] for e in events] == ["credit.expired"]
    data = json.loads(events[0][1])["data"]
    assert (data["grant_id"], data["amount"], data["type"]) == (grant.id, -50, "expire")
    await assert_ledger_ok(db)


async def test_lapsed_reservations_release_themselves(db: Database) -> None:
    clock = Clock()
    credits = credits_for(db, clock)
    async with db.write() as session:
        await credits.grant(session, CLIENT, NewGrant(owner_id="o", amount=10))
        held = await credits.reserve(
            session, CLIENT, NewReservation(owner_id="o", amount=7, ttl=dt.timedelta(minutes=5))
        )
    clock.now = START + dt.timedelta(minutes=6)
    with pytest.raises(InvalidState):
        async with db.write() as session:
            await credits.commit_reservation(session, CLIENT, held.id, None)
    assert await credits.release_lapsed_reservations() == 1
    balance = await credits.balance(CLIENT, "o")
    assert (balance.available, balance.reserved) == (10, 0)
    async with db.read() as session:
        status = await session.scalar(text("SELECT status FROM credit_reservations"))
    assert status == "expired"
    await assert_ledger_ok(db)


class ScriptedPayments:
    def __init__(self, outcome: PaymentOutcome) -> None:
        self.outcome = outcome

    async def charge(self, request: ChargeRequest) -> PaymentReference:
        return PaymentReference(
            reference="pi_1",
            outcome=self.outcome,
            error=LastError(code="card_declined", decline_code="lost_card", message="declined"),
        )

    async def payout(self, request: PayoutRequest) -> PaymentReference:
        raise AssertionError("purchases never pay out")


@pytest.mark.parametrize(
    ("outcome", "status", "credited", "revenue"),
    [
        (PaymentOutcome.SUCCEEDED, "succeeded", 500, 4_500),
        (PaymentOutcome.FAILED, "failed", 0, None),
        (PaymentOutcome.PENDING, "pending", 0, None),
    ],
)
async def test_purchase_grants_credits_only_when_paid(
    db: Database, outcome: PaymentOutcome, status: str, credited: int, revenue: int | None
) -> None:
    credits = credits_for(db, Clock())
    purchase = await credits.purchase(
        CLIENT,
        NewPurchase(owner_id="o", package_id="credits_500", payment_method_id="pm_1"),
        ScriptedPayments(outcome),
    )
    assert (purchase.status, purchase.amount, purchase.payment_reference) == (
        status,
        4_500,
        "pi_1",
    )
    assert (await credits.balance(CLIENT, "o")).total == credited
    async with db.read() as session:
        earned = await session.scalar(
            text("SELECT balance FROM ledger_accounts WHERE kind = 'revenue'")
        )
    assert earned == revenue
    await assert_ledger_ok(db)
