"""Hypothesis profiles for the fuzz tests, chosen with the CLV_FUZZ environment variable.

``ci`` (the default) keeps the whole fuzz suite to about 80 seconds on a 2-core
machine; ``CLV_FUZZ=long`` (``make fuzz``) runs every property ``CLV_FUZZ_SCALE``
(default 100) times longer: each property states its CI budget with
:func:`tests.fuzz.budget.examples`, which scales it (300 examples become 30,000), and a
property without one runs 20,000. Neither profile has a deadline: a fit may take a
second on a loaded machine, and a slow example is not a failure.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.fuzz.budget import PROFILE

_COMMON = {
    "deadline": None,
    "print_blob": True,
    # The `clv` runner is a function-scoped fixture reused across examples on purpose:
    # it re-patches the streams on every call.
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
}
# CI replays the same examples on every run (a red build is a real change, never a
# new random draw); make fuzz draws fresh ones.
settings.register_profile("clv-ci", derandomize=True, **_COMMON)
settings.register_profile("clv-long", max_examples=20_000, **_COMMON)
settings.load_profile(f"clv-{PROFILE}")
