"""isa.payment.v1.PaymentService: customers now; the rest answers UNIMPLEMENTED."""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from isa.payment.v1 import payment_service_pb2 as pb
from isa.payment.v1 import resources_pb2 as resources
from server.context import caller
from server.idempotency import Idempotency
from server.interceptors import Context
from server.payments.customers import Customer, CustomerFilter, CustomerService, NewCustomer
from server.servicers.support import Checks, encode_page_token, run_idempotent, timestamp

_CARDS: Final = "card payments on the sandbox and Stripe are not built yet"
_BANK: Final = "bank payments through Plaid are not built yet"
_CRYPTO: Final = "crypto payments are not built yet"
_MARKETPLACE: Final = "marketplace accounts are not built yet"

#: Methods not built yet, with the note their UNIMPLEMENTED answer carries.
PENDING_PAYMENT_METHODS: Final = {
    **dict.fromkeys(
        (
            "ListGateways",
            "AttachPaymentMethod",
            "ListPaymentMethods",
            "DetachPaymentMethod",
            "CreatePaymentIntent",
            "ConfirmPaymentIntent",
            "CapturePaymentIntent",
            "CancelPaymentIntent",
            "GetPaymentIntent",
            "ListPaymentIntents",
            "CreateRefund",
            "GetRefund",
            "ListRefunds",
            "CreateCheckoutSession",
            "GetCheckoutSession",
        ),
        _CARDS,
    ),
    **dict.fromkeys(
        ("CreateBankLinkToken", "ExchangeBankPublicToken", "VerifyMicroDeposits"), _BANK
    ),
    "CreateCryptoPayment": _CRYPTO,
    **dict.fromkeys(
        ("CreateConnectedAccount", "GetConnectedAccount", "CreateAccountLink"), _MARKETPLACE
    ),
}


def customer_message(customer: Customer) -> resources.Customer:
    return resources.Customer(
        id=customer.id,
        external_ref=customer.external_ref,
        email=customer.email,
        name=customer.name,
        metadata=customer.metadata,
        create_time=timestamp(customer.create_time),
        update_time=timestamp(customer.update_time),
    )


class PaymentServicer:
    def __init__(self, idempotency: Idempotency, customers: CustomerService) -> None:
        self._idempotency = idempotency
        self._customers = customers

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
        return pb.ListCustomersResponse(
            customers=[customer_message(c) for c in page.items],
            next_page_token=encode_page_token(page.next_before_id),
        )
