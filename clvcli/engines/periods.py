"""The calendar aggregates of the log, as queries over a transactions relation.

Cohorts, payback and BG/BB's purchase periods each need one pass over the
transactions that groups them by calendar month (or by period since a customer's
first purchase). Each is one query here, in DuckDB's dialect, over two relations:

- ``transactions`` (customer BIGINT, day BIGINT, amount DOUBLE): one row per
  transaction, ``customer`` a code, ``day`` days since 1970-01-01;
- ``calendar`` (day, month, mday, last): every day of the log's span with its month,
  day of the month and whether it ends its month, built by the caller
  (:func:`clvcli.core.periods.calendar_days`), so that the queries count Gregorian
  and Jalali months alike without knowing either calendar;
- for payback, ``members`` (customer, grp, acquired): the customers compared, each
  with their group and acquisition month.

Money is added with DuckDB's compensated ``fsum``: a plain ``sum`` of doubles
depends on the order its threads add in, and moved a cohort's revenue by a cent
from one run to the next.

A purchase day is clv's: a customer's day whose net amount is above zero, or is
zero with no refund (see :mod:`clvcli.core.occasions`). The reader's typed arrays
are handed to DuckDB as Arrow, without a copy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from clvcli.io.readers import Transactions

Columns = Mapping[str, np.ndarray]


def _kept(last: int, end: int) -> str:
    """Common table expressions: the rows of each customer's purchase days up to day
    ``last`` (``kept``), and their first purchase day up to day ``end`` (``firsts``).

    A day is netted only where it has a refund (``voided``: those whose net is not
    above zero); a day without one is a purchase whatever its amounts, so the rest of
    the rows need no grouping by customer and day.
    """
    return f"""refunds AS (
  SELECT DISTINCT customer, day FROM transactions WHERE amount < 0 AND day <= {last}
),
voided AS (
  SELECT transactions.customer, transactions.day
  FROM transactions SEMI JOIN refunds
    ON transactions.customer = refunds.customer AND transactions.day = refunds.day
  GROUP BY transactions.customer, transactions.day HAVING sum(amount) <= 0.000001
),
kept AS (
  SELECT transactions.customer, transactions.day
  FROM transactions ANTI JOIN voided
    ON transactions.customer = voided.customer AND transactions.day = voided.day
  WHERE transactions.day <= {last}
),
firsts AS (
  SELECT customer, min(day) AS first_day FROM kept WHERE day <= {end} GROUP BY customer
)"""


def cohort_sql(*, metric: str, size: int, as_of: int) -> str:
    """Cells of the cohort table: (cohort, offset_, value), cohorts and offsets in
    periods of ``size`` months; then each cohort's customers at offset -1.

    ``retention``: customers of the cohort with a purchase day in the period;
    otherwise the net amount of the cohort's transactions in it (refunds included;
    none before the first purchase's period).
    """
    period = f"calendar.month // {size}"
    if metric == "retention":
        # A customer's cohort is the first of their periods with a purchase day.
        return f"""WITH {_kept(as_of, as_of)},
periods AS (
  SELECT DISTINCT kept.customer, {period} AS period
  FROM kept JOIN calendar ON calendar.day = kept.day
),
acquired AS (SELECT customer, min(period) AS cohort FROM periods GROUP BY customer)
SELECT acquired.cohort, periods.period - acquired.cohort AS offset_, count(*) AS value
FROM periods JOIN acquired ON periods.customer = acquired.customer
GROUP BY ALL
UNION ALL
SELECT cohort, -1, count(*) FROM acquired GROUP BY cohort
"""
    return f"""WITH {_kept(as_of, as_of)},
acquired AS (
  SELECT firsts.customer, {period} AS cohort
  FROM firsts JOIN calendar ON calendar.day = firsts.first_day
)
SELECT acquired.cohort, {period} - acquired.cohort AS offset_, fsum(transactions.amount) AS value
FROM transactions JOIN acquired ON transactions.customer = acquired.customer
JOIN calendar ON calendar.day = transactions.day
WHERE transactions.day <= {as_of} AND {period} >= acquired.cohort
GROUP BY ALL
UNION ALL
SELECT cohort, -1, count(*) FROM acquired GROUP BY cohort
"""


def payback_sql(*, as_of: int, margin: float) -> str:
    """Net margin by group and calendar month since acquisition, over a relation
    ``members`` (customer, grp, acquired: the month of the first purchase).

    Month 1 is the acquisition month; a refund booked before the first purchase
    counts in it.
    """
    return f"""SELECT members.grp, greatest(calendar.month - members.acquired + 1, 1) AS offset_,
  fsum(transactions.amount * {float(margin)!r}) AS margin
