"""Contractual retention: how long subscribers stay, and what the base is worth.

A library without the CLI: :class:`Lifetimes` holds who stayed how many renewal
periods (from a cohort table or one row per subscriber); :class:`ShiftedBetaGeometric`
and :class:`BetaDiscreteWeibull` fit them and project survival, retention, renewal
probabilities and discounted expected residual lifetimes.
"""

from __future__ import annotations

from clvcli.retention.lifetimes import CohortCountError, Lifetimes
from clvcli.retention.models import (
    BetaDiscreteWeibull,
    NotFittedError,
    RetentionModel,
    ShiftedBetaGeometric,
)

RETENTION_MODELS: dict[str, type[RetentionModel]] = {
    ShiftedBetaGeometric.name: ShiftedBetaGeometric,
    BetaDiscreteWeibull.name: BetaDiscreteWeibull,
}

__all__ = [
    "RETENTION_MODELS",
    "BetaDiscreteWeibull",
    "CohortCountError",
    "Lifetimes",
    "NotFittedError",
    "RetentionModel",
    "ShiftedBetaGeometric",
]
