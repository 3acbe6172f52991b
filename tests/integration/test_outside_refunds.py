"""Refunds made outside the service (a gateway's dashboard), adopted from the gateway's
webhook, over the real gRPC server and relay, on SQLite and PostgreSQL.

The sandbox's signed ``refund.updated`` webhooks stand in for the provider's: a refund
id we never made, of a payment intent we know, becomes a Refund of ours (metadata
``isa_origin=gateway``) with its ``refund.created`` and ``refund.succeeded`` /
``refund.failed`` events, and whatever the intent paid for gives back its share. The
Stripe and Square shapes of the same flow are in test_outside_refunds_gateways.py.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import grpc
import pytest

from gateways.types import RefundRequest, RefundResult
from isa.credit.v1 import credit_service_pb2 as cpb
from isa.credit.v1 import resources_pb2 as cres
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from isa.sandbox.v1 import sandbox_service_pb2 as sb
from isa.sandbox.v1 import sandbox_service_pb2_grpc as sb_grpc
from isa.wallet.v1 import resources_pb2 as wres
from isa.wallet.v1 import wallet_service_pb2 as wpb
from isa.webhook.v1 import resources_pb2 as whres
from server.ledger.wallets import WalletService, clearing_account, returned_debits_account
from store.last_error import LastError
from store.ledger import Ledger
from store.wallets import WalletTransactions
from tests.conftest import TENANT, TENANT_AUTH, Running
from tests.integration.test_deposit_refunds import (
    credit_history,
    funded_wallet,
    refund,
    refund_lines,
    refunds_of,
)
from tests.integration.test_deposits_and_purchases import (
    available_credits,
    balances,
    credits,
    history,
    key,
    new_wallet,
    purchase,
    purchase_request,
    sandbox_gateway,
    saved_method,
    wallets,
)
from tests.integration.test_payment_gateway_events import (
    gateway_events,
    get_intent,
    post_sandbox,
    settled,
)
from tests.integration.test_payments import create, events
from tests.integration.test_surface import error_info
from tests.ledger_support import assert_ledger_ok, error_reason
from tests.polling import eventually

G = whres.GatewayEventStatus
W = wres.WalletTransactionStatus
_events = itertools.count(1)


@pytest.fixture
def server(quick_relay_server: Running) -> Running:
    """The real server whose relay applies webhooks promptly."""
    return quick_relay_server


async def paid(server: Running, amount: int = 2999) -> res.PaymentIntent:
    intent = await create(server, amount=amount, payment_method_id="pm_card_visa", confirm=True)
    assert intent.status == res.PAYMENT_INTENT_STATUS_SUCCEEDED
    return intent


async def outside_refund(
    server: Running,
    intent: res.PaymentIntent,
    reference: str,
    amount: int,
    status: str = "succeeded",
    event_id: str = "",
) -> str:
    """Post the gateway's webhook about a refund made in its dashboard; the stored id."""
    return await post_sandbox(
        server,
        event_id or f"evt_outside_{next(_events)}",
        "refund.updated",
        object="refund",
        id=reference,
        status=status,
        amount=amount,
        currency=intent.currency,
        payment_intent=intent.gateway_reference,
    )


async def refund_events(server: Running, refund_id: str) -> list[str]:
    """The refund's own events (the raw gateway event forwarded beside them aside)."""
    return [kind for kind in await events(server, refund_id) if kind.startswith("refund.")]


async def failed(server: Running, stored_id: str) -> whres.GatewayEvent:
    """Wait until the stored event failed to apply (it is retried later)."""

    async def check() -> whres.GatewayEvent | None:
        for event in await gateway_events(server):
            if event.id == stored_id and event.status == G.GATEWAY_EVENT_STATUS_FAILED:
                return event
        return None

    return await eventually(check)


async def adopted(server: Running, stored_id: str) -> res.Refund:
    """The refund a processed event adopted."""
    event = await settled(server, stored_id)
    assert event.status == G.GATEWAY_EVENT_STATUS_PROCESSED, event
    response = await server.payments().GetRefund(
        pb.GetRefundRequest(id=event.resource_id), metadata=TENANT_AUTH
    )
    return response.refund


# --- card payments ----------------------------------------------------------------------


