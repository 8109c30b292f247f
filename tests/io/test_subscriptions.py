"""Reading subscription logs and cohort tables (clv retention's inputs)."""

from __future__ import annotations

import datetime as dt
import io
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xlsxwriter

from clvcli.errors import InputError
from clvcli.io.subscriptions import (
    ACTIVE,
    CohortCounts,
    SubscriptionLog,
    SubscriptionReadSettings,
    read_retention_input,
)


def day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def test_english_log_with_price_plan_and_channel(write):
    path = write(
        "subs.csv",
        "customer_id,start,end,price,plan,channel\n"
        "C2,2024-02-01,,9.5,pro,ads\n"
        "C1,2024-01-15,2024-03-15,5,basic,\n",
    )
    log = read_retention_input(str(path))
    assert isinstance(log, SubscriptionLog)
    assert list(log.customer_id) == ["C1", "C2"]
    assert log.start.tolist() == [day("2024-01-15"), day("2024-02-01")]
    assert log.end.tolist() == [day("2024-03-15"), ACTIVE]
    assert log.price.tolist() == [5.0, 9.5]
    assert list(log.plan) == ["basic", "pro"]
    assert list(log.channel) == ["unknown", "ads"]
    assert log.calendar == "gregorian"


def test_persian_headers_jalali_dates_and_digits(write):
    text = (
        "کد مشتری,تاریخ شروع,تاریخ پایان,مبلغ (تومان),طرح,کانال\n"
        "م۰۰۱,۱۴۰۲/۰۱/۱۵,۱۴۰۲/۰۴/۱۵,۱۲۰٬۰۰۰,پایه,اینستاگرام\n"
        "م۰۰۲,۱۴۰۲/۰۲/۰۱,,۲۵۰٬۰۰۰,ویژه,گوگل\n"
    )
    log = read_retention_input(str(write("subs_fa.csv", "\ufeff" + text)))
    assert isinstance(log, SubscriptionLog)
    assert list(log.customer_id) == ["م001", "م002"]
    assert log.calendar == "jalali"
    assert log.start[0] == day("2023-04-04")  # 1402/01/15
    assert log.end[1] == ACTIVE
    assert log.price.tolist() == [120000.0, 250000.0]
    assert list(log.plan) == ["پایه", "ویژه"]


def test_parquet_log_with_typed_dates(tmp_path):
    path = tmp_path / "subs.parquet"
    table = pa.table(
        {
            "customer_id": ["A", "B"],
            "start": pa.array([day("2024-01-01"), day("2024-01-05")], pa.int32()).cast(pa.date32()),
            "end": pa.array([day("2024-03-01"), None], pa.int32()).cast(pa.date32()),
        }
    )
    pq.write_table(table, path)
    log = read_retention_input(str(path))
    assert log.end.tolist() == [day("2024-03-01"), ACTIVE]
    assert log.price is None and log.plan is None


def test_cohort_table_told_by_its_columns(write):
    counts = read_retention_input(str(write("t.csv", "year,active\n0,1000\n1,631\n2,468\n")))
    assert isinstance(counts, CohortCounts)
    assert counts.active.tolist() == [1000, 631, 468]
    assert counts.unit == "year"


def test_persian_cohort_table(write):
    counts = read_retention_input(str(write("t.csv", "ماه,فعال\n۰,۱۰۰\n۱,۸۰\n")))
    assert isinstance(counts, CohortCounts)
    assert counts.active.tolist() == [100, 80] and counts.unit == "month"


