"""Plaid's AUTH verification webhooks over the real server and relay, on SQLite and
PostgreSQL: a bank account linked with automated micro-deposits stays pending until
Plaid says ``AUTOMATICALLY_VERIFIED`` (the intents waiting on it are debited) or
``VERIFICATION_EXPIRED`` (they go back to REQUIRES_PAYMENT_METHOD).

The server's Plaid adapter talks to a local front for Plaid: it serves
``/webhook_verification_key/get`` with the public key the test signs webhooks with (as
Plaid does), answers ``/accounts/get`` through Prism with the account's
``verification_status`` set to ``pending_automatic_verification`` (Prism's example is
verified), and passes every other call to Prism serving Plaid's 2020-09-14 description.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as res
from server.payments.gateway_events import PaymentEventApplier
from server.webhooks.inbound import ApplyOutcome, NormalizedGatewayEvent
from store.bank_models import BankAccountRow
from store.payments import AttemptState, IntentStatus, PaymentIntents
from store.webhook_models import GatewayEventRow
from tests.conftest import QUICK_RELAY, TENANT_AUTH, Running, serving
from tests.contract.prism import PLAID_SPEC, MockPeer, start_mock
from tests.integration.test_bank_payments import events, get_intent
from tests.integration.test_plaid_payments import (
    EXAMPLE_ACCOUNT,
    EXAMPLE_TRANSFER,
    link_through_plaid,
    pay_through_plaid,
    plaid_settings,
)
from tests.integration.test_remote_verifiers import Peer, PlaidKeys, serve
from tests.polling import eventually

S = res.PaymentIntentStatus
V = res.PaymentMethodVerificationStatus


@pytest.fixture(scope="module")
def prism() -> Iterator[MockPeer]:
    with start_mock(PLAID_SPEC) as peer:
        yield peer


@dataclass
class Outage:
    """Paths the Plaid front answers itself, with (status, Plaid error body), instead of
    passing them to Prism; every request it so answered, by path."""

    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    answered: list[str] = field(default_factory=list)


@pytest.fixture
def outage() -> Outage:
    return Outage()


def plaid_error(error_type: str, code: str) -> dict[str, Any]:
    return {
        "error_type": error_type,
        "error_code": code,
        "error_message": f"{code.lower()} (test)",
        "display_message": None,
        "request_id": "req-test",
    }


@pytest.fixture
async def plaid_front(prism: MockPeer, outage: Outage) -> AsyncIterator[tuple[Peer, PlaidKeys]]:
    keys = PlaidKeys()
    http = aiohttp.ClientSession()

    async def key_get(request: web.Request) -> web.Response:
        asked = await request.json()
        if asked.get("key_id") != keys.kid:
            return web.json_response({"error_code": "INVALID_WEBHOOK_VERIFICATION_KEY_ID"}, 400)
        return web.json_response({"key": keys.jwk(), "request_id": "req"})

    async def to_prism(request: web.Request) -> web.Response:
        if request.path in outage.answers:
            outage.answered.append(request.path)
            status, error = outage.answers[request.path]
            return web.json_response(error, status=status)
        headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
        async with http.post(
            prism.base_url + request.path, data=await request.read(), headers=headers
        ) as answer:
            status, body = answer.status, await answer.read()
        if request.path == "/accounts/get" and status == 200:
            document = json.loads(body)
            for account in document.get("accounts", []):
                account["verification_status"] = "pending_automatic_verification"
            body = json.dumps(document).encode()
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/webhook_verification_key/get", key_get)
    app.router.add_post("/{path:.*}", to_prism)
    peer = await serve(app)
    yield peer, keys
    await peer.runner.cleanup()
    await http.close()


@pytest.fixture
async def server(
    migrated_url: str, clients_file: Path, prism: MockPeer, plaid_front: tuple[Peer, PlaidKeys]
) -> AsyncIterator[Running]:
    prism.calls.clear()
    settings = plaid_settings(migrated_url, clients_file, plaid_front[0].url, **QUICK_RELAY)
    async for running in serving(settings):
        yield running


async def pending_account_with_a_waiting_intent(
    server: Running,
) -> tuple[res.PaymentMethod, res.PaymentIntent, str]:
    """A Plaid account pending automated micro-deposits, an intent waiting on it, and
    the account's Item id."""
    customer_id, _link_token, method = await link_through_plaid(server)
    assert method.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_PENDING
    intent = await pay_through_plaid(server, customer_id, method.id)
    assert intent.status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION
    assert intent.next_action.type == res.NEXT_ACTION_TYPE_VERIFY_MICRODEPOSITS
    async with server.runtime.db.read() as session:
        account = await session.get_one(BankAccountRow, method.id)
    assert account.item_reference
    return method, intent, account.item_reference


