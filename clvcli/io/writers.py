"""Machine-readable output: CSV, TSV, JSON, JSON Lines, Parquet and Excel, written atomically.

The same frame always gives the same bytes: stable column order, ISO dates, money
rounded to cents in text formats (full precision in Parquet), other fractions to
ten significant digits in text formats, empty cells for missing values. Files
appear whole or not at all: data goes to an unnamed file in the target's directory,
is flushed to disk, then named and renamed over the target.
"""

from __future__ import annotations

import errno
import io
import json
import os
import secrets
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from clvcli.errors import OutputError, UsageError
from clvcli.io.targets import kind_of

FORMATS = ("table", "csv", "tsv", "json", "jsonl", "parquet", "xlsx")
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
    ".xlsx": "xlsx",
}
# Formats that are not text: never written to a terminal.
BINARY_FORMATS = ("parquet", "xlsx")
MONEY_DECIMALS = 2
# Significant digits of the fractions CSV, TSV and JSON write (P(alive), recency in
# weeks, expected purchases): the same fit on another CPU differs in the 15th or 16th
# digit, which would change the bytes; ten digits are far more than any use needs
# and give the same text for the same input on any machine. Parquet keeps all 17.
SIGNIFICANT_DIGITS = 10
# What spreadsheets read as the start of a formula (tab and CR too, per OWASP).
FORMULA_START = "^[=+\\-@\t\r]"
# Cells the CSV writer guards with a leading ``'``: formula starts, and a cell that
# starts with ``'`` itself, so that a reader takes exactly one ``'`` off every cell
# that starts with one and gets the cell back (``'=x`` stays apart from ``=x``).
GUARDED_START = "^['=+\\-@\t\r]"
# Below this, Arrow's decimal128(38, 2) holds money exactly.
_DECIMAL_LIMIT = 1e35


def format_for_path(path: str) -> str:
    """The output format a file name asks for; UsageError for an unknown extension."""
    suffix = Path(path).suffix.lower()
    if suffix not in _EXTENSIONS:
        raise UsageError(
            f"cannot tell the format of '{path}' from its extension",
            "use .csv, .tsv, .json, .jsonl, .parquet or .xlsx, or pass --format",
        )
    return _EXTENSIONS[suffix]


def encode(
    frame: pd.DataFrame,
    fmt: str,
    money: Iterable[str] = (),
    *,
    raw: bool = False,
    metadata: dict[str, Any] | None = None,
) -> bytes:
    """The bytes of ``frame`` in a data format (see :class:`FrameWriter`)."""
    sink = io.BytesIO()
    writer = FrameWriter(sink, fmt, money, raw=raw, metadata=metadata)
    for part in in_chunks(frame):
        writer.write(part)
    writer.close()
    return sink.getvalue()


# Rows per piece of a frame written at a time, and per Parquet row group: a piece's
# text or Arrow copy stays a few hundred megabytes at most.
CHUNK_ROWS = 1 << 20


