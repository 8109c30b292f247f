"""Blank rows, Excel serial dates, month names and whitespace-aligned text, as shops'
systems and spreadsheets write them (each rendered in the test from a clean log)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from clvcli.errors import InputError
from clvcli.io.dates import DateSettings, days_to_iso, parse_dates
from clvcli.io.jalali import NOT_A_DATE
from clvcli.io.readers import ReadSettings, Transactions, read_transactions

DATA = Path(__file__).resolve().parents[1] / "data"


def rows(tx: Transactions) -> list[tuple[str, str, float]]:
    ids = np.asarray(tx.customer_ids, dtype=object)[tx.customer]
    return [
        (str(c), str(d), float(a))
        for c, d, a in zip(ids, days_to_iso(tx.day), tx.amount.tolist(), strict=True)
    ]


def read(tmp_path: Path, text: str, name: str = "log.csv", **settings) -> Transactions:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return read_transactions(str(path), ReadSettings(**settings))


# --- rows of only delimiters ----------------------------------------------------------


@pytest.mark.parametrize(
    "blank",
    [";;", ";;\n;;\n;;", " ; ; ", ";", "\t;\t;", ";;\n\n;;"],
    ids=["two", "many", "spaces", "short", "tabs", "with-empty-lines"],
)
def test_a_row_of_only_delimiters_is_a_blank_line(tmp_path, blank):
    text = "customer_id;date;amount\nA;2024-01-01;11\n" + blank + "\nB;2024-01-02;12\n" + blank
    tx = read(tmp_path, text + "\n")
    assert rows(tx) == [("A", "2024-01-01", 11.0), ("B", "2024-01-02", 12.0)]
    assert tx.rows_read == 2 and tx.rows_skipped == 0


@pytest.mark.parametrize("delimiter", [",", "\t", "|"])
def test_blank_rows_with_every_delimiter(tmp_path, delimiter):
    text = delimiter.join(["customer_id", "date", "amount", "note"]) + "\n"
    text += delimiter.join(["A", "2024-01-01", "11", "x"]) + "\n" + delimiter * 3 + "\n"
    assert rows(read(tmp_path, text)) == [("A", "2024-01-01", 11.0)]


def test_a_row_with_an_empty_id_but_a_date_is_still_a_bad_row(tmp_path):
    text = "customer_id;date;amount\nA;2024-01-01;11\n;2024-01-02;\n;;\n"
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column 'customer_id'"):
        read(tmp_path, text)


def test_a_row_whose_only_value_is_in_an_unread_column_is_a_bad_row(tmp_path):
    text = "customer_id;date;amount;note\nA;2024-01-01;11;x\n;;;see next page\n;;;\n"
    with pytest.raises(InputError, match=r"row 2 \(line 3\).*empty customer id$"):
        read(tmp_path, text)


def test_bad_rows_after_blank_rows_keep_their_row_number(tmp_path):
    text = "customer_id,date,amount\nA,2024-01-01,11\n,,\nB,someday,3\n"
    with pytest.raises(InputError, match=r"row 3 \(line 4\), column 'date'"):
        read(tmp_path, text)


def test_a_file_of_blank_rows_has_no_data_rows(tmp_path):
    with pytest.raises(InputError, match="no data rows"):
        read(tmp_path, "customer_id,date,amount\n,,\n,,\n")


def test_a_ragged_row_is_still_reported_past_a_short_blank_row(tmp_path):
    text = "customer_id,date,amount\nA,2024-01-01,11\n,\nB,2024-01-02,3,4\n"
    with pytest.raises(InputError, match="line 4 has 4 fields"):
        read(tmp_path, text)


# --- Excel serial numbers, month names ---------------------------------------------------


def iso(values: list[str], **settings) -> list[str | None]:
    days = parse_dates(pa.array(values, type=pa.string()), DateSettings(**settings))
    return [None if d == NOT_A_DATE else str(days_to_iso(np.array([d]))[0]) for d in days]


def test_excel_serials_are_dates_when_the_whole_column_is_serials():
    assert iso(["35431", "35432.5", "35796", "45292.999"]) == [
        "1997-01-01",
        "1997-01-02",
        "1998-01-01",
        "2024-01-01",
    ]


@pytest.mark.parametrize(
    "column",
    [
        ["35431", "2024-01-01"],  # mixed with another form
        ["35431", "12"],  # a number out of the range of plausible dates
        ["35431", "80000"],  # after 2100
        ["35431", "20089"],  # before 1955
        ["35431", "abc"],
    ],
)
def test_excel_serials_are_not_guessed_in_a_column_of_other_values(column):
    assert iso(column)[0] is None


def test_empty_cells_do_not_stop_a_column_of_serials_being_dates():
    assert iso(["35431", "", "35432"]) == ["1997-01-01", None, "1997-01-02"]


def test_eight_digit_dates_are_yyyymmdd_not_serials():
    assert iso(["19970101", "19970325"]) == ["1997-01-01", "1997-03-25"]


@pytest.mark.parametrize(
    "text",
    [
        "12 Jan 1997",
        "12 January 1997",
        "12-Jan-1997",
        "12/Jan/1997",
        "12.Jan.1997",
        "12th January 1997",
        "Jan 12, 1997",
        "January 12, 1997",
        "JANUARY 12 1997",
        "Jan. 12, 1997",
        "Sun, 12 Jan 1997",
        "Sunday, January 12, 1997 10:30",
        "1997-Jan-12",
        "12-Jan-97",
        "12 ژانویه 1997",
        "Sun Jan 12 10:00:00 1997",
        "Sun Jan 12 23:30:00 UTC 1997",
        "Jan 12 1997 10:00AM",
    ],
)
def test_gregorian_month_names(text):
    assert iso([text]) == ["1997-01-12"]


@pytest.mark.parametrize(
    "text",
    [
        "۱۲ دی ۱۳۷۵",
        "12 دی 1375",
        "12 Dey 1375",
        "12 dei 1375",
        "۱۲ دي ۱۳۷۵",  # Arabic yeh
        "پنجشنبه ۱۲ دی ۱۳۷۵",
        "Dey 12, 1375",
    ],
)
def test_jalali_month_names(text):
    # 12 Dey 1375 fell on 1997-01-01.
    assert iso([text]) == ["1997-01-01"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 Farvardin 1403", "2024-03-20"),
        ("31 Ordibehesht 1403", "2024-05-20"),
        ("1 Khordad 1403", "2024-05-21"),
        ("1 Tir 1403", "2024-06-21"),
        ("1 Mordad 1403", "2024-07-22"),
        ("1 Amordad 1403", "2024-07-22"),
        ("1 Shahrivar 1403", "2024-08-22"),
        ("1 Mehr 1403", "2024-09-22"),
        ("1 Aban 1403", "2024-10-22"),
        ("1 Azar 1403", "2024-11-21"),
        ("1 Bahman 1403", "2025-01-20"),
        ("30 Esfand 1403", "2025-03-20"),
        ("۱ فروردین ۱۴۰۳", "2024-03-20"),
        ("۱ اسفند ۱۴۰۲", "2024-02-20"),
    ],
)
def test_every_jalali_month(text, expected):
    assert iso([text]) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "12-Jan-29",  # two-digit years: Excel's rule, 00-29 are 2000-2029
        "12-Jan-30",
    ],
)
def test_two_digit_years_follow_excel(text):
    expected = {"29": "2029-01-12", "30": "1930-01-12"}[text[-2:]]
    assert iso([text]) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "12 دی 75",  # a Jalali two-digit year: its century would be a guess
        "31 Feb 1997",
        "31 Esfand 1403",  # 1403 is not a leap year
        "12 Foo 1997",
        "Jan 1997",  # a month, not a day
        "12 Dey 1997",  # a Jalali month with a Gregorian year
    ],
)
def test_what_is_not_a_date_with_a_month_name(text):
    assert iso([text]) == [None]


def test_a_month_name_decides_the_calendar_whatever_calendar_says():
    assert iso(["12 Dey 1375"], calendar="gregorian") == ["1997-01-01"]
    assert iso(["12 Jan 1997"], calendar="jalali") == ["1997-01-12"]


def test_cdnow_with_dates_as_excel_serials_in_a_csv_column(tmp_path):
    clean = tmp_path / "clean.csv"
    clean.write_bytes((DATA / "cdnow_master.csv").read_bytes())
    table = pacsv.read_csv(
        clean,
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False,
            column_types={"customer_id": pa.string(), "date": pa.date32(), "amount": pa.string()},
        ),
    )
    serial = pc.add(table.column("date").cast(pa.int32()), 25569).cast(pa.string())
    rendered = table.set_column(1, "date", serial)
    path = tmp_path / "serials.csv"
    pacsv.write_csv(rendered, path)
    assert "35431" in path.read_text()[:200]
    expected = read_transactions(str(clean))
    tx = read_transactions(str(path))
    assert tx.amount.sum() == pytest.approx(2_500_315.63, abs=0.005)
    assert len(tx.customer_ids) == len(expected.customer_ids) == 23_570
    assert np.array_equal(np.sort(tx.day), np.sort(expected.day))


# --- whitespace-aligned text ----------------------------------------------------------

POSITIONS = {"customer_col": "1", "date_col": "2", "amount_col": "4"}


def test_aligned_columns_with_a_header_are_read_by_name(tmp_path):
    text = "id      date       cds  amount\n"
    text += "00001   19970101    1   11.77\n00002   19970112  2   12.00\n"
    tx = read(tmp_path, text, "log.txt", customer_col="id")
    assert rows(tx) == [("00001", "1997-01-01", 11.77), ("00002", "1997-01-12", 12.0)]


def test_aligned_columns_without_a_header_are_refused_with_their_positions(tmp_path):
    text = " 00001 19970101  1  11.77\n 00002 19970112  1  12.00\n"
    with pytest.raises(InputError) as caught:
        read(tmp_path, text, "log.txt")
    assert "aligned with spaces and no header row" in str(caught.value)
    assert "1='00001', 2='19970101', 3='1', 4='11.77'" in str(caught.value)
    assert "--customer-col N --date-col N --amount-col N" in caught.value.hint


def test_aligned_columns_named_by_position(tmp_path):
    text = "\n 00001 19970101  1  11.77\r\n 00002 19970112  3  12.00  \r\n"
    tx = read(tmp_path, text, "log.txt", **POSITIONS)
    assert rows(tx) == [("00001", "1997-01-01", 11.77), ("00002", "1997-01-12", 12.0)]


def test_a_bad_row_of_aligned_text_names_its_line(tmp_path):
    text = "00001 19970101  1  11.77\n00002 1997011  1  12.00\n"
    with pytest.raises(InputError, match=r"row 2 \(line 2\), column 'column 2'"):
        read(tmp_path, text, "log.txt", **POSITIONS)


def test_a_ragged_line_of_aligned_text_is_reported(tmp_path):
    lines = ["00001 19970101  1  11.77"] * 12 + ["00002 19970112  12.00"]
    with pytest.raises(InputError, match="line 13 has 3 fields"):
        read(tmp_path, "\n".join(lines) + "\n", "log.txt", **POSITIONS)


@pytest.mark.parametrize(
    "text",
    [
        "customer,date,amount\nA,2024-01-01,5\n",  # a delimiter: not aligned
        "customer date amount\nA 2024-01-01\n",  # lines of different widths
    ],
)
def test_other_files_are_not_taken_for_aligned_text(tmp_path, text):
    with pytest.raises(InputError) as caught:
        read(tmp_path, text.replace("5\n", "5\nB,x,1\n"), "log.txt")
    assert "aligned" not in str(caught.value)


def test_a_position_names_a_column_of_a_file_with_a_header(tmp_path):
    tx = read(tmp_path, "a,b,c\nA,2024-01-01,5\n", customer_col="1", date_col="2", amount_col="3")
    assert rows(tx) == [("A", "2024-01-01", 5.0)]


def test_cdnow_master_as_the_original_aligned_text(tmp_path):
    table = pacsv.read_csv(
        DATA / "cdnow_master.csv",
        convert_options=pacsv.ConvertOptions(
            column_types={"customer_id": pa.string(), "date": pa.string(), "amount": pa.string()}
        ),
    ).to_pydict()
    lines = [
        f"{customer} {day.replace('-', '')} {1:>2} {amount:>7}"
        for customer, day, amount in zip(
            table["customer_id"], table["date"], table["amount"], strict=True
        )
    ]
    path = tmp_path / "CDNOW_master.txt"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="ascii")
    assert path.read_text().startswith("00001 19970101  1   11.77")
    with pytest.raises(InputError, match="no header row"):
        read_transactions(str(path))
    tx = read_transactions(str(path), ReadSettings(**POSITIONS))
    clean = read_transactions(str(DATA / "cdnow_master.csv"))
    assert tx.rows_read == 69_659
    assert tx.amount.sum() == pytest.approx(2_500_315.63, abs=0.005)
    assert list(np.asarray(tx.customer_ids)) == list(np.asarray(clean.customer_ids))
    assert np.array_equal(np.sort(tx.day), np.sort(clean.day))


def test_the_cdnow_sample_by_position(tmp_path):
    sample = str(DATA / "CDNOW_sample.txt")
    tx = read_transactions(sample, ReadSettings(customer_col="2", date_col="3", amount_col="5"))
    assert len(tx.customer_ids) == 2_357
    assert days_to_iso(np.array([tx.day.min(), tx.day.max()])).tolist() == [
        "1997-01-01",
        "1998-06-30",
    ]


def test_a_csv_without_a_header_named_by_position_is_refused_not_a_row_lost(tmp_path):
    with pytest.raises(InputError, match="line 1 looks like data, not a header row"):
        read(
            tmp_path,
            "00001,19970101,11.77\n00002,19970112,12.00\n",
            customer_col="1",
            date_col="2",
            amount_col="3",
        )
