"""Per-customer RFM summary: the input of every model and of historical CLV.

Field convention (Fader, Hardie and Lee): ``frequency`` is the number of repeat
purchase occasions, ``recency`` the time from first to last occasion, ``T`` the time
from first occasion to the end of observation, both in model time units, and
``monetary_value`` the mean value of the repeat occasions (0 without repeats).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from clvcli.contract import LITT_COLUMN, CustomerTable, as_seconds, days_per
from clvcli.core.money import money_scale, sums_by_group
from clvcli.core.occasions import Occasions, purchase_occasions
from clvcli.errors import InputError, UsageError
from clvcli.io.readers import Transactions, id_column


def resolve_as_of(
    transactions: Transactions, as_of: int | None
) -> tuple[Transactions, int, list[str]]:
    """The observation end, and the transactions on or before it.

    Default: the last date in the data, so one file always gives one answer.
    """
    last = int(transactions.day.max())
    if as_of is None:
        return transactions, last, []
    first = int(transactions.day.min())
    if as_of < first:
        raise UsageError(
            f"--as-of {_iso(as_of)} is before the first transaction ({_iso(first)})",
            "give a date inside the data",
        )
    later = transactions.day > as_of
    if not later.any():
        return transactions, as_of, []
    count = int(later.sum())
    note = f"{transactions.source}: ignored {count} transactions after --as-of {_iso(as_of)}"
    return transactions.select(~later), as_of, [note]


def customer_table(
    transactions: Transactions,
    *,
    as_of: int | None = None,
    period: str = "day",
    consume: bool = False,
) -> CustomerTable:
    """Summarise every customer: dates, orders, spend, frequency, recency, T.

    Built for buyers only, one fresh array per column: at millions of customers each
    per-customer array is tens of megabytes, so none is made for everyone and then cut.
    With ``consume``, the caller is done with ``transactions``: their rows are
    dropped (:meth:`Transactions.release_rows`) as soon as they are summed up, so
    that millions of rows and the table are never held at once.
    """
    unit = days_per(period)
    given = transactions
    transactions, as_of, warnings = resolve_as_of(transactions, as_of)
    if consume and transactions is not given:
        given.release_rows()  # the rows up to --as-of are a copy
    del given
    source = transactions.source
    occasions = purchase_occasions(transactions)
    if not len(occasions.customer):
        raise InputError(
            f"{source}: no purchases (every day's net amount is zero or negative)",
            "amounts of purchases must be positive; negative amounts are refunds",
        )
    ids = transactions.customer_ids
    n = len(ids)
    starts, orders = _runs(occasions.customer, occasions.starts)
    buyers = occasions.customer[starts]  # sorted codes of the customers who bought
    everyone = len(buyers) == n  # then the buyers' codes are 0..n-1: no gathering
    refund_only = _customers_with_rows(transactions, n) - len(buyers)
    warnings += refund_only_warnings(source, refund_only)
    has_amount = transactions.has_amount
    # One scale for every sum of the log's money, as DuckDB's summary has.
    scale = money_scale(transactions.amount)
    spend = sums_by_group(transactions.customer, transactions.amount, n, scale)
    spend = spend if everyone else spend[buyers]
    if not has_amount:
        spend[:] = np.nan  # counted purchases, unknown money
    channel = None
    if transactions.channel is not None:
        channel = _first_channel(transactions, n)[buyers]
    if consume:
        transactions.release_rows()
    del transactions
    first = occasions.day[starts]
    last = occasions.day[starts + orders - 1]
    frequency = orders - 1
    litt = log_inter_purchase_times(occasions, n, unit)
    litt = litt if everyone else litt[buyers]
    repeat_total = sums_by_group(occasions.customer, occasions.value, n, scale)
    repeat_total = repeat_total if everyone else repeat_total[buyers]
    repeat_total -= occasions.value[starts]
    del occasions, starts
    monetary = np.divide(repeat_total, frequency, out=np.zeros(len(buyers)), where=frequency > 0)
    if not has_amount:
        monetary[:] = np.nan
    del repeat_total
    ids = ids if everyone else _take(ids, buyers)
    columns = {
        "customer_id": id_column(ids),
        "orders": orders,
        "total_spend": spend,
        "avg_order_value": spend / orders,
        "days_since_last": as_of - last,
        "frequency": frequency,
        "recency": (last - first) / unit,
        "T": (as_of - first) / unit,
        "monetary_value": monetary,
        LITT_COLUMN: litt,
    }
    frame = pd.DataFrame(
        {
            "customer_id": columns.pop("customer_id"),
            "first_purchase": as_seconds(first),
            "last_purchase": as_seconds(last),
            **columns,
        },
        # The columns are fresh arrays: no copy into pandas' 2-D blocks, which at
        # millions of customers costs a second and the table's size in memory again.
        copy=False,
    )
    if channel is not None:
        frame["channel"] = channel
    return CustomerTable(frame, as_of, period, warnings, buyers, has_amount)


def litt_of(frame: pd.DataFrame) -> np.ndarray | None:
    """The customers' sums of log inter-purchase times, when the table has them (a
    summary read from a file does not)."""
    return frame[LITT_COLUMN].to_numpy(np.float64) if LITT_COLUMN in frame else None


def log_inter_purchase_times(occasions: Occasions, n: int, unit: float) -> np.ndarray:
    """Each customer's sum of the logs of their times between purchase days, in model
    time units (0 without a repeat purchase): what the regularity models (BG/CNBD-k)
    need of the purchase days beyond frequency, recency and T."""
    customer, day = occasions.customer, occasions.day
    if len(customer) < 2:
        return np.zeros(n)
    same = customer[1:] == customer[:-1]
    gaps = np.diff(day)[same].astype(np.float64) / unit
    return np.bincount(customer[1:][same], weights=np.log(gaps), minlength=n)


def _runs(codes: np.ndarray, known: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of equal sorted codes starts (``known``, if given), and its length."""
    if known is not None:
        return known, np.diff(known, append=len(codes))
    change = np.empty(len(codes), dtype=bool)
    change[0] = True
    np.not_equal(codes[1:], codes[:-1], out=change[1:])
    starts = np.flatnonzero(change)
    del change
    return starts, np.diff(starts, append=len(codes))


