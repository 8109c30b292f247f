"""Acquisition cohorts: who keeps buying, and what a customer brings, month by month.

A customer's cohort is the month (or quarter) of their first purchase, in the
Gregorian or the Jalali calendar. Column k holds, for months since acquisition
k = 0, 1, 2, ...: the share of the cohort that bought in that month (retention), or
the cumulative net revenue (or margin) per acquired customer. Cells a cohort has not
reached by the as-of date stay empty.

The period holding the as-of date is not over unless the as-of date is its last
day: its cells (the last filled cell of every row) count only part of it, so its
retention and revenue look lower than they will be. The table says so in its last
column, ``partial`` (true when each row's last filled cell is such a period), and
:func:`partial_cells` gives those cells for tables and charts to mark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clvcli.core.periods import calendar_days
from clvcli.core.summary import resolve_as_of
from clvcli.engines import NotClean
from clvcli.engines.periods import aggregate, cohort_sql
from clvcli.errors import InputError, UsageError
from clvcli.io.dates import month_index
from clvcli.io.readers import Transactions

if TYPE_CHECKING:
    from clvcli.core.log import EngineLog

METRICS = ("retention", "revenue", "margin")
GRAINS = ("month", "quarter")
# Columns of a cohort table that are not periods since acquisition.
LABEL_COLUMNS = ("cohort", "customers", "partial")


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
    _check(metric, grain, transactions.has_amount, transactions.source)
    transactions, as_of, warnings = resolve_as_of(transactions, as_of)
    frame = cohort_frame(
        lambda sql, days: aggregate(sql, transactions, days),
        source=transactions.source,
        first=min(int(transactions.day.min()), as_of),
        as_of=as_of,
        metric=metric,
        grain=grain,
        calendar=calendar,
        margin=margin,
    )
    return frame, warnings


def log_cohort_table(
    log: EngineLog,
    *,
    metric: str = "retention",
    grain: str = "month",
    calendar: str = "gregorian",
    margin: float = 1.0,
) -> pd.DataFrame | None:
    """:func:`cohort_table` of a log its engine reads as it is, up to its last day,
    the cells computed by the engine over the log's files; None when the reader is
    needed."""
    _check(metric, grain, True, log.path)
    try:
        first, last = log.span()
        return cohort_frame(
            log.aggregate,
            source=log.path,
            first=first,
            as_of=last,
            metric=metric,
            grain=grain,
            calendar=calendar,
            margin=margin,
        )
    except NotClean:
        return None


def _check(metric: str, grain: str, has_amount: bool, source: str) -> None:
    if metric not in METRICS:
        raise UsageError(f"--metric {metric} is not one of: {', '.join(METRICS)}")
    if grain not in GRAINS:
        raise UsageError(f"--cohort {grain} is not one of: {', '.join(GRAINS)}")
    if metric != "retention" and not has_amount:
        raise InputError(
            f"{source}: --metric {metric} needs amounts, and the log has no amount column",
            "name the amount column with --amount-col, or use --metric retention",
        )


def cohort_frame(
    run: Callable[[str, dict[str, np.ndarray]], dict[str, np.ndarray]],
    *,
    source: str,
    first: int,
    as_of: int,
    metric: str,
    grain: str,
    calendar: str,
    margin: float,
) -> pd.DataFrame:
    """The cohort table from the cells ``run(query, calendar)`` gives (the query of
    :func:`clvcli.engines.periods.cohort_sql` over the transactions and the calendar
    from ``first`` to ``as_of``)."""
    size = 3 if grain == "quarter" else 1
    days = calendar_days(first, as_of, calendar)
    found = run(cohort_sql(metric=metric, size=size, as_of=as_of), days)
    cohort, offset, value = found["cohort"], found["offset_"], found["value"]
    sizes = offset < 0
    if not sizes.any():
        raise InputError(f"{source}: no purchases", None)
    # A cell may come in parts (an engine counts a large log a range of customers at
    # a time): each cohort's size and each cell are the sums of their parts.
    cohorts, part_of = np.unique(cohort[sizes], return_inverse=True)
    acquired = np.bincount(part_of, weights=value[sizes], minlength=len(cohorts))
    end = int(month_index(np.array([as_of]), calendar)[0]) // size
    width = end - int(cohorts[0]) + 1
    cells = np.zeros((len(cohorts), width))
    np.add.at(cells, (np.searchsorted(cohorts, cohort[~sizes]), offset[~sizes]), value[~sizes])
    if metric == "retention":
        values = cells / acquired[:, None]
    else:
        scale = margin if metric == "margin" else 1.0
        values = np.cumsum(cells, axis=1) * scale / acquired[:, None]
    reached = (end - cohorts)[:, None] >= np.arange(width)[None, :]
    values = np.where(reached, values, np.nan)
    frame = pd.DataFrame(values, columns=[str(k) for k in range(width)])
    frame.insert(0, "customers", acquired.astype(np.int64))
    frame.insert(0, "cohort", period_label(cohorts * size, grain))
    frame["partial"] = is_partial(as_of, calendar=calendar, grain=grain)
    return frame


def is_partial(as_of: int, *, calendar: str = "gregorian", grain: str = "month") -> bool:
    """Whether the month (or quarter) holding ``as_of`` goes on after it.

    It does unless the next day starts a new period: 2024-06-15 is within June,
    2024-06-30 ends it (the Jalali calendar alike).
    """
    size = 3 if grain == "quarter" else 1
    today, tomorrow = month_index(np.array([as_of, as_of + 1]), calendar) // size
    return bool(today == tomorrow)


def period_columns(frame: pd.DataFrame) -> list[str]:
    """The columns of a cohort table that are periods since acquisition (0, 1, ...)."""
    return [str(c) for c in frame.columns if c not in LABEL_COLUMNS]


def partial_cells(frame: pd.DataFrame) -> np.ndarray:
    """A mask over the period columns: the cells of a period not over by the as-of date.

    Each row's last filled cell is in the period of the as-of date; it is partial
    when the table's ``partial`` column says so.
    """
    periods = period_columns(frame)
    filled = frame[periods].notna().to_numpy()
    mask = np.zeros(filled.shape, dtype=bool)
    if "partial" not in frame.columns or not filled.size:
        return mask
    last = filled.shape[1] - 1 - np.argmax(filled[:, ::-1], axis=1)
    rows = np.flatnonzero(filled.any(axis=1) & frame["partial"].to_numpy(dtype=bool))
    mask[rows, last[rows]] = True
    return mask
