"""Reading clv's own output back in, so commands chain in pipelines.

``clv compute sales.csv | clv segment --stage loyal`` hands segment a CSV of the
compute columns; this module tells such a file from a transaction log and restores
its types (customer ids stay text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.core.compute import COMPUTE_COLUMNS
from clvcli.errors import InputError
from clvcli.io.source import LoadedInput, read_table
from clvcli.lifecycle import STAGES

_MARKERS = {"customer_id", "stage", "historical_clv", "total_clv"}
_DATES = ("first_purchase", "last_purchase")
_TEXT = ("customer_id", "stage", "channel")


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
    columns = COMPUTE_COLUMNS + (["channel"] if "channel" in table.column_names else [])
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


def _typed(column: pa.Array, name: str, source: str) -> np.ndarray:
    if name in _TEXT:
        return column.cast(pa.string()).to_numpy(zero_copy_only=False).astype(object)
    try:
        if name in _DATES:
            if pa.types.is_string(column.type):
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
    if name in ("orders", "days_since_last", "frequency"):
        if np.isnan(values).any():
            raise InputError(f"{source}: column '{name}' has empty cells")
        return values.astype(np.int64)
    return values
