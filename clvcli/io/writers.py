"""Machine-readable output: CSV, TSV, JSON, JSON Lines and Parquet, written atomically.

The same frame always gives the same bytes: stable column order, ISO dates, money
rounded to cents in text formats (full precision in Parquet), empty cells for
missing values. Files appear whole or not at all: data goes to a temporary file in
the target's directory, is flushed to disk, then renamed over the target.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clvcli.errors import OutputError, UsageError

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "parquet")
DATA_FORMATS = FORMATS[1:]
_EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
MONEY_DECIMALS = 2


def format_for_path(path: str) -> str:
    """The output format a file name asks for; UsageError for an unknown extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise UsageError(
            f"cannot tell the format of '{path}' from its extension",
            "use .csv, .tsv, .json, .jsonl or .parquet, or pass --format",
        )
    return _EXTENSIONS[suffix]


def encode(frame: pd.DataFrame, fmt: str, money: Iterable[str] = ()) -> bytes:
    """The bytes of ``frame`` in a data format."""
    money = [column for column in money if column in frame.columns]
    if fmt in ("csv", "tsv"):
        return _csv(frame, money, "," if fmt == "csv" else "\t")
    if fmt in ("json", "jsonl"):
        return _json(frame, money, lines=fmt == "jsonl")
    if fmt == "parquet":
        return _parquet(frame)
    raise UsageError(f"unknown output format '{fmt}'", "use one of: " + ", ".join(DATA_FORMATS))


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """An Arrow table with dates as date32 and NaN as null."""
    arrays = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            days = values.to_numpy(dtype="datetime64[D]")
            arrays.append(pa.array(days, type=pa.date32(), from_pandas=True))
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            arrays.append(
                pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
            )
        else:
            arrays.append(pa.array(values.to_numpy(), from_pandas=True))
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _csv(frame: pd.DataFrame, money: list[str], delimiter: str) -> bytes:
    """CSV with quotes only where a cell needs them, built column-wise in Arrow."""
    table = _arrow(frame)
    cells = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        column = column.combine_chunks()
        if name in money:
            cents = pc.round(column, MONEY_DECIMALS)
            text = cents.cast(pa.decimal128(38, MONEY_DECIMALS), safe=False).cast(pa.string())
        else:
            text = column.cast(pa.string())
            if pa.types.is_string(column.type):
                text = _quote_where_needed(text, delimiter)
        cells.append(pc.fill_null(text, ""))
    header = delimiter.join(_quote_name(name, delimiter) for name in table.column_names)
    if table.num_rows == 0:
        return (header + "\n").encode("utf-8")
    lines = pc.binary_join_element_wise(*cells, delimiter) if len(cells) > 1 else cells[0]
    terminated = pc.binary_join_element_wise(lines, "", "\n")
    return (header + "\n").encode("utf-8") + _concatenated(terminated)


def _concatenated(strings: pa.Array) -> bytes:
    """The bytes of a string array's values laid end to end (no copy per value)."""
    offsets = np.frombuffer(strings.buffers()[1], dtype=np.int32)[
        strings.offset : strings.offset + len(strings) + 1
    ]
    return strings.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def _quote_where_needed(text: pa.Array, delimiter: str) -> pa.Array:
    special = pc.fill_null(pc.match_substring_regex(text, f'["\\r\\n{_re_char(delimiter)}]'), False)
    if not pc.any(special).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(special, quoted, text)


def _re_char(char: str) -> str:
    return "\\t" if char == "\t" else "\\" + char if char in "|.^$*+?()[]{}\\" else char


def _quote_name(name: str, delimiter: str) -> str:
    if any(ch in name for ch in ('"', "\n", "\r", delimiter)):
        return '"' + name.replace('"', '""') + '"'
    return name


def _json(frame: pd.DataFrame, money: list[str], *, lines: bool) -> bytes:
    rows = []
    records = _arrow(frame).to_pylist()
    money_set = set(money)
    for record in records:
        for key, value in record.items():
            if value is None:
                continue
            if key in money_set:
                record[key] = round(value, MONEY_DECIMALS)
            elif isinstance(value, float) and not np.isfinite(value):
                record[key] = None
            elif hasattr(value, "isoformat"):
                record[key] = value.isoformat()
        rows.append(record)
    if lines:
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    else:
        text = json.dumps(rows, ensure_ascii=False, indent=1) + "\n"
    return text.encode("utf-8")


def _parquet(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    pq.write_table(_arrow(frame), sink, compression="zstd")
    return sink.getvalue()


def check_writable(path: str) -> None:
    """Fail before any work when the output's directory cannot take a new file."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if target.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if not directory.is_dir():
        raise OutputError(f"cannot write {path}: directory '{directory}' does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: permission denied in '{directory}'")


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all."""
    check_writable(path)
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    temporary: str | None = None
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{target.name}.", suffix=".tmp"
        )
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
