import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from isa.credit.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetCreditBalanceRequest(_message.Message):
    __slots__ = ("owner_id",)
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    def __init__(self, owner_id: _Optional[str] = ...) -> None: ...

class GetCreditBalanceResponse(_message.Message):
    __slots__ = ("credit_balance",)
    CREDIT_BALANCE_FIELD_NUMBER: _ClassVar[int]
    credit_balance: _resources_pb2.CreditBalance
    def __init__(self, credit_balance: _Optional[_Union[_resources_pb2.CreditBalance, _Mapping]] = ...) -> None: ...

class ListCreditPackagesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListCreditPackagesResponse(_message.Message):
    __slots__ = ("credit_packages", "next_page_token")
    CREDIT_PACKAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    credit_packages: _containers.RepeatedCompositeFieldContainer[_resources_pb2.CreditPackage]
    next_page_token: str
    def __init__(self, credit_packages: _Optional[_Iterable[_Union[_resources_pb2.CreditPackage, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PurchaseCreditsRequest(_message.Message):
    __slots__ = ("owner_id", "package_id", "payment_method_id", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    package_id: str
    payment_method_id: str
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, owner_id: _Optional[str] = ..., package_id: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PurchaseCreditsResponse(_message.Message):
    __slots__ = ("credit_purchase",)
    CREDIT_PURCHASE_FIELD_NUMBER: _ClassVar[int]
    credit_purchase: _resources_pb2.CreditPurchase
    def __init__(self, credit_purchase: _Optional[_Union[_resources_pb2.CreditPurchase, _Mapping]] = ...) -> None: ...

class GetCreditPurchaseRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetCreditPurchaseResponse(_message.Message):
    __slots__ = ("credit_purchase",)
    CREDIT_PURCHASE_FIELD_NUMBER: _ClassVar[int]
    credit_purchase: _resources_pb2.CreditPurchase
    def __init__(self, credit_purchase: _Optional[_Union[_resources_pb2.CreditPurchase, _Mapping]] = ...) -> None: ...

class GrantCreditsRequest(_message.Message):
    __slots__ = ("owner_id", "amount", "expire_time", "reason", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    amount: int
    expire_time: _timestamp_pb2.Timestamp
    reason: str
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, owner_id: _Optional[str] = ..., amount: _Optional[int] = ..., expire_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GrantCreditsResponse(_message.Message):
    __slots__ = ("credit_grant",)
    CREDIT_GRANT_FIELD_NUMBER: _ClassVar[int]
    credit_grant: _resources_pb2.CreditGrant
    def __init__(self, credit_grant: _Optional[_Union[_resources_pb2.CreditGrant, _Mapping]] = ...) -> None: ...

class ConsumeCreditsRequest(_message.Message):
    __slots__ = ("owner_id", "amount", "reason", "metadata", "idempotency_key")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    amount: int
    reason: str
    metadata: _containers.ScalarMap[str, str]
    idempotency_key: str
    def __init__(self, owner_id: _Optional[str] = ..., amount: _Optional[int] = ..., reason: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ConsumeCreditsResponse(_message.Message):
    __slots__ = ("credit_transaction",)
    CREDIT_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    credit_transaction: _resources_pb2.CreditTransaction
    def __init__(self, credit_transaction: _Optional[_Union[_resources_pb2.CreditTransaction, _Mapping]] = ...) -> None: ...

class ReserveCreditsRequest(_message.Message):
    __slots__ = ("owner_id", "amount", "ttl", "idempotency_key", "reason", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    amount: int
    ttl: _duration_pb2.Duration
    idempotency_key: str
    reason: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, owner_id: _Optional[str] = ..., amount: _Optional[int] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., reason: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ReserveCreditsResponse(_message.Message):
    __slots__ = ("credit_reservation",)
    CREDIT_RESERVATION_FIELD_NUMBER: _ClassVar[int]
    credit_reservation: _resources_pb2.CreditReservation
    def __init__(self, credit_reservation: _Optional[_Union[_resources_pb2.CreditReservation, _Mapping]] = ...) -> None: ...

class CommitReservationRequest(_message.Message):
    __slots__ = ("id", "amount", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    amount: int
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., amount: _Optional[int] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CommitReservationResponse(_message.Message):
    __slots__ = ("credit_reservation",)
    CREDIT_RESERVATION_FIELD_NUMBER: _ClassVar[int]
    credit_reservation: _resources_pb2.CreditReservation
    def __init__(self, credit_reservation: _Optional[_Union[_resources_pb2.CreditReservation, _Mapping]] = ...) -> None: ...

class ReleaseReservationRequest(_message.Message):
    __slots__ = ("id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReleaseReservationResponse(_message.Message):
    __slots__ = ("credit_reservation",)
    CREDIT_RESERVATION_FIELD_NUMBER: _ClassVar[int]
    credit_reservation: _resources_pb2.CreditReservation
    def __init__(self, credit_reservation: _Optional[_Union[_resources_pb2.CreditReservation, _Mapping]] = ...) -> None: ...

class ListCreditTransactionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "owner_id", "type")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    owner_id: str
    type: _resources_pb2.CreditTransactionType
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner_id: _Optional[str] = ..., type: _Optional[_Union[_resources_pb2.CreditTransactionType, str]] = ...) -> None: ...

class ListCreditTransactionsResponse(_message.Message):
    __slots__ = ("credit_transactions", "next_page_token")
    CREDIT_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    credit_transactions: _containers.RepeatedCompositeFieldContainer[_resources_pb2.CreditTransaction]
    next_page_token: str
    def __init__(self, credit_transactions: _Optional[_Iterable[_Union[_resources_pb2.CreditTransaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
