"""One servicer per service: parse and validate the request, call the domain once,
convert the result back. No SQL, no SDK, no try/except (the interceptor maps errors)."""
