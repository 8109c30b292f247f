"""The lifecycle funnel and how customers move through it between two dates."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvcli.contract import STAGES
from clvcli.core.segments import per_stage, split_by

POTENTIAL = "potential"

ARRIVED = "not_yet_customer"

# The columns of the compute table :func:`funnel` reads (with the one it splits by).
FUNNEL_READS = ("stage", "total_spend", "total_clv")


def funnel(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Customers, share, revenue to date and CLV per stage, in lifecycle order.

    Every stage after ``potential`` has a row (zero when empty) so reports line up
    night after night; with ``by`` (say channel) the funnel is split per value, and
    shares are within each value.
    """
    measures = {
        "revenue": ("total_spend", "sum"),
        "mean_clv": ("total_clv", "mean"),
        "total_clv": ("total_clv", "sum"),
    }
    return split_by(frame, by, lambda part: per_stage(part, measures))


def transitions(earlier: pd.DataFrame, later: pd.DataFrame) -> pd.DataFrame:
    """Counts of customers by stage then (rows) and stage now (columns).

    Customers who had not bought by the earlier date (and were not listed as
    prospects) form the first row; each other row sums to that stage's count at the
    earlier date. ``potential`` appears when a customer list brought prospects.
    """
    now = later.set_index("customer_id")["stage"]
    then = earlier.set_index("customer_id")["stage"].reindex(now.index).fillna(ARRIVED)
    seen = set(then) | set(now)
    stages = [s for s in STAGES if s != POTENTIAL or s in seen]
    rows = [ARRIVED, *stages]
    table = pd.crosstab(then, now).reindex(index=rows, columns=stages, fill_value=0)
    table = table.astype(np.int64)
    table["total"] = table.sum(axis=1)
    table.index.name = "from_stage"
    table.columns.name = None
    return table.reset_index()
