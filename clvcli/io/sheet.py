"""A result table as an Excel workbook: one sheet, a header row, typed cells.

`clv compute -o customers.xlsx` (or `--format xlsx`) gives what a spreadsheet user
expects: numbers as numbers (money with two decimals shown, rounded to cents as in
CSV; other fractions to ten significant digits), dates as Excel dates shown
``yyyy-mm-dd``, and text as text, written as strings and never parsed, so the id
``0042`` stays ``0042`` and ``=1+1`` cannot become a formula. Rows are written one by
one in xlsxwriter's constant-memory mode, so a sheet of a million customers costs
little memory; Excel holds at most 1,048,576 rows, so a larger result is refused.
The workbook carries a fixed creation date: the same rows give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import tempfile
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from clvcli.errors import OutputError

# Excel's rows per sheet, less the header row.
MAX_ROWS = 1_048_575
# The most characters an Excel cell holds; xlsxwriter cuts longer text silently.
MAX_CELL_CHARS = 32_767
MONEY_FORMAT = "#,##0.00"
COUNT_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
MIN_WIDTH, MAX_WIDTH = 8, 40
# The workbook's creation date, fixed so that the same rows give the same bytes.
CREATED = dt.datetime(2000, 1, 1)
_EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_COPY_BYTES = 1 << 20


class SheetWriter:
    """Frames written one after another as the rows of one sheet."""

    def __init__(self, sink: BinaryIO, money: list[str], name: str = "data") -> None:
        import xlsxwriter

        self.sink = sink
        self.money = set(money)
        # The zip is made in an unnamed temporary file, then copied to the sink: a
        # reader that leaves (``| head``) or a full disk is then an error of ours,
        # not one inside xlsxwriter's zip writer.
        self.made = tempfile.TemporaryFile()  # noqa: SIM115 (closed in close())
        self.book = xlsxwriter.Workbook(
            self.made,
            {"constant_memory": True, "tmpdir": tempfile.gettempdir(), "strings_to_numbers": False},
        )
        self.book.set_properties({"created": CREATED})
        self.sheet = self.book.add_worksheet(_sheet_name(name))
        self.header = self.book.add_format({"bold": True, "bottom": 1})
        self.formats = {
            "money": self.book.add_format({"num_format": MONEY_FORMAT}),
            "count": self.book.add_format({"num_format": COUNT_FORMAT}),
            "date": self.book.add_format({"num_format": DATE_FORMAT}),
        }
        self.columns: list[str] | None = None
        self.rows = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append ``frame``'s rows (the first frame also gives the header)."""
        if self.columns is None:
            self.columns = [str(c) for c in frame.columns]
            self._header(frame)
        if self.rows + len(frame) > MAX_ROWS:
            raise OutputError(
                f"an Excel sheet holds at most {MAX_ROWS:,} rows; this result has more",
                "write it as csv or parquet (-o FILE.csv, -o FILE.parquet)",
            )
        cells = [self._column(frame[name], str(name)) for name in frame.columns]
        for offset in range(len(frame)):
            row = self.rows + offset + 1
            for col, (values, write, cell_format) in enumerate(cells):
                value = values[offset]
                if value is not None:
                    write(row, col, value, cell_format)
        self.rows += len(frame)

    def close(self) -> None:
        if self.columns is None:
            self.columns = []
        if self.columns:
            self.sheet.autofilter(0, 0, self.rows, len(self.columns) - 1)
        try:
            self.book.close()
            self.made.seek(0)
            shutil.copyfileobj(self.made, self.sink, _COPY_BYTES)
        finally:
            self.made.close()
        self.sink.flush()

    def _header(self, frame: pd.DataFrame) -> None:
        for col, name in enumerate(frame.columns):
            width = max(len(str(name)) + 2, _width(frame[name], str(name) in self.money))
            self.sheet.set_column(col, col, min(max(width, MIN_WIDTH), MAX_WIDTH))
            self.sheet.write_string(0, col, str(name), self.header)
        self.sheet.freeze_panes(1, 0)

    def _column(self, values: pd.Series, name: str) -> tuple[list[Any], Any, Any]:
        """A column's cells as Python values (None: blank), its write method and format."""
        sheet = self.sheet
        if pd.api.types.is_datetime64_any_dtype(values):
            days = values.to_numpy(dtype="datetime64[D]")
            serial = (days - _EXCEL_EPOCH).astype(np.float64)
            serial[np.isnat(days)] = np.nan
            return _numbers(serial), sheet.write_number, self.formats["date"]
        if pd.api.types.is_bool_dtype(values):
            flags = values.astype(object).where(values.notna(), None).tolist()
            return flags, sheet.write_boolean, None
        if pd.api.types.is_numeric_dtype(values):
            from clvcli.io.writers import MONEY_DECIMALS, significant

            numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
            if name in self.money:
                return (
                    _numbers(np.round(numbers, MONEY_DECIMALS)),
                    sheet.write_number,
                    (self.formats["money"]),
                )
            if pd.api.types.is_integer_dtype(values):
                return _numbers(numbers), sheet.write_number, self.formats["count"]
            return _numbers(significant(numbers)), sheet.write_number, None
        text = values.astype(object).where(values.notna(), None).tolist()
        cells = [None if v is None else str(v) for v in text]
        check_cell_text(cells, f"column '{name}'", self.rows + 2)
        return cells, sheet.write_string, None


def check_cell_text(cells: list[str | None], where: str, first_row: int) -> None:
    """Refuse text longer than an Excel cell holds: cut, an id would become another
    customer's (or no one's), and nothing would say so. ``where`` names the column,
    ``first_row`` is the Excel row of the first cell."""
    longest = max((len(cell) for cell in cells if cell is not None), default=0)
    if longest <= MAX_CELL_CHARS:
        return
    row = next(i for i, cell in enumerate(cells) if cell is not None and len(cell) == longest)
    raise OutputError(
        f"{where}, Excel row {first_row + row}: a value of {longest:,} characters; "
        f"an Excel cell holds at most {MAX_CELL_CHARS:,}",
        "write it as csv or parquet (-o FILE.csv, -o FILE.parquet), or fix the input",
    )


def _numbers(values: np.ndarray) -> list[float | None]:
    """Finite numbers as floats, the rest as None (a blank cell: Excel has no NaN)."""
    return [v if math.isfinite(v) else None for v in values.tolist()]


def _width(values: pd.Series, money: bool) -> int:
    """About the characters a column's cells need, judged on its first rows."""
    head = values.iloc[:1000]
    if pd.api.types.is_datetime64_any_dtype(head):
        return 12
    if money and pd.api.types.is_numeric_dtype(head):
        finite = head.to_numpy(dtype=np.float64, na_value=np.nan)
        finite = finite[np.isfinite(finite)]
        return len(f"{np.abs(finite).max():,.2f}") + 3 if len(finite) else 0
    longest = head.astype(str).str.len().max() if len(head) else 0
    return int(longest) + 2 if pd.notna(longest) else 0  # a column of missing values: NaN


def _sheet_name(name: str) -> str:
    """A name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in name).strip()
    return (cleaned or "data")[:31]
