"""From an input file to validated transactions, ready to summarise.

Parses the customer, date, amount and channel columns with vectorised code, checks
every row, and either reports the first bad row (file, row, line, column, value,
how many are bad) or, with ``skip_invalid``, drops bad rows with one warning.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.errors import InputError
from clvcli.io import customer_order, order_lines
from clvcli.io.amounts import AmountProblem, parse_amounts
from clvcli.io.dates import DateProblem, DateSettings, parse_dates
from clvcli.io.jalali import NOT_A_DATE
from clvcli.io.lines import LINE_END
from clvcli.io.source import LoadedInput, RawColumns, read_columns
from clvcli.io.text import normalise_id_column, normalise_ids
from clvcli.parallel import gather
from clvcli.shown import quote_value

if TYPE_CHECKING:
    import pandas as pd

UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class ReadSettings:
    """How to read a transaction log: columns, dates, encoding, bad rows."""

    customer_col: str | None = None
    date_col: str | None = None
    amount_col: str | None = None
    channel_col: str | None = None
    calendar: str = "auto"
    date_format: str | None = None
    timezone: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    skip_invalid: bool = False
    # The decimal mark of amounts ("," or "."); None infers it per column.
    decimal: str | None = None
    sheet: str | None = None

    @property
    def dates(self) -> DateSettings:
        return DateSettings(self.calendar, self.date_format, self.timezone)

    def given_columns(self) -> dict[str, str | None]:
        return {
            "customer": self.customer_col,
            "date": self.date_col,
            "amount": self.amount_col,
            "channel": self.channel_col,
        }


@dataclass
class Transactions:
    """Valid transactions with customers as integer codes into sorted ids.

    ``customer_ids`` is sorted (code-point order), so any per-customer result built
    from the codes comes out in a stable order. The readers give an Arrow string
    array (millions of ids never become Python objects); any sequence of str works.
    """

    source: str
    customer_ids: pa.Array | np.ndarray
    customer: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    channel: np.ndarray | None
    rows_read: int
    rows_skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    # True when the rows are sorted by customer code, then day, then file order, so
    # grouping needs no sort of its own.
    by_customer: bool = False
    # Where each customer's rows begin, when the sort that put them in order said so
    # (every code then has rows): grouping need not look for the changes of code.
    customer_starts: np.ndarray | None = None
    # The calendar the dates are written in (Jalali when forced with --calendar jalali
    # or read as Jalali years): BG/BB's monthly and yearly opportunities follow it.
    calendar: str = "gregorian"
    # Which columns were used, when detection chose among several or read an
    # export's lines (io/order_lines.py): shown once, as a note.
    notes: list[str] = field(default_factory=list)
    # False for a log of purchase days alone (no amount column): ``amount`` is then
    # zeros, every (customer, day) with a row is a purchase, and money stays empty.
    has_amount: bool = True

    @property
    def num_rows(self) -> int:
        return len(self.customer)

    def release_rows(self) -> None:
        """Drop the per-row arrays, keeping the ids, counts and warnings: for a caller
        done with millions of rows that another part of the run still holds."""
        empty = np.zeros(0, dtype=np.int64)
        self.customer, self.day, self.amount = empty, empty, np.zeros(0)
        self.customer_starts = None
        self.channel = None if self.channel is None else self.channel[:0].copy()

    def select(self, keep: np.ndarray) -> Transactions:
        """The rows where ``keep`` is true (customer codes and order unchanged)."""
        return Transactions(
            self.source,
            self.customer_ids,
            self.customer[keep],
            self.day[keep],
            self.amount[keep],
            None if self.channel is None else self.channel[keep],
            self.rows_read,
            self.rows_skipped,
            self.warnings,
            self.by_customer,
            calendar=self.calendar,
            notes=self.notes,
            has_amount=self.has_amount,
        )


def read_transactions(
    path: str | LoadedInput,
    settings: ReadSettings = ReadSettings(),
    *,
    stdin: io.BufferedIOBase | None = None,
) -> Transactions:
    """Read and validate a transaction log (CSV, TSV, gz, zip, Parquet or stdin)."""
    raw = read_columns(
        path,
        settings.given_columns(),
        encoding=settings.encoding,
        delimiter=settings.delimiter,
        skip_invalid=settings.skip_invalid,
        stdin=stdin,
        sheet=settings.sheet,
    )
    return parse_transactions(raw, settings)


def parse_transactions(raw: RawColumns, settings: ReadSettings = ReadSettings()) -> Transactions:
    """Parse and check the columns :func:`read_columns` found (ids, dates, amounts).

    Consumes ``raw``: its columns are released once parsed and checked, so a large
    log's raw cells and its parsed rows are not all held at once.
    """
    rows_read = raw.num_rows + raw.ragged_skipped + raw.unclosed_skipped
    _check_float_ids(raw)
    raw, facts = order_lines.prepare(raw)
    plain = None
    if raw.num_rows >= customer_order.SORT_MIN_ROWS:
        plain = customer_order.plain_ids(raw.columns["customer"])
    if plain is None:
        customer_ids, customer = _customer_codes(raw.columns["customer"])
        no_id = customer < 0
    else:
        no_id = customer_order.empty_ids(plain)
    try:
        day = parse_dates(raw.columns["date"], settings.dates)
    except DateProblem as exc:
        raise InputError(
            f"{raw.source}, column '{raw.column_name('date')}': {exc}", exc.hint
        ) from None
    calendar = _dates_calendar(raw.columns["date"], day, settings.dates)
    has_amount = "amount" in raw.columns
    if has_amount:
        try:
            amount, bad_amount = parse_amounts(raw.columns["amount"], settings.decimal)
        except AmountProblem as exc:
            raise InputError(
                f"{raw.source}, column '{raw.column_name('amount')}': {exc}", exc.hint
            ) from None
    else:  # purchase days alone: zeros make every customer-day a purchase, no refund
        amount, bad_amount = np.zeros(len(day)), np.zeros(len(day), dtype=bool)
    blank = _blank_rows(raw, no_id)
    if blank is not None:
        # A row of only delimiters (Excel's `;;` at a sheet's end) is a blank line.
        no_id, bad_amount = no_id & ~blank, bad_amount & ~blank
        day = np.where(blank, 0, day)
        rows_read -= int(blank.sum())
    try:
        amount, bad_quantity = order_lines.line_amounts(raw, amount, facts, settings.decimal)
    except AmountProblem as exc:
        raise InputError(
            f"{raw.source}, column '{raw.column_name('quantity')}': {exc}", exc.hint
        ) from None
    if bad_quantity is not None and blank is not None:
        bad_quantity = bad_quantity & ~blank
    checks: tuple[tuple[str, np.ndarray, str], ...] = (
        ("customer", no_id, "empty customer id"),
        ("date", day == NOT_A_DATE, "cannot read {value} as a date"),
        ("amount", bad_amount, "cannot read {value} as an amount " + _amount_need(settings)),
    )
    if bad_quantity is not None:
        checks += (("quantity", bad_quantity, "cannot read {value} as a quantity"),)
    bad = checks[0][1] | checks[1][1] | checks[2][1]
    if bad_quantity is not None:
        bad |= bad_quantity
    bad_count = int(bad.sum())
    if bad_count and not settings.skip_invalid:
        _raise_first_bad(raw, checks, bad, bad_count, settings)
    del no_id, bad_amount, bad_quantity, checks
    warnings = _skipped_warning(raw, bad_count, _line_breaks(raw, bad) if bad_count else 0)
    channel_column = raw.columns.get("channel")
    channel = None if channel_column is None else channel_labels(channel_column)
    keep = ~bad if blank is None else ~(bad | blank)
    if not keep.any():
        if blank is not None and not bad_count:
            raise InputError(f"{raw.source}: has a header but no data rows", None)
        raise InputError(f"{raw.source}: no valid rows left after skipping bad ones", None)
    everything = not bad_count and blank is None
    _check_total(raw, amount if everything else np.where(keep, amount, 0.0))
    raw.columns.clear()
    if not everything:
        day, amount = day[keep], amount[keep]
        channel = None if channel is None else channel[keep]
    order = None
    if plain is None:
        if not everything:
            customer_ids, customer = _drop_unused(customer_ids, customer, keep)
    else:
        # Handed over: the sort lets the ids go once it no longer needs them.
        handed = [customer_order.contiguous(plain if everything else plain.filter(pa.array(keep)))]
        del plain
        order = customer_order.sort_by_customer(handed, day)
        if order is None:  # DuckDB could not sort: hash instead
            customer_ids, customer = _customer_codes(handed[0])
        else:
            # One column at a time: a large log's peak is here.
            customer_ids, customer = order.ids, order.codes
            day = gather(day, order.rows)
            amount = gather(amount, order.rows)
            channel = None if channel is None else channel[order.rows]
    return Transactions(
        source=raw.source,
        customer_ids=customer_ids,
        customer=customer,
        day=day,
        amount=amount,
        channel=channel,
        rows_read=rows_read,
        rows_skipped=bad_count + raw.ragged_skipped + raw.unclosed_skipped,
        warnings=warnings,
        by_customer=order is not None,
        customer_starts=None if order is None else order.starts,
        calendar=calendar,
        notes=order_lines.note(raw, facts),
        has_amount=has_amount,
    )


def _amount_need(settings: ReadSettings) -> str:
    if settings.decimal is None:
        return "(need a finite number)"
    return f"(need a finite number with the decimal mark '{settings.decimal}' of --decimal)"


def _dates_calendar(column: pa.Array, day: np.ndarray, settings: DateSettings) -> str:
    """The calendar the log's dates are written in: Jalali when forced, or when the
    automatic reading took them for Jalali (its first date reads as that day in the
    Jalali calendar and as another in the Gregorian one); Gregorian else. BG/BB's
    months and years follow it."""
    if settings.calendar != "auto":
        return "jalali" if settings.calendar == "jalali" else "gregorian"
    dated = np.flatnonzero(day != NOT_A_DATE)
    if not len(dated):
        return "gregorian"
    first = int(dated[0])
    cell = column.slice(first, 1)
    read = {}
    for calendar in ("jalali", "gregorian"):
        try:
            forced = DateSettings(calendar, settings.date_format, settings.timezone)
            read[calendar] = int(parse_dates(cell, forced)[0])
        except DateProblem:  # one cell alone may not tell its form: the usual calendar
            return "gregorian"
    expected = int(day[first])
    return "jalali" if read["jalali"] == expected != read["gregorian"] else "gregorian"


def _blank_rows(raw: RawColumns, no_id: np.ndarray) -> np.ndarray | None:
    """Rows whose every field is empty or spaces, or None when there are none.

    Only rows without a customer id are looked at, so a log without such rows pays
    nothing; the source confirms that the fields clv does not read are empty too.
    """
    if not no_id.any():
        return None
    rows = np.flatnonzero(no_id)
    for role, column in raw.columns.items():
        if role == "customer" or len(rows) == 0:
            continue
        cells = column.take(pa.array(rows))
        if not (pa.types.is_string(cells.type) or pa.types.is_large_string(cells.type)):
            empty = pc.is_null(cells)
        else:
            empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(cells), ""), True)
        rows = rows[empty.to_numpy(zero_copy_only=False)]
    if len(rows) and raw.other_fields_blank is not None:
        rows = rows[raw.other_fields_blank(rows)]
    if len(rows) == 0:
        return None
    blank = np.zeros(len(no_id), dtype=bool)
    blank[rows] = True
    return blank


def _skipped_warning(raw: RawColumns, bad_count: int, bad_breaks: int = 0) -> list[str]:
    """The one warning --skip-invalid gives, counting rows by why they were dropped.

    A row is a record of the file; a quoted value can hold line breaks, and a quote
    closed too late (or never) makes one record of many lines, each of which may have
    been a transaction: the lines such rows span are said too, never hidden.
    """
    skipped = bad_count + raw.ragged_skipped + raw.unclosed_skipped
    if not skipped:
        return []
    reasons = [
        (raw.ragged_skipped, "the wrong number of fields"),
        (bad_count, "bad values"),
        (raw.unclosed_skipped, f"a quote never closed ({raw.unclosed})"),
    ]
    reasons = [(count, why) for count, why in reasons if count]
    if len(reasons) == 1:
        what = f"{_rows(skipped)} with {reasons[0][1]}"
    else:
        what = f"{skipped} bad rows (" + ", ".join(f"{c} with {why}" for c, why in reasons) + ")"
    breaks = bad_breaks + raw.ragged_breaks
    if breaks:
        rows = bad_count + raw.ragged_skipped
        what += (
            f"; {'it spans' if rows == 1 else 'they span'} {rows + breaks} lines (quoted "
            "values hold line breaks: a quote closed too late swallows the lines after it)"
        )
    if raw.unclosed:
        if not raw.unclosed_skipped:
            what += f"; one of them has a quote never closed ({raw.unclosed})"
        what += "; each line a row spans may have been a transaction"
    return [f"{raw.source}: skipped {what} (--skip-invalid)"]


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count} rows"


def _line_breaks(raw: RawColumns, rows: np.ndarray) -> int:
    """How many line breaks the cells of ``rows`` (a mask) hold: the lines they span
    past their first."""
    index = pa.array(np.flatnonzero(rows))
    total = 0
    for column in raw.columns.values():
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            breaks = pc.count_substring_regex(column.take(index), LINE_END)
            total += int(pc.sum(breaks).as_py() or 0)
    return total


def _check_float_ids(raw: RawColumns) -> None:
    """Ids stored as floating-point numbers: past 2**53 they have lost digits in the
    file itself (1e16 and 1e16 + 1 are one double) and are refused, rather than
    customers merged or shown as 1.0000000000000002e+16; whole ones below are read
    as the integers they are."""
    column = raw.columns["customer"]
    if not pa.types.is_floating(column.type):
        return
    values = (
        column.to_numpy(zero_copy_only=False)
        if isinstance(column, pa.Array)
        else (column.combine_chunks().to_numpy(zero_copy_only=False))
    )
    past = np.flatnonzero(np.abs(np.nan_to_num(values)) >= 2**53)
    if len(past):
        raise InputError(
            f"{raw.source}: {raw.locate(int(past[0]))}, column '{raw.column_name('customer')}': "
            f"the id {values[past[0]]:.0f} is a floating-point number past 2**53, whose last "
            f"digits the file no longer holds ({len(past)} such ids); customers may be merged",
            "export the ids as text or as integers",
        )
    # Whole numbers are integer ids written as floats: read as the integers (Arrow
    # writes 9007199254740991.0 as '9.007199254740991e+15').
    known = values[~np.isnan(values)]
    if not pc.any(pc.is_nan(column)).as_py() and np.array_equal(known, np.floor(known)):
        raw.columns["customer"] = column.cast(pa.int64())


def _customer_codes(column: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Sorted distinct normalised ids and each row's code (-1 for an empty id).

    Hash the raw ids, normalise the distinct ones, hash again (normalising can merge
    'C۰۰۴۲' and 'C0042', or 'علي' and 'علی'), and sort only the distinct values, all
    in Arrow kernels.
    """
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    encoded = pc.dictionary_encode(column)
    normalised = pc.fill_null(normalise_ids(encoded.dictionary), "")
    if pc.all(pc.equal(normalised, pc.fill_null(encoded.dictionary, ""))).as_py() is not False:
        # Nothing changed, so the values are still distinct: skip the second hash.
        distinct, to_distinct = normalised, np.arange(len(normalised))
    else:
        merged = pc.dictionary_encode(normalised)
        distinct = merged.dictionary
        to_distinct = merged.indices.to_numpy(zero_copy_only=False)
    order = pc.sort_indices(distinct).to_numpy()
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    ids = distinct.take(pa.array(order))
    empty = np.flatnonzero(pc.equal(ids, "").to_numpy(zero_copy_only=False))
    if len(empty):
        rank = np.where(rank == empty[0], -1, rank - (rank > empty[0]))
        ids = pc.filter(ids, pc.not_equal(ids, ""))
    raw_to_code = rank[to_distinct]
    null_rows = pc.is_null(encoded.indices).to_numpy(zero_copy_only=False)
    indices = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
    codes = raw_to_code[indices] if len(raw_to_code) else np.zeros(len(indices), dtype=np.int64)
    codes = np.where(null_rows, -1, codes)
    return ids, codes.astype(np.int64)


