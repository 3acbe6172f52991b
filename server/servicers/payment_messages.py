"""Domain records → isa.payment.v1 messages (and the enum tables both ways)."""

from __future__ import annotations

from typing import Final

from gateways.types import Capability, GatewayInfo, GatewayKind, GatewayMode, MethodType
from isa.payment.v1 import resources_pb2 as resources
from isa.type.v1 import error_pb2
from server.payments.disputes import Dispute
from server.payments.intents import PaymentIntent, Refund
from server.payments.marketplace import AccountLink, CheckoutSession, ConnectedAccount
from server.payments.methods import PaymentMethod
from server.servicers.support import timestamp
from store.bank_accounts import VERIFY_MICRODEPOSITS_ACTION
from store.last_error import LastError
from store.payments import CaptureMethod, IntentStatus

INTENT_STATUS: Final = {
    status: resources.PaymentIntentStatus.Value(f"PAYMENT_INTENT_STATUS_{status.name}")
    for status in IntentStatus
}
STATUS_OF_PROTO: Final = {value: status for status, value in INTENT_STATUS.items()}
#: The same numbers, typed as the message field takes them.
_STATUS_FIELD: Final[dict[IntentStatus, resources.PaymentIntentStatus]] = {
    status: getattr(resources, f"PAYMENT_INTENT_STATUS_{status.name}") for status in IntentStatus
}
CAPTURE_METHOD: Final = {
    CaptureMethod.AUTOMATIC: resources.CAPTURE_METHOD_AUTOMATIC,
    CaptureMethod.MANUAL: resources.CAPTURE_METHOD_MANUAL,
}
METHOD_TYPE: Final = {
    MethodType.CARD: resources.PAYMENT_METHOD_TYPE_CARD,
    MethodType.BANK_ACCOUNT: resources.PAYMENT_METHOD_TYPE_BANK_ACCOUNT,
    MethodType.CRYPTO_WALLET: resources.PAYMENT_METHOD_TYPE_CRYPTO_WALLET,
}
METHOD_TYPE_OF_PROTO: Final = {value: kind.value for kind, value in METHOD_TYPE.items()}
_KIND: Final = {
    GatewayKind.CARD: resources.GATEWAY_KIND_CARD,
    GatewayKind.BANK: resources.GATEWAY_KIND_BANK,
    GatewayKind.CRYPTO: resources.GATEWAY_KIND_CRYPTO,
    GatewayKind.BROKER: resources.GATEWAY_KIND_BROKER,
}
KIND_OF_PROTO: Final = {value: kind for kind, value in _KIND.items()}
_MODE: Final = {
    GatewayMode.SANDBOX: resources.GATEWAY_MODE_SANDBOX,
    GatewayMode.TEST: resources.GATEWAY_MODE_TEST,
    GatewayMode.LIVE: resources.GATEWAY_MODE_LIVE,
}
_CAPABILITY: Final = {
    Capability.MANUAL_CAPTURE: resources.GATEWAY_CAPABILITY_MANUAL_CAPTURE,
    Capability.PARTIAL_CAPTURE: resources.GATEWAY_CAPABILITY_PARTIAL_CAPTURE,
    Capability.REFUNDS: resources.GATEWAY_CAPABILITY_REFUNDS,
    Capability.SAVED_METHODS: resources.GATEWAY_CAPABILITY_SAVED_METHODS,
    Capability.MARKETPLACE: resources.GATEWAY_CAPABILITY_MARKETPLACE,
    Capability.WEBHOOKS: resources.GATEWAY_CAPABILITY_WEBHOOKS,
}
BUSINESS_TYPE: Final = {
    resources.BUSINESS_TYPE_UNSPECIFIED: "individual",
    resources.BUSINESS_TYPE_INDIVIDUAL: "individual",
    resources.BUSINESS_TYPE_COMPANY: "company",
    resources.BUSINESS_TYPE_NON_PROFIT: "non_profit",
    resources.BUSINESS_TYPE_GOVERNMENT_ENTITY: "government_entity",
}
_BUSINESS_TYPE_PROTO: Final = {
    "individual": resources.BUSINESS_TYPE_INDIVIDUAL,
    "company": resources.BUSINESS_TYPE_COMPANY,
    "non_profit": resources.BUSINESS_TYPE_NON_PROFIT,
    "government_entity": resources.BUSINESS_TYPE_GOVERNMENT_ENTITY,
}
_ACCOUNT_STATUS: Final = {
    "pending": resources.CONNECTED_ACCOUNT_STATUS_PENDING,
    "active": resources.CONNECTED_ACCOUNT_STATUS_ACTIVE,
    "restricted": resources.CONNECTED_ACCOUNT_STATUS_RESTRICTED,
    "rejected": resources.CONNECTED_ACCOUNT_STATUS_REJECTED,
}


