"""Tables of the webhook relay: endpoints, deliveries and their attempts, inbound gateway events.

Integrity lives here: a gateway's event id is unique per gateway (the dedup key of
inbound webhooks), an outbox event is fanned out once (its primary key in
``webhook_event_fanouts``), and every delivery/gateway event carries its own lease so
that any number of workers share the work without doing anything twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from store.models import Base, UTCDateTime


class WebhookEndpointRow(Base):
    """A consumer URL of one client, with its signing secret(s) and subscriptions."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(2048))
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    previous_secret_expire_time: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), nullable=True
    )
    event_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    forward_gateway_events: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))
    disabled_reason: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(String(500), default="")
    metadata_: Mapped[dict[str, str]] = mapped_column("metadata", JSON, default=dict)
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_webhook_endpoints_client_id_id", "client_id", "id"),)


class WebhookEventFanoutRow(Base):
    """Marks an outbox event whose deliveries were created (once: the primary key)."""

    __tablename__ = "webhook_event_fanouts"

    event_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class WebhookDeliveryRow(Base):
    """One event to one endpoint; a worker holds it while ``lease_until`` is ahead."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    endpoint_id: Mapped[str] = mapped_column(String(40))
    event_id: Mapped[str] = mapped_column(String(40))
    event_type: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_webhook_deliveries_status_next_attempt_time", "status", "next_attempt_time"),
        Index("ix_webhook_deliveries_client_id_id", "client_id", "id"),
        Index("ix_webhook_deliveries_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_event_id_id", "event_id", "id"),
    )


class WebhookDeliveryAttemptRow(Base):
    """One HTTP attempt of a delivery: when, what came back, how long it took."""

    __tablename__ = "webhook_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(40), index=True)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    response_code: Mapped[int] = mapped_column(Integer, default=0)
    latency_ms: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")


class GatewayCursorRow(Base):
    """How far the relay has applied a provider's event stream (Plaid's event sync)."""

    __tablename__ = "gateway_cursors"

    gateway: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class GatewayEventRow(Base):
    """An inbound gateway webhook, verified and stored raw; unique per provider event id."""

    __tablename__ = "gateway_events"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    gateway: Mapped[str] = mapped_column(String(20))
    gateway_event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    payload: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text, default="")
    resource_id: Mapped[str] = mapped_column(String(64), default="")
    client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    process_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    forwarded: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    update_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("gateway", "gateway_event_id"),
        Index("ix_gateway_events_status_next_attempt_time", "status", "next_attempt_time"),
        Index("ix_gateway_events_gateway_id", "gateway", "id"),
    )
