"""The Excel report read back with openpyxl: typed cells, formats, no formulas."""

from __future__ import annotations

import datetime as dt
import math

import openpyxl
import pytest

from clvcli.report.labels import Labels
from clvcli.report.xlsx import render_xlsx
from tests.report.conftest import HOSTILE_CHANNELS, HOSTILE_IDS


@pytest.fixture(scope="module")
def book(shop_en):
    return openpyxl.load_workbook(shop_en.xlsx)


def header(sheet) -> list[str]:
    return [cell.value for cell in sheet[1]]


def test_sheets(book):
    assert book.sheetnames == [
        "summary",
        "customers",
        "stages",
        "CAC",
        "cohorts",
        "model",
        "validation",
    ]
    for sheet in book:
        assert sheet.freeze_panes in ("A2", "B2"), sheet.title


def test_summary_holds_the_headline_as_numbers(book, shop_en):
    values = {row[0].value: row[1] for row in book["summary"].iter_rows(min_row=2)}
    figures = shop_en.data.headline
    assert values["Customers"].value == figures.customers
    assert values["Customers"].number_format == "#,##0"
    assert values["Total CLV"].value == pytest.approx(figures.total_clv)
    assert values["Share of CLV in the top 10% of customers"].number_format == "0.0%"
    assert values["As-of date"].value == dt.datetime(2024, 12, 31)
    assert values["As-of date"].is_date


def test_customers_are_typed(book, shop_en):
    sheet = book["customers"]
    columns = header(sheet)
    assert columns == list(shop_en.data.customers.columns)
    first = {name: cell for name, cell in zip(columns, sheet[2], strict=True)}
    assert first["customer_id"].value == "C0001" and first["customer_id"].data_type == "s"
    assert first["first_purchase"].is_date and first["first_purchase"].value == dt.datetime(
        2023, 1, 1
    )
    assert first["first_purchase"].number_format == "yyyy-mm-dd"
    assert first["orders"].value == 3 and first["orders"].number_format == "#,##0"
    assert isinstance(first["total_clv"].value, float)
    assert first["total_clv"].number_format == "#,##0"
    assert sheet.max_row == len(shop_en.data.customers) + 1
    assert sheet.column_dimensions["A"].width >= 8


def test_other_sheets(book):
    stages = book["stages"]
    assert header(stages)[:3] == ["stage", "customers", "share"]
    assert stages["C2"].number_format == "0.0%"
    cac = book["CAC"]
    rows = [[c.value for c in row] for row in cac.iter_rows(min_row=2)]
    assert [r[0] for r in rows].count("total") == 1 and rows[-1][0] == "total"
    payback = header(cac).index("payback_months")
    assert isinstance(rows[1][payback], int)
    cohorts = book["cohorts"]
    assert cohorts["C2"].value == 1 and cohorts["C2"].number_format == "0.0%"
    model = [[c.value for c in row] for row in book["model"].iter_rows()]
    assert model[0][:6] == ["model", "parameter", "estimate", "std_error", "ci_lower", "ci_upper"]
    # The model --model auto chose (not BG/NBD, which holds the shop's old one-time
    # buyers alive).
    chosen = model[1][0]
    assert chosen in ("mbgnbd", "pnbd")
    assert model[1][1] == "r" and isinstance(model[1][2], float)
    statistics = next(i for i, row in enumerate(model) if row[:2] == ["model", "log_likelihood"])
    assert model[statistics + 1][0] == chosen and model[statistics + 1][1] < 0


def test_persian_summary_is_right_to_left(shop_fa):
    sheet = openpyxl.load_workbook(shop_fa.xlsx)["summary"]
    assert sheet.sheet_view.rightToLeft
    assert sheet["A2"].value == "مشتریان"


def test_same_data_same_bytes(shop_en):
    assert render_xlsx(shop_en.data, Labels("en")) == shop_en.xlsx.read_bytes()


def test_text_that_looks_like_a_formula_stays_text(hostile):
    book = openpyxl.load_workbook(hostile("xlsx"))
    texts = set()
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str):
                    texts.add(cell.value)
    for value in HOSTILE_IDS + HOSTILE_CHANNELS:
        assert value in texts
    customers = book["customers"]
    ids = [row[0].value for row in customers.iter_rows(min_row=2)]
    assert "=1+1" in ids and "@SUM(A1)" in ids
    assert all(cell.data_type == "s" for cell in customers["A"])
    assert not math.isnan(customers["E2"].value)


def test_a_customers_sheet_keeps_the_most_valuable_that_fit(clv, write, tmp_path, monkeypatch):
    import clvcli.report.xlsx as xlsx

    monkeypatch.setattr(xlsx, "SHEET_ROWS", 2)
    log = write(
        "tx.csv", "customer,date,amount\nA,2024-01-01,5\nB,2024-01-02,50\nC,2024-01-03,20\n"
    )
    out = tmp_path / "r.xlsx"
    result = clv("report", log, "--model", "none", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert "the customers sheet has the most valuable 2 of 3 customers" in result.stderr
    sheet = openpyxl.load_workbook(out)["customers"]
    assert [row[0].value for row in sheet.iter_rows(min_row=2)] == ["B", "C"]
