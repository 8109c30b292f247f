"""Customers by lifecycle stage: filtering and the per-stage summary."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from clvcli.contract import STAGES
from clvcli.errors import InputError, UsageError


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
    if (min_clv is not None or top is not None) and not _known(frame, "total_clv"):
        option = "--min-clv" if min_clv is not None else "--top"
        raise InputError(
            f"{option} ranks customers by total CLV, and no customer has one (the input has "
            "no amounts)",
            "rank them by purchases instead: --sort expected_purchases (or --sort orders)",
        )
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


def _known(frame: pd.DataFrame, column: str) -> bool:
    """Whether any customer has a value in ``column`` (or there is no customer)."""
    return frame.empty or bool(frame[column].notna().any())


def per_stage(frame: pd.DataFrame, measures: dict[str, tuple[str, str]]) -> pd.DataFrame:
    """Customers and share per stage in lifecycle order, plus ``measures``.

    ``measures`` maps an output column to (input column, "sum" or "mean"). Every
    stage after ``potential`` gets a row, even when empty, so scripts see the same rows
    every night; ``potential`` appears only when such customers exist.
    """
    grouped = frame.groupby("stage", sort=False)
    counts = grouped.size()
    stages = [s for s in STAGES if s != "potential" or s in counts.index]
    customers = np.array([int(counts.get(s, 0)) for s in stages], dtype=np.int64)
    table: dict[str, object] = {
        "stage": stages,
        "customers": customers,
        "share": customers / max(int(customers.sum()), 1),
    }
    for name, (column, how) in measures.items():
        # A column with no known value (money of a log without amounts) sums to empty,
        # not to 0: pandas' sum of nothing but NaN is 0.
        known = bool(frame[column].notna().any())
        values = grouped[column].sum(min_count=1) if how == "sum" else grouped[column].agg(how)
        empty = 0.0 if how == "sum" and known else np.nan
        table[name] = [float(values.get(s, empty)) for s in stages]
    return pd.DataFrame(table)


def split_by(frame: pd.DataFrame, by: str | None, table: Callable[[pd.DataFrame], pd.DataFrame]):
    """``table(frame)``, or one block per value of ``by`` with that value first."""
    if by is None:
        return table(frame)
    parts = []
    for value in sorted(frame[by].unique(), key=str):
        part = table(frame[frame[by] == value])
        part.insert(0, by, value)
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[by, *table(frame).columns])
    return pd.concat(parts, ignore_index=True)


def stage_summary(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Customers, share, revenue and mean CLV per stage, in lifecycle order.

    With ``by`` (channel), one block of rows per value, shares within it.
    """
    measures = {
        "revenue": ("total_spend", "sum"),
        "mean_historical_clv": ("historical_clv", "mean"),
        "mean_total_clv": ("total_clv", "mean"),
    }
    return split_by(frame, by, lambda part: per_stage(part, measures))