def test_overlapping_subscriptions_merged_with_a_warning(write):
    path = write(
        "subs.csv",
        "customer,start,end,price,plan\n"
        "A,2024-01-01,2024-03-10,10,basic\n"
        "A,2024-03-01,,20,pro\n"
        "B,2024-01-01,2024-02-01,10,basic\n"
        "B,2024-02-01,2024-04-01,10,basic\n"
        "B,2024-06-01,,10,basic\n",
    )
    log = read_retention_input(str(path))
    assert list(log.customer_id) == ["A", "B", "B"]
    assert log.start.tolist() == [day("2024-01-01"), day("2024-01-01"), day("2024-06-01")]
    assert log.end.tolist() == [ACTIVE, day("2024-04-01"), ACTIVE]
    assert log.price.tolist() == [20.0, 10.0, 10.0]  # the last price
    assert list(log.plan) == ["basic", "basic", "basic"]  # the first plan
    (warning,) = log.warnings
    assert "1 subscription overlaps" in warning
    assert "row 1 (line 2) and row 2 (line 3)" in warning and "'A'" in warning


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("customer_id,start,end\nA,2024-03-01,2024-02-01\n", "row 1 (line 2), column 'end'"),
        ("customer_id,start,end\nA,2024-01-01,\nB,,\n", "row 2 (line 3), column 'start'"),
        ("customer_id,start,end\nA,someday,\n", "row 1 (line 2), column 'start'"),
        ("customer_id,start,end\nA,2024-01-01,soon\n", "row 1 (line 2), column 'end'"),
        ("customer_id,start,end\n,2024-01-01,\n", "row 1 (line 2), column 'customer_id'"),
        ("customer_id,start,end,price\nA,2024-01-01,,-5\n", "column 'price'"),
    ],
)
def test_bad_rows_named(write, text, where):
    with pytest.raises(InputError) as info:
        read_retention_input(str(write("subs.csv", text)))
    assert where in info.value.message
    assert info.value.exit_code == 3


def test_end_before_start_says_so(write):
    path = write("subs.csv", "customer_id,start,end\nA,2024-03-01,2024-02-01\n")
    with pytest.raises(InputError, match=r"ends \('2024-02-01'\) before it starts"):
        read_retention_input(str(path))


def test_skip_invalid_drops_bad_rows(write):
    path = write("subs.csv", "customer_id,start,end\nA,2024-03-01,2024-02-01\nB,2024-01-01,\n")
    log = read_retention_input(str(path), SubscriptionReadSettings(skip_invalid=True))
    assert list(log.customer_id) == ["B"]
    assert "skipped 1 row" in log.warnings[0]


def test_cohort_counts_that_rise_are_refused(write):
    path = write("t.csv", "period,active\n0,100\n1,80\n2,90\n")
    with pytest.raises(InputError) as info:
        read_retention_input(str(path))
    assert "row 3 (line 4), column 'active'" in info.value.message
    assert "rises from 80 at period 1 to 90 at period 2" in info.value.message


def test_cohort_periods_out_of_order_are_refused(write):
    with pytest.raises(InputError, match="periods run 0, 1, 2"):
        read_retention_input(str(write("t.csv", "period,active\n1,100\n2,80\n")))


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("customer_id,start\nA,2024-01-01\n", "no end column"),
        ("start,end\n2024-01-01,\n", "no customer column"),
        ("customer_id,amount\nA,5\n", "neither a subscription log"),
        ("customer_id,start,end\n", "no rows"),
    ],
)
def test_missing_columns(write, text, what):
    with pytest.raises(InputError, match=what):
        read_retention_input(str(write("subs.csv", text)))


def test_columns_named_by_the_user(write):
    path = write("subs.csv", "who,joined,left\nA,2024-01-01,\n")
    log = read_retention_input(
        str(path), SubscriptionReadSettings(customer_col="who", start_col="joined", end_col="left")
    )
    assert list(log.customer_id) == ["A"] and log.end.tolist() == [ACTIVE]


def test_spreadsheet_with_date_cells(tmp_path):
    path = tmp_path / "subs.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, ["Customer ID", "Start Date", "End Date", "Price"])
    sheet.write(1, 0, "A")
    sheet.write_datetime(1, 1, dt.datetime(2024, 1, 15), dates)
    sheet.write_datetime(1, 2, dt.datetime(2024, 4, 15), dates)
    sheet.write_number(1, 3, 9.5)
    sheet.write(2, 0, "B")
    sheet.write_datetime(2, 1, dt.datetime(2024, 2, 1), dates)
    sheet.write_number(2, 3, 12)
    book.close()
    log = read_retention_input(str(path))
    assert list(log.customer_id) == ["A", "B"]
    assert log.start.tolist() == [day("2024-01-15"), day("2024-02-01")]
    assert log.end.tolist() == [day("2024-04-15"), ACTIVE]
    assert log.price.tolist() == [9.5, 12.0]


def test_stdin_and_a_tab_separated_log(write, monkeypatch):
    data = b"customer_id\tstart\tend\nA\t2024-01-15\t\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    log = read_retention_input("-")
    assert list(log.customer_id) == ["A"] and log.end.tolist() == [ACTIVE]
    log = read_retention_input(str(write("subs.tsv", data.decode())))
    assert log.start.tolist() == [day("2024-01-15")]
