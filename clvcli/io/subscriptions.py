"""Reading what `clv retention` fits: a subscription log or a cohort table.

A subscription log has one row per subscription: the customer, its ``start`` date,
its ``end`` date (empty while it runs) and optionally its ``price`` per period,
``plan`` and ``channel``, named in English or Persian (مشتری, تاریخ شروع, تاریخ
پایان, قیمت, طرح, کانال). A cohort table has a ``period`` column (0, 1, 2, ...) and
an ``active`` column: the subscribers of one cohort still subscribed at the start of
each period, the first row being the cohort's size. The two are told apart by their
columns. Files are read by the same readers as transaction logs (CSV/TSV, gz, zip,
Parquet, spreadsheets, stdin), with the same dates (Jalali, Persian digits) and
amounts (decimal marks, thousands separators).

Overlapping subscriptions of one customer (a plan change written as a new row before
the old one ended, or a row written twice) are merged into one spell, with a warning
naming the first pair: a customer is one subscriber for as long as they are
subscribed without a break. A spell keeps the plan and channel of its first
subscription (what the customer was acquired on) and the price of its last (what
they will pay from now on). Subscriptions that touch (one ends the day the next
starts) are one spell too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.errors import InputError, UsageError
from clvcli.io.amounts import AmountProblem, parse_amounts
from clvcli.io.columns import find_column, listed_columns
from clvcli.io.dates import DateProblem, DateSettings, parse_dates
from clvcli.io.jalali import NOT_A_DATE
from clvcli.io.readers import _dates_calendar, channel_labels
from clvcli.io.source import load_input, read_records
from clvcli.io.text import header_key, normalise_id_column
from clvcli.shown import quote_value

# An end date for a subscription still running.
ACTIVE = np.iinfo(np.int64).max
Locate = Callable[[int], str]

# Whole names (after header_key), best first; then words inside longer names.
_NAMES: dict[str, tuple[str, ...]] = {
    "start": (
        "start",
        "start date",
        "started",
        "started at",
        "starts at",
        "subscription start",
        "subscription start date",
        "subscribed at",
        "subscribed on",
        "signup date",
        "sign up date",
        "begin",
        "begin date",
        "from",
        "شروع",
        "تاریخ شروع",
        "آغاز",
        "تاریخ آغاز",
        "تاریخ عضویت",
        "تاریخ اشتراک",
    ),
    "end": (
        "end",
        "end date",
        "ended",
        "ended at",
        "ends at",
        "subscription end",
        "subscription end date",
        "cancelled at",
        "canceled at",
        "cancellation date",
        "cancel date",
        "churn date",
        "churned at",
        "to",
        "until",
        "پایان",
        "تاریخ پایان",
        "تاریخ لغو",
        "لغو",
        "تاریخ قطع",
    ),
    "price": (
        "price",
        "price per period",
        "monthly price",
        "yearly price",
        "annual price",
        "fee",
        "monthly fee",
        "amount",
        "mrr",
        "arr",
        "قیمت",
        "مبلغ",
        "حق اشتراک",
        "هزینه اشتراک",
        "مبلغ اشتراک",
    ),
    "plan": ("plan", "plan name", "tier", "package", "product", "طرح", "پلن", "بسته", "نوع اشتراک"),
    "period": ("period", "year", "month", "t", "periods", "دوره", "سال", "ماه"),
    "active": (
        "active",
        "active customers",
        "active subscribers",
        "subscribers",
        "customers",
        "survivors",
        "alive",
        "فعال",
        "مشترکان فعال",
        "مشتریان فعال",
        "تعداد فعال",
        "مشترکان",
    ),
}
_WORDS: dict[str, tuple[str, ...]] = {
    "start": ("start", "شروع", "آغاز"),
    "end": ("end", "cancel", "cancelled", "canceled", "پایان", "لغو"),
    "price": ("price", "fee", "قیمت", "مبلغ"),
    "plan": ("plan", "tier", "طرح", "پلن"),
    "period": (),
    "active": ("active", "فعال"),
}
LOG_HINT = (
    "a subscription log has customer_id, start and end (empty while active), optionally "
    "price, plan and channel; a cohort table has period and active"
)


@dataclass(frozen=True)
class SubscriptionReadSettings:
    """Column names the user gave (None: detected), dates, amounts and bad rows."""

    customer_col: str | None = None
    start_col: str | None = None
    end_col: str | None = None
    price_col: str | None = None
    plan_col: str | None = None
    channel_col: str | None = None
    calendar: str = "auto"
    date_format: str | None = None
    timezone: str | None = None
    encoding: str | None = None
    decimal: str | None = None
    skip_invalid: bool = False

    @property
    def dates(self) -> DateSettings:
        return DateSettings(self.calendar, self.date_format, self.timezone)


@dataclass
class SubscriptionLog:
    """One row per spell (overlapping subscriptions of a customer merged).

    ``start`` and ``end`` are days since 1970; ``end`` is :data:`ACTIVE` while the
    spell runs. ``price`` is NaN where unknown; ``plan`` and ``channel`` are None when
    the log has no such column. ``calendar`` is the calendar the dates were written
    in (cohort months follow it).
    """

    source: str
    customer_id: np.ndarray
    start: np.ndarray
    end: np.ndarray
    price: np.ndarray | None
    plan: np.ndarray | None
    channel: np.ndarray | None
    calendar: str = "gregorian"
    rows_read: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def num_spells(self) -> int:
        return len(self.start)


@dataclass
class CohortCounts:
    """A cohort table: ``active[t]`` still subscribed at period t (``active[0]`` joined).

    ``unit`` is the period the column name says (``year`` for a column named year or
    سال, ``month`` for month or ماه), None when it does not say.
    """

    source: str
    active: np.ndarray
    unit: str | None = None
    warnings: list[str] = field(default_factory=list)


def read_retention_input(
    path: str, settings: SubscriptionReadSettings = SubscriptionReadSettings()
) -> SubscriptionLog | CohortCounts:
    """A subscription log or a cohort table, told apart by their columns."""
    loaded = load_input(path)
    table, locate = read_records(loaded, encoding=settings.encoding)
    header = list(table.column_names)
    name = loaded.name
    given = {
        "start": settings.start_col,
        "end": settings.end_col,
        "price": settings.price_col,
        "plan": settings.plan_col,
    }
    start = _column(header, "start", given["start"], name)
    if start is None:
        period = _column(header, "period", None, name)
        active = _column(header, "active", None, name)
        if period is not None and active is not None:
            return _cohort_table(table, header, period, active, name, locate)
        raise InputError(
            f"{name}: neither a subscription log (no start column) nor a cohort table "
            f"(no period and active columns); columns are: {listed_columns(header)}",
            LOG_HINT + "; name the columns with --start-col and --end-col",
        )
    return _subscription_log(table, header, start, given, settings, name, locate)


# -- cohort tables -------------------------------------------------------------------
def _cohort_table(
    table: pa.Table, header: list[str], period: int, active: int, name: str, locate: Locate
) -> CohortCounts:
    from clvcli.retention.lifetimes import CohortCountError, Lifetimes

    if table.num_rows == 0:
        raise InputError(f"{name}: has a header but no rows", None)
    periods, bad_period = parse_amounts(table.column(period).combine_chunks())
    counts, bad_count = parse_amounts(table.column(active).combine_chunks())
    hint = "a cohort table has period 0, 1, 2, ... and the active count of each"
    for column, bad, what in (
        (period, bad_period | (periods != np.round(periods)), "a period number"),
        (active, bad_count, "a count of subscribers"),
    ):
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = quote_value(table.column(column)[row].as_py())
            raise InputError(
                f"{name}: {locate(row)}, column '{header[column]}': cannot read {value} as {what}",
                hint,
            )
    expected = np.arange(len(periods))
    if not np.array_equal(periods, expected):
        row = int(np.flatnonzero(periods != expected)[0])
        raise InputError(
            f"{name}: {locate(row)}, column '{header[period]}': period "
            f"{quote_value(table.column(period)[row].as_py())} where {row} was expected: "
            "periods run 0, 1, 2, ... one row each, in order",
            hint,
        )
    try:
        Lifetimes.from_survivors(counts)
    except CohortCountError as exc:
        row = exc.period
        raise InputError(
            f"{name}: {locate(row)}, column '{header[active]}': {exc}",
            "each row counts those of the first row still subscribed: the counts never rise",
        ) from None
    except ValueError as exc:
        raise InputError(f"{name}, column '{header[active]}': {exc}", hint) from None
    key = header_key(header[period])
    unit = (
        "year"
        if key in ("year", "years", "سال")
        else "month"
        if key in ("month", "months", "ماه")
        else None
    )
    return CohortCounts(name, counts.astype(np.int64), unit)


# -- subscription logs ---------------------------------------------------------------
def _subscription_log(
    table: pa.Table,
    header: list[str],
    start: int,
    given: dict[str, str | None],
    settings: SubscriptionReadSettings,
    name: str,
    locate: Locate,
) -> SubscriptionLog:
    customer = _customer_column(header, settings.customer_col, name)
    end = _column(header, "end", given["end"], name, taken={start, customer})
    if end is None:
        raise InputError(
            f"{name}: no end column found; columns are: {listed_columns(header)}",
            "a subscription log has an end column, empty while the subscription runs; "
            "name it with --end-col",
        )
    used = {start, customer, end}
    price = _column(header, "price", given["price"], name, taken=used)
    plan = _column(header, "plan", given["plan"], name, taken=used | {price})
    channel = _channel_column(header, settings.channel_col, name, used | {price, plan})
    if table.num_rows == 0:
        raise InputError(f"{name}: has a header but no rows", None)
    ids = normalise_id_column(table.column(customer).combine_chunks())
    no_id = pc.fill_null(pc.equal(ids, ""), True).to_numpy(zero_copy_only=False)
    start_cells = table.column(start).combine_chunks()
    end_cells = table.column(end).combine_chunks()
    start_day = _dates(start_cells, settings, name, header[start])
    end_day = _dates(end_cells, settings, name, header[end])
    open_end = _empty(end_cells)
    end_day = np.where(open_end, ACTIVE, end_day)
    price_value = np.full(table.num_rows, np.nan)
    bad_price = np.zeros(table.num_rows, dtype=bool)
    if price is not None:
        cells = table.column(price).combine_chunks()
        try:
            price_value, bad_price = parse_amounts(cells, settings.decimal)
        except AmountProblem as exc:
            raise InputError(f"{name}, column '{header[price]}': {exc}", exc.hint) from None
        blank = _empty(cells)
        bad_price = (bad_price & ~blank) | (~bad_price & (price_value < 0))
        price_value = np.where(blank | bad_price, np.nan, price_value)
    checks = (
        (customer, no_id, "empty customer id"),
        (start, start_day == NOT_A_DATE, "cannot read {value} as a date"),
        (end, end_day == NOT_A_DATE, "cannot read {value} as a date"),
        (
            end,
            (end_day != NOT_A_DATE) & (end_day < start_day),
            "the subscription ends ({value}) before it starts",
        ),
        (price, bad_price, "cannot read {value} as a price (need a number >= 0)"),
    )
    bad = np.zeros(table.num_rows, dtype=bool)
    for _, mask, _ in checks:
        bad |= mask
    bad_count = int(bad.sum())
    warnings: list[str] = []
    if bad_count and not settings.skip_invalid:
        row = int(np.flatnonzero(bad)[0])
        column, _, template = next(check for check in checks if check[1][row])
        value = quote_value(table.column(column)[row].as_py())
        more = f"; {bad_count} bad rows in all" if bad_count > 1 else ""
        raise InputError(
            f"{name}: {locate(row)}, column '{header[column]}': "
            f"{template.format(value=value)}{more}",
            "fix the file, or pass --skip-invalid to drop bad rows",
        )
    if bad_count:
        warnings.append(f"{name}: skipped {_rows(bad_count)} with bad values (--skip-invalid)")
    keep = ~bad
    if not keep.any():
        raise InputError(f"{name}: no valid rows left after skipping bad ones", None)
    rows = np.flatnonzero(keep)
    plan_labels = None
    if plan is not None:
        plan_labels = channel_labels(table.column(plan).combine_chunks())[rows]
    channel_labels_ = None
    if channel is not None:
        channel_labels_ = channel_labels(table.column(channel).combine_chunks())[rows]
    calendar = _dates_calendar(start_cells.filter(pa.array(keep)), start_day[rows], settings.dates)
    log = SubscriptionLog(
        source=name,
        customer_id=ids.to_numpy(zero_copy_only=False).astype(object)[rows],
        start=start_day[rows],
        end=end_day[rows],
        price=None if price is None else price_value[rows],
        plan=plan_labels,
        channel=channel_labels_,
        calendar=calendar,
        rows_read=table.num_rows,
        warnings=warnings,
    )
    return merge_overlaps(log, lambda i: locate(int(rows[i])))


def merge_overlaps(log: SubscriptionLog, locate: Locate | None = None) -> SubscriptionLog:
    """One spell per run of subscriptions of a customer that overlap or touch, sorted
    by customer and start.

    The warning names the first two rows that overlap (``locate`` turns an index of
    the log into a row of its file)."""
    n = log.num_spells
    codes = pd.factorize(log.customer_id, sort=True)[0]
    order = np.lexsort((log.end, log.start, codes))
    who = log.customer_id[order]
    start, end = log.start[order], log.end[order]
    # The latest end so far within each customer's run of rows, by start.
    new_customer = np.ones(n, dtype=bool)
    new_customer[1:] = codes[order][1:] != codes[order][:-1]
    group = np.cumsum(new_customer) - 1
    reach = _running_max_by_group(end, group)
    overlaps = np.zeros(n, dtype=bool)
    overlaps[1:] = ~new_customer[1:] & (start[1:] <= reach[:-1])
    strict = np.zeros(n, dtype=bool)
    strict[1:] = ~new_customer[1:] & (start[1:] < reach[:-1])
    first = np.flatnonzero(~overlaps)
    last = np.append(first[1:], n) - 1
    merged_end = np.maximum.reduceat(end, first)
    if strict.any():
        at = int(np.flatnonzero(strict)[0])
        earlier = int(np.flatnonzero((group == group[at]) & (np.arange(n) < at))[0])
        pair = sorted((int(order[earlier]), int(order[at])))
        where = (
            f" ({locate(pair[0])} and {locate(pair[1])}, customer {quote_value(who[at])})"
            if locate
            else ""
        )
        count = int(strict.sum())
        verb = "subscriptions overlap" if count > 1 else "subscription overlaps"
        log.warnings.append(
            f"{log.source}: {count} {verb} an earlier one of the same customer{where}: "
            "merged into one spell each, keeping the first plan and channel and the last price"
        )
    # Of touching subscriptions (a renewal written as a new row) nothing is said: they
    # are one spell, as a renewal is.
    price = None
    if log.price is not None:
        price = log.price[order][last]
    return SubscriptionLog(
        source=log.source,
        customer_id=who[first],
        start=start[first],
        end=merged_end,
        price=price,
        plan=None if log.plan is None else log.plan[order][first],
        channel=None if log.channel is None else log.channel[order][first],
        calendar=log.calendar,
        rows_read=log.rows_read,
        warnings=log.warnings,
        notes=log.notes,
    )


def _running_max_by_group(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The running maximum of ``values`` restarting at each new ``group``."""
    return pd.Series(values).groupby(group).cummax().to_numpy()


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def _dates(
    cells: pa.Array, settings: SubscriptionReadSettings, name: str, column: str
) -> np.ndarray:
    try:
        return parse_dates(cells, settings.dates)
    except DateProblem as exc:
        raise InputError(f"{name}, column '{column}': {exc}", exc.hint) from None


