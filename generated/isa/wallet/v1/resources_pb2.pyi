import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from isa.type.v1 import error_pb2 as _error_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WalletTransactionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WALLET_TRANSACTION_TYPE_UNSPECIFIED: _ClassVar[WalletTransactionType]
    WALLET_TRANSACTION_TYPE_DEPOSIT: _ClassVar[WalletTransactionType]
    WALLET_TRANSACTION_TYPE_WITHDRAWAL: _ClassVar[WalletTransactionType]
    WALLET_TRANSACTION_TYPE_TRANSFER_IN: _ClassVar[WalletTransactionType]
    WALLET_TRANSACTION_TYPE_TRANSFER_OUT: _ClassVar[WalletTransactionType]
    WALLET_TRANSACTION_TYPE_PAYMENT: _ClassVar[WalletTransactionType]
    WALLET_TRANSACTION_TYPE_REFUND: _ClassVar[WalletTransactionType]

class WalletTransactionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WALLET_TRANSACTION_STATUS_UNSPECIFIED: _ClassVar[WalletTransactionStatus]
    WALLET_TRANSACTION_STATUS_PENDING: _ClassVar[WalletTransactionStatus]
    WALLET_TRANSACTION_STATUS_SUCCEEDED: _ClassVar[WalletTransactionStatus]
    WALLET_TRANSACTION_STATUS_FAILED: _ClassVar[WalletTransactionStatus]

class TransferStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRANSFER_STATUS_UNSPECIFIED: _ClassVar[TransferStatus]
    TRANSFER_STATUS_COMPLETED: _ClassVar[TransferStatus]
    TRANSFER_STATUS_REVERSED: _ClassVar[TransferStatus]
WALLET_TRANSACTION_TYPE_UNSPECIFIED: WalletTransactionType
WALLET_TRANSACTION_TYPE_DEPOSIT: WalletTransactionType
WALLET_TRANSACTION_TYPE_WITHDRAWAL: WalletTransactionType
WALLET_TRANSACTION_TYPE_TRANSFER_IN: WalletTransactionType
WALLET_TRANSACTION_TYPE_TRANSFER_OUT: WalletTransactionType
WALLET_TRANSACTION_TYPE_PAYMENT: WalletTransactionType
WALLET_TRANSACTION_TYPE_REFUND: WalletTransactionType
WALLET_TRANSACTION_STATUS_UNSPECIFIED: WalletTransactionStatus
WALLET_TRANSACTION_STATUS_PENDING: WalletTransactionStatus
WALLET_TRANSACTION_STATUS_SUCCEEDED: WalletTransactionStatus
WALLET_TRANSACTION_STATUS_FAILED: WalletTransactionStatus
TRANSFER_STATUS_UNSPECIFIED: TransferStatus
TRANSFER_STATUS_COMPLETED: TransferStatus
TRANSFER_STATUS_REVERSED: TransferStatus

class Wallet(_message.Message):
    __slots__ = ("id", "owner_id", "balances", "pending", "metadata", "create_time", "update_time")
    class BalancesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class PendingEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    BALANCES_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    owner_id: str
    balances: _containers.ScalarMap[str, int]
    pending: _containers.ScalarMap[str, int]
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., owner_id: _Optional[str] = ..., balances: _Optional[_Mapping[str, int]] = ..., pending: _Optional[_Mapping[str, int]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WalletTransaction(_message.Message):
    __slots__ = ("id", "wallet_id", "type", "status", "amount", "currency", "balance_after", "payment_method_id", "payment_intent_id", "transfer_id", "counterparty_wallet_id", "invoice_id", "description", "last_error", "metadata", "create_time", "update_time", "gateway_reference", "refund_id", "dispute_id")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_ID_FIELD_NUMBER: _ClassVar[int]
    COUNTERPARTY_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    GATEWAY_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    REFUND_ID_FIELD_NUMBER: _ClassVar[int]
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    wallet_id: str
    type: WalletTransactionType
    status: WalletTransactionStatus
    amount: int
    currency: str
    balance_after: int
    payment_method_id: str
    payment_intent_id: str
    transfer_id: str
    counterparty_wallet_id: str
    invoice_id: str
    description: str
    last_error: _error_pb2.PaymentError
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    gateway_reference: str
    refund_id: str
    dispute_id: str
    def __init__(self, id: _Optional[str] = ..., wallet_id: _Optional[str] = ..., type: _Optional[_Union[WalletTransactionType, str]] = ..., status: _Optional[_Union[WalletTransactionStatus, str]] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., balance_after: _Optional[int] = ..., payment_method_id: _Optional[str] = ..., payment_intent_id: _Optional[str] = ..., transfer_id: _Optional[str] = ..., counterparty_wallet_id: _Optional[str] = ..., invoice_id: _Optional[str] = ..., description: _Optional[str] = ..., last_error: _Optional[_Union[_error_pb2.PaymentError, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., gateway_reference: _Optional[str] = ..., refund_id: _Optional[str] = ..., dispute_id: _Optional[str] = ...) -> None: ...

class Transfer(_message.Message):
    __slots__ = ("id", "from_wallet_id", "to_wallet_id", "amount", "currency", "note", "status", "from_transaction_id", "to_transaction_id", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    FROM_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    TO_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FROM_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    TO_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    from_wallet_id: str
    to_wallet_id: str
    amount: int
    currency: str
    note: str
    status: TransferStatus
    from_transaction_id: str
    to_transaction_id: str
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., from_wallet_id: _Optional[str] = ..., to_wallet_id: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., note: _Optional[str] = ..., status: _Optional[_Union[TransferStatus, str]] = ..., from_transaction_id: _Optional[str] = ..., to_transaction_id: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
