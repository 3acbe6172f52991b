"""The webhook relay's domain: endpoints, the outbox's deliveries, inbound gateway events."""