async def test_an_outside_partial_refund_is_adopted_and_the_rest_stays_refundable(
    server: Running,
) -> None:
    intent = await paid(server)
    stored = await outside_refund(server, intent, "re_dashboard_1", 1_000)
    found = await adopted(server, stored)
    assert (found.status, found.amount, found.currency) == (
        res.REFUND_STATUS_SUCCEEDED,
        1_000,
        "usd",
    )
    assert found.payment_intent_id == intent.id
    assert found.gateway == "sandbox"
    assert found.gateway_reference == "re_dashboard_1"
    assert dict(found.metadata) == {"isa_origin": "gateway"}
    assert await refund_events(server, found.id) == ["refund.created", "refund.succeeded"]
    assert (await get_intent(server, intent.id)).amount_refunded == 1_000
    # What is left can still be refunded by us, and no more.
    ours = await refund(server, intent.id)
    assert (ours.status, ours.amount) == (res.REFUND_STATUS_SUCCEEDED, 1_999)
    assert (await get_intent(server, intent.id)).amount_refunded == 2_999
    assert {r.id for r in await refunds_of(server, intent.id)} == {found.id, ours.id}
    await assert_ledger_ok(server.runtime.db)


async def test_an_outside_full_refund_leaves_nothing_to_refund(server: Running) -> None:
    intent = await paid(server)
    found = await adopted(server, await outside_refund(server, intent, "re_dashboard_2", 2_999))
    assert (found.status, found.amount) == (res.REFUND_STATUS_SUCCEEDED, 2_999)
    assert (await get_intent(server, intent.id)).amount_refunded == 2_999
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refund(server, intent.id, amount=1)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "AMOUNT_TOO_LARGE"


async def test_the_same_outside_refund_reported_twice_is_one_refund(server: Running) -> None:
    intent = await paid(server)
    first = await outside_refund(server, intent, "re_dashboard_3", 500, status="pending")
    second = await outside_refund(server, intent, "re_dashboard_3", 500, status="pending")
    third = await outside_refund(server, intent, "re_dashboard_3", 500)
    settled_events = [await settled(server, stored) for stored in (first, second, third)]
    [only] = await refunds_of(server, intent.id)
    assert {event.resource_id for event in settled_events} == {only.id}
    assert (only.status, only.amount, only.gateway_reference) == (
        res.REFUND_STATUS_SUCCEEDED,
        500,
        "re_dashboard_3",
    )
    assert await refund_events(server, only.id) == ["refund.created", "refund.succeeded"]
    assert (await get_intent(server, intent.id)).amount_refunded == 500


async def test_an_outside_refund_above_what_is_left_is_clamped(server: Running) -> None:
    intent = await paid(server)
    ours = await refund(server, intent.id, amount=999)
    assert ours.status == res.REFUND_STATUS_SUCCEEDED
    found = await adopted(server, await outside_refund(server, intent, "re_dashboard_4", 5_000))
    assert (found.status, found.amount) == (res.REFUND_STATUS_SUCCEEDED, 2_000)
    assert (await get_intent(server, intent.id)).amount_refunded == 2_999
    # Nothing at all left: a further outside refund is not recorded.
    late = await settled(server, await outside_refund(server, intent, "re_dashboard_5", 10))
    assert late.status == G.GATEWAY_EVENT_STATUS_IGNORED
    assert len(await refunds_of(server, intent.id)) == 2
    await assert_ledger_ok(server.runtime.db)


async def test_an_outside_refund_that_fails_is_recorded_failed_and_moves_nothing(
    server: Running,
) -> None:
    intent = await paid(server)
    pending = await adopted(
        server, await outside_refund(server, intent, "re_dashboard_6", 700, status="pending")
    )
    assert pending.status == res.REFUND_STATUS_PENDING
    stored = await outside_refund(server, intent, "re_dashboard_6", 700, status="failed")
    assert (await settled(server, stored)).status == G.GATEWAY_EVENT_STATUS_PROCESSED
    [after] = await refunds_of(server, intent.id)
    assert (after.id, after.status, after.gateway_reference) == (
        pending.id,
        res.REFUND_STATUS_FAILED,
        "re_dashboard_6",
    )
    assert await refund_events(server, after.id) == ["refund.created", "refund.failed"]
    assert (await get_intent(server, intent.id)).amount_refunded == 0


