"""`clv summary --emit-sql` run on real engines gives clv's own summary.

The query is written once and sqlglot writes each dialect. DuckDB runs in process.
PostgreSQL runs as a real server that .ci/run starts on loopback (CLV_TEST_POSTGRES
holds its psql connection string); in CI the test runs, never skips. Each runs the
sample shop's log and the CDNOW master log, compared with the default engine's
summary of the same file.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlglot

from clvcli.engines.sql import DIALECTS, EXACT_SUM, summary_sql
from tests.conftest import DATA, SAMPLE

COLUMNS = ["customer_id", "frequency", "recency", "T", "monetary_value", "orders", "total_spend"]


# Each log as (file, its date column, the table it is loaded into).
LOGS = {
    "shop": (SAMPLE / "shop.parquet", "order_date"),
    "cdnow": (DATA / "cdnow_master.csv", "date"),
}


def log_frame(name: str) -> pd.DataFrame:
    path, date = LOGS[name]
    if path.suffix == ".parquet":
        frame = pq.read_table(path).to_pandas()
    else:
        frame = pd.read_csv(path, dtype={"customer_id": str}, parse_dates=[date])
    return frame[["customer_id", date, "amount"]]


def clv_summary(clv, *options: str, log: str = "shop") -> pd.DataFrame:
    result = clv("summary", LOGS[log][0], "--format", "csv", "-q", *options)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout), dtype={"customer_id": str})


def emitted(clv, *options: str, log: str = "shop") -> str:
    date = LOGS[log][1]
    result = clv("summary", "--emit-sql", "--table", "sales", "--date-col", date, *options)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    dates = ["first_purchase", "last_purchase"]
    theirs = theirs[COLUMNS + dates].sort_values("customer_id").reset_index(drop=True)
    ours = ours[COLUMNS + dates].sort_values("customer_id").reset_index(drop=True)
    assert list(theirs["customer_id"]) == list(ours["customer_id"])
    for column in ("first_purchase", "last_purchase"):
        assert [str(v)[:10] for v in theirs[column]] == list(ours[column])
    for column in COLUMNS[1:]:
        np.testing.assert_allclose(
            theirs[column].astype(float), ours[column].astype(float), rtol=1e-9, atol=0.006
        )


OPTIONS = {
    "shop": [(), ("--period", "week"), ("--period", "month", "--as-of", "2024-06-30")],
    "cdnow": [(), ("--period", "week", "--as-of", "1997-09-30")],
}
CASES = [(log, options) for log, every in OPTIONS.items() for options in every]


@pytest.mark.parametrize(("log", "options"), CASES)
def test_duckdb_sql_gives_clvs_summary(clv, log, options):
    connection = duckdb.connect()
    connection.register("log", log_frame(log))
    connection.execute("create table sales as select * from log")
    theirs = connection.execute(emitted(clv, "--dialect", "duckdb", *options, log=log)).df()
    assert_same(clv_summary(clv, *options, log=log), theirs)


def test_integer_ids_keep_their_type_until_the_result(clv):
    connection = duckdb.connect()
    frame = log_frame("cdnow").assign(customer_id=lambda f: f["customer_id"].astype(int))
    connection.register("log", frame)
    connection.execute("create table sales as select * from log")
    theirs = connection.execute(emitted(clv, "--dialect", "duckdb", log="cdnow")).df()
    ours = clv_summary(clv, log="cdnow")
    ours["customer_id"] = ours["customer_id"].astype(int).astype(str)
    assert_same(ours, theirs)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_is_written_by_the_transpiler_and_reads_back(clv, dialect):
    sql = emitted(clv, "--dialect", dialect)
    assert sql.startswith("-- RFM summary as clv computes it")
    sqlglot.parse_one(sql, read=dialect)  # sqlglot reads back what it wrote
    # Money stays DOUBLE; its three sums are exact, so that threads add in any order
    # (the other two SUMs count purchase days).
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", " ".join(sql.upper().split())))
    plain = len(re.findall(r"(?<!F)SUM\(", text))
    if dialect == "duckdb":
        assert "DECIMAL" not in text and text.count("FSUM(") == 3 and plain == 2
    else:
        exact = len(re.findall(r"SUM\(CAST\(.*?AS (DECIMAL\(38, 9\)|NUMERIC)\)\) AS", text))
        assert "FSUM" not in text and exact == 3 and plain == 5


@pytest.mark.parametrize(("log", "options"), CASES)
def test_exact_sums_give_clvs_summary(clv, log, options):
    """The exact decimal sums of the warehouse dialects, run on DuckDB."""
    period = dict(zip(options[::2], options[1::2], strict=True))
    text = summary_sql(
        table="sales",
        date_col=LOGS[log][1],
        period=period.get("--period", "day"),
        as_of=period.get("--as-of"),
        total=EXACT_SUM,
    )
    assert "FSUM" not in text
    connection = duckdb.connect()
    connection.register("log", log_frame(log))
    connection.execute("create table sales as select * from log")
    assert_same(clv_summary(clv, *options, log=log), connection.execute(text).df())


def test_an_unknown_dialect_is_a_usage_error(clv):
    result = clv("summary", "--emit-sql", "--table", "sales", "--dialect", "oracle")
    assert result.exit_code == 2
    assert "unknown --dialect 'oracle'" in result.stderr


def test_persian_digits_in_ids_are_read_as_ascii_in_sql(clv):
    connection = duckdb.connect()
    connection.execute(
        "create table sales as select * from (values ('C۰۰۱', date '2024-01-01', 5.0), "
        "(' C001 ', date '2024-01-03', 7.0), ('C002', date '2024-01-02', 3.0)) "
        "t(customer_id, order_date, amount)"
    )
    rows = connection.execute(emitted(clv)).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("C001", 1, 2.0, 2.0),
        ("C002", 0, 0.0, 1.0),
    ]


def test_identifiers_are_validated(clv):
    result = clv("summary", "--emit-sql", "--table", "sales; drop table x")
    assert result.exit_code == 2
    assert "not a plain identifier" in result.stderr


@pytest.mark.parametrize("dialect", ["spark", "bigquery"])
def test_other_dialects_quote_with_backticks(clv, dialect):
    sql = emitted(clv, "--dialect", dialect)
    assert "`sales`" in sql and '"sales"' not in sql


def _postgres() -> str | None:
    dsn = os.environ.get("CLV_TEST_POSTGRES")
    if dsn and shutil.which("psql"):
        return dsn
    if os.environ.get("CI"):
        pytest.fail("CI must start PostgreSQL and set CLV_TEST_POSTGRES (see .ci/run)")
    pytest.skip("no PostgreSQL server here (CI starts one)")
    return None


def psql(dsn: str, sql: str) -> str:
    result = subprocess.run(
        ["psql", dsn, "-v", "ON_ERROR_STOP=1", "-q", "-X", "--csv", "-c", sql],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("log", "options"),
    [("shop", ()), ("shop", ("--period", "week", "--as-of", "2024-09-30")), ("cdnow", ())],
)
def test_postgres_sql_gives_clvs_summary(clv, tmp_path, log, options):
    dsn = _postgres()
    date = LOGS[log][1]
    path = tmp_path / "log.csv"
    log_frame(log).to_csv(path, index=False)
    psql(dsn, "drop table if exists sales")
    psql(dsn, f"create table sales (customer_id text, {date} timestamp, amount numeric)")
    psql(dsn, f"\\copy sales from '{path}' with (format csv, header true)")
    output = psql(dsn, emitted(clv, "--dialect", "postgres", *options, log=log))
    theirs = pd.read_csv(io.StringIO(output), dtype={"customer_id": str})
    assert_same(clv_summary(clv, *options, log=log), theirs)
