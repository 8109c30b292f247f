"""Opening an input: file, compressed file, archive or stdin; CSV text or Parquet.

Everything that can go wrong before the first value is parsed is caught here and
reported as an InputError naming the file: missing file, directory, unreadable,
empty, not text, not UTF-8, broken archive, fake Parquet, ragged rows.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import stat
import sys
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clvcli.errors import InputError, UsageError
from clvcli.io import bounds, spreadsheet
from clvcli.io.amountless import check_amountless, columns_to_inspect
from clvcli.io.columns import ColumnChoice, choose_columns
from clvcli.io.lines import line_breaks, line_number, split_lines
from clvcli.io.names import is_pattern, named_files, shown
from clvcli.parallel import cores, in_parallel

STDIN = "-"
DELIMITERS = (",", ";", "\t", "|")
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
_SNIFF_BYTES = 1 << 20


@dataclass
class RawColumns:
    """The chosen columns of an input, before any value is parsed."""

    source: str
    header: list[str]
    choice: ColumnChoice
    columns: dict[str, pa.Array]
    locate: Callable[[int], str] = field(repr=False)
    ragged_skipped: int = 0
    # Given rows whose chosen cells are all empty, which of them have every other
    # field empty too (blank lines); None when the source has no other fields.
    other_fields_blank: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    # The lines ("lines 5-7") of a record whose quote is never closed, dropped with
    # --skip-invalid: it swallowed every line after it.
    unclosed: str | None = None
    unclosed_skipped: int = 0  # 1 when that record is not among the ragged ones
    # Line breaks inside the ragged rows skipped: the lines they span past their first.
    ragged_breaks: int = 0

    @property
    def num_rows(self) -> int:
        return len(self.columns["customer"])

    def column_name(self, role: str) -> str:
        return self.header[getattr(self.choice, role)]


def display_name(path: str) -> str:
    return "<stdin>" if path == STDIN else shown(path)


@dataclass(frozen=True)
class LoadedInput:
    """An input's bytes, decompressed, with the names to report and to sniff by."""

    name: str
    data: bytes
    path_hint: str

    @property
    def is_parquet(self) -> bool:
        return self.data[:4] == _PARQUET_MAGIC

    @property
    def is_spreadsheet(self) -> bool:
        return spreadsheet.is_spreadsheet(self.data, self.path_hint)


def load_input(path: str, stdin: io.BufferedIOBase | None = None) -> LoadedInput:
    """Read a path (or stdin for ``-``) into memory and undo gzip or zip."""
    name = display_name(path)
    data = _load_bytes(path, name, stdin)
    if spreadsheet.is_spreadsheet(data, path):  # an .xlsx is a zip archive too
        return LoadedInput(name, data, path)
    data, inner = _unpack(data, name)
    return LoadedInput(name, data, inner or path)


def read_columns(
    path: str | LoadedInput,
    given: dict[str, str | None],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    skip_invalid: bool = False,
    stdin: io.BufferedIOBase | None = None,
    sheet: str | None = None,
) -> RawColumns:
    """Read the customer, date, amount (and channel) columns of an input.

    A directory, or a glob such as ``exports/*.parquet``, stands for all the files in
    it (a partitioned export), read one after another and joined. ``sheet`` names
    the sheet of a spreadsheet (default: the first).
    """
    if isinstance(path, str) and is_many(path):
        return _read_many(path, given, encoding, delimiter, skip_invalid, sheet)
    return _read_one(path, given, encoding, delimiter, skip_invalid, stdin, sheet)


def _read_one(
    path: str | LoadedInput,
    given: dict[str, str | None],
    encoding: str | None,
    delimiter: str | None,
    skip_invalid: bool,
    stdin: io.BufferedIOBase | None,
    sheet: str | None,
) -> RawColumns:
    """One file, by its name: never taken for a pattern, whatever it holds."""
    loaded = path if isinstance(path, LoadedInput) else load_input(path, stdin)
    if loaded.is_parquet:
        return _read_parquet(loaded.data, loaded.name, given)
    if loaded.is_spreadsheet:
        return _read_spreadsheet(loaded, given, sheet)
    text = _text_of(loaded, encoding)
    return _read_csv(
        text, loaded.name, given, delimiter or _default_delimiter(loaded.path_hint), skip_invalid
    )