def in_chunks(frame: pd.DataFrame, rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """``frame`` in consecutive pieces of ``rows`` rows (one piece when it is empty)."""
    if len(frame) <= rows:
        yield frame
        return
    for start in range(0, len(frame), rows):
        yield frame.iloc[start : start + rows]


class FrameWriter:
    """Frames written one after another to a binary stream, as one document.

    The same rows give the same bytes however they are split into frames, except in
    Parquet, where each frame is a row group. CSV and TSV open in spreadsheets, which
    run a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula; such text cells
    (an id, a channel name) get a leading ``'`` unless ``raw``. Numbers are never
    touched, and JSON and Parquet stay raw. Parquet carries ``metadata`` (what made
    the file) under the key ``clv``. Excel gets one sheet named ``sheet`` (see
    :mod:`clvcli.io.sheet`).
    """

    def __init__(
        self,
        sink: BinaryIO,
        fmt: str,
        money: Iterable[str] = (),
        *,
        raw: bool = False,
        metadata: dict[str, Any] | None = None,
        sheet: str = "data",
    ) -> None:
        if fmt not in DATA_FORMATS:
            raise UsageError(
                f"unknown output format '{fmt}'", "use one of: " + ", ".join(DATA_FORMATS)
            )
        self.sink = sink
        self.fmt = fmt
        self.money = list(money)
        self.raw = raw
        self.metadata = metadata
        self.rows = 0
        self._columns: list[str] | None = None
        self._parquet: pq.ParquetWriter | None = None
        self._sheet = None
        if fmt == "xlsx":
            from clvcli.io.sheet import SheetWriter

            self._sheet = SheetWriter(sink, self.money, sheet)

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame``; every frame has the columns of the first."""
        if self._sheet is not None:
            self._sheet.write(frame)
            self.rows += len(frame)
            return
        first = self._columns is None
        if first:
            self._columns = [str(c) for c in frame.columns]
        elif len(frame) == 0:
            return
        money = [column for column in self.money if column in frame.columns]
        if self.fmt in ("csv", "tsv"):
            delimiter = "," if self.fmt == "csv" else "\t"
            self.sink.write(_csv(frame, money, delimiter, guard=not self.raw, header=first))
        elif self.fmt == "jsonl":
            self.sink.write(_json_lines(frame, money))
        elif self.fmt == "json":
            if len(frame):
                self.sink.write(b"[\n" if self.rows == 0 else b",\n")
                self.sink.write(_json_items(frame, money))
        else:
            self._write_parquet(frame)
        self.rows += len(frame)

    def close(self) -> None:
        """End the document: JSON's closing bracket, Parquet's footer, Excel's zip."""
        if self._sheet is not None:
            self._sheet.close()
        elif self.fmt == "json":
            self.sink.write(b"[]\n" if self.rows == 0 else b"\n]\n")
        elif self.fmt == "parquet":
            if self._parquet is None:
                self._write_parquet(pd.DataFrame(columns=self._columns or []))
            assert self._parquet is not None
            self._parquet.close()
        self.sink.flush()

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        table = _arrow(frame)
        if self._parquet is None:
            self._parquet = _parquet_writer(self.sink, table, frame, self.metadata)
        elif not table.schema.equals(self._parquet.schema, check_metadata=False):
            # A piece whose column is all empty, say, gets the types of the first.
            table = table.cast(self._parquet.schema)
        self._parquet.write_table(table, row_group_size=max(len(frame), 1))


def _arrow(frame: pd.DataFrame) -> pa.Table:
    """An Arrow table with dates as date32 and NaN as null."""
    arrays = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            days = values.to_numpy(dtype="datetime64[D]")
            arrays.append(pa.array(days, type=pa.date32(), from_pandas=True))
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            arrays.append(_text_array(values))
        else:
            arrays.append(_number_array(values.to_numpy()))
    return pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])


def _number_array(values: np.ndarray) -> pa.Array:
    """Numbers as Arrow holds them, NaN as null: without a NaN, the array itself.

    Arrow's NaN check builds a validity bitmap value by value (16 ms a column at four
    million customers); numpy's is a tenth of that, and most columns have none.
    """
    if values.dtype.kind == "f" and not np.isnan(values).any():
        return pa.array(values)
    return pa.array(values, from_pandas=True)


def _text_array(values: pd.Series) -> pa.Array:
    """A text column as Arrow strings: zero-copy when pandas already holds Arrow."""
    if isinstance(values.array, pd.arrays.ArrowStringArray):
        return pa.array(values.array).cast(pa.string())
    return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)


def _csv(
    frame: pd.DataFrame, money: list[str], delimiter: str, *, guard: bool, header: bool = True
) -> bytes:
    """CSV with quotes only where a cell needs them, built column-wise in Arrow."""
    table = _arrow(frame)
    cells = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        column = column.combine_chunks()
        if name in money:
            text = _money_text(column)
        else:
            if pa.types.is_floating(column.type):
                column = _significant_array(column)
            text = column.cast(pa.string())
            if pa.types.is_string(column.type):
                if guard:
                    text = guard_formulas(text)
                text = _quote_where_needed(text, delimiter)
        cells.append(pc.fill_null(text, ""))
    names = delimiter.join(_quote_name(name, delimiter) for name in table.column_names)
    head = (names + "\n").encode("utf-8") if header else b""
    if table.num_rows == 0:
        return head
    lines = pc.binary_join_element_wise(*cells, delimiter) if len(cells) > 1 else cells[0]
    terminated = pc.binary_join_element_wise(lines, "", "\n")
    return head + _concatenated(terminated)


