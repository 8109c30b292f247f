"""`clv cohorts` checked cell by cell on a hand-worked log."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import SAMPLE

# Cohort 2024-01: A and B. A buys again in February and April. Cohort 2024-02: C, who
# is refunded 20 in March (a refund day is not a purchase, but it lowers revenue).
LOG = """customer,date,amount
A,2024-01-10,100
B,2024-01-20,200
A,2024-02-05,50
C,2024-02-15,80
C,2024-03-01,-20
A,2024-04-01,30
"""


def table(clv, path, *options: str) -> list[list[str]]:
    result = clv("cohorts", path, "-q", *options)
    assert result.exit_code == 0, result.stderr
    return list(csv.reader(io.StringIO(result.stdout)))


@pytest.fixture
def log(write):
    return write("tx.csv", LOG)


def test_retention_cell_by_cell(clv, log):
    # The as-of date, 2024-04-01, does not end April: its cells are partial.
    assert table(clv, log) == [
        ["cohort", "customers", "0", "1", "2", "3", "partial"],
        ["2024-01", "2", "1", "0.5", "0", "0.5", "true"],
        ["2024-02", "1", "1", "0", "0", "", "true"],
    ]


def test_cumulative_revenue_and_margin_per_acquired_customer(clv, log):
    assert table(clv, log, "--metric", "revenue")[1:] == [
        ["2024-01", "2", "150.00", "175.00", "175.00", "190.00", "true"],
        ["2024-02", "1", "80.00", "60.00", "60.00", "", "true"],
    ]
    assert table(clv, log, "--metric", "margin", "--margin", "0.5")[1] == [
        "2024-01",
        "2",
        "75.00",
        "87.50",
        "87.50",
        "95.00",
        "true",
    ]


def test_revenue_does_not_depend_on_the_order_money_is_added_in(clv, write):
    """A month's revenue of 1e17 + 0.01 - 1e17 is 0.01 in every order; a plain sum
    of doubles in the rows' order gives 0, and DuckDB's threads added in an order
    that changed from run to run."""
    path = write(
        "tx.csv",
        "customer,date,amount\nA,2024-01-10,1e17\nA,2024-01-11,0.01\nA,2024-01-12,-1e17\n",
    )
    assert table(clv, path, "--metric", "revenue")[1] == ["2024-01", "1", "0.01", "true"]


def test_quarters(clv, log):
    assert table(clv, log, "--cohort", "quarter") == [
        ["cohort", "customers", "0", "1", "partial"],
        ["2024-Q1", "3", "1", "0.3333333333", "true"],
    ]


def test_jalali_months(clv, write):
    # A Jalali export: 1402/10/20 is 2024-01-10, 1402/11/01 is 2024-01-21 (another
    # Jalali month, the same Gregorian one).
    path = write("fa.csv", "customer,date,amount\nA,1402/10/20,5\nB,1402/11/01,5\n")
    assert [row[0] for row in table(clv, path, "--calendar", "jalali")[1:]] == [
        "1402-10",
        "1402-11",
    ]
    assert [row[0] for row in table(clv, path)[1:]] == ["2024-01"]


def test_the_sample_cohorts_add_up(clv):
    rows = table(clv, SAMPLE / "shop.csv", "--cohort", "quarter")
    assert sum(int(row[1]) for row in rows[1:]) == 1989
    assert all(row[2] == "1" for row in rows[1:])


def test_bad_options(clv, log):
    assert clv("cohorts", log, "--metric", "profit").exit_code == 2
    assert clv("cohorts", log, "--cohort", "week").exit_code == 2


def test_the_default_engine_by_name_and_spark_refused_in_one_line(clv, log):
    assert table(clv, log, "--engine", "duckdb") == table(clv, log)
    result = clv("cohorts", log, "--engine", "spark")
    assert result.exit_code == 2
    assert "clv cohorts on the default engine only" in result.stderr.splitlines()[0]


def test_a_month_that_ends_on_the_as_of_date_is_not_partial(clv, log):
    rows = table(clv, log, "--as-of", "2024-04-30")
    assert rows[0][-1] == "partial" and {row[-1] for row in rows[1:]} == {"false"}
    rows = table(clv, log, "--as-of", "2024-04-29")
    assert {row[-1] for row in rows[1:]} == {"true"}
    # A quarter ends on 2024-06-30, not on 2024-04-30.
    assert table(clv, log, "--as-of", "2024-04-30", "--cohort", "quarter")[1][-1] == "true"
    assert table(clv, log, "--as-of", "2024-06-30", "--cohort", "quarter")[1][-1] == "false"


def test_a_jalali_month_ends_on_its_own_last_day(clv, write):
    # 1402/12/29 (2024-03-19) ends Esfand 1402 (29 days, not a leap year); the
    # Gregorian March goes on.
    path = write("fa.csv", "customer,date,amount\nA,1402/10/20,5\nA,1402/12/29,5\n")
    assert table(clv, path, "--calendar", "jalali")[1][-1] == "false"
    assert table(clv, path)[1][-1] == "true"


def test_a_table_marks_the_partial_cells(clv, log):
    result = clv("cohorts", log, "--format", "table")
    assert result.exit_code == 0, result.stderr
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    first = next(line for line in lines if line.lstrip().startswith("2024-01"))
    second = next(line for line in lines if line.lstrip().startswith("2024-02"))
    assert first.endswith("50.0%*") and first.count("*") == 1
    assert second.endswith("0.0%*") and second.count("*") == 1
    assert "partial" not in result.stdout
    assert "* the month of the as-of date is not over" in result.stderr
    whole = clv("cohorts", log, "--format", "table", "--as-of", "2024-04-30")
    assert "*" not in whole.stdout and "not over" not in whole.stderr


def test_json_has_the_partial_flag(clv, log):
    import json

    rows = json.loads(clv("cohorts", log, "-q", "--format", "json").stdout)
    assert list(rows[0])[-1] == "partial" and rows[0]["partial"] is True


def test_partial_cells_are_each_rows_last_filled_cell():
    import numpy as np
    import pandas as pd

    from clvcli.core.cohorts import is_partial, partial_cells, period_columns

    frame = pd.DataFrame(
        {
            "cohort": ["2024-01", "2024-02", "2024-03"],
            "customers": [2, 1, 1],
            "0": [1.0, 1.0, 1.0],
            "1": [0.5, 0.0, np.nan],
            "2": [0.5, np.nan, np.nan],
            "partial": [True, True, True],
        }
    )
    assert period_columns(frame) == ["0", "1", "2"]
    assert partial_cells(frame).tolist() == [
        [False, False, True],
        [False, True, False],
        [True, False, False],
    ]
    assert not partial_cells(frame.assign(partial=False)).any()
    day = int(np.datetime64("2024-02-29", "D").astype(np.int64))
    assert not is_partial(day) and is_partial(day - 1)
    assert is_partial(day, grain="quarter")
    assert not is_partial(day + 31, grain="quarter")  # 2024-03-31