def read_table(
    loaded: LoadedInput, *, encoding: str | None = None, delimiter: str | None = None
) -> pa.Table:
    """Every column of an input: typed from Parquet, as text from CSV.

    For inputs that are clv's own output (``clv segment`` reads ``clv compute``).
    """
    if loaded.is_parquet:
        try:
            return pq.read_table(pa.BufferReader(loaded.data))
        except (pa.ArrowException, OSError) as exc:
            raise _parquet_error(loaded.name, exc) from None
    if loaded.is_spreadsheet:
        sheet = spreadsheet.read_sheet(loaded.data, loaded.name, None)
        columns, _ = sheet.columns({str(i): i for i in range(len(sheet.header))})
        return pa.table(list(columns.values()), names=sheet.header)
    text = _text_of(loaded, encoding)
    if not text.strip():
        raise InputError(f"{loaded.name}: is empty", "give a file with a header row and data rows")
    header, delimiter, skip_rows = _header_and_delimiter(
        text, loaded.name, delimiter or _default_delimiter(loaded.path_hint)
    )
    names = [f"c{i}" for i in range(len(header))]
    ragged: list[object] = []

    def on_ragged(row: object) -> str:
        if not _only_delimiters(getattr(row, "text", None), delimiter):
            ragged.append(row)
        return "skip"

    every = dict(enumerate(range(len(header))))
    table = _arrow_csv(text, loaded.name, names, every, delimiter, skip_rows, on_ragged, False)
    if ragged:
        number = _first_ragged_line(text, delimiter, skip_rows, len(header))
        where = f"line {number}" if number is not None else "a row"
        raise InputError(
            f"{loaded.name}: {where} has a different number of fields from the header",
            "check the quoting and the delimiter",
        )
    return table.rename_columns(header)


def read_records(
    loaded: LoadedInput, *, encoding: str | None = None
) -> tuple[pa.Table, Callable[[int], str]]:
    """Every column of a side file (costs, a customer list) as :func:`read_table`
    reads it, without blank rows (every cell empty or spaces, as a transaction log's
    blank rows), and where each row kept is: ``row N (line L)`` in a CSV file."""
    table = read_table(loaded, encoding=encoding)
    kept = np.arange(table.num_rows)
    if table.num_rows and table.num_columns:
        blank = np.ones(table.num_rows, dtype=bool)
        for column in table.columns:
            text = column.cast(pa.string())
            empty = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(text), ""), True)
            blank &= empty.to_numpy(zero_copy_only=False)
        if blank.any():
            kept = np.flatnonzero(~blank)
            table = table.take(pa.array(kept))
    if loaded.is_parquet or loaded.is_spreadsheet:
        return table, lambda row: f"row {int(kept[row]) + 1}"
    text = _text_of(loaded, encoding)
    header, delimiter, skip_rows = _header_and_delimiter(
        text, loaded.name, _default_delimiter(loaded.path_hint)
    )
    unclosed = _unclosed_quote(text, delimiter, skip_rows)
    if unclosed is not None:
        raise InputError(
            f"{loaded.name}: line {unclosed[0]}: a quote opened on this line is never closed, "
            f"so lines {unclosed[0]}-{unclosed[1]} would read as one value",
            'close the quote (a quote inside a quoted value is written twice: "")',
        )

    def locate(row: int) -> str:
        record = int(kept[row])
        line = _line_of_record(text, delimiter, skip_rows, record, len(header))
        return f"row {row + 1} (line {line})" if line else f"row {row + 1}"

    return table, locate


def peek_header(loaded: LoadedInput, *, encoding: str | None = None) -> list[str]:
    """The column names of an input, without parsing its rows."""
    if loaded.is_parquet:
        try:
            names = list(pq.read_schema(pa.BufferReader(loaded.data)).names)
            pq.ParquetFile(pa.BufferReader(loaded.data)).metadata  # noqa: B018
            return names
        except (pa.ArrowException, OSError) as exc:
            raise _parquet_error(loaded.name, exc) from None
    if loaded.is_spreadsheet:
        return spreadsheet.read_sheet(loaded.data, loaded.name, None).header
    text = _text_of(loaded, encoding)
    if not text.strip():
        raise InputError(f"{loaded.name}: is empty", "give a file with a header row and data rows")
    return _header_and_delimiter(text, loaded.name, _default_delimiter(loaded.path_hint))[0]


def _text_of(loaded: LoadedInput, encoding: str | None) -> bytes:
    if loaded.path_hint.lower().endswith(".parquet"):
        raise InputError(
            f"{loaded.name}: is not a Parquet file (it does not start with the Parquet magic "
            "bytes)",
            "check the file, or give it a .csv name if it is text",
        )
    return _to_utf8(loaded.data, loaded.name, encoding)


def is_many(path: str) -> bool:
    """Whether INPUT names several files: a directory, or a glob pattern that is not
    the name of a file (``sales[1].csv`` that exists is that one file)."""
    return path != STDIN and (os.path.isdir(path) or is_pattern(path))


