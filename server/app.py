"""The one place that builds everything and wires it together (STYLE.md).

One process serves gRPC and the relay's HTTP on the same event loop: a single thing to
start, stop and observe. ``--workers N`` runs N such processes sharing both ports.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

import grpc
from aiohttp import web
from google.protobuf import descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from gateways.registry import Registry
from gateways.router import Router
from gateways.sandbox.webhooks import SandboxWebhooks
from gateways.webhooks import WebhookVerifier
from gateways.webhooks.registry import build_verifiers, close_verifiers
from gateways.wiring import build_registry, update_readers
from server.config import ALL_SERVICES, DEFAULTS, Secret, Settings
from server.errors import ConfigError
from server.handlers import method_handlers
from server.idempotency import Idempotency
from server.interceptors import CallPolicy
from server.ledger.credits import CreditService
from server.ledger.packages import parse_packages
from server.ledger.wallets import WalletService
from server.ledger_payments import IntentPayments
from server.metrics import Metrics
from server.payments.bank import BankDebits, BankPaymentService
from server.payments.bank_secrets import load_cipher
from server.payments.catalog import GatewayCatalog
from server.payments.customers import CustomerService
from server.payments.disputes import DisputeService
from server.payments.gateway_events import PaymentEventApplier
from server.payments.intents import PaymentIntentService
from server.payments.marketplace import CheckoutService, ConnectedAccountService
from server.payments.methods import PaymentMethodService
from server.payments.outcomes import IntentOutcomes
from server.payments.sandbox import SandboxHelpers
from server.protos import load_descriptors
from server.servicers.credit import PENDING_CREDIT_METHODS, CreditServicer
from server.servicers.payment import (
    PENDING_PAYMENT_METHODS,
    PaymentDomain,
    PaymentServicer,
)
from server.servicers.sandbox import (
    CARD_ACCEPTING_SANDBOX_METHODS,
    PENDING_SANDBOX_METHODS,
    SandboxServicer,
)
from server.servicers.wallet import PENDING_WALLET_METHODS, WalletServicer
from server.servicers.webhook import WebhookServicer
from server.webhooks.deliveries import DeliveryService
from server.webhooks.endpoints import EndpointService
from server.webhooks.inbound import Appliers, GatewayEventService
from store.db import Database
from store.gateway_cursors import GatewayCursors
from webhook_relay.app import SandboxPages, create_app
from webhook_relay.delivery import DeliveryPolicy, DeliveryWorker
from webhook_relay.inbound import InboundWebhooks

log = logging.getLogger("isa.server")

STORE_CHECK_SECONDS: Final = 2.0
IDEMPOTENCY_PURGE_SECONDS: Final = 600.0
CREDIT_SWEEP_SECONDS: Final = 5.0
RECONCILE_SECONDS: Final = 10.0
CHECKOUT_EXPIRY_SECONDS: Final = 30.0

#: What each service still lacks; its RPCs answer UNIMPLEMENTED with this note.
NOT_YET: Final = {
    "isa.payment.v1.PaymentService": "this payment capability is not built yet",
    "isa.wallet.v1.WalletService": "wallets on the double-entry ledger are not built yet",
    "isa.billing.v1.BillingService": "invoices and usage billing are not built yet",
    "isa.subscription.v1.SubscriptionService": "subscriptions are not built yet",
    "isa.credit.v1.CreditService": "prepaid credits are not built yet",
    "isa.brokerage.v1.BrokerageService": "brokerage accounts and orders are not built yet",
    "isa.webhook.v1.WebhookService": "outbound webhooks and the gateway event log are not built",
    "isa.sandbox.v1.SandboxService": "the sandbox simulator's helpers are not built yet",
}


#: The only methods whose requests may hold a card number: every other request of every
#: service is refused when any field does (nothing would store or echo it).
CARD_ACCEPTING: Final[Mapping[str, frozenset[str]]] = {
    "isa.sandbox.v1.SandboxService": CARD_ACCEPTING_SANDBOX_METHODS,
}


class HealthSetter(Protocol):
    """What we use of grpc_health's asyncio servicer (the library is untyped)."""

    async def set(self, service: str, status: int) -> None: ...

    async def enter_graceful_shutdown(self) -> None: ...


class GenericOnly:
    """A server as grpc's generated ``add_*Servicer_to_server`` functions see it, taking
    only the generic handlers they register (Health, reflection).

    Those functions also register each method as a "registered method". grpc.aio then
    keeps one pending request per registered method beside the generic one and runs
    ``asyncio.wait`` over all of them for every incoming call, whatever its method: with
    Health's three and reflection's one, that walk cost each call ~45 us of the event
    loop's time (Health/Check itself went from 249 to 199 us of server CPU per call
    without it). Served as generic handlers, the same methods answer the same way.
    """

    def __init__(self, server: grpc.aio.Server) -> None:
        self._server = server

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self._server.add_generic_rpc_handlers(handlers)

    def add_registered_method_handlers(self, _service: str, _handlers: object) -> None:
        """Not registered: the generic handlers added alongside serve these methods."""