async def test_an_outside_refund_waits_while_our_own_refund_is_unanswered(
    server: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway's webhook about our own refund can arrive before its answer: it must
    not be taken for an outside one. Both it and a real outside refund wait for it."""
    intent = await paid(server)
    gateway = sandbox_gateway(server)
    real = gateway.refund
    made: list[RefundResult] = []
    answer = asyncio.Event()

    async def slow_refund(request: RefundRequest) -> RefundResult:
        result = await real(request)
        made.append(result)
        await answer.wait()  # the refund is made; its answer has not reached us yet
        return result

    monkeypatch.setattr(gateway, "refund", slow_refund)
    ours_call = asyncio.create_task(refund(server, intent.id, amount=1_000))

    async def refund_made() -> list[RefundResult]:
        return made

    [at_gateway] = await eventually(refund_made)
    same = await outside_refund(server, intent, at_gateway.gateway_reference, 1_000)
    other = await outside_refund(server, intent, "re_dashboard_7", 300)
    for stored in (same, other):
        waiting = await failed(server, stored)
        assert "NotYetApplicable" in waiting.error
        assert "still unanswered" in waiting.error
    assert len(await refunds_of(server, intent.id)) == 1  # ours, still pending
    answer.set()
    ours = await ours_call
    assert ours.status == res.REFUND_STATUS_SUCCEEDED

    # The relay retries both: one is ours (applied to it), the other is adopted.
    assert (await settled(server, same)).resource_id == ours.id
    outside = await adopted(server, other)
    assert {r.id for r in await refunds_of(server, intent.id)} == {ours.id, outside.id}
    assert (await get_intent(server, intent.id)).amount_refunded == 1_300
    await assert_ledger_ok(server.runtime.db)


async def test_an_outside_refund_of_an_intent_not_yet_succeeded_is_retried(
    server: Running,
) -> None:
    intent = await create(server, payment_method_id="pm_card_authenticationRequired", confirm=True)
    assert intent.status == res.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    stored = await outside_refund(server, intent, "re_dashboard_8", 2_999)
    waiting = await failed(server, stored)
    assert "NotYetApplicable" in waiting.error
    assert await refunds_of(server, intent.id) == []
    await sb_grpc.SandboxServiceStub(server.channel).CompleteAuthentication(
        sb.CompleteAuthenticationRequest(payment_intent_id=intent.id, succeed=True),
        metadata=TENANT_AUTH,
    )
    found = await adopted(server, stored)
    assert (found.status, found.amount) == (res.REFUND_STATUS_SUCCEEDED, 2_999)
    assert (await get_intent(server, intent.id)).amount_refunded == 2_999


async def test_a_refund_of_a_payment_we_do_not_know_is_ignored(server: Running) -> None:
    intent = await paid(server)
    stranger = res.PaymentIntent(currency="usd", gateway_reference="pi_sandbox_elsewhere")
    stored = await outside_refund(server, stranger, "re_dashboard_9", 100)
    assert (await settled(server, stored)).status == G.GATEWAY_EVENT_STATUS_IGNORED
    assert await refunds_of(server, intent.id) == []


# --- what the payment funded ------------------------------------------------------------


async def system_balances(server: Running) -> tuple[int, int]:
    """The tenant's usd gateway clearing and returned-debits balances."""
    async with server.runtime.db.read() as session:
        ledger = Ledger(session)
        return (
            await ledger.balance(clearing_account(TENANT[0], "usd")),
            await ledger.balance(returned_debits_account(TENANT[0], "usd")),
        )


def succeeded_sum(lines: list[wres.WalletTransaction]) -> int:
    return sum(t.amount for t in lines if t.status == W.WALLET_TRANSACTION_STATUS_SUCCEEDED)


async def spent_deposit(server: Running) -> tuple[str, wres.WalletTransaction, res.PaymentIntent]:
    """A wallet funded by a 1,000 card deposit, 700 of which was transferred away."""
    wallet_id, done = await funded_wallet(server, amount=1_000)
    other = await new_wallet(server, owner="bob")
    await wallets(server).Transfer(
        wpb.TransferRequest(
            from_wallet_id=wallet_id,
            to_wallet_id=other,
            amount=700,
            currency="usd",
            idempotency_key=key(),
        ),
        metadata=TENANT_AUTH,
    )
    assert await balances(server, wallet_id) == ({"usd": 300}, {"usd": 0})
    return wallet_id, done, await get_intent(server, done.payment_intent_id)


async def test_an_outside_refund_of_a_spent_deposit_holds_it_whole_and_books_the_rest_owed(
    server: Running,
) -> None:
    wallet_id, done = await funded_wallet(server, amount=2_500)
    other = await new_wallet(server, owner="bob")
    await wallets(server).Transfer(
        wpb.TransferRequest(
            from_wallet_id=wallet_id,
            to_wallet_id=other,
            amount=2_000,
            currency="usd",
            idempotency_key=key(),
        ),
        metadata=TENANT_AUTH,
    )
    intent = await get_intent(server, done.payment_intent_id)
    # Pending at the gateway first: the whole refund is held, the 500 spent advanced.
    pending = await adopted(
        server, await outside_refund(server, intent, "re_dash_wallet", 1_000, status="pending")
    )
    assert (pending.status, pending.amount) == (res.REFUND_STATUS_PENDING, 1_000)
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 1_000})
    held, owed = refund_lines(await history(server, wallet_id))
    assert (held.status, held.amount) == (W.WALLET_TRANSACTION_STATUS_PENDING, -1_000)
    assert (owed.status, owed.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, 500)
    await assert_ledger_ok(server.runtime.db)

    stored = await outside_refund(server, intent, "re_dash_wallet", 1_000)
    assert (await settled(server, stored)).status == G.GATEWAY_EVENT_STATUS_PROCESSED
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    assert await balances(server, other) == ({"usd": 2_000}, {})
    held, owed = refund_lines(await history(server, wallet_id))
    assert (held.status, held.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, -1_000)
    assert pending.id in held.description
    assert (await get_intent(server, intent.id)).amount_refunded == 1_000
    assert (await system_balances(server))[1] == -500
    await assert_ledger_ok(server.runtime.db)