def input_files(path: str) -> list[str]:
    """The files a directory or glob stands for, sorted so the order never varies.

    A folder's files are listed, not globbed: each is read once, as itself."""
    found = named_files(path)
    if not found or not is_many(path):
        where = "is a directory with no" if os.path.isdir(path) else "matches no"
        raise InputError(
            f"{shown(path)}: {where} CSV or Parquet files",
            "name a file, a folder of files or a glob",
        )
    return found


def _read_many(
    path: str,
    given: dict[str, str | None],
    encoding: str | None,
    delimiter: str | None,
    skip_invalid: bool,
    sheet: str | None = None,
) -> RawColumns:
    parts = [
        _read_one(name, given, encoding, delimiter, skip_invalid, None, sheet)
        for name in input_files(path)
    ]
    roles = list(parts[0].columns)
    if any(set(part.columns) != set(roles) for part in parts):
        differ = set.union(*(set(part.columns) for part in parts)) - set(roles)
        differ |= {role for part in parts for role in roles if role not in part.columns}
        raise InputError(
            f"{shown(path)}: the files do not all have a {' or '.join(sorted(differ))} column",
            "give files with the same columns, or name them with --channel-col and --amount-col",
        )
    columns = {}
    for role in roles:
        arrays = [part.columns[role] for part in parts]
        if len({a.type for a in arrays}) > 1:
            arrays = [a.cast(pa.string()) for a in arrays]
        columns[role] = pa.concat_arrays(arrays)
    starts = np.cumsum([0] + [part.num_rows for part in parts])

    def locate(row: int) -> str:
        index = int(np.searchsorted(starts, row, side="right")) - 1
        part = parts[index]
        return f"file {part.source}, {part.locate(row - int(starts[index]))}"

    first = parts[0]
    unclosed = [f"file {part.source}, {part.unclosed}" for part in parts if part.unclosed]
    return RawColumns(
        shown(path),
        first.header,
        first.choice,
        columns,
        locate,
        sum(part.ragged_skipped for part in parts),
        unclosed="; ".join(unclosed) or None,
        unclosed_skipped=sum(part.unclosed_skipped for part in parts),
        ragged_breaks=sum(part.ragged_breaks for part in parts),
    )


def read_file(path: str) -> bytes:
    """A file's bytes as they are (no decompression), with the same checks and
    bounds as INPUT: for the small files clv reads beside it (a params file)."""
    return _load_bytes(path, display_name(path), None)


def _load_bytes(path: str, name: str, stdin: io.BufferedIOBase | None) -> bytes:
    """A file's bytes; a stream's up to the memory bound; a device refused (see
    clvcli.io.bounds)."""
    if path == STDIN:
        return _read_stdin(stdin, name)
    target = Path(path)
    try:
        mode = target.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError(f"{name}: is a directory, not a file", "give a CSV or Parquet file")
        bounds.refuse_device(mode, name)
        if stat.S_ISREG(mode):
            return target.read_bytes()
        with open(target, "rb") as stream:  # a FIFO or socket: it may never end
            return bounds.read_bounded(stream, name)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file", None) from None
    except PermissionError:
        raise InputError(f"{name}: cannot read the file: permission denied", None) from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a file", None) from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read the file: {exc.strerror or exc}", None) from None


def _read_stdin(stdin: io.BufferedIOBase | None, name: str) -> bytes:
    """All of stdin, up to the memory bound; a closed stdin (``<&-``), a directory on
    it (``< /``) or an endless device is an input error, not a crash."""
    if stdin is None:
        if sys.stdin is None:
            raise InputError("<stdin>: is closed", "give INPUT as a file, or pipe the data in")
        stdin = sys.stdin.buffer
    mode = _stream_mode(stdin)
    if mode is not None and not _harmless_device(stdin, mode):
        bounds.refuse_device(mode, name)
    try:
        if mode is not None and stat.S_ISREG(mode):
            return stdin.read()
        return bounds.read_bounded(stdin, name)  # type: ignore[arg-type]
    except IsADirectoryError:
        raise InputError(
            "<stdin>: is a directory, not a file", "give a CSV or Parquet file"
        ) from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read it: {exc.strerror or exc}") from None


def _stream_mode(stream: object) -> int | None:
    """The file type behind stdin, when it has a descriptor."""
    try:
        return os.fstat(stream.fileno()).st_mode  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _harmless_device(stream: object, mode: int) -> bool:
    """A terminal (typed input) or /dev/null (empty): devices that end."""
    if not stat.S_ISCHR(mode):
        return True
    try:
        if os.isatty(stream.fileno()):  # type: ignore[attr-defined]
            return True
        return os.fstat(stream.fileno()).st_rdev == os.stat(os.devnull).st_rdev  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return False


