"""Reading clv's own output back in, so commands chain in pipelines.

``clv compute sales.csv | clv segment --stage loyal`` hands segment a CSV of the
compute columns; this module tells such a file from a transaction log and restores
its types (customer ids stay text).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.contract import (
    COMPUTE_COLUMNS,
    INTERVAL_COLUMNS,
    STAGES,
    CustomerTable,
    as_seconds,
    days_per,
)
from clvcli.errors import InputError, UsageError
from clvcli.io.customer_order import changes
from clvcli.io.source import LoadedInput, input_files, is_many, load_input, read_table
from clvcli.io.text import normalise_id_column
from clvcli.shown import quote_value

_MARKERS = {"customer_id", "stage", "historical_clv", "total_clv"}
_DATES = ("first_purchase", "last_purchase")
_TEXT = ("customer_id", "stage", "channel")
# Columns compute adds after the contract's: a channel, a customer list's costs.
_EXTRA = ("channel", "acquisition_cost")
# Counts that are empty for prospects (stage potential) only.
_COUNTS = ("orders", "days_since_last", "frequency")


def is_customer_values(header: list[str]) -> bool:
    """Whether a header is that of `clv compute` output rather than transactions."""
    return {name.strip() for name in header} >= _MARKERS


def read_customer_values(loaded: LoadedInput) -> pd.DataFrame:
    """The compute table from a CSV, TSV, JSON-free text or Parquet file."""
    table = read_table(loaded)
    missing = [c for c in COMPUTE_COLUMNS if c not in table.column_names]
    if missing:
        raise InputError(
            f"{loaded.name}: looks like clv compute output but lacks columns: {', '.join(missing)}",
            "pass the transaction log instead, or the full output of clv compute",
        )
    # The intervals of `compute --interval` come through, all four or none.
    intervals = INTERVAL_COLUMNS if set(INTERVAL_COLUMNS) <= set(table.column_names) else []
    columns = COMPUTE_COLUMNS + intervals + [c for c in _EXTRA if c in table.column_names]
    guarded = _is_guarded_text(loaded)
    data = {}
    for name in columns:
        column = table.column(name).combine_chunks()
        data[name] = _typed(column, name, loaded.name, guarded)
    frame = pd.DataFrame(data)
    _refuse_repeated_customers(frame["customer_id"].to_numpy(), loaded.name)
    unknown = sorted(set(frame["stage"]) - set(STAGES))
    if unknown:
        raise InputError(
            f"{loaded.name}: column 'stage' holds an unknown stage {quote_value(unknown[0])}",
            "stages are: " + ", ".join(STAGES),
        )
    return frame


def _refuse_repeated_customers(ids: np.ndarray, source: str) -> None:
    """Compute writes each customer once: a repeat means two outputs joined, or an
    edit, and would count the customer twice in every stage and total."""
    order = np.argsort(ids, kind="stable")
    ordered = ids[order]
    repeat = np.flatnonzero(ordered[1:] == ordered[:-1])
    if len(repeat):
        first, second = sorted(order[repeat[0] : repeat[0] + 2])
        raise InputError(
            f"{source}: customer '{ids[first]}' has more than one row (rows {first + 1} and "
            f"{second + 1}), column 'customer_id'",
            "clv compute writes each customer once; give one compute output, unedited",
        )


def unguarded(text: pa.Array) -> pa.Array:
    """Text cells as they were before clv's CSV guarded them against formulas: the
    writer guards every cell that starts with ``'`` (see GUARDED_START), so one
    ``'`` comes off every such cell."""
    guarded = pc.fill_null(pc.starts_with(text, "'"), False)
    if not pc.any(guarded).as_py():
        return text
    return pc.if_else(guarded, pc.utf8_slice_codeunits(text, 1), text)


def _is_guarded_text(loaded: LoadedInput) -> bool:
    """Whether clv's writer guarded the input's text cells: CSV and TSV only (Parquet,
    JSON and spreadsheets hold cells as they are)."""
    return not (loaded.is_parquet or loaded.is_spreadsheet)


