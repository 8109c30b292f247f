"""Discrete opportunities for BG/BB: one per --period after the first purchase.

BG/BB sees each period as one chance to buy. A customer's first purchase falls in
opportunity 0; opportunities 1..n follow up to the as-of date; ``x`` counts those
with at least one purchase and ``t_x`` is the last of them (0 without repeats).
"""

from __future__ import annotations

import numpy as np

from clvcli.core.keys import distinct
from clvcli.core.occasions import Occasions


def opportunity_rows(
    occasions: Occasions, first_day: np.ndarray, end_day: int, unit_days: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x, n) per customer code, for purchases on or before ``end_day``.

    ``first_day`` holds each customer's first purchase day (by code).
    """
    n_customers = len(first_day)
    keep = occasions.day <= end_day
    customer = occasions.customer[keep]
    index = np.floor((occasions.day[keep] - first_day[customer]) / unit_days).astype(np.int64)
    x, t_x = _distinct_opportunities(customer, index, n_customers, lower=1)
    n = np.floor((end_day - first_day) / unit_days).astype(np.int64)
    return x, t_x, np.maximum(n, 0)


def holdout_opportunities(
    occasions: Occasions,
    first_day: np.ndarray,
    calibration_end: int,
    end_day: int,
    unit_days: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Opportunities with a purchase after calibration, and how many there were."""
    n_before = np.floor((calibration_end - first_day) / unit_days).astype(np.int64)
    n_after = np.floor((end_day - first_day) / unit_days).astype(np.int64)
    keep = (occasions.day > calibration_end) & (occasions.day <= end_day)
    customer = occasions.customer[keep]
    index = np.floor((occasions.day[keep] - first_day[customer]) / unit_days).astype(np.int64)
    above = index > n_before[customer]
    count, _ = _distinct_opportunities(customer[above], index[above], len(first_day), lower=1)
    return count, np.maximum(n_after - n_before, 0)


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
