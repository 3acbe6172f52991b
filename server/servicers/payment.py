"""isa.payment.v1.PaymentService: customers, cards on the sandbox and Stripe, marketplace.

Each method: checks (every violation at once, raw card numbers refused anywhere), one
domain call, conversion. Crypto RPCs answer UNIMPLEMENTED.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from gateways.types import LineItem
from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as resources
from server.context import caller
from server.currencies import is_payable
from server.errors import NotYetAvailable
from server.idempotency import Idempotency
from server.interceptors import Context
from server.payments.bank import BankLink, BankPaymentService
from server.payments.catalog import GatewayCatalog
from server.payments.customers import Customer, CustomerFilter, CustomerService, NewCustomer
from server.payments.disputes import DisputeService
from server.payments.intents import (
    Capture,
    Confirmation,
    IntentFilter,
    NewPaymentIntent,
    NewRefund,
    PaymentIntentService,
)
from server.payments.marketplace import (
    CheckoutService,
    ConnectedAccountService,
    NewCheckoutSession,
    NewConnectedAccount,
)
from server.payments.methods import MethodFilter, NewPaymentMethod, PaymentMethodService
from server.payments.money import MAX_AMOUNT
from server.servicers.gateway_calls import (
    run_checked_finishing,
    run_finishing,
    run_gateway_idempotent,
)
from server.servicers.payment_messages import (
    BUSINESS_TYPE,
    KIND_OF_PROTO,
    METHOD_TYPE_OF_PROTO,
    STATUS_OF_PROTO,
    account_message,
    checkout_message,
    dispute_message,
    gateway_message,
    intent_message,
    link_message,
    method_message,
    refund_message,
)
from server.servicers.support import Checks, page_messages, run_idempotent, timestamp
from store.payments import CaptureMethod

_CRYPTO: Final = "crypto payments are not built yet"
#: The most micro-deposit amounts a payer may enter (Plaid and Stripe send two).
_MAX_MICRODEPOSITS: Final = 2
_CAPTURE_METHODS: Final = frozenset(resources.CaptureMethod.values())
_INTENT_STATUS_FILTERS: Final = frozenset(resources.PaymentIntentStatus.values())
_CHECKOUT_MODES: Final = frozenset(
    {resources.CHECKOUT_SESSION_MODE_PAYMENT, resources.CHECKOUT_SESSION_MODE_SUBSCRIPTION}
)
#: Stripe Checkout takes at most 100 line items; so does the sandbox's page.
_MAX_CHECKOUT_LINE_ITEMS: Final = 100
_MAX_MICRODEPOSIT_AMOUNT: Final = 100  # cents: micro-deposits are under a dollar

#: Methods not built yet, with the note their UNIMPLEMENTED answer carries.
PENDING_PAYMENT_METHODS: Final = {"CreateCryptoPayment": _CRYPTO}


def customer_message(customer: Customer) -> resources.Customer:
    return resources.Customer(
        id=customer.id,
        external_ref=customer.external_ref,
        email=customer.email,
        name=customer.name,
        metadata=customer.metadata,
        create_time=timestamp(customer.create_time),
        update_time=timestamp(customer.update_time),
        default_payment_method_id=customer.default_payment_method_id,
    )


def _amount(checks: Checks, field: str, value: int, *, allow_zero: bool = False) -> int:
    if value < 0 or (value == 0 and not allow_zero) or value > MAX_AMOUNT:
        low = 0 if allow_zero else 1
        checks.fail(field, f"must be between {low} and {MAX_AMOUNT} minor units")
    return value


def _quantity(checks: Checks, field: str, value: int) -> int:
    if not 1 <= value <= MAX_AMOUNT:
        checks.fail(field, f"must be between 1 and {MAX_AMOUNT}")
    return value


def _currency(checks: Checks, value: str) -> str:
    if not is_payable(value):
        checks.fail("currency", "must be a lowercase currency code this service knows, e.g. usd")
    return value


def _optional_id(checks: Checks, field: str, value: str, *, prefix: str) -> str:
    return checks.resource_id(field, value, prefix=prefix) if value else value


def payment_token(checks: Checks, field: str, value: str, *, required: bool) -> str:
    """A gateway token or our payment method id, checked only for shape (the gateway
    knows its tokens; a card number never gets here: server.servicers.card_guard)."""
    if required and not value:
        checks.fail(field, "is required")
    elif value and (len(value) > 255 or not value.isprintable() or " " in value):
        checks.fail(field, "must be a gateway token or payment method id (printable, no spaces)")
    return value


@dataclass(frozen=True, slots=True)
class PaymentDomain:
    """The use cases this servicer calls."""

    customers: CustomerService
    intents: PaymentIntentService
    methods: PaymentMethodService
    checkout: CheckoutService
    accounts: ConnectedAccountService
    catalog: GatewayCatalog
    disputes: DisputeService
    bank: BankPaymentService | None = None


class PaymentServicer:
    def __init__(self, idempotency: Idempotency, domain: PaymentDomain) -> None:
        self._idempotency = idempotency
        self._domain = domain
        self._customers = domain.customers

    # --- gateways and customers ----------------------------------------------------------

    async def ListGateways(
        self, request: pb.ListGatewaysRequest, _context: Context
    ) -> pb.ListGatewaysResponse:
        checks = Checks()
        checks.page(request.page_size, request.page_token)
        checks.raise_if_any()
        infos = self._domain.catalog.list(KIND_OF_PROTO.get(request.kind))
        return pb.ListGatewaysResponse(gateways=[gateway_message(i) for i in infos])

    async def CreateCustomer(
        self, request: pb.CreateCustomerRequest, _context: Context
    ) -> pb.CreateCustomerResponse:
        checks = Checks()
        new = NewCustomer(
            external_ref=checks.text("external_ref", request.external_ref, max_length=200),
            email=checks.email("email", request.email),
            name=checks.text("name", request.name, max_length=200),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def create(session: AsyncSession) -> pb.CreateCustomerResponse:
            customer = await self._customers.create(session, client_id, new)
            return pb.CreateCustomerResponse(customer=customer_message(customer))

        return await run_idempotent(
            self._idempotency, request, key, pb.CreateCustomerResponse, create
        )

    async def GetCustomer(
        self, request: pb.GetCustomerRequest, _context: Context
    ) -> pb.GetCustomerResponse:
        checks = Checks()
        customer_id = checks.resource_id("id", request.id, prefix="cus")
        checks.raise_if_any()
        customer = await self._customers.get(caller().id, customer_id)
        return pb.GetCustomerResponse(customer=customer_message(customer))

    async def ListCustomers(
        self, request: pb.ListCustomersRequest, _context: Context
    ) -> pb.ListCustomersResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        where = CustomerFilter(
            email=checks.email("email", request.email) or None,
            external_ref=checks.text("external_ref", request.external_ref, max_length=200) or None,
        )
        checks.raise_if_any()
        page = await self._customers.list(caller().id, page_request, where)
        customers, next_page_token = page_messages(page, customer_message)
        return pb.ListCustomersResponse(customers=customers, next_page_token=next_page_token)

    # --- saved payment methods -----------------------------------------------------------

    async def AttachPaymentMethod(
        self, request: pb.AttachPaymentMethodRequest, _context: Context
    ) -> pb.AttachPaymentMethodResponse:
        checks = Checks()
        new = NewPaymentMethod(
            customer_id=checks.resource_id("customer_id", request.customer_id, prefix="cus"),
            gateway=checks.text("gateway", request.gateway, max_length=40),
            token=payment_token(checks, "token", request.token, required=True),
            set_as_default=request.set_as_default,
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def attach() -> pb.AttachPaymentMethodResponse:
            method = await self._domain.methods.attach(client_id, key, new)
            return pb.AttachPaymentMethodResponse(payment_method=method_message(method))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.AttachPaymentMethodResponse, attach
        )

    # --- bank accounts (ACH) -----------------------------------------------------------

    def _bank(self) -> BankPaymentService:
        if self._domain.bank is None:
            raise NotYetAvailable("bank payments are not configured on this server")
        return self._domain.bank

    async def CreateBankLinkToken(
        self, request: pb.CreateBankLinkTokenRequest, _context: Context
    ) -> pb.CreateBankLinkTokenResponse:
        checks = Checks()
        customer_id = checks.resource_id("customer_id", request.customer_id, prefix="cus")
        checks.text("redirect_uri", request.redirect_uri, max_length=2000)
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def create() -> pb.CreateBankLinkTokenResponse:
            link = await self._bank().create_link_token(client_id, key, customer_id)
            return pb.CreateBankLinkTokenResponse(
                link_token=link.link_token, expiration=timestamp(link.expire_time)
            )

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.CreateBankLinkTokenResponse, create
        )

    async def ExchangeBankPublicToken(
        self, request: pb.ExchangeBankPublicTokenRequest, _context: Context
    ) -> pb.ExchangeBankPublicTokenResponse:
        checks = Checks()
        link = BankLink(
            customer_id=checks.resource_id("customer_id", request.customer_id, prefix="cus"),
            public_token=payment_token(checks, "public_token", request.public_token, required=True),
            account_id=payment_token(checks, "account_id", request.account_id, required=True),
            set_as_default=request.set_as_default,
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def exchange() -> pb.ExchangeBankPublicTokenResponse:
            method = await self._bank().exchange(client_id, key, link)
            return pb.ExchangeBankPublicTokenResponse(payment_method=method_message(method))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.ExchangeBankPublicTokenResponse, exchange
        )

    async def VerifyMicroDeposits(
        self, request: pb.VerifyMicroDepositsRequest, _context: Context
    ) -> pb.VerifyMicroDepositsResponse:
        checks = Checks()
        method_id = checks.resource_id("payment_method_id", request.payment_method_id, prefix="pm")
        amounts = tuple(request.amounts)
        if len(amounts) != _MAX_MICRODEPOSITS:
            checks.fail("amounts", f"must be the {_MAX_MICRODEPOSITS} amounts sent, in cents")
        elif not all(1 <= a < _MAX_MICRODEPOSIT_AMOUNT for a in amounts):
            checks.fail("amounts", f"each must be 1 to {_MAX_MICRODEPOSIT_AMOUNT - 1} cents")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def verify() -> pb.VerifyMicroDepositsResponse:
            method = await self._bank().verify_micro_deposits(client_id, key, method_id, amounts)
            return pb.VerifyMicroDepositsResponse(payment_method=method_message(method))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.VerifyMicroDepositsResponse, verify
        )

    async def ListPaymentMethods(
        self, request: pb.ListPaymentMethodsRequest, _context: Context
    ) -> pb.ListPaymentMethodsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        customer_id = checks.resource_id("customer_id", request.customer_id, prefix="cus")
        where = MethodFilter(
            gateway=checks.text("gateway", request.gateway, max_length=40) or None,
            type=METHOD_TYPE_OF_PROTO.get(request.type),
        )
        checks.raise_if_any()
        page = await self._domain.methods.list(caller().id, customer_id, page_request, where)
        payment_methods, next_page_token = page_messages(page, method_message)
        return pb.ListPaymentMethodsResponse(
            payment_methods=payment_methods, next_page_token=next_page_token
        )

    async def DetachPaymentMethod(
        self, request: pb.DetachPaymentMethodRequest, _context: Context
    ) -> pb.DetachPaymentMethodResponse:
        checks = Checks()
        method_id = checks.resource_id("id", request.id, prefix="pm")
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def detach() -> pb.DetachPaymentMethodResponse:
            method = await self._domain.methods.detach(client_id, key, method_id)
            return pb.DetachPaymentMethodResponse(payment_method=method_message(method))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.DetachPaymentMethodResponse, detach
        )

    # --- payment intents -----------------------------------------------------------------

    async def CreatePaymentIntent(
        self, request: pb.CreatePaymentIntentRequest, _context: Context
    ) -> pb.CreatePaymentIntentResponse:
        checks = Checks()
        amount = _amount(checks, "amount", request.amount)
        fee = request.application_fee_amount if request.HasField("application_fee_amount") else None
        if fee is not None and not request.destination_account_id:
            checks.fail("application_fee_amount", "is only allowed with destination_account_id")
        elif fee is not None and not 0 <= fee <= amount:
            checks.fail("application_fee_amount", "must be between 0 and amount")
        if request.confirm and not request.payment_method_id:
            checks.fail("payment_method_id", "is required when confirm is true")
        new = NewPaymentIntent(
            amount=amount,
            currency=_currency(checks, request.currency),
            customer_id=_optional_id(checks, "customer_id", request.customer_id, prefix="cus"),
            description=checks.text("description", request.description, max_length=1000),
            metadata=checks.metadata("metadata", request.metadata),
            gateway=checks.text("gateway", request.gateway, max_length=40),
            payment_method_id=payment_token(
                checks, "payment_method_id", request.payment_method_id, required=False
            ),
            confirm=request.confirm,
            capture_method=CaptureMethod.MANUAL
            if checks.known_enum("capture_method", request.capture_method, _CAPTURE_METHODS)
            == resources.CAPTURE_METHOD_MANUAL
            else CaptureMethod.AUTOMATIC,
            destination_account_id=_optional_id(
                checks, "destination_account_id", request.destination_account_id, prefix="acct"
            ),
            application_fee_amount=fee,
            return_url=checks.web_url("return_url", request.return_url),
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id
        if new.destination_account_id:  # learn of an onboarding finished since last look
            await self._domain.accounts.get(client_id, new.destination_account_id)

        return await run_checked_finishing(
            self._idempotency,
            request,
            key,
            pb.CreatePaymentIntentResponse,
            respond=lambda intent: pb.CreatePaymentIntentResponse(
                payment_intent=intent_message(intent)
            ),
            action=lambda check, finish: self._domain.intents.create(
                client_id, key, new, finish, check=check
            ),
        )

    async def ConfirmPaymentIntent(
        self, request: pb.ConfirmPaymentIntentRequest, _context: Context
    ) -> pb.ConfirmPaymentIntentResponse:
        checks = Checks()
        intent_id = checks.resource_id("id", request.id, prefix="pi")
        confirmation = Confirmation(
            payment_method_id=payment_token(
                checks, "payment_method_id", request.payment_method_id, required=False
            ),
            return_url=checks.web_url("return_url", request.return_url),
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        return await run_finishing(
            self._idempotency,
            request,
            key,
            pb.ConfirmPaymentIntentResponse,
            respond=lambda intent: pb.ConfirmPaymentIntentResponse(
                payment_intent=intent_message(intent)
            ),
            action=lambda finish: self._domain.intents.confirm(
                client_id, key, intent_id, confirmation, finish
            ),
        )

    async def CapturePaymentIntent(
        self, request: pb.CapturePaymentIntentRequest, _context: Context
    ) -> pb.CapturePaymentIntentResponse:
        checks = Checks()
        intent_id = checks.resource_id("id", request.id, prefix="pi")
        capture = Capture(
            amount_to_capture=_amount(checks, "amount_to_capture", request.amount_to_capture)
            if request.HasField("amount_to_capture")
            else None,
            application_fee_amount=_amount(
                checks, "application_fee_amount", request.application_fee_amount, allow_zero=True
            )
            if request.HasField("application_fee_amount")
            else None,
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        return await run_finishing(
            self._idempotency,
            request,
            key,
            pb.CapturePaymentIntentResponse,
            respond=lambda intent: pb.CapturePaymentIntentResponse(
                payment_intent=intent_message(intent)
            ),
            action=lambda finish: self._domain.intents.capture(
                client_id, key, intent_id, capture, finish
            ),
        )

    async def CancelPaymentIntent(
        self, request: pb.CancelPaymentIntentRequest, _context: Context
    ) -> pb.CancelPaymentIntentResponse:
        checks = Checks()
        intent_id = checks.resource_id("id", request.id, prefix="pi")
        reason = checks.text("reason", request.reason, max_length=200)
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        return await run_finishing(
            self._idempotency,
            request,
            key,
            pb.CancelPaymentIntentResponse,
            respond=lambda intent: pb.CancelPaymentIntentResponse(
                payment_intent=intent_message(intent)
            ),
            action=lambda finish: self._domain.intents.cancel(
                client_id, key, intent_id, reason, finish
            ),
        )

    async def GetPaymentIntent(
        self, request: pb.GetPaymentIntentRequest, _context: Context
    ) -> pb.GetPaymentIntentResponse:
        checks = Checks()
        intent_id = checks.resource_id("id", request.id, prefix="pi")
        checks.raise_if_any()
        intent = await self._domain.intents.get(caller().id, intent_id)
        return pb.GetPaymentIntentResponse(payment_intent=intent_message(intent))

    async def ListPaymentIntents(
        self, request: pb.ListPaymentIntentsRequest, _context: Context
    ) -> pb.ListPaymentIntentsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        where = IntentFilter(
            customer_id=_optional_id(checks, "customer_id", request.customer_id, prefix="cus")
            or None,
            status=STATUS_OF_PROTO.get(
                checks.known_enum("status", request.status, _INTENT_STATUS_FILTERS)
            ),
        )
        checks.raise_if_any()
        page = await self._domain.intents.list(caller().id, page_request, where)
        payment_intents, next_page_token = page_messages(page, intent_message)
        return pb.ListPaymentIntentsResponse(
            payment_intents=payment_intents, next_page_token=next_page_token
        )

    # --- refunds -------------------------------------------------------------------------

    async def CreateRefund(
        self, request: pb.CreateRefundRequest, _context: Context
    ) -> pb.CreateRefundResponse:
        checks = Checks()
        new = NewRefund(
            payment_intent_id=checks.resource_id(
                "payment_intent_id", request.payment_intent_id, prefix="pi"
            ),
            amount=_amount(checks, "amount", request.amount)
            if request.HasField("amount")
            else None,
            reason=checks.text("reason", request.reason, max_length=200),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=True)
        checks.raise_if_any()
        client_id = caller().id

        return await run_finishing(
            self._idempotency,
            request,
            key,
            pb.CreateRefundResponse,
            respond=lambda refund: pb.CreateRefundResponse(refund=refund_message(refund)),
            action=lambda finish: self._domain.intents.refund(client_id, key, new, finish),
        )

    async def GetRefund(
        self, request: pb.GetRefundRequest, _context: Context
    ) -> pb.GetRefundResponse:
        checks = Checks()
        refund_id = checks.resource_id("id", request.id, prefix="re")
        checks.raise_if_any()
        refund = await self._domain.intents.get_refund(caller().id, refund_id)
        return pb.GetRefundResponse(refund=refund_message(refund))

    async def ListRefunds(
        self, request: pb.ListRefundsRequest, _context: Context
    ) -> pb.ListRefundsResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        intent_id = _optional_id(
            checks, "payment_intent_id", request.payment_intent_id, prefix="pi"
        )
        checks.raise_if_any()
        page = await self._domain.intents.list_refunds(caller().id, page_request, intent_id or None)
        refunds, next_page_token = page_messages(page, refund_message)
        return pb.ListRefundsResponse(refunds=refunds, next_page_token=next_page_token)

    # --- disputes ------------------------------------------------------------------------

    async def GetDispute(
        self, request: pb.GetDisputeRequest, _context: Context
    ) -> pb.GetDisputeResponse:
        checks = Checks()
        dispute_id = checks.resource_id("id", request.id, prefix="dp")
        checks.raise_if_any()
        dispute = await self._domain.disputes.get(caller().id, dispute_id)
        return pb.GetDisputeResponse(dispute=dispute_message(dispute))

    async def ListDisputes(
        self, request: pb.ListDisputesRequest, _context: Context
    ) -> pb.ListDisputesResponse:
        checks = Checks()
        page_request = checks.page(request.page_size, request.page_token)
        intent_id = _optional_id(
            checks, "payment_intent_id", request.payment_intent_id, prefix="pi"
        )
        checks.raise_if_any()
        page = await self._domain.disputes.list(caller().id, page_request, intent_id or None)
        disputes, next_page_token = page_messages(page, dispute_message)
        return pb.ListDisputesResponse(disputes=disputes, next_page_token=next_page_token)

    # --- checkout ------------------------------------------------------------------------

    async def CreateCheckoutSession(
        self, request: pb.CreateCheckoutSessionRequest, _context: Context
    ) -> pb.CreateCheckoutSessionResponse:
        checks = Checks()
        if request.mode not in _CHECKOUT_MODES:
            checks.fail("mode", "must be PAYMENT or SUBSCRIPTION")
        subscription = request.mode == resources.CHECKOUT_SESSION_MODE_SUBSCRIPTION
        lines = request.line_items.items
        if len(lines) > _MAX_CHECKOUT_LINE_ITEMS:  # refused whole, not read line by line
            checks.fail(
                "line_items.items", f"may hold at most {_MAX_CHECKOUT_LINE_ITEMS} line items"
            )
            checks.raise_if_any()
        items = tuple(
            LineItem(
                description=checks.text(
                    f"line_items.items[{n}].description",
                    i.description,
                    max_length=500,
                    required=True,
                ),
                quantity=_quantity(checks, f"line_items.items[{n}].quantity", i.quantity),
                unit_amount=_amount(
                    checks, f"line_items.items[{n}].unit_amount", i.unit_amount, allow_zero=True
                ),
            )
            for n, i in enumerate(lines)
        )
        if not subscription and not items:
            checks.fail("line_items", "at least one line item is required in PAYMENT mode")
        total = sum(i.quantity * i.unit_amount for i in items)
        if items and not 1 <= total <= MAX_AMOUNT:  # it is charged as one payment
            checks.fail("line_items", f"the total must be between 1 and {MAX_AMOUNT} minor units")
        new = NewCheckoutSession(
            customer_id=_optional_id(checks, "customer_id", request.customer_id, prefix="cus"),
            mode="subscription" if subscription else "payment",
            line_items=items,
            plan_id=request.plan_id,
            currency=_currency(checks, request.currency or "usd"),
            success_url=checks.web_url("success_url", request.success_url, required=True),
            cancel_url=checks.web_url("cancel_url", request.cancel_url),
            gateway=checks.text("gateway", request.gateway, max_length=40),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def create() -> pb.CreateCheckoutSessionResponse:
            created = await self._domain.checkout.create(client_id, key, new)
            return pb.CreateCheckoutSessionResponse(checkout_session=checkout_message(created))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.CreateCheckoutSessionResponse, create
        )

    async def GetCheckoutSession(
        self, request: pb.GetCheckoutSessionRequest, _context: Context
    ) -> pb.GetCheckoutSessionResponse:
        checks = Checks()
        session_id = checks.resource_id("id", request.id, prefix="cs")
        checks.raise_if_any()
        found = await self._domain.checkout.get(caller().id, session_id)
        return pb.GetCheckoutSessionResponse(checkout_session=checkout_message(found))

    # --- marketplace ---------------------------------------------------------------------

    async def CreateConnectedAccount(
        self, request: pb.CreateConnectedAccountRequest, _context: Context
    ) -> pb.CreateConnectedAccountResponse:
        checks = Checks()
        bps = request.commission_bps if request.HasField("commission_bps") else None
        if bps is not None and not 0 <= bps <= 10_000:
            checks.fail("commission_bps", "must be between 0 and 10000 (100%)")
        checks.known_enum("business_type", request.business_type, BUSINESS_TYPE)
        country = request.country or "US"
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            checks.fail("country", "must be an uppercase ISO 3166-1 alpha-2 code such as US")
        new = NewConnectedAccount(
            owner_ref=checks.text("owner_ref", request.owner_ref, max_length=200),
            email=checks.email("email", request.email),
            name=checks.text("name", request.name, max_length=200),
            country=country,
            business_type=BUSINESS_TYPE.get(request.business_type, "individual"),
            commission_bps=bps,
            return_url=checks.web_url("return_url", request.return_url),
            refresh_url=checks.web_url("refresh_url", request.refresh_url),
            gateway=checks.text("gateway", request.gateway, max_length=40),
            metadata=checks.metadata("metadata", request.metadata),
        )
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id

        async def create() -> pb.CreateConnectedAccountResponse:
            account = await self._domain.accounts.create(client_id, key, new)
            return pb.CreateConnectedAccountResponse(connected_account=account_message(account))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.CreateConnectedAccountResponse, create
        )

    async def GetConnectedAccount(
        self, request: pb.GetConnectedAccountRequest, _context: Context
    ) -> pb.GetConnectedAccountResponse:
        checks = Checks()
        account_id = checks.resource_id("id", request.id, prefix="acct")
        checks.raise_if_any()
        account = await self._domain.accounts.get(caller().id, account_id)
        return pb.GetConnectedAccountResponse(connected_account=account_message(account))

    async def CreateAccountLink(
        self, request: pb.CreateAccountLinkRequest, _context: Context
    ) -> pb.CreateAccountLinkResponse:
        checks = Checks()
        account_id = checks.resource_id("id", request.id, prefix="acct")
        if request.type == resources.ACCOUNT_LINK_TYPE_UNSPECIFIED:
            checks.fail("type", "must be ONBOARDING or DASHBOARD")
        return_url = checks.web_url("return_url", request.return_url)
        refresh_url = checks.web_url("refresh_url", request.refresh_url)
        key = checks.idempotency_key(request.idempotency_key, required=False)
        checks.raise_if_any()
        client_id = caller().id
        type_ = (
            "dashboard" if request.type == resources.ACCOUNT_LINK_TYPE_DASHBOARD else "onboarding"
        )

        async def link() -> pb.CreateAccountLinkResponse:
            made = await self._domain.accounts.create_link(
                client_id,
                key,
                account_id,
                type_=type_,
                return_url=return_url,
                refresh_url=refresh_url,
            )
            return pb.CreateAccountLinkResponse(account_link=link_message(made))

        return await run_gateway_idempotent(
            self._idempotency, request, key, pb.CreateAccountLinkResponse, link
        )
