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

from clvcli.contract import STAGES


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

    from clvcli.parallel import in_blocks

    names = ["churned", "at_risk", "new", "loyal", "repeat"]
    codes = np.empty(len(orders), dtype=np.int8)

    def fill(rows: slice) -> None:
        # Block by block: the rules' masks stay in the cache, and no column of
        # 64-bit codes is made for millions of customers at the run's peak.
        since_last = days_since_last[rows]
        churned = since_last > rules.churn_days
        at_risk = since_last > rules.risk_days
        if p_alive is not None:
            alive = p_alive[rows]
            known = ~np.isnan(alive)
            churned |= known & (alive < rules.churn_p_alive)
            at_risk |= known & (alive < rules.risk_p_alive)
        count = orders[rows]
        new = count == 1
        loyal = (count >= rules.loyal_orders) & (days_since_first[rows] >= rules.loyal_days)
        codes[rows] = np.select([churned, at_risk, new, loyal], [0, 1, 2, 3], default=4)

    in_blocks(fill, len(codes))
    # pandas keeps text as large_string: cast straight to it, with no string copy between.
    labels = pa.DictionaryArray.from_arrays(codes, pa.array(names)).cast(pa.large_string())
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
