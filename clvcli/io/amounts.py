"""Reading money amounts as exported by shops and accounting systems.

Amounts arrive as ``1250000``, ``1,250,000``, ``۱٬۲۵۰٬۰۰۰ تومان``, ``(1,200)`` or
``۱۲۰۰-`` (a minus that a right-to-left editor moved behind the number). The
distinct values of a column are cleaned with pyarrow kernels and parsed once.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.io.text import normalise_cells

# Thousands separators (comma, Arabic thousands separator, Arabic comma, apostrophe,
# spaces) and currency words or signs around the number.
_NOISE = r"[,٬،'\s\x{00a0}\x{202f}]|(?i:تومان|ريال|ریال|tomans?|rials?|irr|irt|usd|eur|\$|€|£)"


def parse_amounts(column: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Amounts as float64, and a mask of the cells that are not a finite number."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        if column.null_count:
            values = np.where(pc.is_null(column).to_numpy(zero_copy_only=False), np.nan, values)
        return values, ~np.isfinite(values)
    if pa.types.is_decimal(column.type):
        return parse_amounts(column.cast(pa.float64()))
    column = column.cast(pa.string())
    plain = _plain_numbers(column)
    if plain is not None:
        return plain, np.zeros(len(plain), dtype=bool)
    encoded = pc.dictionary_encode(column)
    distinct_values, distinct_bad = _parse_distinct(encoded.dictionary)
    null_rows = pc.is_null(encoded.indices).to_numpy(zero_copy_only=False)
    indices = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
    if len(distinct_values) == 0:
        return np.full(len(column), np.nan), np.ones(len(column), dtype=bool)
    bad = distinct_bad[indices] | null_rows
    return np.where(bad, np.nan, distinct_values[indices]), bad


def _plain_numbers(column: pa.Array) -> np.ndarray | None:
    """The column as float64 if every cell is a plain finite number, else None.

    Most exports write plain numbers: one cast of all cells costs half of hashing
    them for the distinct values. It reads a cell as :func:`_parse_distinct`'s first
    attempt does, so either way gives the same amounts.
    """
    if column.null_count:
        return None
    try:
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return values if np.isfinite(values).all() else None


def _parse_distinct(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    try:
        parsed = pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False)
        if np.isfinite(parsed).all():
            return parsed, np.zeros(len(parsed), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    cleaned = normalise_cells(values)
    cleaned = pc.replace_substring_regex(cleaned, _NOISE, "")
    cleaned = pc.replace_substring(cleaned, "٫", ".")
    cleaned = pc.replace_substring(cleaned, "\u2212", "-")
    # Accounting negatives "(1200)" and a trailing minus "1200-".
    cleaned = pc.replace_substring_regex(cleaned, r"^\((.+)\)$", "-\\1")
    cleaned = pc.replace_substring_regex(cleaned, r"^([0-9.]+)-$", "-\\1")
    text = cleaned.to_numpy(zero_copy_only=False)
    plain = pc.match_substring_regex(
        cleaned, r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
    )
    plain = pc.fill_null(plain, False).to_numpy(zero_copy_only=False)
    import pandas as pd

    parsed = pd.to_numeric(pd.Series(np.where(plain, text, "nan"), dtype=object), errors="coerce")
    parsed = parsed.to_numpy(dtype=np.float64)
    bad = ~plain | ~np.isfinite(parsed)
    return parsed, bad
