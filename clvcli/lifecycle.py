"""Lifecycle stages: new, repeat, loyal, at risk, churned (and potential).

Rules from DOMAIN.md, evaluated in this order at the as-of date; every cut-off is a
field of :class:`StageRules`, so users can tune them to their business's cadence.
The P(alive) rules apply only when a model supplied P(alive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

# numpy, pandas and pyarrow load inside assign_stages: the command line imports this
# module for the stage names, and `clv --help` should not pay for them.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

STAGES = ("potential", "new", "repeat", "loyal", "at_risk", "churned")


@dataclass(frozen=True)
class StageRules:
    """Cut-offs of the stage rules (days, purchase days and probabilities)."""

    churn_days: int = 365
    risk_days: int = 180
    loyal_orders: int = 4
    loyal_days: int = 180
    churn_p_alive: float = 0.10
    risk_p_alive: float = 0.50


def assign_stages(
    orders: np.ndarray,
    days_since_last: np.ndarray,
    days_since_first: np.ndarray,
    p_alive: np.ndarray | None = None,
    rules: StageRules = StageRules(),
) -> pd.Series:
    """The stage of each customer who bought at least once, as a text column.

    Built from small integer codes and a dictionary of the stage names, so millions
    of customers never make millions of Python strings.

    >>> import numpy as np
    >>> since_last, since_first = np.array([400, 10, 200]), np.array([400, 300, 250])
    >>> assign_stages(np.array([1, 5, 2]), since_last, since_first).tolist()
    ['churned', 'loyal', 'at_risk']
    """
    import numpy as np
    import pyarrow as pa

    churned = days_since_last > rules.churn_days
    at_risk = days_since_last > rules.risk_days
    if p_alive is not None:
        known = ~np.isnan(p_alive)
        churned = churned | (known & (p_alive < rules.churn_p_alive))
        at_risk = at_risk | (known & (p_alive < rules.risk_p_alive))
    new = orders == 1
    loyal = (orders >= rules.loyal_orders) & (days_since_first >= rules.loyal_days)
    names = ["churned", "at_risk", "new", "loyal", "repeat"]
    codes = np.select([churned, at_risk, new, loyal], [0, 1, 2, 3], default=4).astype(np.int8)
    labels = pa.DictionaryArray.from_arrays(codes, pa.array(names)).cast(pa.string())
    return labels.to_pandas()


def parse_stages(text: str) -> list[str]:
    """Stage names from ``loyal,repeat`` (also ``at-risk``); ValueError on an unknown one."""
    names = [part.strip().lower().replace("-", "_") for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in STAGES]
    if unknown or not names:
        raise ValueError(
            f"unknown stage '{(unknown or [text])[0]}'; stages are: {', '.join(STAGES)}"
        )
    return names