def _unpack(data: bytes, name: str) -> tuple[bytes, str | None]:
    """Decompress gzip and open single-file zip archives (by content, not by name)."""
    if data[:2] == _GZIP_MAGIC:
        try:
            inner = name[:-3] if name.lower().endswith(".gz") else None
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
                return bounds.read_inflated(stream, name, len(data), "gzip"), inner
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{name}: is not a valid gzip file ({exc})", None) from None
    if data[:4] == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = [
                    m
                    for m in archive.infolist()
                    if not m.is_dir() and not m.filename.startswith("__MACOSX/")
                ]
                if len(members) != 1:
                    listed = ", ".join(m.filename for m in members) or "(none)"
                    raise InputError(
                        f"{name}: the archive holds {len(members)} files ({listed}); "
                        "clv reads an archive of exactly one file",
                        "unzip it and give the file you mean",
                    )
                with archive.open(members[0]) as stream:
                    inflated = bounds.read_inflated(stream, name, len(data), "zip")
                return inflated, members[0].filename
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise InputError(f"{name}: is not a valid zip archive ({exc})", None) from None
    return data, None


def _default_delimiter(path: str) -> str | None:
    return "\t" if path.lower().removesuffix(".gz").endswith(".tsv") else None


def _to_utf8(data: bytes, name: str, encoding: str | None) -> bytes:
    """UTF-8 bytes without a BOM, from UTF-8, UTF-16 with a BOM, or --encoding."""
    if encoding and encoding.replace("-", "").replace("_", "").lower() not in ("utf8", "utf8sig"):
        return _transcode(data, name, encoding)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _transcode(data, name, "utf-16")
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise InputError(
            f"{name}: does not look like a text file (it contains NUL bytes)",
            "give a CSV or Parquet file; for UTF-16 without a BOM pass --encoding utf-16-le",
        )
    # Checked whole and up front: pyarrow reports bad bytes without a line, and its
    # handler for ragged rows cannot decode them.
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise _invalid_utf8(data, name) from None
    return data


def _transcode(data: bytes, name: str, encoding: str) -> bytes:
    try:
        text = data.decode(encoding)
    except LookupError:
        raise UsageError(f"unknown encoding '{encoding}'", "try utf-8, utf-16 or cp1256") from None
    except UnicodeDecodeError as exc:
        # Counted in the decoded text: a two-byte encoding's \r\n is not the bytes \r\n.
        before = data[: exc.start].decode(encoding, errors="replace")
        line = line_breaks(before) + 1
        raise InputError(
            f"{name}: line {line}: bytes that are not valid {encoding}", "check --encoding"
        ) from None
    return text.removeprefix("\ufeff").encode("utf-8")


def _invalid_utf8(data: bytes, name: str) -> InputError:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = line_number(data, exc.start)
        return InputError(
            f"{name}: line {line}: bytes that are not valid UTF-8 text",
            "save the file as UTF-8, or pass its encoding with --encoding (e.g. cp1256)",
        )
    return InputError(f"{name}: is not valid UTF-8 text", "save the file as UTF-8")


def _header_and_delimiter(
    text: bytes, name: str, delimiter: str | None
) -> tuple[list[str], str, int]:
    """The header's names, the delimiter and the number of rows before the data."""
    head = text[:_SNIFF_BYTES].decode("utf-8", errors="ignore")
    lines = split_lines(head)
    skip = 0
    while skip < len(lines) and not lines[skip].strip():
        skip += 1
    if skip == len(lines):
        raise InputError(f"{name}: is empty", "give a file with a header row and data rows")
    first = lines[skip]
    if first.lower().startswith("sep=") and len(first.rstrip("\r\n")) == 5:
        delimiter = delimiter or first[4]
        skip += 1
        if skip == len(lines):
            raise InputError(f"{name}: is empty", None)
        first = lines[skip]
    if delimiter is None:
        delimiter = max(DELIMITERS, key=lambda d: (_count_outside_quotes(first, d), d == ","))
    header_text = "\n".join(lines[skip : skip + 50])
    try:
        header = next(csv.reader(io.StringIO(header_text), delimiter=delimiter))
    except (csv.Error, StopIteration):
        raise InputError(f"{name}: line {skip + 1}: cannot read the header row", None) from None
    return [cell.strip() for cell in header], delimiter, skip + 1