@dataclass
class Runtime:
    """A running server: its ports and the handles needed to stop it."""

    settings: Settings
    db: Database
    grpc_server: grpc.aio.Server
    grpc_port: int
    relay_runner: web.AppRunner
    relay_port: int
    health: HealthSetter
    served: tuple[str, ...]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    gateways: Registry = field(default_factory=lambda: Registry(()))
    #: Gateway event appliers: each domain registers its own (payments, …).
    appliers: Appliers = field(default_factory=Appliers)
    verifiers: Mapping[str, WebhookVerifier] = field(default_factory=dict)

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking calls, let running ones finish within ``grace``, release the store."""
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        await self.health.enter_graceful_shutdown()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.grpc_server.stop(grace)
        await self.relay_runner.cleanup()
        await self.appliers.close(grace)
        await self.gateways.close()
        await close_verifiers(self.verifiers)
        await self.db.dispose()


def split_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"address {address!r} must look like HOST:PORT")
    return host.strip("[]"), int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings) -> None:
    """Refuse to listen beyond this machine while the only client is the dev client."""
    if not settings.only_dev_client:
        return
    for name, address in (
        ("ISA_GRPC_ADDR", settings.grpc_addr),
        ("ISA_RELAY_ADDR", settings.relay_addr),
    ):
        host, _ = split_address(address)
        if not is_loopback(host):
            raise ConfigError(
                f"{name}={address} is reachable from other machines, but the only client is "
                "the development client with its well-known token; set ISA_CLIENTS_FILE first"
            )


def served_services(settings: Settings) -> tuple[str, ...]:
    """Every service, but the sandbox helpers only while the sandbox gateway is enabled."""
    sandbox_on = "sandbox" in settings.gateways
    return tuple(s for s in ALL_SERVICES if sandbox_on or s != "isa.sandbox.v1.SandboxService")


def _payment_appliers(db: Database, registry: Registry, payment_domain: PaymentDomain) -> Appliers:
    """Each gateway's webhook applier; readers with a cursor go on from its stored
    position (Plaid's event sync), not from the start of the provider's history."""

    async def stored_position(gateway: str) -> int:
        async with db.read() as session:
            return await GatewayCursors(session).position(gateway)

    appliers = Appliers()
    for gateway_name, read_update in update_readers(registry, stored_position).items():
        appliers.register(
            gateway_name,
            PaymentEventApplier(
                payment_domain.intents,
                read_update,
                payment_domain.bank,
                accounts=payment_domain.accounts,
                checkout=payment_domain.checkout,
                disputes=payment_domain.disputes,
            ),
        )
    return appliers


async def start(settings: Settings, *, reuse_port: bool = False) -> Runtime:
    """Build and start the gRPC server and the relay; returns once both listen."""
    check_exposure(settings)
    load_descriptors()
    db = Database(settings.database_url)
    metrics = Metrics()
    idempotency = Idempotency(
        db, retention=dt.timedelta(hours=settings.idempotency_retention_hours)
    )
    credits = CreditService(db, parse_packages(settings.credit_packages_json))
    sandbox_webhooks = SandboxWebhooks(settings.relay.sandbox_webhook_secret.reveal())
    registry = build_registry(settings, sandbox_webhooks=sandbox_webhooks)
    outcomes = IntentOutcomes()
    payment_domain = _payment_domain(settings, db, registry, outcomes)
    intents, bank = payment_domain.intents, payment_domain.bank
    wallets = WalletService(db)
    # Deposits and credit purchases charge through PaymentService and hear every
    # payment's end in the transaction recording it (ledger <- adapter -> payments).
    ledger_payments = _ledger_payments(db, payment_domain, outcomes, wallets, credits)
    appliers = _payment_appliers(db, registry, payment_domain)
    gateway_events = GatewayEventService(db, appliers, metrics)
    verifiers = _verifiers(settings)
    servicers: dict[str, tuple[object, dict[str, str]]] = {
        "isa.payment.v1.PaymentService": (
            PaymentServicer(idempotency, payment_domain),
            PENDING_PAYMENT_METHODS,
        ),
        "isa.wallet.v1.WalletService": (
            WalletServicer(idempotency, wallets, ledger_payments),
            PENDING_WALLET_METHODS,
        ),
        "isa.credit.v1.CreditService": (
            CreditServicer(idempotency, credits, ledger_payments),
            PENDING_CREDIT_METHODS,
        ),
        "isa.sandbox.v1.SandboxService": (
            SandboxServicer(
                idempotency,
                SandboxHelpers(
                    registry,
                    intents,
                    bank,
                    checkout=payment_domain.checkout,
                    accounts=payment_domain.accounts,
                    disputes=payment_domain.disputes,
                ),
                wallets,
            ),
            PENDING_SANDBOX_METHODS,
        ),
        "isa.webhook.v1.WebhookService": (
            WebhookServicer(idempotency, EndpointService(db), DeliveryService(db), gateway_events),
            {},
        ),
    }
    served = served_services(settings)
    # No grpc interceptors: each method's handler carries the cross-cutting concerns
    # (server.interceptors), so Health and reflection calls pay for none of them.
    server = grpc.aio.server(options=[("grpc.so_reuseport", 1 if reuse_port else 0)])
    policy = CallPolicy(metrics, settings.clients)
    pool = descriptor_pool.Default()
    for name in served:
        servicer, pending = servicers.get(name, (object(), {}))
        handlers = method_handlers(
            pool.FindServiceByName(name),
            servicer,
            policy=policy,
            pending=pending,
            default_note=NOT_YET[name],
            card_accepting=CARD_ACCEPTING.get(name, ()),
        )
        # Generic only, on purpose: grpc.aio's serving loop keeps one pending request per
        # *registered* method and runs asyncio.wait over all of them for every incoming
        # call. With our ~80 methods that walk cost more than a whole Health/Check; a
        # generic lookup is one dict probe per service.
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    health_servicer = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, GenericOnly(server))
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
        reflection.aio.ReflectionServicer(
            (
                *served,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            )
        ),
        GenericOnly(server),
    )
    grpc_port = server.add_insecure_port(settings.grpc_addr)
    if grpc_port == 0:
        raise ConfigError(f"cannot listen on ISA_GRPC_ADDR={settings.grpc_addr}")

    inbound = InboundWebhooks(
        verifiers, gateway_events, metrics, max_body_bytes=settings.relay.max_body_bytes
    )
    relay_app = create_app(
        db,
        metrics,
        inbound,
        max_body_bytes=settings.relay.max_body_bytes,
        sandbox=SandboxPages(payment_domain.checkout, payment_domain.accounts)
        if "sandbox" in settings.gateways
        else None,
    )
    runner = web.AppRunner(relay_app, access_log=None)
    await runner.setup()
    relay_host, relay_port = split_address(settings.relay_addr)
    site = web.TCPSite(runner, relay_host, relay_port, reuse_port=reuse_port or None)
    await site.start()
    bound_relay_port = _bound_port(runner, relay_port)
    sandbox_webhooks.url = _sandbox_webhook_url(settings, relay_host, bound_relay_port)

    runtime = Runtime(
        settings=settings,
        db=db,
        grpc_server=server,
        grpc_port=grpc_port,
        relay_runner=runner,
        relay_port=bound_relay_port,
        health=health_servicer,
        served=served,
        gateways=registry,
        appliers=appliers,
        verifiers=verifiers,
    )
    await _set_health(runtime, serving=await db.ping())
    await server.start()
    runtime.tasks += [
        asyncio.create_task(_watch_store(runtime, metrics)),
        asyncio.create_task(_every(IDEMPOTENCY_PURGE_SECONDS, idempotency.purge_expired)),
        asyncio.create_task(_every(RECONCILE_SECONDS, intents.reconcile)),
        asyncio.create_task(_every(CHECKOUT_EXPIRY_SECONDS, payment_domain.checkout.expire_lapsed)),
        asyncio.create_task(_every_later(CREDIT_SWEEP_SECONDS, credits.sweep)),
    ]
    runtime.tasks.append(
        asyncio.create_task(gateway_events.run_forever(settings.relay.apply_poll_seconds))
    )
    if settings.relay.delivery_enabled:
        runtime.tasks.append(
            asyncio.create_task(
                _delivery_worker(settings, db, metrics).run_forever(
                    settings.relay.delivery_poll_seconds
                )
            )
        )
    return runtime


def _payment_domain(
    settings: Settings, db: Database, registry: Registry, outcomes: IntentOutcomes
) -> PaymentDomain:
    """PaymentService's use cases over the enabled gateways; bank access tokens are
    encrypted with the configured (or, in development, generated) key."""
    router = Router(registry)
    cipher = load_cipher(
        settings.encryption_key, data_dir=settings.data_dir, development=settings.only_dev_client
    )
    intents = PaymentIntentService(db, router, outcomes, BankDebits(db, router, cipher))
    checkout = CheckoutService(db, router, intents)
    outcomes.subscribe(checkout.on_intent_outcome)  # a paid session completes
    return PaymentDomain(
        customers=CustomerService(db),
        intents=intents,
        methods=PaymentMethodService(db, router),
        checkout=checkout,
        accounts=ConnectedAccountService(
            db, router, default_return_url=f"{settings.public_relay_url}/connect/return"
        ),
        catalog=GatewayCatalog(registry),
        disputes=DisputeService(db, outcomes),
        bank=BankPaymentService(db, router, cipher, intents),
    )


def _ledger_payments(
    db: Database,
    payments: PaymentDomain,
    outcomes: IntentOutcomes,
    wallets: WalletService,
    credits: CreditService,
) -> IntentPayments:
    """The ledger's PaymentPort, subscribed to every payment's and payout's end."""
    ledger_payments = IntentPayments(db, payments.intents, wallets, credits, payments.bank)
    outcomes.subscribe(ledger_payments.on_intent_outcome)
    outcomes.subscribe_refunds(ledger_payments.on_refund)
    outcomes.subscribe_disputes(ledger_payments.on_dispute)
    if payments.bank is not None:  # withdrawals are paid out on the bank rail
        payments.bank.subscribe_payouts(ledger_payments.on_payout_transfer)
    return ledger_payments


def _verifiers(settings: Settings) -> Mapping[str, WebhookVerifier]:
    """A verifier for every gateway whose webhook secret is configured."""
    relay = settings.relay

    def reveal(secret: Secret | None) -> str | None:
        return None if secret is None else secret.reveal()

    return build_verifiers(
        stripe_secret=reveal(settings.stripe_webhook_secret),
        stripe_tolerance_seconds=relay.stripe_tolerance_seconds,
        square_signature_key=reveal(settings.square_webhook_signature_key),
        square_notification_url=settings.public_relay_url.rstrip("/") + "/webhooks/square",
        plaid_client_id=settings.plaid_client_id,
        plaid_secret=reveal(settings.plaid_secret),
        plaid_env=settings.plaid_env,
        plaid_host=settings.plaid_host,
        plaid_max_age_seconds=relay.plaid_max_age_seconds,
        paypal_client_id=relay.paypal_client_id,
        paypal_secret=reveal(relay.paypal_secret),
        paypal_webhook_id=relay.paypal_webhook_id,
        paypal_api_base=relay.paypal_api_base,
        coinbase_secret=reveal(relay.coinbase_webhook_secret),
        sandbox_secret=reveal(relay.sandbox_webhook_secret)
        if "sandbox" in settings.gateways
        else None,
    )


def _sandbox_webhook_url(settings: Settings, relay_host: str, bound_port: int) -> str:
    """ISA_PUBLIC_RELAY_URL + /webhooks/sandbox when it is set; otherwise (or when the
    relay listens on an ephemeral port, as in tests) this relay's own bound address."""
    public = settings.public_relay_url
    if public != DEFAULTS.public_relay_url and split_address(settings.relay_addr)[1] != 0:
        return public.rstrip("/") + "/webhooks/sandbox"
    host = relay_host
    try:
        if ipaddress.ip_address(host).is_unspecified:
            host = "127.0.0.1"  # listening on every interface: loopback is one of them
    except ValueError:
        host = host or "127.0.0.1"
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{bound_port}/webhooks/sandbox"


def _delivery_worker(settings: Settings, db: Database, metrics: Metrics) -> DeliveryWorker:
    relay = settings.relay
    policy = DeliveryPolicy(
        retry_schedule=relay.retry_delays,
        timeout=dt.timedelta(seconds=relay.delivery_timeout_seconds),
        lease=dt.timedelta(seconds=relay.delivery_lease_seconds),
        batch=relay.delivery_batch,
    )
    return DeliveryWorker(db, metrics, policy=policy)


def _bound_port(runner: web.AppRunner, asked: int) -> int:
    for address in runner.addresses:
        if isinstance(address, tuple):
            return int(address[1])
    return asked


async def _set_health(runtime: Runtime, *, serving: bool) -> None:
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if serving
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for name in ("", *runtime.served):
        await runtime.health.set(name, status)


async def _watch_store(runtime: Runtime, metrics: Metrics) -> None:
    """Every service needs the store: while it does not answer, health says NOT_SERVING."""
    was_up: bool | None = None
    while True:
        up = await runtime.db.ping()
        metrics.store_up.set(1 if up else 0)
        if up != was_up:
            await _set_health(runtime, serving=up)
            if was_up is not None:
                log.warning("store %s", "reachable again" if up else "unreachable: NOT_SERVING")
            was_up = up
        await asyncio.sleep(STORE_CHECK_SECONDS)


async def _every_later(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    """Like :func:`_every`, but first waits a period: nothing touches the store at start-up."""
    await asyncio.sleep(seconds)
    await _every(seconds, job)


async def _every(seconds: float, job: Callable[[], Awaitable[object]]) -> None:
    """Run a housekeeping job forever; a failed run is logged and tried again later."""
    while True:
        try:
            await job()
        except Exception:
            log.exception("background job %s failed", getattr(job, "__qualname__", job))
        await asyncio.sleep(seconds)
