import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from isa.billing.v1 import resources_pb2 as _resources_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateInvoiceRequest(_message.Message):
    __slots__ = ("customer_id", "currency", "items", "due_date", "idempotency_key", "description", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    DUE_DATE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    currency: str
    items: _containers.RepeatedCompositeFieldContainer[_resources_pb2.InvoiceItem]
    due_date: _timestamp_pb2.Timestamp
    idempotency_key: str
    description: str
    metadata: _containers.ScalarMap[str, str]
    def __init__(self, customer_id: _Optional[str] = ..., currency: _Optional[str] = ..., items: _Optional[_Iterable[_Union[_resources_pb2.InvoiceItem, _Mapping]]] = ..., due_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[_Mapping[str, str]] = ...) -> None: ...

class CreateInvoiceResponse(_message.Message):
    __slots__ = ("invoice",)
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    invoice: _resources_pb2.Invoice
    def __init__(self, invoice: _Optional[_Union[_resources_pb2.Invoice, _Mapping]] = ...) -> None: ...

class FinalizeInvoiceRequest(_message.Message):
    __slots__ = ("id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class FinalizeInvoiceResponse(_message.Message):
    __slots__ = ("invoice",)
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    invoice: _resources_pb2.Invoice
    def __init__(self, invoice: _Optional[_Union[_resources_pb2.Invoice, _Mapping]] = ...) -> None: ...

class PayInvoiceRequest(_message.Message):
    __slots__ = ("id", "payment_method_id", "wallet_id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    WALLET_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    payment_method_id: str
    wallet_id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., wallet_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class PayInvoiceResponse(_message.Message):
    __slots__ = ("invoice",)
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    invoice: _resources_pb2.Invoice
    def __init__(self, invoice: _Optional[_Union[_resources_pb2.Invoice, _Mapping]] = ...) -> None: ...

class VoidInvoiceRequest(_message.Message):
    __slots__ = ("id", "idempotency_key")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    id: str
    idempotency_key: str
    def __init__(self, id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class VoidInvoiceResponse(_message.Message):
    __slots__ = ("invoice",)
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    invoice: _resources_pb2.Invoice
    def __init__(self, invoice: _Optional[_Union[_resources_pb2.Invoice, _Mapping]] = ...) -> None: ...

class GetInvoiceRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetInvoiceResponse(_message.Message):
    __slots__ = ("invoice",)
    INVOICE_FIELD_NUMBER: _ClassVar[int]
    invoice: _resources_pb2.Invoice
    def __init__(self, invoice: _Optional[_Union[_resources_pb2.Invoice, _Mapping]] = ...) -> None: ...

class ListInvoicesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "customer_id", "status", "subscription_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    customer_id: str
    status: _resources_pb2.InvoiceStatus
    subscription_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[_resources_pb2.InvoiceStatus, str]] = ..., subscription_id: _Optional[str] = ...) -> None: ...

class ListInvoicesResponse(_message.Message):
    __slots__ = ("invoices", "next_page_token")
    INVOICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    invoices: _containers.RepeatedCompositeFieldContainer[_resources_pb2.Invoice]
    next_page_token: str
    def __init__(self, invoices: _Optional[_Iterable[_Union[_resources_pb2.Invoice, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RecordUsageRequest(_message.Message):
    __slots__ = ("customer_id", "metric", "quantity", "timestamp", "idempotency_key")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    metric: str
    quantity: int
    timestamp: _timestamp_pb2.Timestamp
    idempotency_key: str
    def __init__(self, customer_id: _Optional[str] = ..., metric: _Optional[str] = ..., quantity: _Optional[int] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RecordUsageResponse(_message.Message):
    __slots__ = ("usage_record",)
    USAGE_RECORD_FIELD_NUMBER: _ClassVar[int]
    usage_record: _resources_pb2.UsageRecord
    def __init__(self, usage_record: _Optional[_Union[_resources_pb2.UsageRecord, _Mapping]] = ...) -> None: ...

class GetUsageSummaryRequest(_message.Message):
    __slots__ = ("customer_id", "metric")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    metric: str
    def __init__(self, customer_id: _Optional[str] = ..., metric: _Optional[str] = ...) -> None: ...

class GetUsageSummaryResponse(_message.Message):
    __slots__ = ("usage_summary",)
    USAGE_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    usage_summary: _resources_pb2.UsageSummary
    def __init__(self, usage_summary: _Optional[_Union[_resources_pb2.UsageSummary, _Mapping]] = ...) -> None: ...
