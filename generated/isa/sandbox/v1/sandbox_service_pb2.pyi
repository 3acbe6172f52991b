import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from isa.payment.v1 import resources_pb2 as _resources_pb2
from isa.wallet.v1 import resources_pb2 as _resources_pb2_1
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BankTransferOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BANK_TRANSFER_OUTCOME_UNSPECIFIED: _ClassVar[BankTransferOutcome]
    BANK_TRANSFER_OUTCOME_SETTLE: _ClassVar[BankTransferOutcome]
    BANK_TRANSFER_OUTCOME_RETURN: _ClassVar[BankTransferOutcome]

class TestClockStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEST_CLOCK_STATUS_UNSPECIFIED: _ClassVar[TestClockStatus]
    TEST_CLOCK_STATUS_READY: _ClassVar[TestClockStatus]
    TEST_CLOCK_STATUS_ADVANCING: _ClassVar[TestClockStatus]
BANK_TRANSFER_OUTCOME_UNSPECIFIED: BankTransferOutcome
BANK_TRANSFER_OUTCOME_SETTLE: BankTransferOutcome
BANK_TRANSFER_OUTCOME_RETURN: BankTransferOutcome
TEST_CLOCK_STATUS_UNSPECIFIED: TestClockStatus
TEST_CLOCK_STATUS_READY: TestClockStatus
TEST_CLOCK_STATUS_ADVANCING: TestClockStatus

class OpenTestDisputeRequest(_message.Message):
    __slots__ = ("payment_intent_id", "amount", "reason", "idempotency_key")
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    payment_intent_id: str
    amount: int
    reason: str
    idempotency_key: str
    def __init__(self, payment_intent_id: _Optional[str] = ..., amount: _Optional[int] = ..., reason: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class OpenTestDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: _resources_pb2.Dispute
    def __init__(self, dispute: _Optional[_Union[_resources_pb2.Dispute, _Mapping]] = ...) -> None: ...

class CloseTestDisputeRequest(_message.Message):
    __slots__ = ("dispute_id", "won", "idempotency_key")
    DISPUTE_ID_FIELD_NUMBER: _ClassVar[int]
    WON_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    dispute_id: str
    won: bool
    idempotency_key: str
    def __init__(self, dispute_id: _Optional[str] = ..., won: _Optional[bool] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CloseTestDisputeResponse(_message.Message):
    __slots__ = ("dispute",)
    DISPUTE_FIELD_NUMBER: _ClassVar[int]
    dispute: _resources_pb2.Dispute
    def __init__(self, dispute: _Optional[_Union[_resources_pb2.Dispute, _Mapping]] = ...) -> None: ...

class CompleteAccountOnboardingRequest(_message.Message):
    __slots__ = ("connected_account_id", "idempotency_key")
    CONNECTED_ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    connected_account_id: str
    idempotency_key: str
    def __init__(self, connected_account_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CompleteAccountOnboardingResponse(_message.Message):
    __slots__ = ("connected_account",)
    CONNECTED_ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    connected_account: _resources_pb2.ConnectedAccount
    def __init__(self, connected_account: _Optional[_Union[_resources_pb2.ConnectedAccount, _Mapping]] = ...) -> None: ...

class CompleteCheckoutSessionRequest(_message.Message):
    __slots__ = ("checkout_session_id", "payment_method_id", "idempotency_key")
    CHECKOUT_SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    checkout_session_id: str
    payment_method_id: str
    idempotency_key: str
    def __init__(self, checkout_session_id: _Optional[str] = ..., payment_method_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CompleteCheckoutSessionResponse(_message.Message):
    __slots__ = ("checkout_session", "payment_intent")
    CHECKOUT_SESSION_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    checkout_session: _resources_pb2.CheckoutSession
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, checkout_session: _Optional[_Union[_resources_pb2.CheckoutSession, _Mapping]] = ..., payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class CreateTestCardTokenRequest(_message.Message):
    __slots__ = ("number", "exp_month", "exp_year", "cvc", "idempotency_key")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    EXP_MONTH_FIELD_NUMBER: _ClassVar[int]
    EXP_YEAR_FIELD_NUMBER: _ClassVar[int]
    CVC_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    number: str
    exp_month: int
    exp_year: int
    cvc: str
    idempotency_key: str
    def __init__(self, number: _Optional[str] = ..., exp_month: _Optional[int] = ..., exp_year: _Optional[int] = ..., cvc: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreateTestCardTokenResponse(_message.Message):
    __slots__ = ("token", "brand", "last4")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    BRAND_FIELD_NUMBER: _ClassVar[int]
    LAST4_FIELD_NUMBER: _ClassVar[int]
    token: str
    brand: str
    last4: str
    def __init__(self, token: _Optional[str] = ..., brand: _Optional[str] = ..., last4: _Optional[str] = ...) -> None: ...

class CompleteAuthenticationRequest(_message.Message):
    __slots__ = ("payment_intent_id", "succeed", "idempotency_key")
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    SUCCEED_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    payment_intent_id: str
    succeed: bool
    idempotency_key: str
    def __init__(self, payment_intent_id: _Optional[str] = ..., succeed: _Optional[bool] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CompleteAuthenticationResponse(_message.Message):
    __slots__ = ("payment_intent",)
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ...) -> None: ...

class AdvanceBankTransferRequest(_message.Message):
    __slots__ = ("payment_intent_id", "outcome", "return_code", "idempotency_key", "wallet_transaction_id")
    PAYMENT_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    RETURN_CODE_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    WALLET_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    payment_intent_id: str
    outcome: BankTransferOutcome
    return_code: str
    idempotency_key: str
    wallet_transaction_id: str
    def __init__(self, payment_intent_id: _Optional[str] = ..., outcome: _Optional[_Union[BankTransferOutcome, str]] = ..., return_code: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., wallet_transaction_id: _Optional[str] = ...) -> None: ...

class AdvanceBankTransferResponse(_message.Message):
    __slots__ = ("payment_intent", "wallet_transaction")
    PAYMENT_INTENT_FIELD_NUMBER: _ClassVar[int]
    WALLET_TRANSACTION_FIELD_NUMBER: _ClassVar[int]
    payment_intent: _resources_pb2.PaymentIntent
    wallet_transaction: _resources_pb2_1.WalletTransaction
    def __init__(self, payment_intent: _Optional[_Union[_resources_pb2.PaymentIntent, _Mapping]] = ..., wallet_transaction: _Optional[_Union[_resources_pb2_1.WalletTransaction, _Mapping]] = ...) -> None: ...

class TestClock(_message.Message):
    __slots__ = ("id", "frozen_time", "status", "customer_ids", "create_time", "update_time")
    ID_FIELD_NUMBER: _ClassVar[int]
    FROZEN_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    frozen_time: _timestamp_pb2.Timestamp
    status: TestClockStatus
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., frozen_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[_Union[TestClockStatus, str]] = ..., customer_ids: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class AdvanceTestClockRequest(_message.Message):
    __slots__ = ("customer_id", "clock_id", "to_time", "idempotency_key")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CLOCK_ID_FIELD_NUMBER: _ClassVar[int]
    TO_TIME_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    clock_id: str
    to_time: _timestamp_pb2.Timestamp
    idempotency_key: str
    def __init__(self, customer_id: _Optional[str] = ..., clock_id: _Optional[str] = ..., to_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class AdvanceTestClockResponse(_message.Message):
    __slots__ = ("test_clock",)
    TEST_CLOCK_FIELD_NUMBER: _ClassVar[int]
    test_clock: TestClock
    def __init__(self, test_clock: _Optional[_Union[TestClock, _Mapping]] = ...) -> None: ...
