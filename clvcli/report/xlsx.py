"""The report as an Excel workbook: one sheet per table, typed cells.

Numbers are numbers and dates are dates, with thousands separators, frozen header
rows and widths that fit. Every text cell is written as a string, never parsed, so
a customer id such as ``=1+1`` or ``@SUM(A1)`` stays text and cannot become a
formula. The workbook's creation date is the as-of date, so the same input gives
the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from typing import Any

import numpy as np
import pandas as pd

from clvcli.core.cohorts import period_columns
from clvcli.core.validation import frequency_frame, summary_frame
from clvcli.io.sheet import check_cell_text
from clvcli.report.analysis import ReportData
from clvcli.report.labels import Labels
from clvcli.report.layout import KINDS, money_decimals

DATE_FORMAT = "yyyy-mm-dd"
FORMATS = {
    "int": "#,##0",
    "percent": "0.0%",
    "ratio": "#,##0.00",
    "fixed1": "#,##0.0",
    "fixed2": "#,##0.00",
    "fixed3": "#,##0.000",
    "sig": "General",
    "number": "#,##0.00",
}
MIN_WIDTH, MAX_WIDTH = 8, 42
# Excel's rows per sheet, less the header.
SHEET_ROWS = 1_048_575


class _Book:
    """A workbook with its cell formats made once."""

    def __init__(self, data: ReportData) -> None:
        import xlsxwriter

        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(self.buffer, {"in_memory": True})
        created = dt.datetime.combine(_date(data.as_of), dt.time())
        self.book.set_properties({"created": created, "title": "clv report"})
        money = "#,##0" if money_decimals(data) == 0 else "#,##0.00"
        self.header = self.book.add_format({"bold": True, "bg_color": "#EEF2F6", "bottom": 1})
        self.formats = {
            kind: self.book.add_format({"num_format": code})
            for kind, code in {**FORMATS, "money": money, "date": DATE_FORMAT}.items()
        }
        self.text = self.book.add_format({})
        self.widths: dict[str, dict[int, int]] = {}

    def sheet(
        self,
        name: str,
        frame: pd.DataFrame,
        *,
        freeze_column: bool = False,
        kinds: dict[str, str] | None = None,
    ) -> Any:
        """A sheet of one table, its header row frozen (and its first column)."""
        sheet = self.book.add_worksheet(name)
        self.write_frame(sheet, frame, 0, kinds)
        sheet.freeze_panes(1, 1 if freeze_column else 0)
        return sheet

    def write_frame(
        self, sheet: Any, frame: pd.DataFrame, first_row: int, kinds: dict[str, str] | None = None
    ) -> int:
        """Write a header and rows from ``first_row``; returns the next free row.

        Column by column, with each column's kind decided once: a customers sheet has
        millions of cells, and per-cell type checks would dominate the report's time.
        """
        widths = self.widths.setdefault(sheet.name, {})
        for col, name in enumerate(frame.columns):
            sheet.write_string(first_row, col, str(name), self.header)
            widths[col] = max(widths.get(col, MIN_WIDTH), len(str(name)) + 2)
            kind = (kinds or {}).get(str(name)) or _kind(str(name), frame[name])
            shown = self._write_column(sheet, first_row + 1, col, frame[name], kind)
            widths[col] = max(widths[col], min(MAX_WIDTH, shown + 2))
        for col, width in widths.items():
            sheet.set_column(col, col, width)
        return first_row + len(frame) + 2

    def _write_column(self, sheet: Any, first: int, col: int, values: pd.Series, kind: str) -> int:
        """One column's cells; returns the width its widest text needs, roughly."""
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if not numeric or kind == "date":
            return max(
                (self.write(sheet, first + i, col, v, kind) for i, v in enumerate(values.tolist())),
                default=0,
            )
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        cell_format = self.formats.get(kind, self.formats["number"])
        write_number, write_blank = sheet.write_number, sheet.write_blank
        for row, number in enumerate(numbers.tolist(), start=first):
            if math.isfinite(number):
                write_number(row, col, number, cell_format)
            else:
                write_blank(row, col, None)
        finite = numbers[np.isfinite(numbers)]
        if not len(finite):
            return 0
        return max(len(f"{float(finite.max()):,.2f}"), len(f"{float(finite.min()):,.2f}"))

    def write(self, sheet: Any, row: int, col: int, value: Any, kind: str) -> int:
        """One typed cell; returns the width its text needs, roughly."""
        if _missing(value):
            sheet.write_blank(row, col, None)
            return 0
        if kind == "date":
            day = _date(value)
            sheet.write_datetime(
                row, col, dt.datetime.combine(day, dt.time()), self.formats["date"]
            )
            return 10
        if isinstance(value, bool | np.bool_):
            sheet.write_boolean(row, col, bool(value))
            return 5
        if kind == "months" and str(value).isdigit():
            value = int(value)
        elif kind in ("text", "word", "label", "months") or isinstance(
            value, str | bool | np.bool_
        ):
            text = str(value)
            check_cell_text([text], _column_name(sheet, col), row + 1)
            sheet.write_string(row, col, text, self.text)
            return len(text)
        number = float(value)
        sheet.write_number(row, col, number, self.formats.get(kind, self.formats["number"]))
        return len(f"{number:,.2f}") if math.isfinite(number) else 4

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def render_xlsx(data: ReportData, labels: Labels) -> bytes:
    """The workbook's bytes: summary, customers, stages, CAC, cohorts, model."""
    book = _Book(data)
    _summary(book, data, labels)
    book.sheet("customers", sheet_rows(data.customers), freeze_column=True)
    book.sheet("stages", data.stages)
    cac = _cac(data)
    if cac is not None:
        book.sheet("CAC", cac, kinds={"payback_months": "months"})
    periods = period_columns(data.cohorts)
    book.sheet("cohorts", data.cohorts, freeze_column=True, kinds=dict.fromkeys(periods, "percent"))
    if data.retention is not None:
        curve = data.retention.survival.astype({"active": "float64"})
        rates = ("survival", "fitted_survival", "retention", "fitted_retention")
        book.sheet("retention", curve, kinds=dict.fromkeys(rates, "percent"))
        if data.retention.subscribers is not None:
            book.sheet("subscribers", data.retention.subscribers, kinds={"p_renew": "percent"})
    if data.fit is not None:
        sheet = book.sheet("model", data.parameters)
        book.write_frame(sheet, data.statistics, len(data.parameters) + 2)
    if data.validation is not None:
        sheet = book.sheet("validation", frequency_frame(data.validation))
        rows = len(data.validation_model["by_frequency"])
        book.write_frame(sheet, summary_frame(data.validation), rows + 2)
    return book.close()


