"""Discrete opportunities for BG/BB: one per calendar --period after the first purchase.

BG/BB sees each period as one chance to buy. A customer's first purchase falls in
opportunity 0; opportunity k starts on the k-th anniversary of the first purchase
(year), its k-th monthly anniversary (month), 7k days later (week) or k days later
(day), as :func:`clvcli.core.periods.periods_between` counts them, so that a gift on
1996-01-01 and one on 1997-01-01 fall in consecutive years. Opportunities 1..n follow
up to the as-of date; ``x`` counts those with at least one purchase and ``t_x`` is the
last of them (0 without repeats). The engine seam counts them
(:func:`clvcli.engines.periods.opportunities_sql`) on a calendar of the log's span.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clvcli.contract import DAYS_PER_PERIOD
from clvcli.core.periods import CALENDAR_MONTHS, FIXED_DAYS, calendar_days
from clvcli.engines.periods import aggregate, opportunities_sql
from clvcli.io.readers import Transactions


@dataclass(frozen=True)
class Opportunities:
    """Per customer code (zeros for a customer with no purchase day up to the end):
    ``x``, ``t_x`` and ``n``; with a holdout, the opportunities after the end with a
    purchase (``holdout``) and how many there were (``span``)."""

    x: np.ndarray
    t_x: np.ndarray
    n: np.ndarray
    holdout: np.ndarray | None = None
    span: np.ndarray | None = None


def opportunities(
    transactions: Transactions,
    end_day: int,
    period: str | float,
    calendar: str = "gregorian",
    *,
    holdout_end: int | None = None,
) -> Opportunities:
    """BG/BB's (x, t_x, n) per customer code, for purchases on or before ``end_day``.

    ``period`` is the model's time unit (``day``, ``week``, ``month``, ``year``), its
    months and years those of ``calendar`` (``gregorian`` or ``jalali``). With
    ``holdout_end``: the holdout's opportunities, those that start after ``end_day``,
    up to ``holdout_end``; a purchase after ``end_day`` in an opportunity that began
    before it counts in neither (calibration saw that opportunity already).
    """
    period = _period_name(period)
    if period in FIXED_DAYS:
        unit, step = "days", FIXED_DAYS[period]
    else:
        unit, step = "months", CALENDAR_MONTHS[period]
    last = end_day if holdout_end is None else max(end_day, holdout_end)
    days = calendar_days(int(transactions.day.min(initial=end_day)), last, calendar)
    sql = opportunities_sql(unit=unit, step=step, end=end_day, holdout_end=holdout_end)
    found = aggregate(sql, transactions, days)
    size = len(transactions.customer_ids)

    def per_customer(name: str) -> np.ndarray:
        values = np.zeros(size, dtype=np.int64)
        values[found["customer"]] = found[name]
        return values

    if holdout_end is None:
        return Opportunities(per_customer("x"), per_customer("t_x"), per_customer("n"))
    return Opportunities(*(per_customer(name) for name in ("x", "t_x", "n", "holdout", "span")))


def _period_name(period: str | float) -> str:
    """The period's name; a length in days (as :func:`days_per` gives) names its period,
    so that the calendar, never the length, decides where a purchase falls."""
    if isinstance(period, str):
        if period not in DAYS_PER_PERIOD:
            raise KeyError(period)
        return period
    for name, days in DAYS_PER_PERIOD.items():
        if days == period:
            return name
    raise ValueError(f"{period} days is not the length of a period")