def _empty(cells: pa.Array) -> np.ndarray:
    text = cells.cast(pa.string())
    return pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True).to_numpy(
        zero_copy_only=False
    )


def _column(
    header: list[str],
    role: str,
    given: str | None,
    name: str,
    taken: set[int | None] | None = None,
) -> int | None:
    """The position of ``role``'s column: the one the user named, else detected."""
    if given:
        return _named(header, given, role, name)
    taken = taken or set()
    keys = [header_key(column) for column in header]
    bare = [" ".join(key.split(" (")[0].split()) for key in keys]
    for candidates in (keys, bare):
        for wanted in _NAMES[role]:
            for index, key in enumerate(candidates):
                if index not in taken and key == wanted:
                    return index
    for word in _WORDS[role]:
        for index, key in enumerate(bare):
            if index in taken:
                continue
            if (word in key.split()) if word.isascii() else (word in key):
                return index
    return None


def _named(header: list[str], given: str, role: str, name: str) -> int:
    keys = [header_key(column) for column in header]
    for index, column in enumerate(header):
        if column == given or keys[index] == header_key(given):
            return index
    raise UsageError(
        f"{name}: --{role}-col '{given}' is not a column; columns are: {listed_columns(header)}"
    )


def _customer_column(header: list[str], given: str | None, name: str) -> int:
    if given:
        return _named(header, given, "customer", name)
    index = find_column(header, "customer")
    if index is None:
        raise InputError(
            f"{name}: no customer column found; columns are: {listed_columns(header)}",
            "name it with --customer-col",
        )
    return index


def _channel_column(
    header: list[str], given: str | None, name: str, taken: set[int | None]
) -> int | None:
    if given:
        return _named(header, given, "channel", name)
    index = find_column(header, "channel")
    return None if index in taken else index
