"""Discrete opportunities for BG/BB: one per calendar --period after the first purchase.

BG/BB sees each period as one chance to buy. A customer's first purchase falls in
opportunity 0; opportunity k starts on the k-th anniversary of the first purchase
(year), its k-th monthly anniversary (month), 7k days later (week) or k days later
(day), as :func:`clvcli.core.periods.periods_between` counts them, so that a gift on
1996-01-01 and one on 1997-01-01 fall in consecutive years. Opportunities 1..n follow
up to the as-of date; ``x`` counts those with at least one purchase and ``t_x`` is the
last of them (0 without repeats).
"""

from __future__ import annotations

import numpy as np

from clvcli.contract import DAYS_PER_PERIOD
from clvcli.core.keys import distinct
from clvcli.core.occasions import Occasions
from clvcli.core.periods import periods_between


def opportunity_rows(
    occasions: Occasions,
    first_day: np.ndarray,
    end_day: int,
    period: str | float,
    calendar: str = "gregorian",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, n) per customer code, for purchases on or before ``end_day``.

    ``first_day`` holds each customer's first purchase day (by code); ``period`` is
    the model's time unit (``day``, ``week``, ``month``, ``year``), its months and
    years those of ``calendar`` (``gregorian`` or ``jalali``).
    """
    period = _period_name(period)
    n_customers = len(first_day)
    keep = occasions.day <= end_day
    customer = occasions.customer[keep]
    index = periods_between(first_day[customer], occasions.day[keep], period, calendar)
    x, t_x = _distinct_opportunities(customer, index, n_customers, lower=1)
    n = periods_between(first_day, end_day, period, calendar)
    return x, t_x, np.maximum(n, 0)


def holdout_opportunities(
    occasions: Occasions,
    first_day: np.ndarray,
    calibration_end: int,
    end_day: int,
    period: str | float,
    calendar: str = "gregorian",
) -> tuple[np.ndarray, np.ndarray]:
    """Opportunities with a purchase after calibration, and how many there were.

    The holdout's opportunities are those that start after the calibration end, up
    to ``end_day``; a purchase after the calibration end in an opportunity that began
    before it counts in neither (calibration saw that opportunity already).
    """
    period = _period_name(period)
    n_before = periods_between(first_day, calibration_end, period, calendar)
    n_after = periods_between(first_day, end_day, period, calendar)
    keep = (occasions.day > calibration_end) & (occasions.day <= end_day)
    customer = occasions.customer[keep]
    index = periods_between(first_day[customer], occasions.day[keep], period, calendar)
    above = index > n_before[customer]
    count, _ = _distinct_opportunities(customer[above], index[above], len(first_day), lower=1)
    return count, np.maximum(n_after - n_before, 0)


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


def _distinct_opportunities(
    customer: np.ndarray, index: np.ndarray, n_customers: int, *, lower: int
) -> tuple[np.ndarray, np.ndarray]:
    valid = index >= lower
    customer, index = customer[valid], index[valid]
    if len(customer) == 0:
        zeros = np.zeros(n_customers, dtype=np.int64)
        return zeros, zeros.copy()
    width = int(index.max()) + 1
    keys = distinct(customer * width + index)  # sorted as the occasions are: one pass
    owners = keys // width
    count = np.bincount(owners, minlength=n_customers)
    # Keys are sorted, so each owner's last key holds its latest opportunity.
    ends = np.flatnonzero(np.r_[owners[1:] != owners[:-1], True])
    last = np.zeros(n_customers, dtype=np.int64)
    last[owners[ends]] = keys[ends] % width
    return count, last
