"""Prometheus metrics of the gRPC server and the relay, served on the relay's ``/metrics``.

Each process keeps its own registry, so tests and several in-process servers never
share counters by accident.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.rpcs = Counter(
            "isa_grpc_requests",
            "gRPC calls handled, by method and status code",
            ["method", "code"],
            registry=self.registry,
        )
        self.rpc_latency = Histogram(
            "isa_grpc_request_seconds",
            "gRPC call latency in seconds, by method",
            ["method"],
            registry=self.registry,
        )
        self.store_up = Gauge(
            "isa_store_up", "1 while the store answers, 0 while it does not", registry=self.registry
        )
        self.http_requests = Counter(
            "isa_relay_http_requests",
            "relay HTTP requests, by route and status",
            ["route", "status"],
            registry=self.registry,
        )

        self.inbound = Counter(
            "isa_relay_inbound_webhooks",
            "inbound gateway webhooks, by gateway and outcome "
            "(received, verified, rejected, duplicate, too_large)",
            ["gateway", "outcome"],
            registry=self.registry,
        )
        self.apply_failures = Counter(
            "isa_relay_gateway_event_apply_failures",
            "gateway events whose application failed, by gateway",
            ["gateway"],
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "isa_relay_outbox_depth",
            "events not yet fanned out plus deliveries still pending",
            registry=self.registry,
        )
        self.delivery_attempts = Counter(
            "isa_relay_delivery_attempts",
            "outbound delivery attempts, by outcome (succeeded, retrying, failed, gone)",
            ["outcome"],
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "isa_relay_delivery_seconds",
            "outbound delivery attempt latency in seconds",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
