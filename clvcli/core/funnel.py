"""The lifecycle funnel and how customers move through it between two dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvcli.lifecycle import STAGES

ARRIVED = "not_yet_customer"
FUNNEL_COLUMNS = ["stage", "customers", "share", "revenue", "mean_clv", "total_clv"]


def funnel(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Customers, share, revenue to date and CLV per stage, in lifecycle order.

    Every stage after ``potential`` has a row (zero when empty) so reports line up
    night after night; with ``by`` (say channel) the funnel is split per value, and
    shares are within each value.
    """
    if by is None:
        return _one_funnel(frame)
    parts = []
    for value in sorted(frame[by].unique(), key=str):
        part = _one_funnel(frame[frame[by] == value])
        part.insert(0, by, value)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _one_funnel(frame: pd.DataFrame) -> pd.DataFrame:
    grouped = frame.groupby("stage", sort=False)
    counts = grouped.size()
    stages = [s for s in STAGES if s != "potential" or s in counts.index]
    customers = np.array([int(counts.get(s, 0)) for s in stages], dtype=np.int64)
    revenue = grouped["total_spend"].sum()
    clv = grouped["total_clv"].agg(["mean", "sum"])
    return pd.DataFrame(
        {
            "stage": stages,
            "customers": customers,
            "share": customers / max(int(customers.sum()), 1),
            "revenue": [float(revenue.get(s, 0.0)) for s in stages],
            "mean_clv": [float(clv["mean"].get(s, np.nan)) for s in stages],
            "total_clv": [float(clv["sum"].get(s, 0.0)) for s in stages],
        }
    )


def transitions(earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """Counts of customers by stage then (rows) and stage now (columns).

    Customers who had not bought by the earlier date form the first row; each other
    row sums to that stage's count at the earlier date.
    """
    now = later.set_index("customer_id")["stage"]
    then = earlier.set_index("customer_id")["stage"].reindex(now.index).fillna(ARRIVED)
    stages = [s for s in STAGES if s != "potential"]
    rows = [ARRIVED, *stages]
    table = pd.crosstab(then, now).reindex(index=rows, columns=stages, fill_value=0)
    table = table.astype(np.int64)
    table["total"] = table.sum(axis=1)
    table.index.name = "from_stage"
    table.columns.name = None
    return table.reset_index()