def plain_csv_header(path: str) -> list[str] | None:
    """The header of a comma-separated UTF-8 file whose first line is its header, as
    the reader reads it; None for any other file (another delimiter, a byte-order
    mark, a ``sep=`` line, blank lines first, another encoding, no data), whose
    reading only the reader knows. Reads the first 64 KB, never the rows."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    if b"\n" not in head or head.startswith(codecs.BOM_UTF8) or not first.strip():
        return None
    try:
        first.decode("utf-8")
        header, delimiter, skip = _header_and_delimiter(head, path, None)
    except (UnicodeDecodeError, InputError):
        return None
    return header if delimiter == "," and skip == 1 else None


def plain_header(path: str) -> list[str] | None:
    """The column names of a plain log file (typed Parquet, or a CSV as
    :func:`plain_csv_header` takes it), or of the first of the files a folder or glob
    names, from its footer or first line; None when only reading it would tell (stdin,
    a spreadsheet, a compressed or other text)."""
    if path == STDIN:
        return None
    try:
        first = input_files(path)[0] if is_many(path) else path
    except InputError:
        return None
    if not os.path.isfile(first):  # a FIFO's bytes are read once, by the reader
        return None
    if first.lower().endswith((".parquet", ".pq")):
        try:
            return list(pq.read_schema(first).names)
        except (pa.ArrowException, OSError):
            return None
    return plain_csv_header(first) if first.lower().endswith(".csv") else None


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _read_csv(
    text: bytes, name: str, given: dict[str, str | None], delimiter: str | None, skip_invalid: bool
) -> RawColumns:
    if not text.strip():
        raise InputError(f"{name}: is empty", "give a file with a header row and data rows")
    aligned = _aligned_columns(text, name, given) if delimiter is None else None
    if aligned is not None:
        text, header, delimiter, skip_rows = aligned
    else:
        header, delimiter, skip_rows = _header_and_delimiter(text, name, delimiter)
        if spreadsheet.looks_like_data(header) and _by_position(given, header):
            raise InputError(
                f"{name}: line {skip_rows} looks like data, not a header row; with columns "
                "named by position the first row would be lost",
                "add a header row (e.g. customer_id,date,amount) above the data",
            )
    choice = choose_columns(header, name, given)
    wanted: dict[str, int | None] = dict(choice.positions())
    others = columns_to_inspect(header, choice, given)  # when no amount column was found
    wanted.update({f"other{index}": index for index in others})
    field_names = [f"c{i}" for i in range(len(header))]
    ragged: list[object] = []

    def on_ragged(row: object) -> str:
        if not _only_delimiters(getattr(row, "text", None), delimiter):
            ragged.append(row)
        return "skip"

    table = _arrow_csv(text, name, field_names, wanted, delimiter, skip_rows, on_ragged, True)
    unclosed = _unclosed_quote(text, delimiter, skip_rows)
    unclosed_lines, unclosed_skipped = None, 0
    if unclosed is not None:
        start, end = unclosed
        if not skip_invalid:
            raise InputError(
                f"{name}: line {start}: a quote opened on this line is never closed, so lines "
                f"{start}-{end} would read as one value",
                'close the quote (a quote inside a quoted value is written twice: ""), or pass '
                "--skip-invalid to drop that row",
            )
        # The quote runs to the end of the file, so its record is the parser's last:
        # dropped here, unless it had the wrong number of fields (skipped with those).
        if _record_fields(text, delimiter, start) == len(header) and table.num_rows:
            table = table.slice(0, table.num_rows - 1)
            unclosed_skipped = 1
        unclosed_lines = f"lines {start}-{end}"
    if ragged and not skip_invalid:
        first = ragged[0]
        line = _first_ragged_line(text, delimiter, skip_rows, len(header))
        where = f"line {line}" if line is not None else "a row"
        raise InputError(
            f"{name}: {where} has {first.actual_columns} fields, the header has "  # type: ignore[attr-defined]
            f"{first.expected_columns} ({_such_rows(len(ragged))})",  # type: ignore[attr-defined]
            "check the quoting and the delimiter, or pass --skip-invalid to drop such rows",
        )
    if table.num_rows == 0:
        raise InputError(
            f"{name}: has a header but no data rows", "give a file with at least one transaction"
        )
    columns = {
        role: table.column(f"c{index}").combine_chunks()
        for role, index in wanted.items()
        if index is not None
    }
    check_amountless(name, header, {index: columns.pop(f"other{index}") for index in others})

    def locate(row_index: int) -> str:
        line = _line_of_record(text, delimiter, skip_rows, row_index, len(header))
        return f"row {row_index + 1} (line {line})" if line else f"row {row_index + 1}"

    others = None
    if len(header) > len(columns):

        def others(rows: np.ndarray) -> np.ndarray:
            return _rows_blank(text, name, len(header), delimiter, skip_rows, rows)

    breaks = sum(line_breaks(getattr(row, "text", None) or "") for row in ragged)
    return RawColumns(
        name,
        header,
        choice,
        columns,
        locate,
        len(ragged),
        others,
        unclosed_lines,
        unclosed_skipped,
        breaks,
    )


def _by_position(given: dict[str, str | None], header: list[str]) -> bool:
    """Whether a column option gives a position rather than one of the names."""
    return any(v and v.strip().isdigit() and v not in header for v in given.values())


def _aligned_columns(
    text: bytes, name: str, given: dict[str, str | None]
) -> tuple[bytes, list[str], str, int] | None:
    """A whitespace-aligned file (``00001 19970101  1  11.77``) as tab-separated text,
    with its header, delimiter and rows before the data; None for any other file.

    Aligned means: no line near the top holds a delimiter clv sniffs, and they split
    on runs of spaces into the same number of fields (nine in ten at least: another
    width is a ragged row, reported as in any file). Without a header row,
    columns have no names, and guessing which number is the amount is how money goes
    silently wrong (CDNOW's own log has a count of CDs beside it): the user names
    them by position.
    """
    head = split_lines(text[:_ALIGNED_BYTES].decode("utf-8", errors="ignore"))
    if len(text) > _ALIGNED_BYTES:
        head = head[:-1]  # cut short
    lines = [line for line in head if line.strip()][:_ALIGNED_LINES]
    if not lines or any(d in line for line in lines for d in DELIMITERS if d != "\t"):
        return None
    widths = [len(line.split()) for line in lines]
    width = widths[0]
    # A stray line of another width is a ragged row, reported as such by the reader.
    if width < 2 or widths.count(width) < 0.9 * len(widths) or any("\t" in x for x in lines):
        return None
    tabbed = _RUNS_OF_SPACES.sub(b"\t", _EDGE_SPACES.sub(b"", text))
    first = lines[0].split()
    if not any(any(ch.isdigit() for ch in cell) for cell in first):
        header, _, skip_rows = _header_and_delimiter(tabbed, name, "\t")
        return tabbed, header, "\t", skip_rows
    if not all(given.get(role) for role in ("customer", "date", "amount")):
        shown = ", ".join(f"{i}='{cell[:20]}'" for i, cell in enumerate(first[:12], start=1))
        raise InputError(
            f"{name}: columns aligned with spaces and no header row, so which is the "
            f"customer, the date and the amount cannot be told for certain; the first "
            f"line's columns are {shown}",
            "name them by position: --customer-col N --date-col N --amount-col N "
            "(1 is the first column)",
        )
    leading = next(index for index, line in enumerate(head) if line.strip())
    return tabbed, [f"column {i + 1}" for i in range(width)], "\t", leading


# Lines (and bytes) looked at to tell a whitespace-aligned file.
_ALIGNED_LINES = 200
_ALIGNED_BYTES = 1 << 16
_EDGE_SPACES = re.compile(rb"(?m)^[ \t]+|[ \t]+(?=\r?$)")
_RUNS_OF_SPACES = re.compile(rb"[ \t]+")


def _only_delimiters(line: str | None, delimiter: str) -> bool:
    """Whether a line holds nothing but delimiters and spaces (a blank row)."""
    return line is not None and not line.replace(delimiter, "").strip()


def _rows_blank(
    text: bytes, name: str, fields: int, delimiter: str, skip_rows: int, rows: np.ndarray
) -> np.ndarray:
    """Which of the data rows ``rows`` have every field empty (read again, whole;
    only for files that have rows with no customer id)."""
    every = {str(i): i for i in range(fields)}
    names = [f"c{i}" for i in range(fields)]

    def on_ragged(row: object) -> str:
        return "skip"

    table = _arrow_csv(text, name, names, every, delimiter, skip_rows, on_ragged, True)
    blank = np.ones(len(rows), dtype=bool)
    index = pa.array(rows)
    for column in table.columns:
        cells = column.take(index)
        blank &= pc.fill_null(pc.equal(pc.utf8_trim_whitespace(cells), ""), True).to_numpy(
            zero_copy_only=False
        )
    return blank


def _arrow_csv(
    text: bytes,
    name: str,
    field_names: list[str],
    wanted: dict[str, int | None],
    delimiter: str,
    skip_rows: int,
    on_ragged: Callable[[object], str],
    use_threads: bool,
) -> pa.Table:
    used = [f"c{index}" for index in wanted.values() if index is not None]
    # Only a quoted value can hold a line break. Without any quote in the rows, Arrow
    # may split the file at line ends and parse the blocks in parallel: three times
    # faster. A quoted header (as many exports write it) is skipped, not parsed.
    quoted = _quotes_past(text, skip_rows)
    try:
        return _read_arrow_csv(
            text, field_names, used, delimiter, skip_rows, on_ragged, use_threads, quoted
        )
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise _csv_error(exc, text, name) from None
    # A field longer than Arrow's block (1 MB): read again in one block as large as
    # the file, on one thread, rather than refuse a long (if odd) value.
    block = min(len(text) + 1, _LARGEST_BLOCK)
    try:
        return _read_arrow_csv(
            text, field_names, used, delimiter, skip_rows, on_ragged, False, quoted, block
        )
    except pa.ArrowInvalid as exc:
        if "straddl" not in str(exc):
            raise _csv_error(exc, text, name) from None
        raise InputError(
            f"{name}: has a field longer than {_LARGEST_BLOCK >> 20} MB, more than clv "
            "reads in one value",
            "check the quoting: an unclosed quote makes the rest of the file one field",
        ) from None


# The largest block Arrow is given to parse at once (a field must fit in one).
_LARGEST_BLOCK = 1 << 30


def _read_arrow_csv(
    text: bytes,
    field_names: list[str],
    used: list[str],
    delimiter: str,
    skip_rows: int,
    on_ragged: Callable[[object], str],
    use_threads: bool,
    quoted: bool,
    block_size: int | None = None,
) -> pa.Table:
    read_options = pacsv.ReadOptions(
        column_names=field_names, skip_rows=skip_rows, use_threads=use_threads
    )
    if block_size is not None:
        read_options.block_size = block_size
    return pacsv.read_csv(
        pa.py_buffer(text),
        read_options=read_options,
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, newlines_in_values=quoted, invalid_row_handler=on_ragged
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=used,
            column_types={column: pa.string() for column in used},
            strings_can_be_null=False,
        ),
    )


def _csv_error(exc: Exception, text: bytes, name: str) -> InputError:
    if "UTF8" in str(exc) or "utf8" in str(exc).lower():
        return _invalid_utf8(text, name)
    if "Could not skip initial" in str(exc):
        return InputError(
            f"{name}: has a header but no data rows",
            "give a file with at least one transaction",
        )
    return InputError(f"{name}: cannot parse the file as CSV ({exc})", None)


def _quotes_past(text: bytes, lines: int) -> bool:
    """Whether a quote appears past the first ``lines`` lines (or they are unusual)."""
    start = 0
    for _ in range(lines):
        end = text.find(b"\n", start)
        line = text[start:end]
        if end == -1 or b"\r" in line.rstrip(b"\r") or line.count(b'"') % 2:
            return b'"' in text  # a line break inside quotes, or lone CRs: look at all
        start = end + 1
    return text.find(b'"', start) != -1


def _data_records(text: bytes, delimiter: str, skip_rows: int) -> Iterator[tuple[int, list[str]]]:
    """(first line, fields) of each non-empty record after the header (error paths only)."""
    stream = io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", errors="replace", newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    previous_line = 0
    try:
        for row in reader:
            start = previous_line + 1
            previous_line = reader.line_num
            if start > skip_rows and row:
                yield start, row
    except csv.Error:
        return


def _unclosed_quote(text: bytes, delimiter: str, skip_rows: int) -> tuple[int, int] | None:
    """(first line, last line) of a data record whose quote is never closed: it runs to
    the end of the file, swallowing every line after it. None when there is none.

    Balanced quotes come in pairs, so only a file with an odd count of them is read
    again (strictly, to tell a runaway quote from a stray inch mark such as 27")."""
    if not text.count(b'"') % 2:
        return None
    stream = io.TextIOWrapper(io.BytesIO(text), encoding="utf-8", errors="replace", newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    previous_line = 0
    try:
        for _ in reader:
            previous_line = reader.line_num
    except csv.Error as exc:
        if "unexpected end of data" in str(exc) and previous_line + 1 > skip_rows:
            return previous_line + 1, reader.line_num
    return None


def _record_fields(text: bytes, delimiter: str, line: int) -> int | None:
    """How many fields the record starting on ``line`` has, read as the parser reads it."""
    return next(
        (len(row) for start, row in _data_records(text, delimiter, line - 1) if start == line),
        None,
    )


def _first_ragged_line(text: bytes, delimiter: str, skip_rows: int, fields: int) -> int | None:
    """The line where the first record with the wrong number of fields starts."""
    return next(
        (
            line
            for line, row in _data_records(text, delimiter, skip_rows)
            if len(row) != fields and any(cell.strip() for cell in row)
        ),
        None,
    )


def _line_of_record(
    text: bytes, delimiter: str, skip_rows: int, row_index: int, fields: int
) -> int | None:
    """The line where data record ``row_index`` starts, counting the records the
    parser keeps: one with another number of fields (a line of spaces, a skipped
    ragged row) is not a row."""
    records = (
        line for line, row in _data_records(text, delimiter, skip_rows) if len(row) == fields
    )
    return next((line for index, line in enumerate(records) if index == row_index), None)


def _such_rows(count: int) -> str:
    return "1 such row" if count == 1 else f"{count} such rows"


def _parquet_error(name: str, exc: Exception) -> InputError:
    detail = str(exc).replace("Could not open Parquet input source '<Buffer>': ", "")
    return InputError(
        f"{name}: is not a readable Parquet file ({detail.rstrip('.')})",
        "the file may be truncated or corrupt; export it again",
    )


def _read_spreadsheet(
    loaded: LoadedInput, given: dict[str, str | None], sheet: str | None
) -> RawColumns:
    """The chosen columns of one sheet; rows are named as Excel numbers them."""
    table = spreadsheet.read_sheet(loaded.data, loaded.name, sheet)
    choice = choose_columns(table.header, table.label, given)
    wanted = {role: getattr(choice, role) for role in ("customer", "date", "amount", "channel")}
    columns, rows = table.columns(wanted)
    if len(rows) == 0:
        raise InputError(
            f"{table.label}: has a header but no data rows",
            "give a sheet with at least one transaction, or name another with --sheet",
        )
    return RawColumns(table.label, table.header, choice, columns, table.locator(rows))


def _read_parquet(data: bytes, name: str, given: dict[str, str | None]) -> RawColumns:
    """The chosen columns only: a wide export's other columns are never decoded."""
    try:
        parquet = pq.ParquetFile(pa.BufferReader(data))
        header = list(parquet.schema_arrow.names)
        choice = choose_columns(header, name, given)
        roles = list(choice.positions())
        if parquet.metadata.num_rows == 0:
            raise InputError(f"{name}: has no rows", "give a file with at least one transaction")
        others = columns_to_inspect(header, choice, given)  # when no amount column was found
        cells = {index: parquet.read(columns=[header[index]]).column(0) for index in others}
        check_amountless(name, header, cells)
        del cells
        columns = {}
        for role in roles:
            # One column at a time, joined as soon as it is read: one column's chunks
            # at most are held beside the joined columns.
            chunks = _column_on_every_core(data, parquet, header[getattr(choice, role)])
            columns[role] = chunks.combine_chunks()
            del chunks
    except (pa.ArrowException, OSError) as exc:
        raise _parquet_error(name, exc) from None
    return RawColumns(name, header, choice, columns, lambda i: f"row {i + 1}")


def _column_on_every_core(data: bytes, parquet: pq.ParquetFile, column: str) -> pa.ChunkedArray:
    """A column of every row group, runs of consecutive row groups decoded side by
    side, in the file's order.

    Arrow decodes a file's columns side by side, but a column's row groups one after
    another, and the ids are most of the decoding: one core did nearly all of it.
    Each run is read by a reader of its own, as readers are not known to be safe to
    share between threads.
    """
    runs = _runs_of_row_groups(parquet.metadata, cores() * _RUNS_PER_CORE)
    if len(runs) <= 1:
        return parquet.read(columns=[column]).column(0)
    parts: list[pa.ChunkedArray | None] = [None] * len(runs)

    def read(index: int) -> None:
        reader = pq.ParquetFile(pa.BufferReader(data))
        batches = reader.iter_batches(
            _BATCH_ROWS, row_groups=runs[index], columns=[column], use_threads=False
        )
        parts[index] = [batch.column(0) for batch in batches]

    in_parallel(read, range(len(runs)))
    chunks = [chunk for part in parts if part is not None for chunk in part]
    return pa.chunked_array(chunks, type=parquet.schema_arrow.field(column).type)


def _runs_of_row_groups(metadata: pq.FileMetaData, most: int) -> list[list[int]]:
    """The row groups cut into at most ``most`` runs of consecutive groups with
    about equal rows (a run has one group at least)."""
    rows = np.array(
        [metadata.row_group(group).num_rows for group in range(metadata.num_row_groups)],
        dtype=np.int64,
    )
    if len(rows) == 0:
        return []
    ends = np.cumsum(rows)
    # Each group goes to the run its first row falls in, of ``most`` equal shares.
    share = (ends - rows) * min(most, len(rows)) // max(int(ends[-1]), 1)
    cuts = np.flatnonzero(np.diff(share)) + 1
    return [run.tolist() for run in np.split(np.arange(len(rows)), cuts)]


# Runs of row groups per core: more than one, so that a core another process holds
# up is left fewer.
_RUNS_PER_CORE = 2
# Rows decoded at a time: a whole row group of long ids at once left about as much
# memory again behind in the heap (e-mail ids at 10M rows: 230 MB more at the peak).
_BATCH_ROWS = 1 << 18


def is_readable_path(path: str) -> bool:
    return path == STDIN or os.path.exists(path)