def _typed(column: pa.Array, name: str, source: str, guarded: bool = True) -> np.ndarray:
    as_number = name.endswith("#number")
    name = name.removesuffix("#number")
    if name in _TEXT:
        text = column.cast(pa.string())
        text = unguarded(text) if guarded else text
        if name != "stage":  # ids and channels as a transaction log's are
            text = normalise_id_column(text)
        return text.to_numpy(zero_copy_only=False).astype(object)
    try:
        if name in _DATES:
            if pa.types.is_string(column.type):
                column = pc.if_else(pc.equal(column, ""), None, column)
                column = pc.strptime(column, format="%Y-%m-%d", unit="s")
            return (
                column.cast(pa.timestamp("s"))
                .to_numpy(zero_copy_only=False)
                .astype("datetime64[D]")
            )
        if pa.types.is_string(column.type):
            column = pc.if_else(pc.equal(column, ""), None, column)
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(
            f"{source}: column '{name}' has values clv did not write ({exc})"
        ) from None
    if name in _COUNTS and not as_number:
        if np.isnan(values).any():
            return pd.array(values, dtype="Int64")
        return values.astype(np.int64)
    return values


SUMMARY_REQUIRED = ("customer_id", "frequency", "recency", "T", "monetary_value")
_SUMMARY_NUMBERS = (
    "frequency",
    "recency",
    "T",
    "monetary_value",
    "orders",
    "total_spend",
    "frequency_holdout",
    "monetary_value_holdout",
    "duration_holdout",
)


def is_summary(header: list[str]) -> bool:
    """Whether a header is that of `clv summary` (or of the SQL it emits)."""
    names = {name.strip() for name in header}
    return set(SUMMARY_REQUIRED) <= names and "stage" not in names


def read_summary(loaded: LoadedInput, *, period: str, as_of: int | None) -> CustomerTable:
    """A per-customer summary file as the table compute and the models start from.

    Its recency and T are in ``period`` units. Dates come from first_purchase and
    last_purchase when present, else from ``as_of`` (then required) and T, recency.
    """
    table = _unguarded_summary(read_table(loaded), loaded)
    return summary_from_arrow(table, loaded.name, period=period, as_of=as_of)


def _unguarded_summary(table: pa.Table, loaded: LoadedInput) -> pa.Table:
    """A summary CSV's ids and channels as they were before clv's writer guarded them
    (`clv summary -o s.csv` then `--summary s.csv` keeps ``=x`` and ``'=x`` apart)."""
    if not _is_guarded_text(loaded):
        return table
    for name in ("customer_id", "channel"):
        if name in table.column_names:
            position = table.column_names.index(name)
            column = unguarded(table.column(name).combine_chunks().cast(pa.string()))
            table = table.set_column(position, name, column)
    return table


def read_summary_files(path: str, *, period: str, as_of: int | None) -> CustomerTable:
    """A summary in one file, or in the part files of a folder or glob.

    Warehouses and clusters write a large result as parts (Spark a folder of
    part-*.parquet, BigQuery numbered shards). Each part is checked on its own, so an
    error names the part and its row; the parts then make one table.
    """
    if not is_many(path):
        return read_summary(load_input(path), period=period, as_of=as_of)
    parts = []
    for file in input_files(path):
        loaded = load_input(file)
        table = _unguarded_summary(read_table(loaded), loaded)
        del loaded
        columns = summary_columns(table.schema, table.to_batches(), file)
        del table
        _check_summary(columns.numbers, columns.blank, file)
        if columns.first is not None:
            _check_dates(columns.first, file)
        parts.append(columns)
    return summary_table(_joined_parts(parts, path), path, period=period, as_of=as_of)