async def test_an_outside_refund_of_a_spent_deposit_is_advanced_owed_and_leaves_whole(
    server: Running, caplog: pytest.LogCaptureFixture
) -> None:
    """The gateway paid all 1,000 back to the card: the ledger says so (clearing takes the
    whole 1,000), and the 700 the wallet no longer held is owed, never left in clearing."""
    wallet_id, done, intent = await spent_deposit(server)
    clearing_before, owed_before = await system_balances(server)
    assert owed_before == 0
    with caplog.at_level(logging.WARNING, logger="isa.ledger.wallets"):
        found = await adopted(
            server, await outside_refund(server, intent, "re_dash_owed", 1_000, status="pending")
        )
    assert (found.status, found.amount) == (res.REFUND_STATUS_PENDING, 1_000)
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 1_000})
    lines = await history(server, wallet_id)
    held, owed = refund_lines(lines)
    assert (owed.status, owed.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, 700)
    assert (owed.refund_id, held.refund_id) == (found.id, found.id)
    assert found.id in owed.description
    assert done.id in owed.description
    assert "owed" in owed.description
    assert owed.balance_after == 1_000
    assert (held.status, held.amount) == (W.WALLET_TRANSACTION_STATUS_PENDING, -1_000)
    assert found.id in held.description
    assert succeeded_sum(lines) == 1_000  # available 0 + held 1,000
    assert await system_balances(server) == (clearing_before, -700)
    assert any(
        r.levelno == logging.WARNING and found.id in r.getMessage() and "owed" in r.getMessage()
        for r in caplog.records
    )
    assert not any("by hand" in r.getMessage() for r in caplog.records)
    await assert_ledger_ok(server.runtime.db)

    # The same gateway event again (a retry of the webhook): nothing moves.
    again = await outside_refund(server, intent, "re_dash_owed", 1_000, status="pending")
    assert (await settled(server, again)).resource_id == found.id
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 1_000})
    assert len(refund_lines(await history(server, wallet_id))) == 2
    assert await system_balances(server) == (clearing_before, -700)

    stored = await outside_refund(server, intent, "re_dash_owed", 1_000)
    assert (await settled(server, stored)).status == G.GATEWAY_EVENT_STATUS_PROCESSED
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    lines = await history(server, wallet_id)
    held, owed = refund_lines(lines)
    assert (held.status, held.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, -1_000)
    assert (owed.status, owed.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, 700)
    assert succeeded_sum(lines) == 0
    # the whole 1,000 left through clearing; the 700 stays owed
    assert await system_balances(server) == (clearing_before + 1_000, -700)
    assert (await get_intent(server, intent.id)).amount_refunded == 1_000
    await assert_ledger_ok(server.runtime.db)

    repeat = await outside_refund(server, intent, "re_dash_owed", 1_000)
    assert (await settled(server, repeat)).resource_id == found.id
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 0})
    assert len(refund_lines(await history(server, wallet_id))) == 2
    assert await system_balances(server) == (clearing_before + 1_000, -700)
    await assert_ledger_ok(server.runtime.db)


