"""Suite-wide test configuration.

One hypothesis profile for every property test: CI runs on two shared, noisy cores, so
no example has a deadline (a slow example is not a failing one) and the too-slow health
check is off. Tests set no per-test deadlines; a test that needs fewer examples for
its cost says so with `max_examples` alone.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "leadflow",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("leadflow")