FROM transactions JOIN members ON transactions.customer = members.customer
JOIN calendar ON calendar.day = transactions.day
WHERE transactions.day <= {as_of}
GROUP BY ALL
"""


def _periods(start: str, end: str, unit: str, step: int) -> str:
    """Whole periods from calendar row ``start`` to row ``end`` (not before it), as
    :func:`clvcli.core.periods.periods_between` counts them: ``step`` days, or
    ``step`` months from anniversary to anniversary (on the month's last day when
    the month is too short for it)."""
    if unit == "days":
        return f"({end}.day - {start}.day) // {step}"
    ahead = f"CASE WHEN {start}.mday > {end}.mday AND NOT {end}.last THEN 1 ELSE 0 END"
    return f"({end}.month - {start}.month - {ahead}) // {step}"


def opportunities_sql(*, unit: str, step: int, end: int, holdout_end: int | None) -> str:
    """BG/BB's opportunities per customer with a purchase day up to ``end``.

    Opportunity k of a customer is their k-th period after the first purchase day
    (``unit``: days or months, ``step`` of them). ``x`` counts the opportunities
    from 1 with a purchase day up to ``end``, ``t_x`` is the last of them (0
    without), ``n`` the opportunities up to ``end``. With ``holdout_end``:
    ``holdout`` counts those that start after ``end`` with a purchase day up to
    ``holdout_end``, of ``span`` opportunities.
    """
    last = end if holdout_end is None else holdout_end
    holdout = ""
    if holdout_end is not None:
        holdout = """,
  greatest(any_value(n_after) - any_value(n), 0) AS span,
  count(*) FILTER (WHERE k > n) AS holdout"""
    # Each customer's first purchase day with its calendar row and their n (and
    # n_after), the calendar rows c and h being the days ``end`` and ``last``; then
    # their opportunities with a purchase day.
    return f"""WITH {_kept(last, end)},
starts AS (
  SELECT firsts.customer, s.day, s.month, s.mday, {_periods("s", "c", unit, step)} AS n,
    {_periods("s", "h", unit, step)} AS n_after
  FROM firsts JOIN calendar s ON s.day = firsts.first_day
  JOIN calendar c ON c.day = {end} JOIN calendar h ON h.day = {last}
),
opportunities AS (
  SELECT kept.customer, {_periods("s", "e", unit, step)} AS k, min(kept.day) AS day,
    any_value(s.n) AS n, any_value(s.n_after) AS n_after
  FROM kept JOIN starts s ON kept.customer = s.customer
  JOIN calendar e ON e.day = kept.day
  GROUP BY kept.customer, k
)
SELECT customer, any_value(n) AS n,
  count(*) FILTER (WHERE k >= 1 AND day <= {end}) AS x,
  coalesce(max(k) FILTER (WHERE k >= 1 AND day <= {end}), 0) AS t_x{holdout}
FROM opportunities
GROUP BY customer
"""


def aggregate(
    sql: str, transactions: Transactions, calendar: Columns, **relations: Columns
) -> dict[str, np.ndarray]:
    """The query's result as numpy columns, run by DuckDB over the transactions,
    the calendar and any other ``relations`` (columns by name)."""
    from clvcli.engines.duckdb import duckdb_session

    log = {name: getattr(transactions, name) for name in ("customer", "day", "amount")}
    tables = {"transactions": log, "calendar": calendar, **relations}
    with duckdb_session(transactions.source) as connection:
        for name, columns in tables.items():
            connection.register(name, pa.table({k: np.asarray(v) for k, v in columns.items()}))
        found = connection.execute(sql).fetchnumpy()
    return {name: np.asarray(values) for name, values in found.items()}