def _joined_parts(parts: list[SummaryColumns], path: str) -> SummaryColumns:
    """The parts' columns end to end; every part must have the same columns."""
    first = parts[0]
    shape = (set(first.numbers), first.first is None, first.channel is None)
    if any((set(p.numbers), p.first is None, p.channel is None) != shape for p in parts):
        raise InputError(
            f"{path}: the summary's files do not all have the same columns",
            "give parts of one summary, written by one query",
        )
    joined = SummaryColumns(
        ids=pa.chunked_array(
            [chunk for part in parts for chunk in part.ids.chunks], type=pa.large_string()
        ),
        blank=np.concatenate([part.blank for part in parts]),
        numbers={
            name: np.concatenate([part.numbers.pop(name) for part in parts])
            for name in first.numbers.copy()
        },
        first=None if first.first is None else np.concatenate([p.first for p in parts]),
        channel=None if first.channel is None else np.concatenate([p.channel for p in parts]),
    )
    parts.clear()
    return joined


def summary_from_arrow(
    table: pa.Table, name: str, *, period: str, as_of: int | None
) -> CustomerTable:
    """:func:`read_summary` for a summary already in Arrow."""
    columns = summary_columns(table.schema, table.to_batches(), name)
    return summary_table(columns, name, period=period, as_of=as_of)


@dataclass
class SummaryColumns:
    """A summary's columns as numpy arrays (ids kept in Arrow), not yet a table."""

    ids: pa.ChunkedArray  # large_string, as pandas keeps text
    blank: np.ndarray  # ids that are empty once trimmed, or missing
    numbers: dict[str, np.ndarray]  # float64, as _SUMMARY_NUMBERS
    first: np.ndarray | None  # first_purchase in days since 1970, when given
    channel: np.ndarray | None


def check_summary_names(names: Iterable[str], source: str) -> None:
    """InputError unless the columns include those every summary has."""
    missing = [c for c in SUMMARY_REQUIRED if c not in set(names)]
    if missing:
        raise InputError(
            f"{source}: a summary needs the columns {', '.join(SUMMARY_REQUIRED)}; "
            f"missing: {', '.join(missing)}",
            "write one with clv summary, or with the SQL of clv summary --emit-sql",
        )


def summary_columns(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], name: str
) -> SummaryColumns:
    """The columns of a summary arriving in record batches (say, streamed by DuckDB).

    Each batch becomes numpy columns as it arrives, so a summary of tens of millions
    of customers is never held in Arrow and in numpy at once.
    """
    check_summary_names(schema.names, name)
    numbers = [c for c in _SUMMARY_NUMBERS if c in schema.names]
    has_first = "first_purchase" in schema.names
    has_channel = "channel" in schema.names
    ids = _Ids()
    blank = _Column(bool)
    parts = {column: _Column(np.float64) for column in numbers}
    first = _Column(np.int64)
    channel = _Column(object)
    for batch in batches:
        batch_ids = batch.column("customer_id").cast(pa.string())
        ids.append(batch_ids)
        blank.append(_blank(batch_ids))
        for column in numbers:
            parts[column].append(_typed(batch.column(column), column + "#number", name))
        if has_first:
            days = _typed(batch.column("first_purchase"), "first_purchase", name)
            first.append(days.astype("datetime64[D]").astype(np.int64))
        if has_channel:
            labels = batch.column("channel").cast(pa.string())
            channel.append(labels.to_numpy(zero_copy_only=False).astype(object))
    return SummaryColumns(
        ids=ids.joined(),
        blank=blank.joined(),
        numbers={column: parts.pop(column).joined() for column in numbers},
        first=first.joined() if has_first else None,
        channel=channel.joined() if has_channel else None,
    )


class _Ids:
    """Customer ids gathered batch by batch, kept in Arrow.

    Millions of ids never become Python strings. They are copied out of their
    batches in blocks: an array imported from DuckDB keeps its whole batch (every
    column) alive, gigabytes at tens of millions of customers.
    """

    def __init__(self) -> None:
        self.blocks: list[pa.Array] = []
        self.pending: list[pa.Array] = []
        self.rows = 0

    def append(self, ids: pa.Array) -> None:
        # pandas keeps text as large_string: cast once here, not again in to_pandas.
        self.pending.append(ids.cast(pa.large_string()))
        self.rows += len(ids)
        if self.rows >= _Column.BLOCK_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.blocks.append(pa.concat_arrays(self.pending))
        self.pending.clear()
        self.rows = 0

    def joined(self) -> pa.ChunkedArray:
        self._flush()
        return pa.chunked_array(self.blocks, type=pa.large_string())


