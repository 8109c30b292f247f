"""--summary FILE: compute, fit, validate and segment start from a per-customer summary.

The summary may come from `clv summary` or from the SQL of `clv summary --emit-sql`
run in a warehouse; either way the results match those from the transactions.
"""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE

WITHOUT_CHANNEL = slice(0, 17)


def rows(text: str) -> list[list[str]]:
    return [row[WITHOUT_CHANNEL] for row in csv.reader(io.StringIO(text))]


@pytest.fixture(scope="module")
def weekly_summary(tmp_path_factory):
    from clvcli.cli.main import main

    path = tmp_path_factory.mktemp("summary") / "summary.parquet"
    assert (
        main(["summary", str(SAMPLE / "shop.csv"), "--period", "week", "-q", "-o", str(path)]) == 0
    )
    return path


def test_compute_from_a_summary_matches_compute_from_transactions(clv, weekly_summary):
    from_summary = clv("compute", "--summary", weekly_summary, "--period", "week", "-q")
    from_log = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q")
    assert from_summary.exit_code == 0, from_summary.stderr
    assert rows(from_summary.stdout) == rows(from_log.stdout)


def test_fit_from_a_summary_matches_fit_from_transactions(clv, weekly_summary):
    fitted = [
        json.loads(clv("fit", *source, "--period", "week", "--format", "json", "-q").stdout)
        for source in (("--summary", str(weekly_summary)), (str(SAMPLE / "shop.csv"),))
    ]
    assert fitted[0]["params"] == pytest.approx(fitted[1]["params"], rel=1e-6)
    assert fitted[0]["log_likelihood"] == pytest.approx(fitted[1]["log_likelihood"])


def test_validate_from_a_calibration_summary(clv, tmp_path):
    calibration = tmp_path / "calibration.csv"
    made = clv(
        "summary",
        SAMPLE / "shop.csv",
        "--period",
        "week",
        "--calibration-end",
        "2024-06-30",
        "-q",
        "-o",
        calibration,
    )
    assert made.exit_code == 0
    from_summary = clv(
        "validate", "--summary", calibration, "--period", "week", "--format", "json", "-q"
    )
    from_log = clv(
        "validate",
        SAMPLE / "shop.csv",
        "--period",
        "week",
        "--calibration-end",
        "2024-06-30",
        "--format",
        "json",
        "-q",
    )
    assert from_summary.exit_code == 0, from_summary.stderr
    ours, theirs = json.loads(from_summary.stdout), json.loads(from_log.stdout)
    assert ours["calibration_end"] == theirs["calibration_end"] == "2024-06-30"
    assert ours["holdout_end"] == theirs["holdout_end"]
    assert ours["models"]["bgnbd"]["predicted_holdout_purchases"] == pytest.approx(
        theirs["models"]["bgnbd"]["predicted_holdout_purchases"], rel=1e-4
    )


def test_segment_reads_a_summary_by_its_columns(clv, weekly_summary):
    from_summary = clv("segment", weekly_summary, "--summary", "--period", "week", "-q")
    from_log = clv("segment", SAMPLE / "shop.csv", "--summary", "--period", "week", "-q")
    assert from_summary.stdout == from_log.stdout


def test_the_warehouse_sql_result_feeds_compute(clv, tmp_path):
    sql = clv(
        "summary",
        "--emit-sql",
        "--table",
        "sales",
        "--date-col",
        "order_date",
        "--period",
        "week",
    ).stdout
    connection = duckdb.connect()
    connection.register("shop", pq.read_table(SAMPLE / "shop.parquet"))
    connection.execute("create table sales as select * from shop")
    warehouse = tmp_path / "warehouse.parquet"
    connection.execute(f"copy ({sql.rstrip().rstrip(';')}) to '{warehouse}' (format parquet)")
    from_sql = clv("compute", "--summary", warehouse, "--period", "week", "-q")
    from_log = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q")
    assert from_sql.exit_code == 0, from_sql.stderr
    ours, theirs = rows(from_sql.stdout), rows(from_log.stdout)
    assert [r[:10] for r in ours] == [r[:10] for r in theirs]
    assert [r[16] for r in ours] == [r[16] for r in theirs]


def test_a_summary_without_dates_needs_as_of(clv, write):
    path = write("s.csv", "customer_id,frequency,recency,T,monetary_value\nA,1,2,10,5\n")
    result = clv("compute", "--summary", path, "--model", "none")
    assert result.exit_code == 2
    assert "give its --as-of" in result.stderr
    dated = clv("compute", "--summary", path, "--model", "none", "--as-of", "2024-01-11")
    first = rows(dated.stdout)[1]
    assert first[:4] == ["A", "2024-01-01", "2024-01-03", "2"]


def test_a_bad_summary_row_is_named(clv, write):
    path = write(
        "s.csv", "customer_id,frequency,recency,T,monetary_value\nA,1,2,10,5\nB,1,20,10,5\n"
    )
    result = clv("compute", "--summary", path, "--as-of", "2024-01-11")
    assert result.exit_code == 3
    assert result.stderr.startswith(f"clv: error: {path}: row 2, column 'T'")


def test_input_and_summary_together_or_neither_are_usage_errors(clv, weekly_summary):
    assert clv("compute", SAMPLE / "shop.csv", "--summary", weekly_summary).exit_code == 2
    assert clv("compute").exit_code == 2
    assert clv("compute", "--summary", weekly_summary, "--model", "bgbb").exit_code == 2
