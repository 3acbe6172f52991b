from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PaymentError(_message.Message):
    __slots__ = ("code", "decline_code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DECLINE_CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    decline_code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., decline_code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...