def _customers_with_rows(transactions: Transactions, n: int) -> int:
    """How many customer codes have at least one transaction left."""
    seen = np.zeros(n, dtype=bool)
    seen[transactions.customer] = True
    return int(np.count_nonzero(seen))


def _take(ids: Any, codes: np.ndarray) -> Any:
    """The ids at ``codes`` (an Arrow array or a numpy array of str)."""
    return ids.take(pa.array(codes)) if isinstance(ids, pa.Array) else np.asarray(ids)[codes]


def calibration_table(
    transactions: Transactions,
    *,
    calibration_end: int,
    as_of: int | None = None,
    period: str = "day",
) -> CustomerTable:
    """The summary up to ``calibration_end`` plus what each customer did after it.

    ``frequency_holdout`` counts purchase occasions in the holdout window,
    ``monetary_value_holdout`` is their mean value, ``duration_holdout`` the window's
    length in model time units. Only customers seen in calibration are listed.
    """
    transactions, as_of, warnings = resolve_as_of(transactions, as_of)
    check_calibration_end(int(transactions.day.min()), calibration_end, as_of)
    calibration = customer_table(
        transactions.select(transactions.day <= calibration_end),
        as_of=calibration_end,
        period=period,
    )
    holdout = purchase_occasions(transactions).after(calibration_end)
    n = len(transactions.customer_ids)
    count = np.bincount(holdout.customer, minlength=n)
    value = np.bincount(holdout.customer, weights=holdout.value, minlength=n)
    codes = calibration.codes
    frame = calibration.frame.copy()
    frame["frequency_holdout"] = count[codes].astype(np.int64)
    frame["monetary_value_holdout"] = np.where(
        count[codes] > 0, value[codes] / np.maximum(count[codes], 1), 0.0
    )
    if not transactions.has_amount:
        frame["monetary_value_holdout"] = np.nan
    frame["duration_holdout"] = (as_of - calibration_end) / days_per(period)
    return CustomerTable(
        frame, as_of, period, warnings + calibration.warnings, codes, transactions.has_amount
    )


def refund_only_warnings(source: str, customers: int) -> list[str]:
    """The warning for customers whose rows net to refunds only, left out of the
    summary (none when there are none)."""
    if not customers:
        return []
    return [f"{source}: left out {customers} customers with refunds but no purchase"]


def check_calibration_end(first_day: int, calibration_end: int, as_of: int) -> None:
    """A usage error unless calibration ends on or after the log's first day and
    before the as-of date: a holdout needs both periods."""
    if not first_day <= calibration_end < as_of:
        raise UsageError(
            f"--calibration-end {_iso(calibration_end)} must fall on or after the first "
            f"transaction ({_iso(first_day)}) and before the as-of date ({_iso(as_of)})",
            None,
        )


def _first_channel(transactions: Transactions, n: int) -> np.ndarray:
    """Each customer's channel on their earliest transaction (ties: first row)."""
    if transactions.by_customer:
        order = np.arange(transactions.num_rows)
    else:
        order = np.lexsort((transactions.day, transactions.customer))
    customers = transactions.customer[order]
    first_rows = order[np.r_[True, customers[1:] != customers[:-1]]]
    channel = np.full(n, "unknown", dtype=object)
    channel[transactions.customer[first_rows]] = transactions.channel[first_rows]
    return channel


def _iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))
