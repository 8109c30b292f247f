"""Customers by lifecycle stage: filtering and the per-stage summary."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvcli.errors import UsageError
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


def select_customers(
    frame: pd.DataFrame,
    *,
    min_clv: float | None = None,
    channel: str | None = None,
    top: int | None = None,
    sort: str | None = None,
) -> pd.DataFrame:
    """Filter by value and channel, keep the top N by total CLV, and sort.

    Sorting is stable and ties keep customer id order; numbers sort high to low (the
    valuable first), text and dates A to Z.
    """
    if channel is not None:
        if "channel" not in frame:
            raise UsageError("--channel needs a channel column", "name it with --channel-col")
        frame = frame[frame["channel"] == channel]
    if min_clv is not None:
        frame = frame[frame["total_clv"] >= min_clv]
    if top is not None:
        frame = frame.sort_values("total_clv", ascending=False, kind="stable").head(top)
    if sort is not None:
        if sort not in frame:
            raise UsageError(
                f"--sort {sort} is not a column", "columns are: " + ", ".join(frame.columns)
            )
        numeric = pd.api.types.is_numeric_dtype(frame[sort])
        frame = frame.sort_values(sort, ascending=not numeric, kind="stable", na_position="last")
    return frame.reset_index(drop=True)


def stage_summary(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Customers, share, revenue and mean CLV per stage, in lifecycle order.

    Every stage after ``potential`` gets a row, even when empty, so scripts see the
    same rows every night; ``potential`` appears only when such customers exist. With
    ``by`` (channel), one block of rows per value, shares within it.
    """
    if by is not None:
        parts = []
        for value in sorted(frame[by].unique(), key=str):
            part = stage_summary(frame[frame[by] == value])
            part.insert(0, by, value)
            parts.append(part)
        columns = [by, *STAGE_SUMMARY_COLUMNS]
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
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
