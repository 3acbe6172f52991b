"""The HTTP relay: gateway webhooks in, signed consumer callbacks out."""
