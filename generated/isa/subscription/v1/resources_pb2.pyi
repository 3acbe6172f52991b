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

class PlanInterval(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLAN_INTERVAL_UNSPECIFIED: _ClassVar[PlanInterval]
    PLAN_INTERVAL_MONTH: _ClassVar[PlanInterval]
    PLAN_INTERVAL_YEAR: _ClassVar[PlanInterval]

class SubscriptionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUBSCRIPTION_STATUS_UNSPECIFIED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_TRIALING: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_ACTIVE: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_PAST_DUE: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_CANCELED: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_INCOMPLETE: _ClassVar[SubscriptionStatus]
    SUBSCRIPTION_STATUS_UNPAID: _ClassVar[SubscriptionStatus]
PLAN_INTERVAL_UNSPECIFIED: PlanInterval
PLAN_INTERVAL_MONTH: PlanInterval
PLAN_INTERVAL_YEAR: PlanInterval
SUBSCRIPTION_STATUS_UNSPECIFIED: SubscriptionStatus
SUBSCRIPTION_STATUS_TRIALING: SubscriptionStatus
SUBSCRIPTION_STATUS_ACTIVE: SubscriptionStatus
SUBSCRIPTION_STATUS_PAST_DUE: SubscriptionStatus
SUBSCRIPTION_STATUS_CANCELED: SubscriptionStatus
SUBSCRIPTION_STATUS_INCOMPLETE: SubscriptionStatus
SUBSCRIPTION_STATUS_UNPAID: SubscriptionStatus

class UsageAllowance(_message.Message):
    __slots__ = ("metric", "quantity", "overage_block_amount", "overage_block_size")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    OVERAGE_BLOCK_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OVERAGE_BLOCK_SIZE_FIELD_NUMBER: _ClassVar[int]
    metric: str
    quantity: int
    overage_block_amount: int
    overage_block_size: int
    def __init__(self, metric: _Optional[str] = ..., quantity: _Optional[int] = ..., overage_block_amount: _Optional[int] = ..., overage_block_size: _Optional[int] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("id", "name", "price", "currency", "interval", "interval_count", "included_usage", "trial_days", "description", "active")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_COUNT_FIELD_NUMBER: _ClassVar[int]
    INCLUDED_USAGE_FIELD_NUMBER: _ClassVar[int]
    TRIAL_DAYS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    price: int
    currency: str
    interval: PlanInterval
    interval_count: int
    included_usage: _containers.RepeatedCompositeFieldContainer[UsageAllowance]
    trial_days: int
    description: str
    active: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[int] = ..., currency: _Optional[str] = ..., interval: _Optional[_Union[PlanInterval, str]] = ..., interval_count: _Optional[int] = ..., included_usage: _Optional[_Iterable[_Union[UsageAllowance, _Mapping]]] = ..., trial_days: _Optional[int] = ..., description: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ("id", "customer_id", "plan", "status", "current_period_start", "current_period_end", "cancel_at_period_end", "latest_invoice_id", "payment_method_id", "trial_start", "trial_end", "cancel_time", "end_time", "cancellation_reason", "next_retry_time", "failed_payment_count", "last_error", "metadata", "create_time", "update_time")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PLAN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    CURRENT_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    CANCEL_AT_PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    LATEST_INVOICE_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    TRIAL_START_FIELD_NUMBER: _ClassVar[int]
    TRIAL_END_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_REASON_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_TIME_FIELD_NUMBER: _ClassVar[int]
    FAILED_PAYMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    customer_id: str
    plan: Plan
    status: SubscriptionStatus
    current_period_start: _timestamp_pb2.Timestamp
    current_period_end: _timestamp_pb2.Timestamp
    cancel_at_period_end: bool
    latest_invoice_id: str
    payment_method_id: str
    trial_start: _timestamp_pb2.Timestamp
    trial_end: _timestamp_pb2.Timestamp
    cancel_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    cancellation_reason: str
    next_retry_time: _timestamp_pb2.Timestamp
    failed_payment_count: int
    last_error: _error_pb2.PaymentError
    metadata: _containers.ScalarMap[str, str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., customer_id: _Optional[str] = ..., plan: _Optional[_Union[Plan, _Mapping]] = ..., status: _Optional[_Union[SubscriptionStatus, str]] = ..., current_period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current_period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_at_period_end: _Optional[bool] = ..., latest_invoice_id: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., trial_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trial_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancel_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cancellation_reason: _Optional[str] = ..., next_retry_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_payment_count: _Optional[int] = ..., last_error: _Optional[_Union[_error_pb2.PaymentError, _Mapping]] = ..., metadata: _Optional[_Mapping[str, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
