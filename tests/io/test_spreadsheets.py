"""Spreadsheet inputs: typed cells, sheets, titles above the table, errors, and the
CDNOW master log rendered as a workbook, checked against the clean CSV."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest
import xlsxwriter

from clvcli.errors import InputError
from clvcli.io.dates import days_to_iso
from clvcli.io.readers import ReadSettings, Transactions, read_transactions
from clvcli.io.source import load_input

DATA = Path(__file__).resolve().parents[1] / "data"


def rows(tx: Transactions) -> list[tuple[str, str, float]]:
    ids = np.asarray(tx.customer_ids, dtype=object)[tx.customer]
    return [
        (str(c), str(d), float(a))
        for c, d, a in zip(ids, days_to_iso(tx.day), tx.amount.tolist(), strict=True)
    ]


def workbook(path: Path, sheets: dict[str, list[tuple[int, list[object]]]]) -> str:
    """Write sheets of (row index, cells) with xlsxwriter; datetimes as date cells."""
    book = xlsxwriter.Workbook(str(path))
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for name, sheet_rows in sheets.items():
        sheet = book.add_worksheet(name)
        for row, cells in sheet_rows:
            for column, cell in enumerate(cells):
                if isinstance(cell, dt.datetime):
                    sheet.write_datetime(row, column, cell, date_format)
                elif cell is not None:
                    sheet.write(row, column, cell)
    book.close()
    return str(path)


HEADER = ["customer_id", "date", "amount"]


def read(path: str, **settings) -> Transactions:
    return read_transactions(path, ReadSettings(**settings))


def test_typed_cells_read_as_the_usual_inputs(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx",
        {
            "orders": [
                (0, HEADER),
                (1, [42, dt.datetime(1997, 1, 1, 10, 30), 11.77]),
                (2, [42.0, "1997-01-05", "1,250"]),
                (3, ["C7", "12 Dey 1375", 3]),
            ]
        },
    )
    assert rows(read(path)) == [
        ("42", "1997-01-01", 11.77),
        ("42", "1997-01-05", 1250.0),
        ("C7", "1997-01-01", 3.0),
    ]


def test_number_cells_in_a_date_column_are_excel_serials(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx", {"s": [(0, HEADER), (1, ["A", 35431, 1]), (2, ["B", 35432.75, 2])]}
    )
    assert rows(read(path)) == [("A", "1997-01-01", 1.0), ("B", "1997-01-02", 2.0)]


def test_a_title_above_the_table_and_empty_rows_are_skipped(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx",
        {
            "report": [
                (0, ["Sales 1997"]),
                (1, ["exported 1998-07-01"]),
                (3, HEADER),
                (4, ["A", dt.datetime(1997, 1, 1), 5]),
                (6, ["B", dt.datetime(1997, 1, 2), 6]),
                (7, ["", "", ""]),
            ]
        },
    )
    assert rows(read(path)) == [("A", "1997-01-01", 5.0), ("B", "1997-01-02", 6.0)]


def test_a_bad_row_is_named_by_sheet_and_excel_row(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx",
        {
            "first": [(0, ["nothing here"])],
            "orders": [
                (0, ["Sales"]),
                (2, HEADER),
                (3, ["A", dt.datetime(1997, 1, 1), 5]),
                (4, ["B", "someday", 6]),
            ],
        },
    )
    with pytest.raises(InputError) as caught:
        read(path, sheet="orders")
    assert str(caught.value).startswith(
        f"{path}, sheet 'orders': row 5, column 'date': cannot read 'someday' as a date"
    )


def test_sheet_by_name_or_number(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx",
        {
            "notes": [(0, ["x", "y"])],
            "orders": [(0, HEADER), (1, ["A", dt.datetime(1997, 1, 1), 5])],
        },
    )
    assert rows(read(path, sheet="orders")) == [("A", "1997-01-01", 5.0)]
    assert rows(read(path, sheet="2")) == [("A", "1997-01-01", 5.0)]
    with pytest.raises(InputError, match="no customer column found"):
        read(path)
    with pytest.raises(InputError, match=r"no sheet 'sales'; the sheets are: 'notes', 'orders'"):
        read(path, sheet="sales")


def test_an_empty_sheet_is_an_input_error(tmp_path):
    path = workbook(tmp_path / "log.xlsx", {"empty": []})
    with pytest.raises(InputError, match=r"sheet 'empty': is empty"):
        read(path)


def test_a_header_without_rows(tmp_path):
    path = workbook(tmp_path / "log.xlsx", {"s": [(0, HEADER), (3, ["", "", ""])]})
    with pytest.raises(InputError, match="has a header but no data rows"):
        read(path)


def test_a_corrupt_workbook_is_an_input_error(tmp_path):
    path = tmp_path / "log.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match=r"log.xlsx: cannot read the spreadsheet"):
        read(str(path))


def test_a_password_protected_workbook_is_named_so(tmp_path):
    # Excel writes an encrypted .xlsx as an OLE2 file holding an EncryptedPackage.
    path = tmp_path / "log.xlsx"
    path.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500) + "EncryptedPackage".encode("utf-16-le")
    )
    with pytest.raises(InputError, match="password-protected"):
        read(str(path))


def test_a_workbook_is_told_by_its_content_not_its_name(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx", {"s": [(0, HEADER), (1, ["A", dt.datetime(1997, 1, 1), 5])]}
    )
    renamed = tmp_path / "export.dat"
    renamed.write_bytes(Path(path).read_bytes())
    assert load_input(str(renamed)).is_spreadsheet
    assert rows(read(str(renamed))) == [("A", "1997-01-01", 5.0)]


def ods(path: Path, table: list[list[str]]) -> str:
    """A minimal OpenDocument spreadsheet, as LibreOffice lays one out."""

    def cell(value: str) -> str:
        if value.replace(".", "").isdigit():
            kind = f'office:value-type="float" office:value="{value}"'
        else:
            kind = 'office:value-type="string"'
        return f"<table:table-cell {kind}><text:p>{value}</text:p></table:table-cell>"

    cells = "".join(
        "<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>" for row in table
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:spreadsheet><table:table table:name="orders">'
        f"{cells}</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" '
        'manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet"
        )
        archive.writestr("content.xml", content)
        archive.writestr("META-INF/manifest.xml", manifest)
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_an_ods_sheet(tmp_path):
    path = ods(
        tmp_path / "log.ods",
        [HEADER, ["A", "1997-01-01", "5.5"], ["42", "12 Jan 1997", "2"]],
    )
    assert load_input(path).is_spreadsheet
    assert rows(read(path)) == [("A", "1997-01-01", 5.5), ("42", "1997-01-12", 2.0)]


# --- the CDNOW master log as a workbook -------------------------------------------------


@pytest.fixture(scope="module")
def cdnow():
    table = pacsv.read_csv(DATA / "cdnow_master.csv")
    clean = read_transactions(str(DATA / "cdnow_master.csv"))
    return table.to_pydict(), clean


@pytest.mark.parametrize("dates", ["date cells", "serial numbers"])
def test_cdnow_as_a_workbook_gives_the_clean_logs_totals(tmp_path, cdnow, dates):
    columns, clean = cdnow
    path = tmp_path / "cdnow.xlsx"
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("CDNOW")
    date_format = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["CustomerID", "Date", "Amount"])
    sheet.write_row(1, 0, [])
    epoch = dt.date(1899, 12, 30)
    for row, (customer, day, amount) in enumerate(
        zip(columns["customer_id"], columns["date"], columns["amount"], strict=True), start=1
    ):
        sheet.write_number(row, 0, int(customer))  # ids as numbers: 00001 becomes 1
        if dates == "date cells":
            sheet.write_datetime(row, 1, dt.datetime(day.year, day.month, day.day), date_format)
        else:
            sheet.write_number(row, 1, (day - epoch).days)
        sheet.write_number(row, 2, amount)
    book.close()
    tx = read_transactions(str(path))
    assert tx.rows_read == 69_659
    assert tx.amount.sum() == pytest.approx(2_500_315.63, abs=0.005)
    assert len(tx.customer_ids) == len(clean.customer_ids) == 23_570
    assert np.array_equal(np.sort(tx.day), np.sort(clean.day))
    assert sorted(int(i) for i in np.asarray(tx.customer_ids)) == sorted(
        int(i) for i in np.asarray(clean.customer_ids)
    )


def test_an_empty_date_cell_among_date_cells_is_a_bad_row(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx",
        {"s": [(0, HEADER), (1, ["A", dt.datetime(1997, 1, 1), 5]), (2, ["B", None, 6])]},
    )
    with pytest.raises(InputError, match=r"row 3, column 'date': cannot read '' as a date"):
        read(path)
    assert rows(read(path, skip_invalid=True)) == [("A", "1997-01-01", 5.0)]


def test_a_folder_of_workbooks_is_one_log(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    workbook(folder / "a.xlsx", {"s": [(0, HEADER), (1, ["A", dt.datetime(1997, 1, 1), 5])]})
    workbook(folder / "b.xlsx", {"s": [(0, HEADER), (1, [7, "1997-01-02", "6"])]})
    assert sorted(rows(read(str(folder)))) == [("7", "1997-01-02", 6.0), ("A", "1997-01-01", 5.0)]


def test_a_workbook_on_stdin(tmp_path):
    path = workbook(tmp_path / "log.xlsx", {"s": [(0, HEADER), (1, ["A", 35431, 5])]})
    stdin = io.BytesIO(Path(path).read_bytes())
    tx = read_transactions("-", ReadSettings(), stdin=stdin)
    assert rows(tx) == [("A", "1997-01-01", 5.0)]


def test_a_sheet_without_a_header_row_is_refused_not_a_row_lost(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx",
        {"s": [(0, [1, dt.datetime(1997, 1, 1), 5]), (1, [2, dt.datetime(1997, 1, 2), 6])]},
    )
    with pytest.raises(InputError, match=r"row 1 \('1', '1997-01-01.*looks like data"):
        read(path, customer_col="1", date_col="2", amount_col="3")


def test_a_header_with_fewer_names_than_the_data_has_cells(tmp_path):
    path = workbook(
        tmp_path / "log.xlsx",
        {
            "s": [
                (0, ["Orders"]),
                (1, HEADER),
                (2, ["A", dt.datetime(1997, 1, 1), 5]),
                (3, ["B", dt.datetime(1997, 1, 2), 6, "gift", "wrapped"]),
            ]
        },
    )
    assert rows(read(path)) == [("A", "1997-01-01", 5.0), ("B", "1997-01-02", 6.0)]


def test_a_workbook_as_a_table_of_text(tmp_path):
    # As clv segment reads clv compute's output, and cac a costs file.
    from clvcli.io.source import peek_header, read_table

    path = workbook(
        tmp_path / "costs.xlsx", {"s": [(0, ["month", "spend"]), (1, ["2024-01", 1500.0])]}
    )
    loaded = load_input(path)
    assert peek_header(loaded) == ["month", "spend"]
    assert read_table(loaded).to_pydict() == {"month": ["2024-01"], "spend": ["1500"]}


def test_numeric_ids_past_2_to_the_53_are_refused(tmp_path):
    """A number cell holds a double: three 17-digit ids are one number in the sheet,
    and would be one customer. Refused, naming the first row; text ids are fine."""
    ids = [12345678901234567, 12345678901234568, 12345678901234569]
    cells = [(1 + i, [c, dt.datetime(2024, 1, 1 + i), 10]) for i, c in enumerate(ids)]
    path = workbook(tmp_path / "big.xlsx", {"s": [(0, HEADER), *cells]})
    with pytest.raises(
        InputError, match=r"sheet 's': row 2, column 'customer_id': the id .* 2\*\*53"
    ):
        read(path)
    text = [(row, [str(c), day, amount]) for row, (c, day, amount) in cells]
    path = workbook(tmp_path / "text.xlsx", {"s": [(0, HEADER), *text]})
    assert [r[0] for r in rows(read(path))] == [str(c) for c in ids]
    small = workbook(
        tmp_path / "small.xlsx", {"s": [(0, HEADER), (1, [2**53 - 1, "2024-01-01", 1])]}
    )
    assert rows(read(small))[0][0] == str(2**53 - 1)
    gap = [
        (0, HEADER),
        (1, [42, "2024-01-01", 1]),
        (2, [None, "2024-01-02", 2]),
        (3, [7.5, "2024-01-03", 3]),
    ]
    with pytest.raises(InputError, match="sheet 's': row 3, column 'customer_id'"):
        read(workbook(tmp_path / "gap.xlsx", {"s": gap}))
    mixed = workbook(tmp_path / "mixed.xlsx", {"s": [gap[0], gap[1], gap[3]]})
    assert [r[0] for r in rows(read(mixed))] == ["42", "7.5"]