async def test_a_failed_outside_refund_of_a_spent_deposit_takes_the_advance_back(
    server: Running,
) -> None:
    wallet_id, done, intent = await spent_deposit(server)
    clearing_before, _ = await system_balances(server)
    found = await adopted(
        server, await outside_refund(server, intent, "re_dash_owed_fail", 1_000, status="pending")
    )
    assert await balances(server, wallet_id) == ({"usd": 0}, {"usd": 1_000})
    assert await system_balances(server) == (clearing_before, -700)

    stored = await outside_refund(server, intent, "re_dash_owed_fail", 1_000, status="failed")
    assert (await settled(server, stored)).status == G.GATEWAY_EVENT_STATUS_PROCESSED
    # The wallet has what it had before the refund; nothing is owed for it any more.
    assert await balances(server, wallet_id) == ({"usd": 300}, {"usd": 0})
    assert await system_balances(server) == (clearing_before, 0)
    lines = await history(server, wallet_id)
    undone, held, owed = refund_lines(lines)
    assert (owed.status, owed.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, 700)
    assert (held.status, held.amount) == (W.WALLET_TRANSACTION_STATUS_FAILED, -1_000)
    assert (undone.status, undone.amount) == (W.WALLET_TRANSACTION_STATUS_SUCCEEDED, -700)
    async with server.runtime.db.read() as session:
        transactions = WalletTransactions(session)
        for reference, line in ((f"{found.id}:owed", owed), (f"{found.id}:owed:undone", undone)):
            stored_line = await transactions.find_by_payment_reference(reference, "refund")
            assert stored_line is not None
            assert stored_line.id == line.id
    assert found.id in undone.description
    assert owed.id in undone.description
    assert undone.balance_after == 300
    assert succeeded_sum(lines) == 300
    await assert_ledger_ok(server.runtime.db)

    def snapshot(lines: list[wres.WalletTransaction]) -> list[tuple[str, int, int]]:
        return [(t.id, t.status, t.amount) for t in lines]

    before = snapshot(await history(server, wallet_id))
    # The gateway's event again, then the ledger steps themselves again: nothing moves.
    repeat = await outside_refund(server, intent, "re_dash_owed_fail", 1_000, status="failed")
    assert (await settled(server, repeat)).resource_id == found.id
    service = WalletService(server.runtime.db)
    async with server.runtime.db.write() as session:
        again = await service.fail_deposit_refund(
            session, found.id, LastError(code="refund_failed", message="again")
        )
        assert again is not None
        assert again.id == held.id
        undone_again = await service._undo_owed(session, found.id, again)
        assert undone_again is not None
        assert undone_again.id == undone.id
        held_again = await service.hold_adopted_refund(session, done.id, found.id, 1_000)
        assert held_again is not None
        assert held_again.id == held.id
    assert snapshot(await history(server, wallet_id)) == before
    assert await balances(server, wallet_id) == ({"usd": 300}, {"usd": 0})
    assert await system_balances(server) == (clearing_before, 0)
    await assert_ledger_ok(server.runtime.db)


async def test_a_failed_outside_refund_of_a_deposit_gives_the_held_money_back(
    server: Running,
) -> None:
    wallet_id, done = await funded_wallet(server, amount=2_500)
    intent = await get_intent(server, done.payment_intent_id)
    await adopted(
        server, await outside_refund(server, intent, "re_dash_fail", 800, status="pending")
    )
    assert await balances(server, wallet_id) == ({"usd": 1_700}, {"usd": 800})
    stored = await outside_refund(server, intent, "re_dash_fail", 800, status="failed")
    assert (await settled(server, stored)).status == G.GATEWAY_EVENT_STATUS_PROCESSED
    assert await balances(server, wallet_id) == ({"usd": 2_500}, {"usd": 0})
    [line] = refund_lines(await history(server, wallet_id))
    assert line.status == W.WALLET_TRANSACTION_STATUS_FAILED
    await assert_ledger_ok(server.runtime.db)


async def test_an_outside_refund_of_a_deposit_first_reported_failed_moves_nothing(
    server: Running,
) -> None:
    """Its money never left: the wallet and its history stay as they were."""
    wallet_id, _, intent = await spent_deposit(server)
    before = await history(server, wallet_id)
    found = await adopted(
        server, await outside_refund(server, intent, "re_dash_failed", 1_000, status="failed")
    )
    assert (found.status, found.amount) == (res.REFUND_STATUS_FAILED, 1_000)
    assert await refund_events(server, found.id) == ["refund.created", "refund.failed"]
    assert await history(server, wallet_id) == before
    assert await balances(server, wallet_id) == ({"usd": 300}, {"usd": 0})
    assert (await system_balances(server))[1] == 0
    await assert_ledger_ok(server.runtime.db)


