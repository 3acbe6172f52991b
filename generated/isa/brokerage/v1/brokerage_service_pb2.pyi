from isa.brokerage.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LinkAccountRequest(_message.Message):
    __slots__ = ("owner_id", "provider", "credentials", "oauth_code", "redirect_uri", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    OAUTH_CODE_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URI_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    owner_id: str
    provider: str
    credentials: _resources_pb2.BrokerageCredentials
    oauth_code: str
    redirect_uri: str
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, owner_id: _Optional[str] = ..., provider: _Optional[str] = ..., credentials: _Optional[_Union[_resources_pb2.BrokerageCredentials, _Mapping]] = ..., oauth_code: _Optional[str] = ..., redirect_uri: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class LinkAccountResponse(_message.Message):
    __slots__ = ("brokerage_account",)
    BROKERAGE_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    brokerage_account: _resources_pb2.BrokerageAccount
    def __init__(self, brokerage_account: _Optional[_Union[_resources_pb2.BrokerageAccount, _Mapping]] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "owner_id", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OWNER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    owner_id: str
    status: _resources_pb2.BrokerageAccountStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., owner_id: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.BrokerageAccountStatus, str]] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("brokerage_accounts", "next_page_token")
    BROKERAGE_ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    brokerage_accounts: _containers.RepeatedCompositeFieldContainer[_resources_pb2.BrokerageAccount]
    next_page_token: str
    def __init__(self, brokerage_accounts: _Optional[_Iterable[_Union[_resources_pb2.BrokerageAccount, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UnlinkAccountRequest(_message.Message):
    __slots__ = ("id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class UnlinkAccountResponse(_message.Message):
    __slots__ = ("brokerage_account",)
    BROKERAGE_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    brokerage_account: _resources_pb2.BrokerageAccount
    def __init__(self, brokerage_account: _Optional[_Union[_resources_pb2.BrokerageAccount, _Mapping]] = ...) -> None: ...

class GetQuoteRequest(_message.Message):
    __slots__ = ("account_id", "symbol")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class GetQuoteResponse(_message.Message):
    __slots__ = ("quote",)
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    quote: _resources_pb2.Quote
    def __init__(self, quote: _Optional[_Union[_resources_pb2.Quote, _Mapping]] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "side", "quantity", "notional", "type", "limit_price", "time_in_force", "idempotency_key", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    NOTIONAL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    TIME_IN_FORCE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    side: _resources_pb2.OrderSide
    quantity: str
    notional: str
    type: _resources_pb2.OrderType
    limit_price: str
    time_in_force: _resources_pb2.TimeInForce
    idempotency_key: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., side: _Optional[_Union[_resources_pb2.OrderSide, str]] = ..., quantity: _Optional[str] = ..., notional: _Optional[str] = ..., type: _Optional[_Union[_resources_pb2.OrderType, str]] = ..., limit_price: _Optional[str] = ..., time_in_force: _Optional[_Union[_resources_pb2.TimeInForce, str]] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class BuyRequest(_message.Message):
    __slots__ = ("account_id", "symbol", "quantity", "idempotency_key")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    symbol: str
    quantity: str
    idempotency_key: str
    def __init__(self, account_id: _Optional[str] = ..., symbol: _Optional[str] = ..., quantity: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class BuyResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _resources_pb2.Order
    def __init__(self, order: _Optional[_Union[_resources_pb2.Order, _Mapping]] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "account_id", "status", "symbol")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    account_id: str
    status: _resources_pb2.OrderStatus
    symbol: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., account_id: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.OrderStatus, str]] = ..., symbol: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[_resources_pb2.Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListPositionsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "account_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    account_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., account_id: _Optional[str] = ...) -> None: ...

class ListPositionsResponse(_message.Message):
    __slots__ = ("positions", "next_page_token")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Position]
    next_page_token: str
    def __init__(self, positions: _Optional[_Iterable[_Union[_resources_pb2.Position, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
