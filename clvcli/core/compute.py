"""`clv compute`: one row per customer with historical and predicted CLV and stage.

The predictive columns stay empty (NaN) until a model is chosen; historical CLV and
the day rules of the lifecycle need no model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from clvcli.core.summary import customer_table
from clvcli.errors import UsageError
from clvcli.io.readers import Transactions
from clvcli.lifecycle import StageRules, assign_stages

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
MODELS = ("none", "bgnbd", "mbgnbd", "pnbd", "bgbb")


@dataclass(frozen=True)
class ComputeSettings:
    """Everything `compute` needs besides the transactions."""

    as_of: int | None = None
    period: str = "day"
    margin: float = 1.0
    model: str = "none"
    rules: StageRules = field(default_factory=StageRules)


@dataclass
class CustomerValues:
    """The compute table and what the run should tell the user."""

    frame: pd.DataFrame
    as_of: int
    warnings: list[str]


def check_margin(margin: float) -> float:
    if not 0.0 <= margin <= 1.0 or np.isnan(margin):
        raise UsageError(
            f"--margin {margin} is outside 0..1", "give the gross margin as 0.3 or 30%"
        )
    return margin


def compute_clv(transactions: Transactions, settings: ComputeSettings) -> CustomerValues:
    """Summary columns, historical CLV, (empty) model columns and the stage."""
    check_margin(settings.margin)
    if settings.model != "none":
        raise UsageError(
            f"--model {settings.model} is not available in this version",
            "use --model none (historical CLV and day-rule stages)",
        )
    table = customer_table(transactions, as_of=settings.as_of, period=settings.period)
    frame = table.frame
    frame["historical_clv"] = frame["total_spend"] * settings.margin
    for column in MODEL_COLUMNS:
        frame[column] = np.nan
    frame["total_clv"] = frame["historical_clv"]
    days_since_first = (
        np.datetime64(table.as_of, "D") - frame["first_purchase"].to_numpy(dtype="datetime64[D]")
    ).astype(np.int64)
    frame["stage"] = assign_stages(
        frame["orders"].to_numpy(),
        frame["days_since_last"].to_numpy(),
        days_since_first,
        None,
        settings.rules,
    )
    columns = COMPUTE_COLUMNS + (["channel"] if "channel" in frame else [])
    return CustomerValues(frame[columns], table.as_of, transactions.warnings + table.warnings)
