"""Customers by lifecycle stage: filtering and the per-stage summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvcli.lifecycle import STAGES

STAGE_SUMMARY_COLUMNS = [
    "stage",
    "customers",
    "share",
    "revenue",
    "mean_historical_clv",
    "mean_total_clv",
]


def filter_stages(frame: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    """The customers in any of ``stages``, in the frame's order."""
    return frame[frame["stage"].isin(stages)].reset_index(drop=True)


def stage_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Customers, share, revenue and mean CLV per stage, in lifecycle order.

    Every stage after ``potential`` gets a row, even when empty, so scripts see the
    same rows every night; ``potential`` appears only when such customers exist.
    """
    grouped = frame.groupby("stage", sort=False)
    counts = grouped.size()
    revenue = grouped["total_spend"].sum()
    historical = grouped["historical_clv"].mean()
    total = grouped["total_clv"].mean()
    stages = [s for s in STAGES if s != "potential" or s in counts.index]
    customers = np.array([int(counts.get(s, 0)) for s in stages], dtype=np.int64)
    all_customers = max(int(customers.sum()), 1)
    return pd.DataFrame(
        {
            "stage": stages,
            "customers": customers,
            "share": customers / all_customers,
            "revenue": [float(revenue.get(s, 0.0)) for s in stages],
            "mean_historical_clv": [float(historical.get(s, np.nan)) for s in stages],
            "mean_total_clv": [float(total.get(s, np.nan)) for s in stages],
        }
    )
