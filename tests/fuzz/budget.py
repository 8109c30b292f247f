"""How many examples each property runs: its CI budget, scaled by the profile.

``CLV_FUZZ=long`` multiplies every budget by ``CLV_FUZZ_SCALE`` (default 100), so
a property that runs 300 examples in CI runs 30,000 under ``make fuzz``.
"""

from __future__ import annotations

import os

PROFILE = os.environ.get("CLV_FUZZ", "ci").strip().lower() or "ci"
if PROFILE not in ("ci", "long"):
    raise RuntimeError(f"CLV_FUZZ={PROFILE!r}: use ci or long")
SCALE = int(os.environ.get("CLV_FUZZ_SCALE", "100")) if PROFILE == "long" else 1


def examples(ci: int) -> int:
    """The number of examples for a property whose CI budget is ``ci``."""
    return ci * SCALE
