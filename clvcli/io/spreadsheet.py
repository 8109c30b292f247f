"""Reading a transaction log from a spreadsheet: .xlsx, .xlsm, .xlsb, .xls, .ods.

Cells come typed. A number in the customer column is an id (``42.0`` is ``42``), a
date cell is a date, a number in the amount column is taken as it is; text cells go
through the same parsers as CSV text, and so do numbers in a date column (Excel's
serial days). fastexcel (calamine, in Rust) reads the sheet straight into Arrow
columns: on a million rows it took less time and memory than python-calamine, whose
cells come as Python objects.

Spreadsheets often hold a title above the table: the header is the first row that
fills at least half as many cells as the fullest row near the top; a row of values
is refused as a header rather than lost. Bad-row messages name the sheet and the
row as Excel numbers it.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.errors import InputError

SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# An encrypted (password-protected) .xlsx is an OLE2 file holding this stream.
_ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
# Rows looked at for the header (a title and a few notes may sit above it).
_HEADER_SEARCH_ROWS = 30


def is_spreadsheet(data: bytes, path_hint: str) -> bool:
    """Whether an input is a spreadsheet, by its name or its content."""
    if path_hint.lower().endswith(SUFFIXES) or data[:8] == _OLE2_MAGIC:
        return True
    if data[:4] != _ZIP_MAGIC:
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                return b"opendocument.spreadsheet" in archive.read("mimetype")
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
    return "xl/workbook.xml" in names or "xl/workbook.bin" in names


def sheet_names(data: bytes, name: str) -> list[str]:
    """The sheets of a workbook, in order."""
    return list(_open(data, name).sheet_names)


def read_sheet(data: bytes, name: str, sheet: str | None) -> SheetTable:
    """One sheet's header and typed columns, from its header row on."""
    reader = _open(data, name)
    names = list(reader.sheet_names)
    index = _sheet_index(names, sheet, name)
    label = f"{name}, sheet '{names[index]}'"
    import fastexcel

    try:
        top = reader.load_sheet(
            index, header_row=None, skip_rows=0, n_rows=_HEADER_SEARCH_ROWS, dtypes="string"
        ).to_arrow()
        header_row = _header_row(top)
        if header_row is None:
            raise InputError(f"{label}: is empty", "give a sheet with a header row and data rows")
        header = [
            "" if cell is None else str(cell).strip()
            for cell in (column[header_row].as_py() for column in top.columns)
        ]
        while header and not header[-1]:
            header.pop()
        if looks_like_data(header):
            shown = ", ".join(f"'{name[:20]}'" for name in header[:8])
            raise InputError(
                f"{label}: row {header_row + 1} ({shown}) looks like data, not a header "
                "row: clv needs the columns' names",
                "add a header row (e.g. customer_id, date, amount) above the data",
            )
        table = reader.load_sheet(
            index,
            header_row=header_row,
            skip_rows=0,
            schema_sample_rows=None,
        ).to_arrow()
    except fastexcel.FastExcelError as exc:
        raise _unreadable(label, exc) from None
    return SheetTable(label, header, table, header_row + 2)


class SheetTable:
    """A sheet's table: its header, its columns and where its data starts."""

    def __init__(self, label: str, header: list[str], table: Any, first_row: int) -> None:
        self.label = label
        self.header = header
        self.table = table
        self.first_row = first_row  # the Excel row number of the first data row

    def columns(self, wanted: dict[str, int | None]) -> tuple[dict[str, pa.Array], np.ndarray]:
        """The wanted columns, cells as clv parses them, without wholly empty rows;
        and the Excel row number of each row kept."""
        blank = _blank_rows(self.table)
        keep = pa.array(~blank) if blank.any() else None
        columns = {}
        for role, index in wanted.items():
            if index is None:
                continue
            column = self.table.column(index)
            if keep is not None:
                column = column.filter(keep)
            columns[role] = _cells(column, role)
        rows = np.flatnonzero(~blank) + self.first_row
        return columns, rows

    def locator(self, rows: np.ndarray) -> Callable[[int], str]:
        return lambda row: f"row {int(rows[row])}"


def _open(data: bytes, name: str) -> Any:
    if data[:8] == _OLE2_MAGIC and _ENCRYPTED in data:
        raise InputError(
            f"{name}: the spreadsheet is password-protected",
            "save it without a password, or export the sheet as CSV",
        )
    import fastexcel

    try:
        return fastexcel.read_excel(data)
    except fastexcel.FastExcelError as exc:
        raise _unreadable(name, exc) from None