class _Column:
    """A numpy column filled batch by batch, in blocks of millions of rows.

    Blocks this large are mapped from the system and given back to it when freed;
    a list of per-batch arrays would leave gigabytes in the allocator's heap once
    joined, counted in the process's memory to the end.
    """

    BLOCK_ROWS = 1 << 22

    def __init__(self, dtype: Any) -> None:
        self.dtype = np.dtype(dtype)
        self.blocks: list[np.ndarray] = []
        self.filled = 0  # rows used in the last block

    def append(self, values: np.ndarray) -> None:
        start = 0
        while start < len(values):
            if not self.blocks or self.filled == len(self.blocks[-1]):
                self.blocks.append(np.empty(self.BLOCK_ROWS, dtype=self.dtype))
                self.filled = 0
            block = self.blocks[-1]
            count = min(len(values) - start, len(block) - self.filled)
            block[self.filled : self.filled + count] = values[start : start + count]
            self.filled += count
            start += count

    def joined(self) -> np.ndarray:
        """All rows as one array; the blocks are freed."""
        if not self.blocks:
            return np.empty(0, dtype=self.dtype)
        self.blocks[-1] = self.blocks[-1][: self.filled]
        joined = np.concatenate(self.blocks)  # a copy: the blocks' spare rows go back
        self.blocks.clear()
        return joined


def summary_table(
    columns: SummaryColumns,
    name: str,
    *,
    period: str,
    as_of: int | None,
    first_row: int = 0,
) -> CustomerTable:
    """The table compute and the models start from, sorted by customer id.

    Builds each column once, without copies of the whole table: a summary of 38
    million customers is 3.5 GB as a table, so every extra copy is gigabytes.
    ``first_row`` is the row of the file the columns start at, when they are one
    piece of a summary read piece by piece (errors name rows of the file).
    """
    if len(columns.ids) == 0:
        raise InputError(
            f"{name}: has a header but no data rows", "give a summary of at least one customer"
        )
    data = columns.numbers
    _check_summary(data, columns.blank, name, first_row)
    unit = days_per(period)
    warnings: list[str] = []
    # Each step frees what it used: the columns are hundreds of megabytes each.
    first, columns.first = columns.first, None
    if first is not None:
        _check_dates(first, name, first_row)
    recency, T = data.pop("recency"), data.pop("T")
    if first is not None:
        end = _latest(first, T, unit) if as_of is None else as_of
    elif as_of is not None:
        end = as_of
        first = end - _whole(T * unit)
    else:
        raise UsageError(
            f"{name}: this summary has no first_purchase column, so give its --as-of",
            None,
        )
    last = _whole(recency * unit)
    last += first
    days_since_last = end - last
    frequency = _whole(data.pop("frequency"))
    orders = data.pop("orders", None)
    orders = frequency + 1 if orders is None else _whole(orders)
    spend = data.pop("total_spend", None)
    # Empty in every row: the summary of a log with no amounts (money stays empty).
    has_amount = not np.isnan(data["monetary_value"]).all()
    if spend is None:
        spend = np.full(len(frequency), np.nan)
        if has_amount:
            warnings.append(f"{name}: no total_spend column, so historical CLV is left empty")
    frame = pd.DataFrame(
        {
            "customer_id": columns.ids.to_pandas(),
            "first_purchase": as_seconds(first),
            "last_purchase": as_seconds(last),
            "orders": orders,
            "total_spend": spend,
            "avg_order_value": spend / np.maximum(orders, 1),
            "days_since_last": days_since_last,
            "frequency": frequency,
            "recency": recency,
            "T": T,
            "monetary_value": data.pop("monetary_value"),
        },
        copy=False,  # each array is this frame's own; copying would double the peak
    )
    for column in ("frequency_holdout", "monetary_value_holdout", "duration_holdout"):
        if column in data:
            frame[column] = data.pop(column)
    if columns.channel is not None:
        frame["channel"] = columns.channel
    ordered = columns.ids  # compared as they are when in order: no copy of the ids
    if not _in_order(columns.ids):
        order = pc.sort_indices(columns.ids).to_numpy()
        frame = frame.iloc[order].reset_index(drop=True)
        ordered = pa.chunked_array([pa.array(frame["customer_id"].array)])
    twice = _repeated_id(ordered)
    if twice is not None:
        raise InputError(
            f"{name}: customer {quote_value(twice)} has more than one row; a summary has one "
            "per customer",
            "give each customer's summary once (are two parts of it the same?)",
        )
    return CustomerTable(frame, end, period, warnings, has_amount=has_amount)


