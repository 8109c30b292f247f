"""End to end: blank rows, spreadsheets, aligned text and their errors, as a user runs clv."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
import xlsxwriter


def table(result) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(result.stdout)))


def workbook(path, rows, sheet="orders"):
    book = xlsxwriter.Workbook(str(path))
    dates = book.add_format({"num_format": "d-mmm-yy"})
    ws = book.add_worksheet(sheet)
    for r, cells in enumerate(rows):
        for c, cell in enumerate(cells):
            if isinstance(cell, dt.datetime):
                ws.write_datetime(r, c, cell, dates)
            elif cell is not None:
                ws.write(r, c, cell)
    book.add_worksheet("notes")
    book.close()
    return path


def test_a_csv_ending_in_rows_of_delimiters_is_read(clv, write):
    path = write("excel.csv", "customer_id;date;amount\r\nA;2024-01-01;5\r\n;;\r\n;;\r\n")
    result = clv("summary", path)
    assert result.exit_code == 0, result.stderr
    assert [r["customer_id"] for r in table(result)] == ["A"]
    assert result.stderr == ""


def test_a_workbook_with_a_title_and_typed_cells(clv, tmp_path):
    path = workbook(
        tmp_path / "orders.xlsx",
        [
            ["Orders, 1997"],
            [],
            ["Customer ID", "Date", "Amount"],
            [1001, dt.datetime(1997, 1, 1), 11.77],
            [1001, dt.datetime(1997, 2, 1), 20],
            ["C7", "Jan 12, 1997", 3.5],
        ],
    )
    result = clv("summary", path)
    assert result.exit_code == 0, result.stderr
    got = {r["customer_id"]: (r["orders"], r["total_spend"]) for r in table(result)}
    assert got == {"1001": ("2", "31.77"), "C7": ("1", "3.50")}


def test_an_unknown_sheet_is_an_input_error_listing_the_sheets(clv, tmp_path):
    path = workbook(tmp_path / "orders.xlsx", [["customer_id", "date", "amount"], ["A", "x", 1]])
    result = clv("summary", path, "--sheet", "Sales")
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        f"clv: error: {path}: no sheet 'Sales'; the sheets are: 'orders', 'notes'",
        "hint: give --sheet a sheet's name, or its number (1 is the first)",
    ]


def test_a_bad_cell_is_named_by_sheet_and_excel_row(clv, tmp_path):
    path = workbook(
        tmp_path / "orders.xlsx",
        [["customer_id", "date", "amount"], ["A", dt.datetime(1997, 1, 1), 1], ["B", "soon", 2]],
    )
    result = clv("summary", path)
    assert result.exit_code == 3
    assert result.stderr.startswith(
        f"clv: error: {path}, sheet 'orders': row 3, column 'date': cannot read 'soon' as a date"
    )


def test_an_empty_sheet_and_a_corrupt_workbook(clv, tmp_path, write):
    path = workbook(tmp_path / "orders.xlsx", [["customer_id", "date", "amount"], ["A", "x", 1]])
    result = clv("summary", path, "--sheet", "2")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"clv: error: {path}, sheet 'notes': is empty\n")
    broken = write("broken.xlsx", b"PK\x03\x04\x14\x00 truncated")
    result = clv("summary", broken)
    assert result.exit_code == 3
    assert result.stderr.startswith(f"clv: error: {broken}: cannot read the spreadsheet")
    assert len(result.stderr.splitlines()) == 2


def test_aligned_text_is_refused_without_positions_and_read_with_them(clv, write):
    path = write("CDNOW_master.txt", "00001 19970101  1  11.77\n00002 19970112  1  12.00\n")
    refused = clv("summary", path)
    assert refused.exit_code == 3
    assert "no header row" in refused.stderr
    assert refused.stderr.splitlines()[1].startswith("hint: name them by position")
    result = clv("summary", path, "--customer-col", "1", "--date-col", "2", "--amount-col", "4")
    assert result.exit_code == 0, result.stderr
    assert [(r["customer_id"], r["total_spend"]) for r in table(result)] == [
        ("00001", "11.77"),
        ("00002", "12.00"),
    ]


@pytest.mark.parametrize(
    ("cell", "day"),
    [("35431", "1997-01-01"), ("۱۲ دی ۱۳۷۵", "1997-01-01"), ("12-Jan-97", "1997-01-12")],
)
def test_date_forms_from_the_command_line(clv, write, cell, day):
    path = write("log.csv", f"customer_id,date,amount\nA,{cell},5\n")
    result = clv("summary", path)
    assert result.exit_code == 0, result.stderr
    assert table(result)[0]["first_purchase"] == day


def test_the_sheet_option_is_in_the_help(clv):
    result = clv("compute", "--help")
    assert "--sheet" in result.stdout


def test_the_duckdb_engine_leaves_a_workbook_to_the_reader(clv, tmp_path):
    path = workbook(tmp_path / "orders.xlsx", [["customer_id", "date", "amount"], ["A", "x", 1]])
    default, duck = clv("summary", path), clv("summary", path, "--engine", "duckdb")
    assert (duck.exit_code, duck.stderr) == (default.exit_code, default.stderr)
    assert default.exit_code == 3