def _unreadable(label: str, exc: Exception) -> InputError:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return InputError(
        f"{label}: cannot read the spreadsheet ({detail})",
        "the file may be corrupt or password-protected; open it and save it again, "
        "or export the sheet as CSV",
    )


def _sheet_index(names: list[str], sheet: str | None, name: str) -> int:
    """The sheet asked for by name or by number (1 is the first), else the first."""
    if not names:
        raise InputError(f"{name}: the workbook has no sheets", None)
    if sheet is None or sheet == "":
        return 0
    if sheet in names:
        return names.index(sheet)
    folded = [candidate.casefold() for candidate in names]
    if sheet.strip().casefold() in folded:
        return folded.index(sheet.strip().casefold())
    if sheet.strip().isdigit() and 1 <= int(sheet) <= len(names):
        return int(sheet) - 1
    listed = ", ".join(f"'{candidate}'" for candidate in names)
    raise InputError(
        f"{name}: no sheet '{sheet}'; the sheets are: {listed}",
        "give --sheet a sheet's name, or its number (1 is the first)",
    )


def _header_row(top: Any) -> int | None:
    """The first row that fills at least half as many cells as the fullest row near
    the top, and two at least (a title or a note above a table fills fewer), or
    None for an empty sheet."""
    if top.num_rows == 0 or top.num_columns == 0:
        return None
    filled = np.zeros(top.num_rows, dtype=np.int64)
    for column in top.columns:
        filled += _filled(column)
    fullest = int(filled.max())
    if fullest == 0:
        return None
    enough = min(fullest, max(2, (fullest + 1) // 2))
    return int(np.flatnonzero(filled >= enough)[0])


def looks_like_data(header: list[str]) -> bool:
    """Whether every name of a header holds a digit: a row of values (``42``,
    ``1997-01-01``, ``11.77``), which taken as the header would lose a row."""
    names = [name for name in header if name]
    return len(names) >= 2 and all(any(ch.isdigit() for ch in name) for name in names)


def _filled(column: pa.Array) -> np.ndarray:
    """Whether each cell holds anything (text of only spaces is empty)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        present = pc.not_equal(pc.utf8_trim_whitespace(column), "")
    else:
        present = pc.is_valid(column)
    return pc.fill_null(present, False).to_numpy(zero_copy_only=False)


def _blank_rows(table: Any) -> np.ndarray:
    """Rows whose every cell is empty (rows a sheet keeps between or after tables)."""
    blank = np.ones(table.num_rows, dtype=bool)
    for column in table.columns:
        blank &= ~_filled(column)
        if not blank.any():
            break
    return blank


def _cells(column: pa.Array, role: str) -> pa.Array:
    """A column as the parsers take it.

    Ids and channels are text (a number cell ``42.0`` is the id ``42``; a column of
    number ids stays numbers, for the reader's check of ids past 2**53); dates stay
    typed dates, or become text for the date parser (numbers are Excel serials);
    amounts stay numbers, or text for the amount parser.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    kind = column.type
    if role == "date" and pa.types.is_timestamp(kind):
        column = pc.floor_temporal(column, unit="day").cast(pa.date32(), safe=False)
        kind = column.type
    if role == "date" and pa.types.is_date(kind):
        # An empty cell is reported as CSV's empty text is, not as None.
        return column if not column.null_count else pc.fill_null(column.cast(pa.string()), "")
    if role == "amount" and (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        return column
    if role == "customer" and pa.types.is_floating(kind):
        return column  # number ids: the reader checks them and reads whole ones as integers
    if pa.types.is_floating(kind):
        return _numbers_as_text(column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.fill_null(column, "")
    return pc.fill_null(column.cast(pa.string()), "")


def _numbers_as_text(column: pa.Array) -> pa.Array:
    """Numbers as text, whole ones without a decimal point (``42.0`` as ``42``)."""
    values = column.to_numpy(zero_copy_only=False)
    present = ~np.isnan(values)
    whole = present & (np.floor(values) == values) & (np.abs(values) < 2**53)
    texts = np.full(len(values), "", dtype=object)
    texts[whole] = values[whole].astype(np.int64).astype(str)
    others = present & ~whole
    texts[others] = [repr(float(value)) for value in values[others]]
    return pa.array(texts, type=pa.string())
