import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from isa.type.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GatewayKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GATEWAY_KIND_UNSPECIFIED: _ClassVar[GatewayKind]
    GATEWAY_KIND_CARD: _ClassVar[GatewayKind]
    GATEWAY_KIND_BANK: _ClassVar[GatewayKind]
    GATEWAY_KIND_CRYPTO: _ClassVar[GatewayKind]
    GATEWAY_KIND_BROKER: _ClassVar[GatewayKind]

class GatewayMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GATEWAY_MODE_UNSPECIFIED: _ClassVar[GatewayMode]
    GATEWAY_MODE_SANDBOX: _ClassVar[GatewayMode]
    GATEWAY_MODE_TEST: _ClassVar[GatewayMode]
    GATEWAY_MODE_LIVE: _ClassVar[GatewayMode]

class GatewayCapability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GATEWAY_CAPABILITY_UNSPECIFIED: _ClassVar[GatewayCapability]
    GATEWAY_CAPABILITY_MANUAL_CAPTURE: _ClassVar[GatewayCapability]
    GATEWAY_CAPABILITY_PARTIAL_CAPTURE: _ClassVar[GatewayCapability]
    GATEWAY_CAPABILITY_REFUNDS: _ClassVar[GatewayCapability]
    GATEWAY_CAPABILITY_SAVED_METHODS: _ClassVar[GatewayCapability]
    GATEWAY_CAPABILITY_MARKETPLACE: _ClassVar[GatewayCapability]
    GATEWAY_CAPABILITY_WEBHOOKS: _ClassVar[GatewayCapability]