def auth_webhook(code: str, item_id: str, account_id: str = EXAMPLE_ACCOUNT) -> bytes:
    return json.dumps(
        {
            "webhook_type": "AUTH",
            "webhook_code": code,
            "item_id": item_id,
            "account_id": account_id,
            "environment": "sandbox",
            "error": None,
        }
    ).encode()


async def send(server: Running, keys: PlaidKeys, body: bytes) -> dict[str, Any]:
    """POST a webhook signed as Plaid signs it; the relay's answer."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{server.relay_url}/webhooks/plaid",
            data=body,
            headers={"Plaid-Verification": keys.token(body), "Content-Type": "application/json"},
        ) as answer,
    ):
        assert answer.status == 200, await answer.text()
        reply: dict[str, Any] = await answer.json()
        return reply


async def applied(server: Running, body: bytes) -> GatewayEventRow:
    """The stored gateway event of ``body``, once the relay has applied it."""
    payload = json.loads(body)

    async def done() -> GatewayEventRow | None:
        async with server.runtime.db.read() as session:
            rows = (
                await session.scalars(
                    select(GatewayEventRow).where(GatewayEventRow.gateway == "plaid")
                )
            ).all()
        finished = ("processed", "ignored", "failed")
        found = [r for r in rows if json.loads(r.payload) == payload and r.status in finished]
        return found[0] if found else None

    return await eventually(done)


async def intent_leaving(server: Running, intent_id: str, status: int) -> res.PaymentIntent:
    async def moved() -> res.PaymentIntent | None:
        intent = await get_intent(server, intent_id)
        return intent if intent.status != status else None

    return await eventually(moved)


async def resumes_finished(server: Running) -> None:
    """Wait until the debits a committed verification started in the background are
    done, so that what a test then reads is what they left (not a race with them)."""
    applier = server.runtime.appliers.get("plaid")
    assert isinstance(applier, PaymentEventApplier)

    async def idle() -> bool:
        return not applier._resuming

    await eventually(idle)


async def method_of(server: Running, method: res.PaymentMethod) -> res.PaymentMethod:
    """The payment method as the API shows it now."""
    listed = await server.payments().ListPaymentMethods(
        pb.ListPaymentMethodsRequest(customer_id=method.customer_id), metadata=TENANT_AUTH
    )
    [shown] = [found for found in listed.payment_methods if found.id == method.id]
    return shown


async def test_automatically_verified_resumes_the_waiting_debit_once(
    server: Running, prism: MockPeer, plaid_front: tuple[Peer, PlaidKeys]
) -> None:
    _peer, keys = plaid_front
    method, waiting, item_id = await pending_account_with_a_waiting_intent(server)
    assert "POST /transfer/create" not in prism.paths()  # nothing sent to the bank yet

    body = auth_webhook("AUTOMATICALLY_VERIFIED", item_id)
    assert (await send(server, keys, body)).get("duplicate") is not True
    event = await applied(server, body)
    assert (event.status, event.resource_id, event.client_id) == (
        "processed",
        method.id,
        "tenant-portal",
    )
    resumed = await intent_leaving(server, waiting.id, S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION)
    assert resumed.status == S.PAYMENT_INTENT_STATUS_PROCESSING  # debited
    assert resumed.gateway_reference == EXAMPLE_TRANSFER
    assert not resumed.HasField("next_action")
    shown = await method_of(server, method)
    assert shown.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED
    assert await events(server, method.id) == ["payment_method.attached", "bank_account.verified"]
    assert await events(server, waiting.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.processing",
    ]
    assert prism.paths().count("POST /transfer/create") == 1
    assert prism.request_violations() == []

    # The same webhook again: the relay knows it; nothing changes.
    assert (await send(server, keys, body)).get("duplicate") is True
    # Another word about the account once verified (a late expiry): nothing changes either.
    late = auth_webhook("VERIFICATION_EXPIRED", item_id)
    await send(server, keys, late)
    assert (await applied(server, late)).status == "ignored"
    await resumes_finished(server)
    again = await get_intent(server, waiting.id)
    assert (again.status, again.gateway_reference) == (
        S.PAYMENT_INTENT_STATUS_PROCESSING,
        EXAMPLE_TRANSFER,
    )
    shown = await method_of(server, method)
    assert shown.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED
    assert await events(server, method.id) == ["payment_method.attached", "bank_account.verified"]
    assert prism.paths().count("POST /transfer/create") == 1


async def test_verification_expired_fails_the_waiting_intent(
    server: Running, prism: MockPeer, plaid_front: tuple[Peer, PlaidKeys]
) -> None:
    _peer, keys = plaid_front
    method, waiting, item_id = await pending_account_with_a_waiting_intent(server)

    body = auth_webhook("VERIFICATION_EXPIRED", item_id)
    await send(server, keys, body)
    assert (await applied(server, body)).status == "processed"
    failed = await get_intent(server, waiting.id)  # failed in the webhook's transaction
    assert failed.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert failed.last_error.code == "bank_account_verification_failed"
    assert "not verified in time" in failed.last_error.message
    assert failed.gateway_reference == ""
    shown = await method_of(server, method)
    assert shown.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_FAILED
    assert await events(server, method.id) == [
        "payment_method.attached",
        "bank_account.verification_failed",
    ]
    assert await events(server, waiting.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
    ]

    # A late "verified" for an account that failed changes nothing, debits nothing.
    late = auth_webhook("AUTOMATICALLY_VERIFIED", item_id)
    await send(server, keys, late)
    assert (await applied(server, late)).status == "ignored"
    await resumes_finished(server)
    still = await get_intent(server, waiting.id)
    assert still.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    shown = await method_of(server, method)
    assert shown.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_FAILED
    assert "POST /transfer/create" not in prism.paths()
    assert prism.request_violations() == []


async def test_a_webhook_about_an_account_we_never_linked_is_ignored(
    server: Running, plaid_front: tuple[Peer, PlaidKeys]
) -> None:
    _peer, keys = plaid_front
    method, waiting, item_id = await pending_account_with_a_waiting_intent(server)

    unknown = auth_webhook("AUTOMATICALLY_VERIFIED", "another-item", account_id="not-ours")
    await send(server, keys, unknown)
    event = await applied(server, unknown)
    assert (event.status, event.resource_id, event.client_id, event.error) == (
        "ignored",
        "",
        None,
        "",
    )
    # The same account id on another Item is not ours either.
    other_item = auth_webhook("VERIFICATION_EXPIRED", "another-item")
    await send(server, keys, other_item)
    assert (await applied(server, other_item)).status == "ignored"
    shown = await method_of(server, method)
    assert shown.verification_status == V.PAYMENT_METHOD_VERIFICATION_STATUS_PENDING
    assert (await get_intent(server, waiting.id)).status == S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION

    # The relay goes on applying: ours is verified next.
    ours = auth_webhook("AUTOMATICALLY_VERIFIED", item_id)
    await send(server, keys, ours)
    assert (await applied(server, ours)).status == "processed"
    resumed = await intent_leaving(server, waiting.id, S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION)
    assert resumed.status == S.PAYMENT_INTENT_STATUS_PROCESSING


async def test_the_waiting_debit_is_recorded_with_the_verification_for_the_reconciler(
    server: Running, prism: MockPeer
) -> None:
    """Should the process stop between the webhook's commit and the debit it resumes,
    the debit was recorded with the verification: the reconciler sends it."""
    method, waiting, item_id = await pending_account_with_a_waiting_intent(server)
    applier = server.runtime.appliers.get("plaid")
    assert isinstance(applier, PaymentEventApplier)
    body = auth_webhook("AUTOMATICALLY_VERIFIED", item_id)
    event = NormalizedGatewayEvent(
        id="gwe_test",
        gateway="plaid",
        gateway_event_id="sha256:test",
        type="AUTOMATICALLY_VERIFIED",
        payload=json.loads(body),
        raw=body.decode(),
    )
    prepared = await applier.prepare(event)
    async with server.runtime.db.write() as session:
        result = await applier.apply(session, event, prepared)
    assert (result.outcome, result.resource_id) == (ApplyOutcome.PROCESSED, method.id)
    # committed() is never told: the process "stopped" here.
    async with server.runtime.db.read() as session:
        recorded = await PaymentIntents(session).get_for_update_any(waiting.id)
    assert recorded is not None
    assert recorded.status is IntentStatus.REQUIRES_ACTION
    assert recorded.attempt is not None
    assert recorded.attempt.state is AttemptState.OPEN
    assert "POST /transfer/create" not in prism.paths()

    assert await applier._intents.reconcile(stale_after=dt.timedelta(0)) == 1
    resumed = await get_intent(server, waiting.id)
    assert (resumed.status, resumed.gateway_reference) == (
        S.PAYMENT_INTENT_STATUS_PROCESSING,
        EXAMPLE_TRANSFER,
    )
    assert prism.paths().count("POST /transfer/create") == 1


async def verified_while_plaid_answers(
    server: Running,
    keys: PlaidKeys,
    outage: Outage,
    path: str,
    answer: tuple[int, dict[str, Any]],
) -> res.PaymentIntent:
    """An intent waiting on a pending account, whose AUTOMATICALLY_VERIFIED webhook is
    applied while Plaid answers ``path`` with ``answer``: the waiting intent."""
    _method, waiting, item_id = await pending_account_with_a_waiting_intent(server)
    outage.answers[path] = answer
    body = auth_webhook("AUTOMATICALLY_VERIFIED", item_id)
    await send(server, keys, body)
    assert (await applied(server, body)).status == "processed"
    return waiting


async def answered_once(outage: Outage, path: str) -> None:
    async def asked() -> bool:
        return path in outage.answered

    await eventually(asked)


async def test_a_resumed_debit_plaid_cannot_take_now_is_sent_later_by_the_reconciler(
    server: Running, prism: MockPeer, plaid_front: tuple[Peer, PlaidKeys], outage: Outage
) -> None:
    """No caller waits on a debit resumed by a verification: one Plaid cannot take now
    (rate limited: nothing done) stays recorded, and the reconciler sends it later. Had
    it been voided, the intent would wait in REQUIRES_ACTION on a verified account with
    nothing left to send it."""
    path = "/transfer/authorization/create"
    answer = (429, plaid_error("RATE_LIMIT_EXCEEDED", "RATE_LIMIT"))
    waiting = await verified_while_plaid_answers(server, plaid_front[1], outage, path, answer)
    await answered_once(outage, path)
    await resumes_finished(server)  # it records Plaid's refusal after the answer
    async with server.runtime.db.read() as session:
        kept = await PaymentIntents(session).get_for_update_any(waiting.id)
    assert kept is not None
    assert kept.update_time > waiting.update_time.ToDatetime(dt.UTC)  # recorded again
    assert kept.status is IntentStatus.REQUIRES_ACTION
    assert kept.attempt is not None
    assert kept.attempt.state is AttemptState.OPEN  # still to be sent
    assert "POST /transfer/create" not in prism.paths()

    del outage.answers[path]  # Plaid takes calls again
    applier = server.runtime.appliers.get("plaid")
    assert isinstance(applier, PaymentEventApplier)
    assert await applier._intents.reconcile(stale_after=dt.timedelta(0)) == 1
    sent = await get_intent(server, waiting.id)
    assert (sent.status, sent.gateway_reference) == (
        S.PAYMENT_INTENT_STATUS_PROCESSING,
        EXAMPLE_TRANSFER,
    )
    assert prism.paths().count("POST /transfer/create") == 1


async def test_a_resumed_debit_plaid_refuses_fails_its_intent(
    server: Running, prism: MockPeer, plaid_front: tuple[Peer, PlaidKeys], outage: Outage
) -> None:
    """A debit Plaid refuses outright fails its intent like a decline (back to
    REQUIRES_PAYMENT_METHOD, ``payment.failed``), so the payer can pay another way."""
    path = "/transfer/authorization/create"
    answer = (400, plaid_error("INVALID_REQUEST", "INVALID_FIELD"))
    waiting = await verified_while_plaid_answers(server, plaid_front[1], outage, path, answer)
    failed = await intent_leaving(server, waiting.id, S.PAYMENT_INTENT_STATUS_REQUIRES_ACTION)
    assert failed.status == S.PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD
    assert failed.last_error.code == "invalid_field"
    assert "refused the debit" in failed.last_error.message
    assert await events(server, waiting.id) == [
        "payment.created",
        "payment.requires_action",
        "payment.failed",
    ]
    async with server.runtime.db.read() as session:
        recorded = await PaymentIntents(session).get_for_update_any(waiting.id)
    assert recorded is not None
    assert recorded.attempt is None or recorded.attempt.state is AttemptState.DONE
    assert "POST /transfer/create" not in prism.paths()