def _money_text(column: pa.Array) -> pa.Array:
    """Money with two decimals, exact for any finite amount; empty where not finite.

    Arrow's decimal cast is fast but holds 36 digits before the point (and its unsafe
    cast writes 0.00 beyond them), so larger amounts are written by Python, exactly.
    """
    values = column.cast(pa.float64())
    values = pc.if_else(pc.is_finite(values), values, pa.scalar(None, pa.float64()))
    small = pc.fill_null(pc.less(pc.abs(values), _DECIMAL_LIMIT), True)
    # Large doubles are whole numbers, and rounding them would overflow.
    cents = pc.round(pc.if_else(small, values, 0.0), MONEY_DECIMALS)
    text = cents.cast(pa.decimal128(38, MONEY_DECIMALS), safe=False).cast(pa.string())
    if pc.all(small).as_py():
        return text
    large = [None if v is None else f"{v:.{MONEY_DECIMALS}f}" for v in values.to_pylist()]
    return pc.if_else(small, text, pa.array(large, type=pa.string()))


def significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits, the same on every machine.

    Each result is the double nearest to a decimal of at most ``digits`` digits, so its
    shortest text (Python's repr, Arrow's cast) has at most that many. Only exact
    steps are used (frexp, comparisons with correctly parsed powers of ten, one
    multiplication, rounding half to even, one division): no libm function whose last
    bit may differ between CPUs. A value whose scaled form is a tie is rounded to
    even there (``9.9999999995`` gives 10). Values beyond 1e22 times a power of ten
    (rare) go through Python's correctly rounded formatting. NaN, infinities and
    zero stay as they are.
    """
    x = np.asarray(values, dtype=np.float64)
    with np.errstate(all="ignore"):
        size = np.abs(x)
        # The decimal exponent from the binary one (frexp is exact), then made exact
        # by comparing with the powers of ten (NaN, zero and infinity give 0 here).
        binary = np.frexp(size)[1].astype(np.int64) - 1
        exponent = binary * 30103 // 100000
        exponent += size >= _POWERS[exponent + 1 - _LOWEST]
        exponent -= size < _POWERS[exponent - _LOWEST]
        shift = (digits - 1) - exponent
        if shift.size and shift.min() >= 0 and shift.max() <= _EXACT:
            scale = _POWERS[shift - _LOWEST]
            out = np.round(x * scale)
            out /= scale
        else:
            out = _significant_wide(x, shift, digits)
    plain = ~np.isfinite(x) | (x == 0)
    if plain.any():
        out[plain] = x[plain]
    return out


def _significant_wide(x: np.ndarray, shift: np.ndarray, digits: int) -> np.ndarray:
    """:func:`significant` for arrays holding values of 1e10 and more, or tiny ones."""
    up = (shift >= 0) & (shift <= _EXACT)
    down = (shift < 0) & (shift >= -_EXACT)
    scale = _POWERS[np.where(up, shift, 0) - _LOWEST]
    out = np.round(x * scale) / scale
    scale = _POWERS[np.where(down, -shift, 0) - _LOWEST]
    out = np.where(down, np.round(x / scale) * scale, out)
    for row in np.flatnonzero(~(up | down) & np.isfinite(x) & (x != 0)):
        out[row] = float(f"{x[row]:.{digits}g}")
    return out


def significant_float(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """One number rounded as :func:`significant` rounds arrays."""
    return float(significant(np.array([value]), digits)[0])


def rounded_document(document: Any) -> Any:
    """A JSON-ready document with every float rounded by :func:`significant_float`."""
    if isinstance(document, float):
        return significant_float(document) if np.isfinite(document) else document
    if isinstance(document, dict):
        return {key: rounded_document(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [rounded_document(value) for value in document]
    return document


def _significant_array(column: pa.Array) -> pa.Array:
    """A float column rounded by :func:`significant`, nulls kept."""
    values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
    return pa.array(significant(values), mask=column.is_null().to_numpy(zero_copy_only=False))


# Powers of ten as Python parses them (correctly rounded): exact up to 1e22.
_LOWEST, _HIGHEST = -330, 310
_POWERS = np.array([float(f"1e{k}") for k in range(_LOWEST, _HIGHEST + 1)])
_EXACT = 22


def guard_formulas(text: pa.Array) -> pa.Array:
    """Text cells a spreadsheet would run as a formula, with a leading ``'``; and
    cells that start with ``'``, so that the guard is undone without loss."""
    risky = pc.fill_null(pc.match_substring_regex(text, GUARDED_START), False)
    if not pc.any(risky).as_py():
        return text
    return pc.if_else(risky, pc.binary_join_element_wise("'", text, ""), text)


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


