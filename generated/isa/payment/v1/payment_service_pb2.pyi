import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from isa.payment.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListGatewaysRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "kind")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    kind: _resources_pb2.GatewayKind
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., kind: _Optional[_Union[_resources_pb2.GatewayKind, str]] = ...) -> None: ...

class ListGatewaysResponse(_message.Message):
    __slots__ = ("gateways", "next_page_token")
    GATEWAYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    gateways: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Gateway]
    next_page_token: str
    def __init__(self, gateways: _Optional[_Iterable[_Union[_resources_pb2.Gateway, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("external_ref", "email", "name", "metadata", "idempotency_key")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EXTERNAL_REF_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    external_ref: str
    email: str
    name: str
    metadata: _containers.ScalarMap[str, str]
    idempotency_key: str
    def __init__(self, external_ref: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreateCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: _resources_pb2.Customer
    def __init__(self, customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCustomerResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: _resources_pb2.Customer
    def __init__(self, customer: _Optional[_Union[_resources_pb2.Customer, _Mapping]] = ...) -> None: ...

class ListCustomersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "email", "external_ref")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_REF_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    email: str
    external_ref: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., email: _Optional[str] = ..., external_ref: _Optional[str] = ...) -> None: ...

class ListCustomersResponse(_message.Message):
    __slots__ = ("customers", "next_page_token")
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Customer]
    next_page_token: str
    def __init__(self, customers: _Optional[_Iterable[_Union[_resources_pb2.Customer, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AttachPaymentMethodRequest(_message.Message):
    __slots__ = ("customer_id", "gateway", "token", "set_as_default", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SET_AS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    gateway: str
    token: str
    set_as_default: bool
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, customer_id: _Optional[str] = ..., gateway: _Optional[str] = ..., token: _Optional[str] = ..., set_as_default: _Optional[bool] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AttachPaymentMethodResponse(_message.Message):
    __slots__ = ("payment_method",)
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    payment_method: _resources_pb2.PaymentMethod
    def __init__(self, payment_method: _Optional[_Union[_resources_pb2.PaymentMethod, _Mapping]] = ...) -> None: ...

class ListPaymentMethodsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "customer_id", "gateway", "type")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    customer_id: str
    gateway: str
    type: _resources_pb2.PaymentMethodType
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., customer_id: _Optional[str] = ..., gateway: _Optional[str] = ..., type: _Optional[_Union[_resources_pb2.PaymentMethodType, str]] = ...) -> None: ...

class ListPaymentMethodsResponse(_message.Message):
    __slots__ = ("payment_methods", "next_page_token")
    PAYMENT_METHODS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    payment_methods: _containers.RepeatedCompositeFieldContainer[_resources_pb2.PaymentMethod]
    next_page_token: str
    def __init__(self, payment_methods: _Optional[_Iterable[_Union[_resources_pb2.PaymentMethod, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DetachPaymentMethodRequest(_message.Message):
    __slots__ = ("id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class DetachPaymentMethodResponse(_message.Message):
    __slots__ = ("payment_method",)
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    payment_method: _resources_pb2.PaymentMethod
    def __init__(self, payment_method: _Optional[_Union[_resources_pb2.PaymentMethod, _Mapping]] = ...) -> None: ...

class CreatePaymentIntentRequest(_message.Message):
    __slots__ = ("amount", "currency", "customer_id", "description", "metadata", "gateway", "payment_method_id", "confirm", "capture_method", "destination_account_id", "application_fee_amount", "return_url", "idempotency_key")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    CONFIRM_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_METHOD_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    amount: int
    currency: str
    customer_id: str
    description: str
    metadata: _containers.ScalarMap[str, str]
    gateway: str
    payment_method_id: str
    confirm: bool
    capture_method: _resources_pb2.CaptureMethod
    destination_account_id: str
    application_fee_amount: int
    return_url: str
    idempotency_key: str
    def __init__(self, amount: _Optional[int] = ..., currency: _Optional[str] = ..., customer_id: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., gateway: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., confirm: _Optional[bool] = ..., capture_method: _Optional[_Union[_resources_pb2.CaptureMethod, str]] = ..., destination_account_id: _Optional[str] = ..., application_fee_amount: _Optional[int] = ..., return_url: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreatePaymentIntentResponse(_message.Message):
    __slots__ = ("payment_intent",)
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class ConfirmPaymentIntentRequest(_message.Message):
    __slots__ = ("id", "payment_method_id", "return_url", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    payment_method_id: str
    return_url: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., return_url: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ConfirmPaymentIntentResponse(_message.Message):
    __slots__ = ("payment_intent",)
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class CapturePaymentIntentRequest(_message.Message):
    __slots__ = ("id", "amount_to_capture", "idempotency_key", "application_fee_amount")
    ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TO_CAPTURE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    amount_to_capture: int
    idempotency_key: str
    application_fee_amount: int
    def __init__(self, id: _Optional[str] = ..., amount_to_capture: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., application_fee_amount: _Optional[int] = ...) -> None: ...

class CapturePaymentIntentResponse(_message.Message):
    __slots__ = ("payment_intent",)
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class CancelPaymentIntentRequest(_message.Message):
    __slots__ = ("id", "reason", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    reason: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CancelPaymentIntentResponse(_message.Message):
    __slots__ = ("payment_intent",)
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class GetPaymentIntentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetPaymentIntentResponse(_message.Message):
    __slots__ = ("payment_intent",)
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class ListPaymentIntentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "customer_id", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    customer_id: str
    status: _resources_pb2.PaymentIntentStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.PaymentIntentStatus, str]] = ...) -> None: ...

class ListPaymentIntentsResponse(_message.Message):
    __slots__ = ("payment_intents", "next_page_token")
    PAYMENT_INTENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    payment_intents: _containers.RepeatedCompositeFieldContainer[_resources_pb2.PaymentIntent]
    next_page_token: str
    def __init__(self, payment_intents: _Optional[_Iterable[_Union[_resources_pb2.PaymentIntent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateRefundRequest(_message.Message):
    __slots__ = ("payment_intent_id", "amount", "reason", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    payment_intent_id: str
    amount: int
    reason: str
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, payment_intent_id: _Optional[str] = ..., amount: _Optional[int] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateRefundResponse(_message.Message):
    __slots__ = ("refund",)
    REFUND_FIELD_NUMBER: _ClassVar[int]
    refund: _resources_pb2.Refund
    def __init__(self, refund: _Optional[_Union[_resources_pb2.Refund, _Mapping]] = ...) -> None: ...

class GetRefundRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetRefundResponse(_message.Message):
    __slots__ = ("refund",)
    REFUND_FIELD_NUMBER: _ClassVar[int]
    refund: _resources_pb2.Refund
    def __init__(self, refund: _Optional[_Union[_resources_pb2.Refund, _Mapping]] = ...) -> None: ...

class ListRefundsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "payment_intent_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    payment_intent_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., payment_intent_id: _Optional[str] = ...) -> None: ...

class ListRefundsResponse(_message.Message):
    __slots__ = ("refunds", "next_page_token")
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    refunds: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Refund]
    next_page_token: str
    def __init__(self, refunds: _Optional[_Iterable[_Union[_resources_pb2.Refund, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDisputeRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: _resources_pb2.Dispute
    def __init__(self, dispute: _Optional[_Union[_resources_pb2.Dispute, _Mapping]] = ...) -> None: ...

class ListDisputesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "payment_intent_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    payment_intent_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., payment_intent_id: _Optional[str] = ...) -> None: ...

class ListDisputesResponse(_message.Message):
    __slots__ = ("disputes", "next_page_token")
    DISPUTES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    disputes: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Dispute]
    next_page_token: str
    def __init__(self, disputes: _Optional[_Iterable[_Union[_resources_pb2.Dispute, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateCheckoutSessionRequest(_message.Message):
    __slots__ = ("customer_id", "mode", "line_items", "plan_id", "success_url", "cancel_url", "idempotency_key", "currency", "gateway", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LINE_ITEMS_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_URL_FIELD_NUMBER: _ClassVar[int]
    CANCEL_URL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    mode: _resources_pb2.CheckoutSessionMode
    line_items: _resources_pb2.CheckoutLineItems
    plan_id: str
    success_url: str
    cancel_url: str
    idempotency_key: str
    currency: str
    gateway: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, customer_id: _Optional[str] = ..., mode: _Optional[_Union[_resources_pb2.CheckoutSessionMode, str]] = ..., line_items: _Optional[_Union[_resources_pb2.CheckoutLineItems, _Mapping]] = ..., plan_id: _Optional[str] = ..., success_url: _Optional[str] = ..., cancel_url: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., currency: _Optional[str] = ..., gateway: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateCheckoutSessionResponse(_message.Message):
    __slots__ = ("checkout_session",)
    CHECKOUT_SESSION_FIELD_NUMBER: _ClassVar[int]
    checkout_session: _resources_pb2.CheckoutSession
    def __init__(self, checkout_session: _Optional[_Union[_resources_pb2.CheckoutSession, _Mapping]] = ...) -> None: ...

class GetCheckoutSessionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCheckoutSessionResponse(_message.Message):
    __slots__ = ("checkout_session",)
    CHECKOUT_SESSION_FIELD_NUMBER: _ClassVar[int]
    checkout_session: _resources_pb2.CheckoutSession
    def __init__(self, checkout_session: _Optional[_Union[_resources_pb2.CheckoutSession, _Mapping]] = ...) -> None: ...

class CreateBankLinkTokenRequest(_message.Message):
    __slots__ = ("customer_id", "idempotency_key", "redirect_uri")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    idempotency_key: str
    redirect_uri: str
    def __init__(self, customer_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., redirect_uri: _Optional[str] = ...) -> None: ...

class CreateBankLinkTokenResponse(_message.Message):
    __slots__ = ("link_token", "expiration")
    LINK_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    link_token: str
    expiration: _timestamp_pb2.Timestamp
    def __init__(self, link_token: _Optional[str] = ..., expiration: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExchangeBankPublicTokenRequest(_message.Message):
    __slots__ = ("customer_id", "public_token", "account_id", "idempotency_key", "set_as_default")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    SET_AS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    public_token: str
    account_id: str
    idempotency_key: str
    set_as_default: bool
    def __init__(self, customer_id: _Optional[str] = ..., public_token: _Optional[str] = ..., account_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., set_as_default: _Optional[bool] = ...) -> None: ...

class ExchangeBankPublicTokenResponse(_message.Message):
    __slots__ = ("payment_method",)
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    payment_method: _resources_pb2.PaymentMethod
    def __init__(self, payment_method: _Optional[_Union[_resources_pb2.PaymentMethod, _Mapping]] = ...) -> None: ...

class VerifyMicroDepositsRequest(_message.Message):
    __slots__ = ("payment_method_id", "amounts", "idempotency_key")
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNTS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    payment_method_id: str
    amounts: _containers.RepeatedScalarFieldContainer[int]
    idempotency_key: str
    def __init__(self, payment_method_id: _Optional[str] = ..., amounts: _Optional[_Iterable[int]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class VerifyMicroDepositsResponse(_message.Message):
    __slots__ = ("payment_method",)
    PAYMENT_METHOD_FIELD_NUMBER: _ClassVar[int]
    payment_method: _resources_pb2.PaymentMethod
    def __init__(self, payment_method: _Optional[_Union[_resources_pb2.PaymentMethod, _Mapping]] = ...) -> None: ...

class CreateCryptoPaymentRequest(_message.Message):
    __slots__ = ("amount", "currency", "network", "customer_id", "idempotency_key", "description", "metadata", "gateway", "wallet_address")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    WALLET_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    amount: int
    currency: str
    network: str
    customer_id: str
    idempotency_key: str
    description: str
    metadata: _containers.ScalarMap[str, str]
    gateway: str
    wallet_address: str
    def __init__(self, amount: _Optional[int] = ..., currency: _Optional[str] = ..., network: _Optional[str] = ..., customer_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., gateway: _Optional[str] = ..., wallet_address: _Optional[str] = ...) -> None: ...

class CreateCryptoPaymentResponse(_message.Message):
    __slots__ = ("payment_intent",)
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class CreateConnectedAccountRequest(_message.Message):
    __slots__ = ("owner_ref", "email", "name", "country", "business_type", "commission_bps", "idempotency_key", "return_url", "refresh_url", "gateway", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OWNER_REF_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_TYPE_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_BPS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_URL_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    owner_ref: str
    email: str
    name: str
    country: str
    business_type: _resources_pb2.BusinessType
    commission_bps: int
    idempotency_key: str
    return_url: str
    refresh_url: str
    gateway: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, owner_ref: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., country: _Optional[str] = ..., business_type: _Optional[_Union[_resources_pb2.BusinessType, str]] = ..., commission_bps: _Optional[int] = ..., idempotency_key: _Optional[str] = ..., return_url: _Optional[str] = ..., refresh_url: _Optional[str] = ..., gateway: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateConnectedAccountResponse(_message.Message):
    __slots__ = ("connected_account",)
    CONNECTED_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    connected_account: _resources_pb2.ConnectedAccount
    def __init__(self, connected_account: _Optional[_Union[_resources_pb2.ConnectedAccount, _Mapping]] = ...) -> None: ...

class GetConnectedAccountRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetConnectedAccountResponse(_message.Message):
    __slots__ = ("connected_account",)
    CONNECTED_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    connected_account: _resources_pb2.ConnectedAccount
    def __init__(self, connected_account: _Optional[_Union[_resources_pb2.ConnectedAccount, _Mapping]] = ...) -> None: ...

class CreateAccountLinkRequest(_message.Message):
    __slots__ = ("id", "type", "return_url", "refresh_url", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    REFRESH_URL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: _resources_pb2.AccountLinkType
    return_url: str
    refresh_url: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., type: _Optional[_Union[_resources_pb2.AccountLinkType, str]] = ..., return_url: _Optional[str] = ..., refresh_url: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreateAccountLinkResponse(_message.Message):
    __slots__ = ("account_link",)
    ACCOUNT_LINK_FIELD_NUMBER: _ClassVar[int]
    account_link: _resources_pb2.AccountLink
    def __init__(self, account_link: _Optional[_Union[_resources_pb2.AccountLink, _Mapping]] = ...) -> None: ...
