"""Result tables as Excel sheets: typed cells, one sheet, atomic, the same bytes."""

from __future__ import annotations

import io
import re
import sys
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from clvcli.errors import OutputError, UsageError
from clvcli.io import sheet as sheet_module
from clvcli.io.writers import encode, format_for_path
from tests.conftest import SAMPLE


def _cells(data: bytes) -> dict[str, tuple[str | None, str | None, str]]:
    """Cell reference -> (type, style, value) of the workbook's one sheet."""
    book = zipfile.ZipFile(io.BytesIO(data))
    assert [n for n in book.namelist() if n.startswith("xl/worksheets/")] == [
        "xl/worksheets/sheet1.xml"
    ]
    xml = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    cells = {}
    for ref, attrs, body in re.findall(r'<c r="([A-Z]+\d+)"([^>]*)>(.*?)</c>', xml):
        kind = re.search(r't="(\w+)"', attrs)
        style = re.search(r's="(\d+)"', attrs)
        value = re.search(r"<(?:v|t)>(.*?)</(?:v|t)>", body)
        cells[ref] = (
            kind.group(1) if kind else None,
            style.group(1) if style else None,
            value.group(1) if value else "",
        )
    return cells


def _styles(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/styles.xml").decode("utf-8")


FRAME = pd.DataFrame(
    {
        "customer_id": ["0042", "=1+1", "C7"],
        "first_purchase": pd.to_datetime(["2023-01-01", "2024-02-29", None]),
        "orders": [3, 1, 2],
        "total_spend": [1266000.004, 12.5, np.nan],
        "p_alive": [0.003018698861167536, np.inf, 1.0],
        "partial": [True, False, True],
    }
)


def test_cells_are_typed() -> None:
    data = encode(FRAME, "xlsx", ["total_spend"])
    cells = _cells(data)
    assert [cells[f"{c}1"][2] for c in "ABCDEF"] == list(FRAME.columns)
    # Ids are text, as written: no number, no formula.
    assert cells["A2"][::2] == ("inlineStr", "0042") and cells["A3"][::2] == ("inlineStr", "=1+1")
    assert not any("<f>" in v for v in cells)
    # Dates are Excel serial numbers shown as ISO dates; a missing one is blank.
    assert cells["B2"][2] == "44927" and cells["B3"][2] == "45351" and "B4" not in cells
    assert "yyyy-mm-dd" in _styles(data)
    # Numbers are numbers: money rounded to cents, fractions to ten digits.
    assert cells["C2"] == (None, cells["C2"][1], "3")
    assert float(cells["D2"][2]) == 1266000.0 and "#,##0.00" in _styles(data)
    assert "D4" not in cells and "E3" not in cells  # NaN and infinity: blank
    assert cells["E2"][2] == "0.003018698861"
    assert cells["F2"][::2] == ("b", "1") and cells["F3"][::2] == ("b", "0")


def test_the_same_rows_give_the_same_bytes_however_they_are_split() -> None:
    from clvcli.io.writers import FrameWriter

    whole = encode(FRAME, "xlsx", ["total_spend"])
    sink = io.BytesIO()
    writer = FrameWriter(sink, "xlsx", ["total_spend"])
    writer.write(FRAME.iloc[:1])
    writer.write(FRAME.iloc[1:])
    writer.close()
    assert sink.getvalue() == whole == encode(FRAME, "xlsx", ["total_spend"])


def test_an_empty_result_is_a_header_row() -> None:
    cells = _cells(encode(FRAME.iloc[:0], "xlsx"))
    assert sorted(cells) == ["A1", "B1", "C1", "D1", "E1", "F1"]


def test_more_rows_than_a_sheet_holds_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(sheet_module, "MAX_ROWS", 2)
    with pytest.raises(OutputError, match="at most 2 rows"):
        encode(FRAME, "xlsx")


def test_xlsx_is_told_by_its_extension() -> None:
    assert format_for_path("customers.xlsx") == "xlsx"
    assert format_for_path("CUSTOMERS.XLSX") == "xlsx"


def test_excel_is_not_written_to_a_terminal(monkeypatch) -> None:
    from clvcli.cli.output import resolve_format

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    opts = SimpleNamespace(output=None, format="xlsx", values={})
    with pytest.raises(UsageError, match="will not write Excel to a terminal"):
        resolve_format(opts)


def test_compute_writes_a_workbook_of_customers(clv, tmp_path) -> None:
    out = tmp_path / "customers.xlsx"
    result = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q", "-o", out)
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    cells = _cells(data)
    assert cells["A1"][2] == "customer_id" and cells["A2"][::2] == ("inlineStr", "C0001")
    csv = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q").stdout.splitlines()
    assert f"A{len(csv)}" in cells and f"A{len(csv) + 1}" not in cells
    first = dict(zip(csv[0].split(","), csv[1].split(","), strict=True))
    row = {cells[f"{c}1"][2]: cells[f"{c}2"][2] for c in "ABCDEFGHIJKLMNOPQR"}
    assert float(row["total_clv"]) == pytest.approx(float(first["total_clv"]), abs=0.005)
    assert row["p_alive"] == first["p_alive"]
    assert zipfile.ZipFile(out).read("xl/workbook.xml").decode().count("<sheet ") == 1
    again = tmp_path / "again.xlsx"
    clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q", "--format", "xlsx", "-o", again)
    assert again.read_bytes() == data


@pytest.mark.parametrize(
    "args",
    [
        ("cohorts",),
        ("stages",),
        ("segment", "--summary"),
        ("summary",),
        ("validate", "--holdout", "26w"),
        ("cac", "--costs", str(SAMPLE / "shop_costs.csv")),
        ("fit",),
    ],
)
def test_every_table_command_writes_a_workbook(clv, tmp_path, args) -> None:
    out = tmp_path / "out.xlsx"
    result = clv(args[0], SAMPLE / "shop.csv", *args[1:], "--period", "week", "-q", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert _cells(out.read_bytes())["A1"][0] == "inlineStr"


def test_a_failed_run_leaves_no_workbook(clv, tmp_path) -> None:
    out = tmp_path / "customers.xlsx"
    result = clv("compute", tmp_path / "missing.csv", "-o", out)
    assert result.exit_code == 3 and not out.exists()
