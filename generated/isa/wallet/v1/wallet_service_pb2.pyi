from isa.wallet.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateWalletRequest(_message.Message):
    __slots__ = ("owner_id", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, owner_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateWalletResponse(_message.Message):
    __slots__ = ("wallet",)
    WALLET_FIELD_NUMBER: _ClassVar[int]
    wallet: _resources_pb2.Wallet
    def __init__(self, wallet: _Optional[_Union[_resources_pb2.Wallet, _Mapping]] = ...) -> None: ...

class GetWalletRequest(_message.Message):
    __slots__ = ("wallet_id", "owner_id")
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    owner_id: str
    def __init__(self, wallet_id: _Optional[str] = ..., owner_id: _Optional[str] = ...) -> None: ...

class GetWalletResponse(_message.Message):
    __slots__ = ("wallet",)
    WALLET_FIELD_NUMBER: _ClassVar[int]
    wallet: _resources_pb2.Wallet
    def __init__(self, wallet: _Optional[_Union[_resources_pb2.Wallet, _Mapping]] = ...) -> None: ...

class DepositRequest(_message.Message):
    __slots__ = ("wallet_id", "amount", "currency", "payment_method_id", "idempotency_key", "description", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    amount: int
    currency: str
    payment_method_id: str
    idempotency_key: str
    description: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, wallet_id: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class DepositResponse(_message.Message):
    __slots__ = ("wallet_transaction",)
    WALLET_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    wallet_transaction: _resources_pb2.WalletTransaction
    def __init__(self, wallet_transaction: _Optional[_Union[_resources_pb2.WalletTransaction, _Mapping]] = ...) -> None: ...

class WithdrawRequest(_message.Message):
    __slots__ = ("wallet_id", "amount", "currency", "payment_method_id", "idempotency_key", "description", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    wallet_id: str
    amount: int
    currency: str
    payment_method_id: str
    idempotency_key: str
    description: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, wallet_id: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class WithdrawResponse(_message.Message):
    __slots__ = ("wallet_transaction",)
    WALLET_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    wallet_transaction: _resources_pb2.WalletTransaction
    def __init__(self, wallet_transaction: _Optional[_Union[_resources_pb2.WalletTransaction, _Mapping]] = ...) -> None: ...

class TransferRequest(_message.Message):
    __slots__ = ("from_wallet_id", "to_wallet_id", "amount", "currency", "note", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FROM_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    TO_WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    from_wallet_id: str
    to_wallet_id: str
    amount: int
    currency: str
    note: str
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, from_wallet_id: _Optional[str] = ..., to_wallet_id: _Optional[str] = ..., amount: _Optional[int] = ..., currency: _Optional[str] = ..., note: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class TransferResponse(_message.Message):
    __slots__ = ("transfer",)
    TRANSFER_FIELD_NUMBER: _ClassVar[int]
    transfer: _resources_pb2.Transfer
    def __init__(self, transfer: _Optional[_Union[_resources_pb2.Transfer, _Mapping]] = ...) -> None: ...

class GetTransactionRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetTransactionResponse(_message.Message):
    __slots__ = ("wallet_transaction",)
    WALLET_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    wallet_transaction: _resources_pb2.WalletTransaction
    def __init__(self, wallet_transaction: _Optional[_Union[_resources_pb2.WalletTransaction, _Mapping]] = ...) -> None: ...

class ListTransactionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "wallet_id", "currency", "type")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    wallet_id: str
    currency: str
    type: _resources_pb2.WalletTransactionType
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., wallet_id: _Optional[str] = ..., currency: _Optional[str] = ..., type: _Optional[_Union[_resources_pb2.WalletTransactionType, str]] = ...) -> None: ...

class ListTransactionsResponse(_message.Message):
    __slots__ = ("wallet_transactions", "next_page_token")
    WALLET_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    wallet_transactions: _containers.RepeatedCompositeFieldContainer[_resources_pb2.WalletTransaction]
    next_page_token: str
    def __init__(self, wallet_transactions: _Optional[_Iterable[_Union[_resources_pb2.WalletTransaction, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