_VERIFICATION: Final = {
    "pending": resources.PAYMENT_METHOD_VERIFICATION_STATUS_PENDING,
    "verified": resources.PAYMENT_METHOD_VERIFICATION_STATUS_VERIFIED,
    "failed": resources.PAYMENT_METHOD_VERIFICATION_STATUS_FAILED,
}


def payment_error(error: LastError) -> error_pb2.PaymentError:
    return error_pb2.PaymentError(
        code=error.code, decline_code=error.decline_code, message=error.message
    )


def _error(error: LastError | None) -> error_pb2.PaymentError | None:
    return None if error is None else payment_error(error)


def intent_message(intent: PaymentIntent) -> resources.PaymentIntent:
    next_action = None
    if (
        intent.status is IntentStatus.REQUIRES_ACTION
        and intent.next_action_url == VERIFY_MICRODEPOSITS_ACTION
    ):
        next_action = resources.NextAction(type=resources.NEXT_ACTION_TYPE_VERIFY_MICRODEPOSITS)
    elif intent.status is IntentStatus.REQUIRES_ACTION and intent.next_action_url:
        next_action = resources.NextAction(
            type=resources.NEXT_ACTION_TYPE_REDIRECT, redirect_url=intent.next_action_url
        )
    return resources.PaymentIntent(
        id=intent.id,
        amount=intent.amount,
        currency=intent.currency,
        status=_STATUS_FIELD[intent.status],
        capture_method=CAPTURE_METHOD[intent.capture_method],
        amount_capturable=intent.amount_capturable,
        amount_received=intent.amount_received,
        amount_refunded=intent.amount_refunded,
        customer_id=intent.customer_id,
        payment_method_id=intent.payment_method_id,
        gateway=intent.gateway,
        gateway_reference=intent.gateway_reference,
        client_secret=intent.client_secret,
        next_action=next_action,
        last_error=_error(intent.last_error),
        application_fee_amount=intent.application_fee_amount or 0,
        destination_account_id=intent.destination_account_id,
        destination_amount=intent.destination_amount,
        metadata=intent.metadata,
        create_time=timestamp(intent.create_time),
        update_time=timestamp(intent.update_time),
        description=intent.description,
        return_url=intent.return_url,
        cancellation_reason=intent.cancellation_reason,
        payment_method_type=METHOD_TYPE[MethodType(intent.payment_method_type)]
        if intent.payment_method_type
        else resources.PAYMENT_METHOD_TYPE_CARD
        if intent.payment_method_id
        else resources.PAYMENT_METHOD_TYPE_UNSPECIFIED,
    )


def refund_message(refund: Refund) -> resources.Refund:
    return resources.Refund(
        id=refund.id,
        payment_intent_id=refund.payment_intent_id,
        amount=refund.amount,
        currency=refund.currency,
        status=f"REFUND_STATUS_{refund.status.name}",
        reason=refund.reason,
        gateway=refund.gateway,
        gateway_reference=refund.gateway_reference,
        last_error=_error(refund.last_error),
        metadata=refund.metadata,
        create_time=timestamp(refund.create_time),
        update_time=timestamp(refund.update_time),
    )