def _repeated_id(ids: pa.ChunkedArray) -> str | None:
    """The first id equal to the one before it, in sorted ids (compared chunk by chunk)."""
    same = ~changes(ids)
    if not same.any():
        return None
    return str(ids[int(np.flatnonzero(same)[0])].as_py())


def _whole(values: np.ndarray) -> np.ndarray:
    """Values rounded to whole numbers, as int64 (``values`` is rounded in place)."""
    return np.round(values, out=values).astype(np.int64)


def _latest(first: np.ndarray, T: np.ndarray, unit: float) -> int:
    """The as-of date the summary implies: the latest first purchase plus T."""
    step = _Column.BLOCK_ROWS
    return max(
        int((first[i : i + step] + _whole(T[i : i + step] * unit)).max())
        for i in range(0, len(first), step)
    )


def _check_dates(first: np.ndarray, source: str, first_row: int = 0) -> None:
    """Every customer in a summary has a first purchase (no empty cell, no NaT)."""
    missing = first == np.iinfo(np.int64).min
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise InputError(
            f"{source}: row {first_row + row + 1}, column 'first_purchase': no date "
            f"({int(missing.sum())} such rows)",
            "every customer in a summary has the date of their first purchase",
        )


def _in_order(ids: pa.ChunkedArray) -> bool:
    """Whether ids are already in code-point order (DuckDB's ORDER BY gives them so)."""
    last = None
    for chunk in ids.chunks:
        if len(chunk) == 0:
            continue
        if last is not None and pc.less(chunk[0], last).as_py():
            return False
        if (
            len(chunk) > 1
            and not pc.all(pc.less_equal(chunk.slice(0, len(chunk) - 1), chunk.slice(1))).as_py()
        ):
            return False
        last = chunk[len(chunk) - 1]
    return True


def _blank(ids: pa.Array) -> np.ndarray:
    trimmed = pc.utf8_trim_whitespace(ids)
    return pc.fill_null(pc.equal(trimmed, ""), True).to_numpy(zero_copy_only=False)


def _bad_money(monetary: np.ndarray) -> np.ndarray:
    """Rows whose monetary_value no summary holds. A column empty in every row is the
    summary of a log with no amounts (purchases counted, money unknown): none is bad."""
    if len(monetary) and np.isnan(monetary).all():
        return np.zeros(len(monetary), dtype=bool)
    return ~np.isfinite(monetary) | (monetary < 0)


def _check_summary(
    data: dict[str, np.ndarray], blank: np.ndarray, source: str, first_row: int = 0
) -> None:
    """One clear error for the first row a model could not use."""
    frequency, recency, T = data["frequency"], data["recency"], data["T"]
    checks = (
        ("customer_id", blank),
        ("frequency", ~np.isfinite(frequency) | (frequency < 0) | (frequency % 1 != 0)),
        ("recency", ~np.isfinite(recency) | (recency < 0)),
        ("T", ~np.isfinite(T) | (recency > T + 1e-6)),
        ("monetary_value", _bad_money(data["monetary_value"])),
    )
    for column, bad in checks:
        if bad.any():
            row = first_row + int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{source}: row {row + 1}, column '{column}': a value a summary cannot hold "
                f"({int(bad.sum())} such rows)",
                "frequency is a whole number >= 0, 0 <= recency <= T, monetary_value >= 0",
            )
