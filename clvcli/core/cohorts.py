"""Acquisition cohorts: who keeps buying, and what a customer brings, month by month.

A customer's cohort is the month (or quarter) of their first purchase, in the
Gregorian or the Jalali calendar. Column k holds, for months since acquisition
k = 0, 1, 2, ...: the share of the cohort that bought in that month (retention), or
the cumulative net revenue (or margin) per acquired customer. Cells a cohort has not
reached by the as-of date stay empty.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvcli.core.keys import distinct, small_range_codes
from clvcli.core.occasions import purchase_occasions
from clvcli.core.summary import resolve_as_of
from clvcli.errors import InputError, UsageError
from clvcli.io import jalali
from clvcli.io.readers import Transactions

METRICS = ("retention", "revenue", "margin")
GRAINS = ("month", "quarter")


def month_index(days: np.ndarray, calendar: str) -> np.ndarray:
    """Months since year 0 of each day, in the Gregorian or Jalali calendar."""
    days = np.asarray(days, dtype=np.int64)
    if calendar == "jalali":
        year, month, _ = jalali.from_days(days)
        return year * 12 + month - 1
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months + 1970 * 12


def period_label(index: np.ndarray, grain: str) -> np.ndarray:
    """``2024-03`` or ``2024-Q1`` (Jalali years alike) for month indices."""
    year, month = np.divmod(np.asarray(index, dtype=np.int64), 12)
    if grain == "quarter":
        return np.array([f"{y:04d}-Q{m // 3 + 1}" for y, m in zip(year, month, strict=True)])
    return np.array([f"{y:04d}-{m + 1:02d}" for y, m in zip(year, month, strict=True)])


def cohort_table(
    transactions: Transactions,
    *,
    metric: str = "retention",
    grain: str = "month",
    calendar: str = "gregorian",
    margin: float = 1.0,
    as_of: int | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per cohort: its label, customers acquired, and a column per period since."""
    if metric not in METRICS:
        raise UsageError(f"--metric {metric} is not one of: {', '.join(METRICS)}")
    if grain not in GRAINS:
        raise UsageError(f"--cohort {grain} is not one of: {', '.join(GRAINS)}")
    if metric != "retention" and not transactions.has_amount:
        raise InputError(
            f"{transactions.source}: --metric {metric} needs amounts, and the log has no "
            "amount column",
            "name the amount column with --amount-col, or use --metric retention",
        )
    transactions, as_of, warnings = resolve_as_of(transactions, as_of)
    occasions = purchase_occasions(transactions)
    if len(occasions.day) == 0:
        raise InputError(f"{transactions.source}: no purchases", None)
    size = 3 if grain == "quarter" else 1
    n = len(transactions.customer_ids)
    first_day = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_day, occasions.customer, occasions.day)
    buyers = first_day < np.iinfo(np.int64).max
    start = np.zeros(n, dtype=np.int64)
    start[buyers] = month_index(first_day[buyers], calendar) // size
    end = int(month_index(np.array([as_of]), calendar)[0]) // size
    cohorts, cohort_of = small_range_codes(start[buyers])
    code = np.full(n, -1)
    code[np.flatnonzero(buyers)] = cohort_of
    acquired = np.bincount(cohort_of, minlength=len(cohorts)).astype(np.float64)
    width = end - int(cohorts.min()) + 1
    if metric == "retention":
        offset = month_index(occasions.day, calendar) // size - start[occasions.customer]
        keys = distinct(occasions.customer * width + offset)
        who, when = keys // width, keys % width
        cells = np.zeros((len(cohorts), width))
        np.add.at(cells, (code[who], when), 1.0)
        values = cells / acquired[:, None]
    else:
        rows = buyers[transactions.customer]
        customer = transactions.customer[rows]
        offset = month_index(transactions.day[rows], calendar) // size - start[customer]
        keep = offset >= 0
        cells = np.zeros((len(cohorts), width))
        np.add.at(cells, (code[customer[keep]], offset[keep]), transactions.amount[rows][keep])
        scale = margin if metric == "margin" else 1.0
        values = np.cumsum(cells, axis=1) * scale / acquired[:, None]
    reached = (end - cohorts)[:, None] >= np.arange(width)[None, :]
    values = np.where(reached, values, np.nan)
    frame = pd.DataFrame(values, columns=[str(k) for k in range(width)])
    frame.insert(0, "customers", acquired.astype(np.int64))
    frame.insert(0, "cohort", period_label(cohorts * size, grain))
    return frame, warnings