def _json_records(frame: pd.DataFrame, money: list[str]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: money in cents, other fractions to ten significant
    digits, ISO dates, null for NaN and infinity."""
    table = _arrow(frame)
    money_set = set(money)
    for index, field in enumerate(table.schema):
        if pa.types.is_floating(field.type) and field.name not in money_set:
            column = _significant_array(table.column(index).combine_chunks())
            table = table.set_column(index, field.name, column)
    records = table.to_pylist()
    for record in records:
        for key, value in record.items():
            if value is None:
                continue
            if key in money_set:
                record[key] = round(value, MONEY_DECIMALS) if np.isfinite(value) else None
            elif isinstance(value, float) and not np.isfinite(value):
                record[key] = None
            elif hasattr(value, "isoformat"):
                record[key] = value.isoformat()
    return records


def _json_lines(frame: pd.DataFrame, money: list[str]) -> bytes:
    rows = _json_records(frame, money)
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode("utf-8")


def _json_items(frame: pd.DataFrame, money: list[str]) -> bytes:
    """The items of a JSON array (one space of indent), without its brackets.

    Pieces joined by ",\n" between "[\n" and "\n]" make the array ``json.dumps``
    with ``indent=1`` writes for all rows at once.
    """
    text = json.dumps(_json_records(frame, money), ensure_ascii=False, indent=1)
    return text[2:-2].encode("utf-8")


def _parquet_writer(
    sink: BinaryIO, table: pa.Table, frame: pd.DataFrame, metadata: dict[str, Any] | None
) -> pq.ParquetWriter:
    """A Parquet writer for tables like ``table`` (the first piece of ``frame``'s rows)."""
    schema = table.schema
    if metadata is not None:
        text = json.dumps(metadata, ensure_ascii=False, sort_keys=True, default=str)
        schema = schema.with_metadata({b"clv": text.encode("utf-8")})
    # Dictionaries and min/max statistics help the columns that repeat or get
    # filtered on (ids, dates, counts, stage); on money and rates they only cost time.
    plain = [f.name for f in schema if pa.types.is_floating(f.type)]
    keyed = [f.name for f in schema if f.name not in plain]
    repeating = [name for name in keyed if name != "customer_id"]
    repeating += [
        field.name
        for field, column in zip(schema, frame.columns, strict=True)
        if field.name in plain and _few_values(frame[column])
    ]
    # zstd shrinks ids, dates, counts and stages many times over; on money and rates,
    # whose digits are noise to it, it saves about half at three times snappy's cost
    # (a third of the time `clv compute` spends writing 4M customers). Full-precision
    # model outputs are noise to snappy too: those are stored as they are.
    compression = {name: "zstd" for name in schema.names}
    for field, column in zip(schema, frame.columns, strict=True):
        if field.name in plain and field.name not in repeating:
            compression[field.name] = "snappy" if _compressible(frame[column]) else "none"
    return pq.ParquetWriter(
        sink,
        schema,
        compression=compression,
        use_dictionary=repeating,
        write_statistics=keyed,
    )


def _few_values(values: pd.Series) -> bool:
    """Whether a float column repeats a few values, judged on an even sample of its rows.

    Times such as recency and T are day counts over a unit: a dictionary of their few
    hundred values makes the column smaller and faster to write. Money and rates are
    nearly all distinct, where a dictionary only costs time.
    """
    sample = _even_sample(values)
    return sample.nunique(dropna=False) * _REPEATS <= len(sample)


def _compressible(values: pd.Series) -> bool:
    """Whether snappy shrinks a float column by a tenth, judged on an even sample.

    Money summed from prices in cents shrinks by a third or more; predictions at
    full precision do not shrink at all, and compressing them costs 40 ms a column
    at four million customers for nothing.
    """
    sample = _even_sample(values).to_numpy(np.float64)
    if len(sample) == 0:
        return True
    raw = np.ascontiguousarray(sample).tobytes()
    return len(pa.compress(raw, "snappy", asbytes=True)) <= _SHRINK * len(raw)


def _even_sample(values: pd.Series) -> pd.Series:
    """About _SAMPLE_ROWS values taken evenly through the column (all, if fewer)."""
    return values.iloc[:: max(len(values) // _SAMPLE_ROWS, 1)]


# Sample size and how often each sampled value must repeat on average for _few_values.
_SAMPLE_ROWS = 1 << 16
_REPEATS = 16
# What a float column's sample must shrink to, at most, for snappy to be worth it.
_SHRINK = 0.9


def check_writable(path: str) -> None:
    """Fail before any work when the output cannot be written as a regular file.

    A symbolic link is written through, so its target is what is checked; a FIFO, a
    device or a directory is refused (clv writes regular files only).
    """
    target = Path(output_target(path))
    directory = target.parent if str(target.parent) else Path(".")
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        raise OutputError(
            f"cannot write {path}: it is {kind_of(mode)}",
            "clv writes regular files only: choose another file name",
        )
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise OutputError(f"cannot write {path}: '{directory}' {what}")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {path}: permission denied in '{directory}'")


def output_target(path: str) -> str:
    """The file ``path`` names for writing: a symbolic link's target, else itself.

    Writing through a link keeps the link (a dashboard reading ``latest.csv`` that
    points to ``2024/06.csv`` sees the new file), and the new file is renamed over the
    target in the target's own directory, so it stays atomic there.
    """
    return os.path.realpath(path) if os.path.islink(path) else path


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_output`)."""
    with atomic_output(path) as handle:
        handle.write(data)


@contextmanager
def atomic_output(path: str) -> Iterator[BinaryIO]:
    """A stream whose bytes become the file ``path`` whole, or not at all.

    The data goes to an unnamed file in the target's directory (O_TMPFILE), is synced,
    given a temporary name and renamed over the target when the ``with`` block ends
    without an error. A run that fails or is killed before that leaves no file behind:
    the kernel frees an unnamed file with its last descriptor. Where O_TMPFILE is
    missing, a named temporary file does the same job.
    """
    with output_group() as group, group.file(path) as handle:
        yield handle


@contextmanager
def output_group() -> Iterator[OutputGroup]:
    """Outputs of one run, committed together when the block ends without an error."""
    group = OutputGroup()
    try:
        yield group
    except BaseException:
        group.discard()
        raise
    group.commit()


class OutputGroup:
    """Files staged whole (written and synced, unnamed) and then renamed all at once.

    A run's ``-o FILE`` and its ``--sidecar`` either both become the new files or
    neither does: every file is written in full before any is renamed, so a full
    disk or a directory in the sidecar's way leaves the previous output untouched.
    Renames come last and cannot run out of space; should one fail all the same
    (another process put a directory there), the error says which files were
    already replaced.
    """

    def __init__(self) -> None:
        self._staged: list[_Staged] = []

    @contextmanager
    def file(self, path: str) -> Iterator[BinaryIO]:
        """A stream whose bytes are staged for ``path`` when the block ends."""
        check_writable(path)
        staged = _Staged(path)
        try:
            staged.open()
            with open(staged.descriptor, "wb", closefd=False, buffering=_BUFFER_BYTES) as handle:
                yield handle
            staged.finish()
        except OSError as exc:
            staged.discard()
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        except BaseException:
            staged.discard()
            raise
        self._staged.append(staged)

    def write(self, path: str, data: bytes) -> None:
        """Stage ``data`` as the new ``path``."""
        with self.file(path) as handle:
            handle.write(data)

    def commit(self) -> None:
        """Name every staged file, then rename each over its target, the first last."""
        try:
            for staged in self._staged:
                try:
                    staged.name()
                except OSError as exc:
                    raise OutputError(
                        f"cannot write {staged.path}: {exc.strerror or exc}",
                        "no output was replaced",
                    ) from None
            done: list[str] = []
            # The main output (staged first) is renamed last: once it is new, all are.
            for staged in reversed(self._staged):
                try:
                    staged.rename()
                except OSError as exc:
                    replaced = ", ".join(done) if done else "none"
                    kept = [s.path for s in self._staged if s.path not in done]
                    raise OutputError(
                        f"cannot write {staged.path}: {exc.strerror or exc}",
                        f"already replaced: {replaced}; left as they were: {', '.join(kept)}",
                    ) from None
                done.append(staged.path)
        finally:
            self.discard()
        for directory in {staged.directory for staged in self._staged}:
            _sync_directory(directory)

    def discard(self) -> None:
        """Drop what was staged and not renamed: no temporary file stays behind."""
        for staged in self._staged:
            staged.discard()


class _Staged:
    """One output on its way: an unnamed (or hidden temporary) file beside its target."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.target = Path(output_target(path))
        self.directory = self.target.parent if str(self.target.parent) else Path(".")
        self.descriptor: int | None = None
        self.temporary: Path | None = None
        self.renamed = False

    def open(self) -> None:
        self.descriptor = _unnamed_file(self.directory)
        if self.descriptor is None:
            self.descriptor, name = tempfile.mkstemp(
                dir=self.directory, prefix=f".{_short(self.target.name)}."
            )
            self.temporary = Path(name)

    def finish(self) -> None:
        """Sync the data and give the file the owner and mode the target has (or a new
        file gets): a cron job run as root keeps the analyst's file theirs."""
        assert self.descriptor is not None
        _sync(self.descriptor)
        _keep_owner(self.descriptor, self.target)
        os.fchmod(self.descriptor, _mode_for(self.target))

    def name(self) -> None:
        if self.temporary is None:
            assert self.descriptor is not None
            name = (
                self.directory / f".{_short(self.target.name)}.{os.getpid()}.{secrets.token_hex(4)}"
            )
            _name_unnamed_file(self.descriptor, name)
            self.temporary = name
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None

    def rename(self) -> None:
        assert self.temporary is not None
        _rename(self.temporary, self.target)
        self.temporary = None
        self.renamed = True

    def discard(self) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)
            self.temporary = None


# Bytes of the target's name a temporary name keeps: with its dot, pid and random
# tail it stays under the 255 bytes a file name may have, whatever the target's.
_NAME_KEPT = 200


def _short(name: str) -> str:
    """The target's name, cut to :data:`_NAME_KEPT` bytes for a temporary name beside
    it (a cut inside a character leaves bytes that are still a valid file name)."""
    encoded = os.fsencode(name)
    return name if len(encoded) <= _NAME_KEPT else os.fsdecode(encoded[:_NAME_KEPT])


def _mode_for(target: Path) -> int:
    """An existing file's permission bits (a 0600 file stays 0600), else the umask's."""
    try:
        existing = os.stat(target)
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(existing.st_mode)


def _keep_owner(descriptor: int, target: Path) -> None:
    """The existing file's owner and group, where this process may give them."""
    try:
        existing = os.stat(target)
        mine = os.fstat(descriptor)
        if (existing.st_uid, existing.st_gid) != (mine.st_uid, mine.st_gid):
            os.fchown(descriptor, existing.st_uid, existing.st_gid)
    except OSError:
        pass


# The steps a full disk or a racing process can break, as functions of their own so
# that tests can make them fail (a fault-injecting writer).
def _sync(descriptor: int) -> None:
    os.fsync(descriptor)


def _rename(source: Path, target: Path) -> None:
    os.replace(source, target)


# Writes reach the file in pieces this large: big enough that Parquet's many small
# writes cost no system call each.
_BUFFER_BYTES = 1 << 20


def _unnamed_file(directory: Path) -> int | None:
    """A descriptor of a new unnamed file in ``directory``, or None where unsupported."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT):
            return None
        raise


def _name_unnamed_file(descriptor: int, name: Path) -> None:
    # linkat(AT_SYMLINK_FOLLOW) on /proc/self/fd/N names an O_TMPFILE file; os.link
    # calls linkat only when given a directory descriptor, so give it /proc/self/fd.
    proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.link(str(descriptor), name, src_dir_fd=proc, follow_symlinks=True)
    finally:
        os.close(proc)


def _sync_directory(directory: Path) -> None:
    """Make the rename itself durable; not every file system can sync a directory."""
    try:
        handle = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