def sheet_rows(customers: pd.DataFrame) -> pd.DataFrame:
    """The customers a sheet can hold: all of them, or the most valuable that fit."""
    if len(customers) <= SHEET_ROWS:
        return customers
    top = customers.nlargest(SHEET_ROWS, "total_clv", keep="first")
    return top.sort_values("customer_id", kind="stable")


def _summary(book: _Book, data: ReportData, labels: Labels) -> None:
    figures = data.headline
    compute = data.settings.compute
    rows: list[tuple[str, Any, str]] = [
        (labels["customers"], figures.customers, "int"),
        (labels["revenue"], figures.revenue, "money"),
        (labels["mean_clv"], figures.mean_clv, "money"),
        (labels["total_clv"], figures.total_clv, "money"),
        (labels["top_share"], figures.top_share, "percent"),
    ]
    if not data.has_amount:  # no money: one line says so instead of empty figures
        rows = [rows[0], (labels["revenue"], labels["no_amounts"], "text")]
    rows += [
        (labels["source"], data.source, "text"),
        (labels["as_of"], data.as_of, "date"),
        (labels["model_name"], data.settings.model_name, "text"),
        (labels["period"], data.period, "text"),
        (labels["margin"], compute.margin, "percent"),
        (
            labels["horizon"],
            labels["lifetime"] if compute.horizon is None else compute.horizon,
            "fixed1" if compute.horizon is not None else "text",
        ),
        (labels["discount_rate"], compute.discount_rate, "percent"),
        (labels["version"], data.version, "text"),
    ]
    sheet = book.book.add_worksheet("summary")
    if labels.rtl:
        sheet.right_to_left()
    sheet.write_string(0, 0, labels["measure"], book.header)
    sheet.write_string(0, 1, labels["value"], book.header)
    sheet.freeze_panes(1, 0)
    width = MIN_WIDTH
    for row, (name, value, kind) in enumerate(rows, start=1):
        sheet.write_string(row, 0, name)
        book.write(sheet, row, 1, value, kind)
        width = max(width, len(name) + 2)
    sheet.set_column(0, 0, min(width, MAX_WIDTH))
    sheet.set_column(1, 1, 24)


def _cac(data: ReportData) -> pd.DataFrame | None:
    """CAC per channel, then per cohort, in one table with the one total row last."""
    parts = [t for t in (data.cac_by_channel, data.cac_by_cohort) if t is not None]
    if not parts:
        return None
    if len(parts) == 2:
        parts[0] = parts[0][parts[0]["channel"] != "total"]
    return pd.concat(parts, ignore_index=True)


def _kind(name: str, values: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    if pd.api.types.is_bool_dtype(values):
        return "text"
    if not pd.api.types.is_numeric_dtype(values):
        return "text"
    kind = KINDS.get(name)
    if kind in (None, "text", "word", "label", "date"):
        return "int" if pd.api.types.is_integer_dtype(values) else "number"
    return kind


def _missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _date(value: Any) -> dt.date:
    """A date from days since 1970-01-01, numpy or pandas datetimes, or date objects."""
    if isinstance(value, int | np.integer):
        value = np.datetime64(int(value), "D")
    if isinstance(value, np.datetime64):
        return dt.date.fromisoformat(str(value.astype("datetime64[D]")))
    if isinstance(value, pd.Timestamp | dt.datetime):
        return value.date()
    return value


def _column_name(sheet: Any, col: int) -> str:
    """A column's letter and sheet, for a message (``column C of sheet 'customers'``)."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"column {letters} of sheet '{sheet.get_name()}'"
