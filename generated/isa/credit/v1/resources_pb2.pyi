import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from isa.type.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreditPurchaseStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_PURCHASE_STATUS_UNSPECIFIED: _ClassVar[CreditPurchaseStatus]
    CREDIT_PURCHASE_STATUS_PENDING: _ClassVar[CreditPurchaseStatus]
    CREDIT_PURCHASE_STATUS_SUCCEEDED: _ClassVar[CreditPurchaseStatus]
    CREDIT_PURCHASE_STATUS_FAILED: _ClassVar[CreditPurchaseStatus]

class CreditGrantSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_GRANT_SOURCE_UNSPECIFIED: _ClassVar[CreditGrantSource]
    CREDIT_GRANT_SOURCE_PURCHASE: _ClassVar[CreditGrantSource]
    CREDIT_GRANT_SOURCE_GRANT: _ClassVar[CreditGrantSource]

class CreditReservationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_RESERVATION_STATUS_UNSPECIFIED: _ClassVar[CreditReservationStatus]
    CREDIT_RESERVATION_STATUS_ACTIVE: _ClassVar[CreditReservationStatus]
    CREDIT_RESERVATION_STATUS_COMMITTED: _ClassVar[CreditReservationStatus]
    CREDIT_RESERVATION_STATUS_RELEASED: _ClassVar[CreditReservationStatus]
    CREDIT_RESERVATION_STATUS_EXPIRED: _ClassVar[CreditReservationStatus]

class CreditTransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CREDIT_TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[CreditTransactionType]
    CREDIT_TRANSACTION_TYPE_PURCHASE: _ClassVar[CreditTransactionType]
    CREDIT_TRANSACTION_TYPE_GRANT: _ClassVar[CreditTransactionType]
    CREDIT_TRANSACTION_TYPE_CONSUME: _ClassVar[CreditTransactionType]
    CREDIT_TRANSACTION_TYPE_EXPIRE: _ClassVar[CreditTransactionType]
    CREDIT_TRANSACTION_TYPE_REFUND: _ClassVar[CreditTransactionType]
CREDIT_PURCHASE_STATUS_UNSPECIFIED: CreditPurchaseStatus
CREDIT_PURCHASE_STATUS_PENDING: CreditPurchaseStatus
CREDIT_PURCHASE_STATUS_SUCCEEDED: CreditPurchaseStatus
CREDIT_PURCHASE_STATUS_FAILED: CreditPurchaseStatus
CREDIT_GRANT_SOURCE_UNSPECIFIED: CreditGrantSource
CREDIT_GRANT_SOURCE_PURCHASE: CreditGrantSource
CREDIT_GRANT_SOURCE_GRANT: CreditGrantSource
CREDIT_RESERVATION_STATUS_UNSPECIFIED: CreditReservationStatus
CREDIT_RESERVATION_STATUS_ACTIVE: CreditReservationStatus
CREDIT_RESERVATION_STATUS_COMMITTED: CreditReservationStatus
CREDIT_RESERVATION_STATUS_RELEASED: CreditReservationStatus
CREDIT_RESERVATION_STATUS_EXPIRED: CreditReservationStatus
CREDIT_TRANSACTION_TYPE_UNSPECIFIED: CreditTransactionType
CREDIT_TRANSACTION_TYPE_PURCHASE: CreditTransactionType
CREDIT_TRANSACTION_TYPE_GRANT: CreditTransactionType
CREDIT_TRANSACTION_TYPE_CONSUME: CreditTransactionType
CREDIT_TRANSACTION_TYPE_EXPIRE: CreditTransactionType
CREDIT_TRANSACTION_TYPE_REFUND: CreditTransactionType

class ExpiringCredits(_message.Message):
    __slots__ = ("amount", "expire_time")
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    amount: int
    expire_time: _timestamp_pb2.Timestamp
    def __init__(self, amount: _Optional[int] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditBalance(_message.Message):
    __slots__ = ("owner_id", "total", "available", "reserved", "expiring_soon", "update_time")
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    EXPIRING_SOON_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    total: int
    available: int
    reserved: int
    expiring_soon: ExpiringCredits
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, owner_id: _Optional[str] = ..., total: _Optional[int] = ..., available: _Optional[int] = ..., reserved: _Optional[int] = ..., expiring_soon: _Optional[_Union[ExpiringCredits, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditPackage(_message.Message):
    __slots__ = ("id", "name", "credits", "price", "currency", "validity", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    VALIDITY_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    credits: int
    price: int
    currency: str
    validity: _duration_pb2.Duration
    active: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., credits: _Optional[int] = ..., price: _Optional[int] = ..., currency: _Optional[str] = ..., validity: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., active: _Optional[bool] = ...) -> None: ...

class CreditPurchase(_message.Message):
    __slots__ = ("id", "owner_id", "package_id", "credits", "amount", "currency", "status", "payment_method_id", "payment_intent_id", "grant_id", "last_error", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_ID_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    package_id: str
    credits: int
    amount: int
    currency: str
    status: CreditPurchaseStatus
    payment_method_id: str
    payment_intent_id: str
    grant_id: str
    last_error: _error_pb2.PaymentError
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., package_id: _Optional[str] = ..., credits: _Optional[int] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., status: _Optional[_Union[CreditPurchaseStatus, str]] = ..., payment_method_id: _Optional[str] = ..., payment_intent_id: _Optional[str] = ..., grant_id: _Optional[str] = ..., last_error: _Optional[_Union[_error_pb2.PaymentError, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditGrant(_message.Message):
    __slots__ = ("id", "owner_id", "amount", "remaining", "expire_time", "reason", "source", "purchase_id", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    amount: int
    remaining: int
    expire_time: _timestamp_pb2.Timestamp
    reason: str
    source: CreditGrantSource
    purchase_id: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., amount: _Optional[int] = ..., remaining: _Optional[int] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., source: _Optional[_Union[CreditGrantSource, str]] = ..., purchase_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditReservation(_message.Message):
    __slots__ = ("id", "owner_id", "amount", "committed_amount", "status", "expire_time", "reason", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    amount: int
    committed_amount: int
    status: CreditReservationStatus
    expire_time: _timestamp_pb2.Timestamp
    reason: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., amount: _Optional[int] = ..., committed_amount: _Optional[int] = ..., status: _Optional[_Union[CreditReservationStatus, str]] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreditTransaction(_message.Message):
    __slots__ = ("id", "owner_id", "type", "amount", "balance_after", "reason", "grant_id", "reservation_id", "purchase_id", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    PURCHASE_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    type: CreditTransactionType
    amount: int
    balance_after: int
    reason: str
    grant_id: str
    reservation_id: str
    purchase_id: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., type: _Optional[_Union[CreditTransactionType, str]] = ..., amount: _Optional[int] = ..., balance_after: _Optional[int] = ..., reason: _Optional[str] = ..., grant_id: _Optional[str] = ..., reservation_id: _Optional[str] = ..., purchase_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