class GatewayHealth(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GATEWAY_HEALTH_UNSPECIFIED: _ClassVar[GatewayHealth]
    GATEWAY_HEALTH_HEALTHY: _ClassVar[GatewayHealth]
    GATEWAY_HEALTH_DEGRADED: _ClassVar[GatewayHealth]
    GATEWAY_HEALTH_UNAVAILABLE: _ClassVar[GatewayHealth]

class PaymentMethodType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_METHOD_TYPE_UNSPECIFIED: _ClassVar[PaymentMethodType]
    PAYMENT_METHOD_TYPE_CARD: _ClassVar[PaymentMethodType]
    PAYMENT_METHOD_TYPE_BANK_ACCOUNT: _ClassVar[PaymentMethodType]
    PAYMENT_METHOD_TYPE_CRYPTO_WALLET: _ClassVar[PaymentMethodType]

class PaymentMethodVerificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_METHOD_VERIFICATION_STATUS_UNSPECIFIED: _ClassVar[PaymentMethodVerificationStatus]
    PAYMENT_METHOD_VERIFICATION_STATUS_PENDING: _ClassVar[PaymentMethodVerificationStatus]
    PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED: _ClassVar[PaymentMethodVerificationStatus]
    PAYMENT_METHOD_VERIFICATION_STATUS_FAILED: _ClassVar[PaymentMethodVerificationStatus]

class CaptureMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAPTURE_METHOD_UNSPECIFIED: _ClassVar[CaptureMethod]
    CAPTURE_METHOD_AUTOMATIC: _ClassVar[CaptureMethod]
    CAPTURE_METHOD_MANUAL: _ClassVar[CaptureMethod]

class PaymentIntentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_INTENT_STATUS_UNSPECIFIED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_REQUIRES_ACTION: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_PROCESSING: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_SUCCEEDED: _ClassVar[PaymentIntentStatus]
    PAYMENT_INTENT_STATUS_CANCELED: _ClassVar[PaymentIntentStatus]

class NextActionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NEXT_ACTION_TYPE_UNSPECIFIED: _ClassVar[NextActionType]
    NEXT_ACTION_TYPE_REDIRECT: _ClassVar[NextActionType]
    NEXT_ACTION_TYPE_CRYPTO_DEPOSIT: _ClassVar[NextActionType]
    NEXT_ACTION_TYPE_VERIFY_MICRODEPOSITS: _ClassVar[NextActionType]

class RefundStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_STATUS_UNSPECIFIED: _ClassVar[RefundStatus]
    REFUND_STATUS_PENDING: _ClassVar[RefundStatus]
    REFUND_STATUS_SUCCEEDED: _ClassVar[RefundStatus]
    REFUND_STATUS_FAILED: _ClassVar[RefundStatus]
    REFUND_STATUS_CANCELED: _ClassVar[RefundStatus]

class DisputeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPUTE_STATUS_UNSPECIFIED: _ClassVar[DisputeStatus]
    DISPUTE_STATUS_WARNING_NEEDS_RESPONSE: _ClassVar[DisputeStatus]
    DISPUTE_STATUS_WARNING_UNDER_REVIEW: _ClassVar[DisputeStatus]
    DISPUTE_STATUS_WARNING_CLOSED: _ClassVar[DisputeStatus]
    DISPUTE_STATUS_NEEDS_RESPONSE: _ClassVar[DisputeStatus]
    DISPUTE_STATUS_UNDER_REVIEW: _ClassVar[DisputeStatus]
    DISPUTE_STATUS_WON: _ClassVar[DisputeStatus]
    DISPUTE_STATUS_LOST: _ClassVar[DisputeStatus]

class CheckoutSessionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECKOUT_SESSION_MODE_UNSPECIFIED: _ClassVar[CheckoutSessionMode]
    CHECKOUT_SESSION_MODE_PAYMENT: _ClassVar[CheckoutSessionMode]
    CHECKOUT_SESSION_MODE_SUBSCRIPTION: _ClassVar[CheckoutSessionMode]

class CheckoutSessionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHECKOUT_SESSION_STATUS_UNSPECIFIED: _ClassVar[CheckoutSessionStatus]
    CHECKOUT_SESSION_STATUS_OPEN: _ClassVar[CheckoutSessionStatus]
    CHECKOUT_SESSION_STATUS_COMPLETE: _ClassVar[CheckoutSessionStatus]
    CHECKOUT_SESSION_STATUS_EXPIRED: _ClassVar[CheckoutSessionStatus]

class BusinessType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BUSINESS_TYPE_UNSPECIFIED: _ClassVar[BusinessType]
    BUSINESS_TYPE_INDIVIDUAL: _ClassVar[BusinessType]
    BUSINESS_TYPE_COMPANY: _ClassVar[BusinessType]
    BUSINESS_TYPE_NON_PROFIT: _ClassVar[BusinessType]
    BUSINESS_TYPE_GOVERNMENT_ENTITY: _ClassVar[BusinessType]

class ConnectedAccountStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONNECTED_ACCOUNT_STATUS_UNSPECIFIED: _ClassVar[ConnectedAccountStatus]
    CONNECTED_ACCOUNT_STATUS_PENDING: _ClassVar[ConnectedAccountStatus]
    CONNECTED_ACCOUNT_STATUS_ACTIVE: _ClassVar[ConnectedAccountStatus]
    CONNECTED_ACCOUNT_STATUS_RESTRICTED: _ClassVar[ConnectedAccountStatus]
    CONNECTED_ACCOUNT_STATUS_REJECTED: _ClassVar[ConnectedAccountStatus]

class AccountLinkType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCOUNT_LINK_TYPE_UNSPECIFIED: _ClassVar[AccountLinkType]
    ACCOUNT_LINK_TYPE_ONBOARDING: _ClassVar[AccountLinkType]
    ACCOUNT_LINK_TYPE_DASHBOARD: _ClassVar[AccountLinkType]
GATEWAY_KIND_UNSPECIFIED: GatewayKind
GATEWAY_KIND_CARD: GatewayKind
GATEWAY_KIND_BANK: GatewayKind
GATEWAY_KIND_CRYPTO: GatewayKind
GATEWAY_KIND_BROKER: GatewayKind
GATEWAY_MODE_UNSPECIFIED: GatewayMode
GATEWAY_MODE_SANDBOX: GatewayMode
GATEWAY_MODE_TEST: GatewayMode
GATEWAY_MODE_LIVE: GatewayMode
GATEWAY_CAPABILITY_UNSPECIFIED: GatewayCapability
GATEWAY_CAPABILITY_MANUAL_CAPTURE: GatewayCapability
GATEWAY_CAPABILITY_PARTIAL_CAPTURE: GatewayCapability
GATEWAY_CAPABILITY_REFUNDS: GatewayCapability
GATEWAY_CAPABILITY_SAVED_METHODS: GatewayCapability
GATEWAY_CAPABILITY_MARKETPLACE: GatewayCapability
GATEWAY_CAPABILITY_WEBHOOKS: GatewayCapability
GATEWAY_HEALTH_UNSPECIFIED: GatewayHealth
GATEWAY_HEALTH_HEALTHY: GatewayHealth
GATEWAY_HEALTH_DEGRADED: GatewayHealth
GATEWAY_HEALTH_UNAVAILABLE: GatewayHealth
PAYMENT_METHOD_TYPE_UNSPECIFIED: PaymentMethodType
PAYMENT_METHOD_TYPE_CARD: PaymentMethodType
PAYMENT_METHOD_TYPE_BANK_ACCOUNT: PaymentMethodType
PAYMENT_METHOD_TYPE_CRYPTO_WALLET: PaymentMethodType
PAYMENT_METHOD_VERIFICATION_STATUS_UNSPECIFIED: PaymentMethodVerificationStatus
PAYMENT_METHOD_VERIFICATION_STATUS_PENDING: PaymentMethodVerificationStatus
PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED: PaymentMethodVerificationStatus
PAYMENT_METHOD_VERIFICATION_STATUS_FAILED: PaymentMethodVerificationStatus
CAPTURE_METHOD_UNSPECIFIED: CaptureMethod
CAPTURE_METHOD_AUTOMATIC: CaptureMethod
CAPTURE_METHOD_MANUAL: CaptureMethod
PAYMENT_INTENT_STATUS_UNSPECIFIED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_REQUIRES_PAYMENT_METHOD: PaymentIntentStatus
PAYMENT_INTENT_STATUS_REQUIRES_CONFIRMATION: PaymentIntentStatus
PAYMENT_INTENT_STATUS_REQUIRES_ACTION: PaymentIntentStatus
PAYMENT_INTENT_STATUS_PROCESSING: PaymentIntentStatus
PAYMENT_INTENT_STATUS_REQUIRES_CAPTURE: PaymentIntentStatus
PAYMENT_INTENT_STATUS_SUCCEEDED: PaymentIntentStatus
PAYMENT_INTENT_STATUS_CANCELED: PaymentIntentStatus
NEXT_ACTION_TYPE_UNSPECIFIED: NextActionType
NEXT_ACTION_TYPE_REDIRECT: NextActionType
NEXT_ACTION_TYPE_CRYPTO_DEPOSIT: NextActionType
NEXT_ACTION_TYPE_VERIFY_MICRODEPOSITS: NextActionType
REFUND_STATUS_UNSPECIFIED: RefundStatus
REFUND_STATUS_PENDING: RefundStatus
REFUND_STATUS_SUCCEEDED: RefundStatus
REFUND_STATUS_FAILED: RefundStatus
REFUND_STATUS_CANCELED: RefundStatus
DISPUTE_STATUS_UNSPECIFIED: DisputeStatus
DISPUTE_STATUS_WARNING_NEEDS_RESPONSE: DisputeStatus
DISPUTE_STATUS_WARNING_UNDER_REVIEW: DisputeStatus
DISPUTE_STATUS_WARNING_CLOSED: DisputeStatus
DISPUTE_STATUS_NEEDS_RESPONSE: DisputeStatus
DISPUTE_STATUS_UNDER_REVIEW: DisputeStatus
DISPUTE_STATUS_WON: DisputeStatus
DISPUTE_STATUS_LOST: DisputeStatus
CHECKOUT_SESSION_MODE_UNSPECIFIED: CheckoutSessionMode
CHECKOUT_SESSION_MODE_PAYMENT: CheckoutSessionMode
CHECKOUT_SESSION_MODE_SUBSCRIPTION: CheckoutSessionMode
CHECKOUT_SESSION_STATUS_UNSPECIFIED: CheckoutSessionStatus
CHECKOUT_SESSION_STATUS_OPEN: CheckoutSessionStatus
CHECKOUT_SESSION_STATUS_COMPLETE: CheckoutSessionStatus
CHECKOUT_SESSION_STATUS_EXPIRED: CheckoutSessionStatus
BUSINESS_TYPE_UNSPECIFIED: BusinessType
BUSINESS_TYPE_INDIVIDUAL: BusinessType
BUSINESS_TYPE_COMPANY: BusinessType
BUSINESS_TYPE_NON_PROFIT: BusinessType
BUSINESS_TYPE_GOVERNMENT_ENTITY: BusinessType
CONNECTED_ACCOUNT_STATUS_UNSPECIFIED: ConnectedAccountStatus
CONNECTED_ACCOUNT_STATUS_PENDING: ConnectedAccountStatus
CONNECTED_ACCOUNT_STATUS_ACTIVE: ConnectedAccountStatus
CONNECTED_ACCOUNT_STATUS_RESTRICTED: ConnectedAccountStatus
CONNECTED_ACCOUNT_STATUS_REJECTED: ConnectedAccountStatus
ACCOUNT_LINK_TYPE_UNSPECIFIED: AccountLinkType
ACCOUNT_LINK_TYPE_ONBOARDING: AccountLinkType
ACCOUNT_LINK_TYPE_DASHBOARD: AccountLinkType

class Gateway(_message.Message):
    __slots__ = ("name", "kind", "mode", "enabled", "capabilities", "health", "currencies", "payment_method_types", "health_check_time", "display_name")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    CURRENCIES_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_TYPES_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: GatewayKind
    mode: GatewayMode
    enabled: bool
    capabilities: _containers.RepeatedScalarFieldContainer[GatewayCapability]
    health: GatewayHealth
    currencies: _containers.RepeatedScalarFieldContainer[str]
    payment_method_types: _containers.RepeatedScalarFieldContainer[PaymentMethodType]
    health_check_time: _timestamp_pb2.Timestamp
    display_name: str
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[GatewayKind, str]] = ..., mode: _Optional[_Union[GatewayMode, str]] = ..., enabled: _Optional[bool] = ..., capabilities: _Optional[_Iterable[_Union[GatewayCapability, str]]] = ..., health: _Optional[_Union[GatewayHealth, str]] = ..., currencies: _Optional[_Iterable[str]] = ..., payment_method_types: _Optional[_Iterable[_Union[PaymentMethodType, str]]] = ..., health_check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., display_name: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("id", "external_ref", "email", "name", "metadata", "create_time", "update_time", "default_payment_method_id", "test_clock_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_REF_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    TEST_CLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    external_ref: str
    email: str
    name: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    default_payment_method_id: str
    test_clock_id: str
    def __init__(self, id: _Optional[str] = ..., external_ref: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., default_payment_method_id: _Optional[str] = ..., test_clock_id: _Optional[str] = ...) -> None: ...

class PaymentMethod(_message.Message):
    __slots__ = ("id", "customer_id", "gateway", "type", "brand", "last4", "exp_month", "exp_year", "bank_name", "verification_status", "is_default", "gateway_reference", "account_type", "network", "wallet_address", "metadata", "create_time", "update_time", "detach_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    LAST4_FIELD_NUMBER: _ClassVar[int]
    EXP_MONTH_FIELD_NUMBER: _ClassVar[int]
    EXP_YEAR_FIELD_NUMBER: _ClassVar[int]
    BANK_NAME_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_STATUS_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_TYPE_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    WALLET_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DETACH_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    gateway: str
    type: PaymentMethodType
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    bank_name: str
    verification_status: PaymentMethodVerificationStatus
    is_default: bool
    gateway_reference: str
    account_type: str
    network: str
    wallet_address: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    detach_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., gateway: _Optional[str] = ..., type: _Optional[_Union[PaymentMethodType, str]] = ..., brand: _Optional[str] = ..., last4: _Optional[str] = ..., exp_month: _Optional[int] = ..., exp_year: _Optional[int] = ..., bank_name: _Optional[str] = ..., verification_status: _Optional[_Union[PaymentMethodVerificationStatus, str]] = ..., is_default: _Optional[bool] = ..., gateway_reference: _Optional[str] = ..., account_type: _Optional[str] = ..., network: _Optional[str] = ..., wallet_address: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detach_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class NextAction(_message.Message):
    __slots__ = ("type", "redirect_url", "deposit_address", "network", "expire_time")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    DEPOSIT_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    type: NextActionType
    redirect_url: str
    deposit_address: str
    network: str
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, type: _Optional[_Union[NextActionType, str]] = ..., redirect_url: _Optional[str] = ..., deposit_address: _Optional[str] = ..., network: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PaymentIntent(_message.Message):
    __slots__ = ("id", "amount", "currency", "status", "capture_method", "amount_capturable", "amount_received", "amount_refunded", "customer_id", "payment_method_id", "gateway", "gateway_reference", "client_secret", "next_action", "last_error", "application_fee_amount", "destination_account_id", "destination_amount", "metadata", "create_time", "update_time", "description", "return_url", "cancellation_reason", "payment_method_type")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_METHOD_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_CAPTURABLE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_RECEIVED_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_REFUNDED_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_SECRET_FIELD_NUMBER: _ClassVar[int]
    NEXT_ACTION_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    APPLICATION_FEE_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    RETURN_URL_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_REASON_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_TYPE_FIELD_NUMBER: _ClassVar[int]
    id: str
    amount: int
    currency: str
    status: PaymentIntentStatus
    capture_method: CaptureMethod
    amount_capturable: int
    amount_received: int
    amount_refunded: int
    customer_id: str
    payment_method_id: str
    gateway: str
    gateway_reference: str
    client_secret: str
    next_action: NextAction
    last_error: _error_pb2.PaymentError
    application_fee_amount: int
    destination_account_id: str
    destination_amount: int
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    description: str
    return_url: str
    cancellation_reason: str
    payment_method_type: PaymentMethodType
    def __init__(self, id: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[PaymentIntentStatus, str]] = ..., capture_method: _Optional[_Union[CaptureMethod, str]] = ..., amount_capturable: _Optional[int] = ..., amount_received: _Optional[int] = ..., amount_refunded: _Optional[int] = ..., customer_id: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., gateway: _Optional[str] = ..., gateway_reference: _Optional[str] = ..., client_secret: _Optional[str] = ..., next_action: _Optional[_Union[NextAction, _Mapping]] = ..., last_error: _Optional[_Union[_error_pb2.PaymentError, _Mapping]] = ..., application_fee_amount: _Optional[int] = ..., destination_account_id: _Optional[str] = ..., destination_amount: _Optional[int] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ..., return_url: _Optional[str] = ..., cancellation_reason: _Optional[str] = ..., payment_method_type: _Optional[_Union[PaymentMethodType, str]] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("id", "payment_intent_id", "amount", "currency", "status", "reason", "gateway", "gateway_reference", "last_error", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    payment_intent_id: str
    amount: int
    currency: str
    status: RefundStatus
    reason: str
    gateway: str
    gateway_reference: str
    last_error: _error_pb2.PaymentError
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., payment_intent_id: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[RefundStatus, str]] = ..., reason: _Optional[str] = ..., gateway: _Optional[str] = ..., gateway_reference: _Optional[str] = ..., last_error: _Optional[_Union[_error_pb2.PaymentError, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Dispute(_message.Message):
    __slots__ = ("id", "payment_intent_id", "amount", "currency", "status", "reason", "gateway", "gateway_reference", "evidence_due_time", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_DUE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    payment_intent_id: str
    amount: int
    currency: str
    status: DisputeStatus
    reason: str
    gateway: str
    gateway_reference: str
    evidence_due_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., payment_intent_id: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[DisputeStatus, str]] = ..., reason: _Optional[str] = ..., gateway: _Optional[str] = ..., gateway_reference: _Optional[str] = ..., evidence_due_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CheckoutLineItem(_message.Message):
    __slots__ = ("description", "quantity", "unit_amount")
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    description: str
    quantity: int
    unit_amount: int
    def __init__(self, description: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_amount: _Optional[int] = ...) -> None: ...

class CheckoutLineItems(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[CheckoutLineItem]
    def __init__(self, items: _Optional[_Iterable[_Union[CheckoutLineItem, _Mapping]]] = ...) -> None: ...

class CheckoutSession(_message.Message):
    __slots__ = ("id", "url", "status", "expire_time", "customer_id", "mode", "line_items", "plan_id", "currency", "amount_total", "success_url", "cancel_url", "payment_intent_id", "subscription_id", "gateway", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    LINE_ITEMS_FIELD_NUMBER: _ClassVar[int]
    PLAN_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_URL_FIELD_NUMBER: _ClassVar[int]
    CANCEL_URL_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    url: str
    status: CheckoutSessionStatus
    expire_time: _timestamp_pb2.Timestamp
    customer_id: str
    mode: CheckoutSessionMode
    line_items: _containers.RepeatedCompositeFieldContainer[CheckoutLineItem]
    plan_id: str
    currency: str
    amount_total: int
    success_url: str
    cancel_url: str
    payment_intent_id: str
    subscription_id: str
    gateway: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., url: _Optional[str] = ..., status: _Optional[_Union[CheckoutSessionStatus, str]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., customer_id: _Optional[str] = ..., mode: _Optional[_Union[CheckoutSessionMode, str]] = ..., line_items: _Optional[_Iterable[_Union[CheckoutLineItem, _Mapping]]] = ..., plan_id: _Optional[str] = ..., currency: _Optional[str] = ..., amount_total: _Optional[int] = ..., success_url: _Optional[str] = ..., cancel_url: _Optional[str] = ..., payment_intent_id: _Optional[str] = ..., subscription_id: _Optional[str] = ..., gateway: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ConnectedAccount(_message.Message):
    __slots__ = ("id", "status", "charges_enabled", "payouts_enabled", "onboarding_url", "owner_ref", "email", "name", "country", "business_type", "commission_bps", "details_submitted", "gateway", "gateway_reference", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CHARGES_ENABLED_FIELD_NUMBER: _ClassVar[int]
    PAYOUTS_ENABLED_FIELD_NUMBER: _ClassVar[int]
    ONBOARDING_URL_FIELD_NUMBER: _ClassVar[int]
    OWNER_REF_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    BUSINESS_TYPE_FIELD_NUMBER: _ClassVar[int]
    COMMISSION_BPS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_SUBMITTED_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: ConnectedAccountStatus
    charges_enabled: bool
    payouts_enabled: bool
    onboarding_url: str
    owner_ref: str
    email: str
    name: str
    country: str
    business_type: BusinessType
    commission_bps: int
    details_submitted: bool
    gateway: str
    gateway_reference: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[ConnectedAccountStatus, str]] = ..., charges_enabled: _Optional[bool] = ..., payouts_enabled: _Optional[bool] = ..., onboarding_url: _Optional[str] = ..., owner_ref: _Optional[str] = ..., email: _Optional[str] = ..., name: _Optional[str] = ..., country: _Optional[str] = ..., business_type: _Optional[_Union[BusinessType, str]] = ..., commission_bps: _Optional[int] = ..., details_submitted: _Optional[bool] = ..., gateway: _Optional[str] = ..., gateway_reference: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AccountLink(_message.Message):
    __slots__ = ("url", "type", "account_id", "expire_time", "create_time")
    URL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    url: str
    type: AccountLinkType
    account_id: str
    expire_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, url: _Optional[str] = ..., type: _Optional[_Union[AccountLinkType, str]] = ..., account_id: _Optional[str] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
