"""The gRPC server of the internal payments platform service."""
