"""``make bench``: the service's benchmark harness (TESTING.md, "The benchmark").

One run starts ``isa serve`` as users run it, drives it from a separate load process and
prints every figure side by side with its same-run baseline, so that a noisy machine
cannot fake a trend.
"""
