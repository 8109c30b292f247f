"""Reading clv's own output back in, so commands chain in pipelines.

``clv compute sales.csv | clv segment --stage loyal`` hands segment a CSV of the
compute columns; this module tells such a file from a transaction log and restores
its types (customer ids stay text).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.core.compute import COMPUTE_COLUMNS
from clvcli.core.periods import days_per
from clvcli.core.summary import CustomerTable
from clvcli.errors import InputError, UsageError
from clvcli.io.readers import id_column
from clvcli.io.source import LoadedInput, read_table
from clvcli.io.writers import FORMULA_START
from clvcli.lifecycle import STAGES

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
    columns = COMPUTE_COLUMNS + [c for c in _EXTRA if c in table.column_names]
    data = {}
    for name in columns:
        column = table.column(name).combine_chunks()
        data[name] = _typed(column, name, loaded.name)
    frame = pd.DataFrame(data)
    unknown = sorted(set(frame["stage"]) - set(STAGES))
    if unknown:
        raise InputError(
            f"{loaded.name}: column 'stage' holds an unknown stage '{unknown[0]}'",
            "stages are: " + ", ".join(STAGES),
        )
    return frame


def unguarded(text: pa.Array) -> pa.Array:
    """Text cells as they were before clv's CSV guarded them against formulas."""
    guarded = pc.fill_null(pc.match_substring_regex(text, "^'" + FORMULA_START[1:]), False)
    if not pc.any(guarded).as_py():
        return text
    return pc.if_else(guarded, pc.utf8_slice_codeunits(text, 1), text)


def _typed(column: pa.Array, name: str, source: str) -> np.ndarray:
    as_number = name.endswith("#number")
    name = name.removesuffix("#number")
    if name in _TEXT:
        return unguarded(column.cast(pa.string())).to_numpy(zero_copy_only=False).astype(object)
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
    return summary_from_arrow(read_table(loaded), loaded.name, period=period, as_of=as_of)


def summary_from_arrow(
    table: pa.Table, name: str, *, period: str, as_of: int | None
) -> CustomerTable:
    """:func:`read_summary` for a summary already in Arrow (say, from DuckDB)."""
    missing = [c for c in SUMMARY_REQUIRED if c not in table.column_names]
    if missing:
        raise InputError(
            f"{name}: a summary needs the columns {', '.join(SUMMARY_REQUIRED)}; "
            f"missing: {', '.join(missing)}",
            "write one with clv summary, or with the SQL of clv summary --emit-sql",
        )
    if table.num_rows == 0:
        raise InputError(
            f"{name}: has a header but no data rows", "give a summary of at least one customer"
        )
    data: dict[str, Any] = {
        # Kept in Arrow: millions of ids never become Python strings.
        "customer_id": id_column(table.column("customer_id").combine_chunks().cast(pa.string()))
    }
    for column in _SUMMARY_NUMBERS:
        if column in table.column_names:
            values = table.column(column).combine_chunks()
            data[column] = _typed(values, column + "#number", name)
    _check_summary(data, name)
    unit = days_per(period)
    warnings: list[str] = []
    if "first_purchase" in table.column_names:
        first = _typed(table.column("first_purchase").combine_chunks(), "first_purchase", name)
        first = first.astype("datetime64[D]").astype(np.int64)
        implied = first + np.round(data["T"] * unit).astype(np.int64)
        end = int(implied.max()) if as_of is None else as_of
    elif as_of is not None:
        end = as_of
        first = end - np.round(data["T"] * unit).astype(np.int64)
    else:
        raise UsageError(
            f"{name}: this summary has no first_purchase column, so give its --as-of",
            None,
        )
    last = first + np.round(data["recency"] * unit).astype(np.int64)
    frequency = np.round(data["frequency"]).astype(np.int64)
    orders = np.round(data.get("orders", frequency + 1)).astype(np.int64)
    spend = data.get("total_spend")
    if spend is None:
        spend = np.full(len(frequency), np.nan)
        warnings.append(f"{name}: no total_spend column, so historical CLV is left empty")
    frame = pd.DataFrame(
        {
            "customer_id": data["customer_id"],
            "first_purchase": first.astype("datetime64[D]"),
            "last_purchase": last.astype("datetime64[D]"),
            "orders": orders,
            "total_spend": spend,
            "avg_order_value": spend / np.maximum(orders, 1),
            "days_since_last": (end - last).astype(np.int64),
            "frequency": frequency,
            "recency": data["recency"],
            "T": data["T"],
            "monetary_value": data["monetary_value"],
        }
    )
    for column in ("frequency_holdout", "monetary_value_holdout", "duration_holdout"):
        if column in data:
            frame[column] = data[column]
    if "channel" in table.column_names:
        frame["channel"] = (
            table.column("channel").cast(pa.string()).to_numpy(zero_copy_only=False).astype(object)
        )
    order = pc.sort_indices(pa.array(frame["customer_id"].to_numpy(), type=pa.string())).to_numpy()
    return CustomerTable(frame.iloc[order].reset_index(drop=True), end, period, warnings)


def _blank(ids: np.ndarray) -> np.ndarray:
    trimmed = pc.utf8_trim_whitespace(pa.array(ids, type=pa.string(), from_pandas=True))
    return pc.fill_null(pc.equal(trimmed, ""), True).to_numpy(zero_copy_only=False)


def _check_summary(data: dict[str, np.ndarray], source: str) -> None:
    """One clear error for the first row a model could not use."""
    frequency, recency, T = data["frequency"], data["recency"], data["T"]
    checks = (
        ("customer_id", _blank(data["customer_id"])),
        ("frequency", ~np.isfinite(frequency) | (frequency < 0) | (frequency % 1 != 0)),
        ("recency", ~np.isfinite(recency) | (recency < 0)),
        ("T", ~np.isfinite(T) | (recency > T + 1e-6)),
        ("monetary_value", ~np.isfinite(data["monetary_value"]) | (data["monetary_value"] < 0)),
    )
    for column, bad in checks:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"{source}: row {row + 1}, column '{column}': a value a summary cannot hold "
                f"({int(bad.sum())} such rows)",
                "frequency is a whole number >= 0, 0 <= recency <= T, monetary_value >= 0",
            )
