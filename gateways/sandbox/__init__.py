"""The built-in simulator: Stripe test mode's behaviours with no credentials."""

from gateways.sandbox.gateway import FailureKind, SandboxConfig, SandboxGateway

__all__ = ["FailureKind", "SandboxConfig", "SandboxGateway"]
