"""What users' scripts and files rely on, in one place: column names and their order,
stage names, model time units and the per-customer table every engine hands on.

Readers (clvcli.io), engines, the core and the reports all import these, so that a
name is written once and no layer has to reach into another for it. Light on
purpose: the command line imports it for option help, before numpy or pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

# Model time units. The field's most reported trap is mixing model time units with
# calendar months, so every conversion goes through these constants.
PERIODS = ("day", "week", "month", "year")
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
DAYS_PER_PERIOD: dict[str, float] = {
    "day": 1.0,
    "week": 7.0,
    "month": DAYS_PER_MONTH,
    "year": DAYS_PER_YEAR,
}

# The purchase models' names, as `--model` takes them, in the order they are listed
# (clvcli.models.PURCHASE_MODELS registers each under its name, in this order).
PURCHASE_MODEL_NAMES = ("bgnbd", "mbgnbd", "pnbd", "ggomnbd", "bgbb", "bgcnbd", "mbgcnbd")

# `clv summary`: the models' inputs, then what compute needs to start from a summary.
SUMMARY_COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value"]
SUMMARY_EXTRA = ["first_purchase", "last_purchase", "orders", "total_spend"]
# Not written out: each customer's sum of log times between purchase days, which the
# regularity models (BG/CNBD-k, MBG/CNBD-k) choose their k by.
LITT_COLUMN = "litt"
HOLDOUT_COLUMNS = ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]

# `clv compute`, in this order; new columns are appended, never inserted.
COMPUTE_COLUMNS = [
    "customer_id",
    "first_purchase",
    "last_purchase",
    "orders",
    "total_spend",
    "avg_order_value",
    "days_since_last",
    "frequency",
    "recency",
    "T",
    "historical_clv",
    "expected_purchases",
    "p_alive",
    "expected_avg_spend",
    "predicted_clv",
    "total_clv",
    "stage",
]
MODEL_COLUMNS = ["expected_purchases", "p_alive", "expected_avg_spend", "predicted_clv"]
# `clv compute --interval LEVEL`: after COMPUTE_COLUMNS, in this order; append-only.
INTERVAL_COLUMNS = [
    "expected_purchases_lower",
    "expected_purchases_upper",
    "predicted_clv_lower",
    "predicted_clv_upper",
]

# Lifecycle stages, in the order a customer moves through them.
STAGES = ("potential", "new", "repeat", "loyal", "at_risk", "churned")


def days_per(period: str) -> float:
    """Days in one model time unit; raises KeyError for an unknown unit."""
    return DAYS_PER_PERIOD[period]


@dataclass
class CustomerTable:
    """One row per customer who bought at least once, with the warnings raised."""

    frame: pd.DataFrame
    as_of: int
    period: str
    warnings: list[str] = field(default_factory=list)
    codes: np.ndarray | None = None  # each row's customer code in the transactions
    # False for a log with no amount column: the money columns are NaN (empty).
    has_amount: bool = True


def as_seconds(days: np.ndarray) -> np.ndarray:
    """Days since 1970 as datetime64[s], the unit pandas keeps, converted in place:
    as datetime64[D] pandas would copy them once more."""
    days *= 86_400
    return days.view("datetime64[s]")