def dispute_message(dispute: Dispute) -> resources.Dispute:
    return resources.Dispute(
        id=dispute.id,
        payment_intent_id=dispute.payment_intent_id,
        amount=dispute.amount,
        currency=dispute.currency,
        status=f"DISPUTE_STATUS_{dispute.status.upper()}",
        reason=dispute.reason,
        gateway=dispute.gateway,
        gateway_reference=dispute.gateway_reference,
        evidence_due_time=timestamp(dispute.evidence_due_time),
        create_time=timestamp(dispute.create_time),
        update_time=timestamp(dispute.update_time),
    )


def method_message(method: PaymentMethod) -> resources.PaymentMethod:
    return resources.PaymentMethod(
        id=method.id,
        customer_id=method.customer_id,
        gateway=method.gateway,
        type=METHOD_TYPE[MethodType(method.type)],
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        bank_name=method.bank_name,
        account_type=method.account_type,
        verification_status=_VERIFICATION[method.verification_status],
        is_default=method.is_default,
        gateway_reference=method.gateway_reference,
        metadata=method.metadata,
        create_time=timestamp(method.create_time),
        update_time=timestamp(method.update_time),
        detach_time=timestamp(method.detach_time),
    )


def gateway_message(info: GatewayInfo) -> resources.Gateway:
    return resources.Gateway(
        name=info.name,
        display_name=info.display_name,
        kind=_KIND[info.kind],
        mode=_MODE[info.mode],
        enabled=True,
        capabilities=sorted(_CAPABILITY[c] for c in info.capabilities if c in _CAPABILITY),
        health=resources.GATEWAY_HEALTH_HEALTHY,
        currencies=sorted(info.currencies),
        payment_method_types=sorted(METHOD_TYPE[t] for t in info.method_types),
    )


def checkout_message(session: CheckoutSession) -> resources.CheckoutSession:
    status = {
        "open": resources.CHECKOUT_SESSION_STATUS_OPEN,
        "complete": resources.CHECKOUT_SESSION_STATUS_COMPLETE,
        "expired": resources.CHECKOUT_SESSION_STATUS_EXPIRED,
    }[session.status]
    return resources.CheckoutSession(
        id=session.id,
        url=session.url,
        status=status,
        expire_time=timestamp(session.expire_time),
        customer_id=session.customer_id,
        mode=resources.CHECKOUT_SESSION_MODE_PAYMENT,
        line_items=[
            resources.CheckoutLineItem(
                description=str(item["description"]),
                quantity=int(str(item["quantity"])),
                unit_amount=int(str(item["unit_amount"])),
            )
            for item in session.line_items
        ],
        currency=session.currency,
        amount_total=session.amount_total,
        success_url=session.success_url,
        cancel_url=session.cancel_url,
        payment_intent_id=session.payment_intent_id,
        gateway=session.gateway,
        metadata=session.metadata,
        create_time=timestamp(session.create_time),
        update_time=timestamp(session.update_time),
    )


def account_message(account: ConnectedAccount) -> resources.ConnectedAccount:
    return resources.ConnectedAccount(
        id=account.id,
        status=_ACCOUNT_STATUS[account.status],
        charges_enabled=account.charges_enabled,
        payouts_enabled=account.payouts_enabled,
        onboarding_url=account.onboarding_url,
        owner_ref=account.owner_ref,
        email=account.email,
        name=account.name,
        country=account.country,
        business_type=_BUSINESS_TYPE_PROTO[account.business_type],
        commission_bps=account.commission_bps,
        details_submitted=account.details_submitted,
        gateway=account.gateway,
        gateway_reference=account.gateway_reference,
        metadata=account.metadata,
        create_time=timestamp(account.create_time),
        update_time=timestamp(account.update_time),
    )


def link_message(link: AccountLink) -> resources.AccountLink:
    return resources.AccountLink(
        url=link.url,
        type=resources.ACCOUNT_LINK_TYPE_ONBOARDING
        if link.type == "onboarding"
        else resources.ACCOUNT_LINK_TYPE_DASHBOARD,
        account_id=link.account_id,
        expire_time=timestamp(link.expire_time),
        create_time=timestamp(link.create_time),
    )