async def refund_credit_lines(server: Running) -> list[tuple[int, str]]:
    return [
        (t.amount, t.purchase_id)
        for t in await credit_history(server)
        if t.type == cres.CREDIT_TRANSACTION_TYPE_REFUND
    ]


async def test_an_outside_refund_of_a_credit_purchase_revokes_its_share(
    server: Running,
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))  # 100 for 1000
    assert (bought.credits, bought.amount) == (100, 1_000)
    await credits(server).ConsumeCredits(
        cpb.ConsumeCreditsRequest(owner_id="ana", amount=10, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    intent = await get_intent(server, bought.payment_intent_id)

    # 333 of 1000 refunded: ceil(333 * 100 / 1000) = 34 credits go.
    first = await adopted(server, await outside_refund(server, intent, "re_dash_cr1", 333))
    assert (first.status, first.amount) == (res.REFUND_STATUS_SUCCEEDED, 333)
    assert await available_credits(server) == 90 - 34
    assert await refund_credit_lines(server) == [(-34, bought.id)]
    await assert_ledger_ok(server.runtime.db)

    # The rest (667: 67 credits) is more than the grant still has (56): it takes those.
    rest = await adopted(server, await outside_refund(server, intent, "re_dash_cr2", 667))
    assert (rest.status, rest.amount) == (res.REFUND_STATUS_SUCCEEDED, 667)
    assert await available_credits(server) == 0
    assert sorted(await refund_credit_lines(server)) == [(-56, bought.id), (-34, bought.id)]
    assert (await get_intent(server, intent.id)).amount_refunded == 1_000
    await assert_ledger_ok(server.runtime.db)


async def test_after_an_outside_partial_refund_the_rest_of_a_credit_purchase_is_refundable(
    server: Running,
) -> None:
    """A dashboard refund took part of the price: the rest is one CreateRefund away,
    revoking every credit that refund left, and nothing less than the rest is accepted."""
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))  # 100 for 1000
    intent = await get_intent(server, bought.payment_intent_id)
    await adopted(server, await outside_refund(server, intent, "re_dash_cr5", 333))
    assert await available_credits(server) == 100 - 34

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refund(server, intent.id, amount=300)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "PARTIAL_REFUND_NOT_SUPPORTED"
    assert error_info(caught.value).metadata["refundable"] == "667"

    rest = await refund(server, intent.id)
    assert (rest.status, rest.amount) == (res.REFUND_STATUS_SUCCEEDED, 667)
    assert await available_credits(server) == 0
    assert sorted(await refund_credit_lines(server)) == [(-66, bought.id), (-34, bought.id)]
    assert (await get_intent(server, intent.id)).amount_refunded == 1_000
    await assert_ledger_ok(server.runtime.db)


async def test_after_an_outside_partial_refund_credits_used_since_block_the_rest(
    server: Running,
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))
    intent = await get_intent(server, bought.payment_intent_id)
    await adopted(server, await outside_refund(server, intent, "re_dash_cr6", 500))
    await credits(server).ConsumeCredits(
        cpb.ConsumeCreditsRequest(owner_id="ana", amount=5, idempotency_key=key()),
        metadata=TENANT_AUTH,
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await refund(server, intent.id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_reason(caught.value) == "PURCHASED_CREDITS_CONSUMED"
    assert error_info(caught.value).metadata["used"] == "5"
    assert [r.amount for r in await refunds_of(server, intent.id)] == [500]
    assert await available_credits(server) == 45
    await assert_ledger_ok(server.runtime.db)


async def test_a_failed_outside_refund_of_a_credit_purchase_restores_its_share(
    server: Running,
) -> None:
    method = await saved_method(server, "pm_card_visa")
    bought = await purchase(server, purchase_request(method, "credits_100"))
    intent = await get_intent(server, bought.payment_intent_id)
    await adopted(
        server, await outside_refund(server, intent, "re_dash_cr3", 250, status="pending")
    )
    assert await available_credits(server) == 75
    stored = await outside_refund(server, intent, "re_dash_cr3", 250, status="failed")
    assert (await settled(server, stored)).status == G.GATEWAY_EVENT_STATUS_PROCESSED
    assert await available_credits(server) == 100
    lines: list[Any] = await refund_credit_lines(server)
    assert sorted(lines) == [(-25, bought.id), (25, bought.id)]
    await assert_ledger_ok(server.runtime.db)