def id_column(ids: pa.Array | np.ndarray) -> pd.Series | np.ndarray:
    """Customer ids as a frame column, without a Python object per id."""
    return ids.to_pandas() if isinstance(ids, pa.Array) else ids


def _drop_unused(ids: pa.Array, codes: np.ndarray, keep: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Ids of the kept rows only, re-coded densely (order preserved)."""
    kept = codes[keep]
    used = np.zeros(len(ids), dtype=bool)
    used[kept] = True
    if used.all():
        return ids, kept
    new_code = np.cumsum(used) - 1
    return ids.filter(pa.array(used)), new_code[kept]


def channel_labels(column: pa.Array) -> np.ndarray:
    """Channel names normalised as ids are, ``unknown`` where empty."""
    cleaned = normalise_id_column(column)
    cleaned = pc.if_else(pc.equal(pc.fill_null(cleaned, ""), ""), UNKNOWN_CHANNEL, cleaned)
    return cleaned.to_numpy(zero_copy_only=False).astype(object)


def _check_total(raw: RawColumns, amount: np.ndarray) -> None:
    """Every total of the log must be a number: amounts near 1e308 add up to infinity."""
    with np.errstate(over="ignore"):
        # The largest amount times the count bounds every partial sum; only logs near
        # the limit pay for summing, and only a failing one for locating the row.
        largest = max(abs(float(amount.max())), abs(float(amount.min())))
        if np.isfinite(largest * len(amount)) or np.isfinite(np.abs(amount).sum()):
            return
        running = np.cumsum(np.abs(amount))
    row = int(np.argmax(~np.isfinite(running)))
    value = raw.columns["amount"][row].as_py()
    raise InputError(
        f"{raw.source}: {raw.locate(row)}, column '{raw.column_name('amount')}': with "
        f"{quote_value(value)} the amounts add up to more than the largest number clv can hold "
        "(1.8e308)",
        "check the amount column: such totals are not money",
    )


def _raise_first_bad(
    raw: RawColumns,
    checks: tuple[tuple[str, np.ndarray, str], ...],
    bad: np.ndarray,
    bad_count: int,
    settings: ReadSettings,
) -> None:
    row = int(np.flatnonzero(bad)[0])
    for role, mask, template in checks:
        if mask[row]:
            value = raw.columns[role][row].as_py()
            problem = template.format(value=quote_value(value))
            break
    others = f"; {bad_count} bad rows in all" if bad_count > 1 else ""
    breaks = _line_breaks(raw, np.arange(len(bad)) == row)
    if breaks:
        problem += (
            f"; the row's quoted values hold {breaks} line break{'s' if breaks > 1 else ''}, "
            "so it swallowed the lines after it (a quote closed too late?)"
        )
    hint = "fix the file, or pass --skip-invalid to drop bad rows"
    if role == "customer":
        hint = (
            "a row with no customer id (a guest or walk-in sale) is no one's purchase: "
            "pass --skip-invalid to leave such rows out, or fill in the ids"
        )
    if role == "date" and not ("" if value is None else str(value)).strip():
        hint = (
            "a row with no date is no purchase yet (an unpaid order, say): pass "
            "--skip-invalid to leave such rows out, or name another column with --date-col"
        )
    elif role == "date" and settings.date_format is None:
        hint = "give the form with --date-format (e.g. %d/%m/%Y), or pass --skip-invalid"
    raise InputError(
        f"{raw.source}: {raw.locate(row)}, column '{raw.column_name(role)}': {problem}{others}",
        hint,
    )
