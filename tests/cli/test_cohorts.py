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
    assert table(clv, log) == [
        ["cohort", "customers", "0", "1", "2", "3"],
        ["2024-01", "2", "1", "0.5", "0", "0.5"],
        ["2024-02", "1", "1", "0", "0", ""],
    ]


def test_cumulative_revenue_and_margin_per_acquired_customer(clv, log):
    assert table(clv, log, "--metric", "revenue")[1:] == [
        ["2024-01", "2", "150.00", "175.00", "175.00", "190.00"],
        ["2024-02", "1", "80.00", "60.00", "60.00", ""],
    ]
    assert table(clv, log, "--metric", "margin", "--margin", "0.5")[1] == [
        "2024-01",
        "2",
        "75.00",
        "87.50",
        "87.50",
        "95.00",
    ]


def test_quarters(clv, log):
    assert table(clv, log, "--cohort", "quarter") == [
        ["cohort", "customers", "0", "1"],
        ["2024-Q1", "3", "1", "0.3333333333333333"],
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
