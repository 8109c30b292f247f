"""--engine spark and the emitted Spark SQL, run on Spark in local mode.

One Spark session (local[2], no UI, few shuffle partitions) is shared by the module:
starting Spark's JVM takes seconds, and the commands run in process pick up the
session that is already running. In CI (CI or CLV_REQUIRE_SPARK set, as .ci/run
does) a missing pyspark or Java fails these tests instead of skipping them.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from tests.conftest import DATA, SAMPLE

CDNOW = DATA / "cdnow_master.csv"
SUMMARY = ["customer_id", "frequency", "recency", "T", "monetary_value", "orders", "total_spend"]
DATES = ["first_purchase", "last_purchase"]
MASTER = ("--spark-master", "local[2]")


def _missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (apt-get install openjdk-17-jre-headless)"
    return None


@pytest.fixture(scope="module")
def spark():
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") or os.environ.get("CLV_REQUIRE_SPARK"):
            pytest.fail(f"the Spark tests must run here: {missing}")
        pytest.skip(missing)
    from clvcli.engines.spark import spark_session

    session = spark_session(
        "local[2]",
        {
            "spark.ui.enabled": "false",
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
        },
    )
    yield session
    session.stop()


def csv_frame(result) -> pd.DataFrame:
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout), dtype={"customer_id": str})


def assert_same(ours: pd.DataFrame, theirs: pd.DataFrame, columns: list[str]) -> None:
    """Same customers, dates and counts; money within half a cent (printed to the cent,
    sums in another order), the rest within a relative 1e-9."""
    ours = ours.sort_values("customer_id").reset_index(drop=True)
    theirs = theirs.sort_values("customer_id").reset_index(drop=True)
    assert list(ours["customer_id"]) == list(theirs["customer_id"])
    for column in columns[1:]:
        if column in DATES or column == "stage":
            assert [str(v)[:10] for v in ours[column]] == [str(v)[:10] for v in theirs[column]]
            continue
        np.testing.assert_allclose(
            theirs[column].astype(float),
            ours[column].astype(float),
            rtol=1e-9,
            atol=0.006,
            err_msg=column,
        )


@pytest.mark.parametrize("options", [("--period", "week"), ("--period", "month")])
def test_emitted_spark_sql_gives_clvs_summary(clv, spark, options):
    spark.createDataFrame(pq.read_table(SAMPLE / "shop.parquet")).createOrReplaceTempView("sales")
    as_of = ("--as-of", "2024-06-30") if options[1] == "month" else ()
    result = clv("summary", "--emit-sql", "--dialect", "spark", "--table", "sales",
                 "--date-col", "order_date", *options, *as_of)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    theirs = spark.sql(result.stdout.strip().removesuffix(";")).toArrow().to_pandas()
    ours = csv_frame(
        clv("summary", SAMPLE / "shop.parquet", "--format", "csv", "-q", *options, *as_of)
    )
    assert_same(ours, theirs, SUMMARY + DATES)


def test_ids_are_read_as_the_default_engine_reads_them(clv, spark, write):
    # Blanks Spark's TRIM keeps (tab, no-break space) and Persian digits.
    log = write(
        "ids.csv",
        'customer_id,date,amount\nC\u06f0\u06f0\u06f1,2024-01-01,5\n" C001\t",2024-01-03,7\n'
        "C001\u00a0,2024-01-04,2\nC002,2024-01-02,3\n",
    )
    default = csv_frame(clv("summary", log, "--format", "csv", "-q"))
    assert list(default["customer_id"]) == ["C001", "C002"]
    ours = csv_frame(clv("summary", log, "--engine", "spark", *MASTER, "--format", "csv", "-q"))
    assert_same(ours, default, SUMMARY + DATES)
    spark.read.csv(str(log), header=True).createOrReplaceTempView("sales")
    result = clv("summary", "--emit-sql", "--dialect", "spark", "--table", "sales")
    emitted = spark.sql(result.stdout.strip().removesuffix(";")).toArrow().to_pandas()
    assert_same(emitted, default, SUMMARY + DATES)


def test_summary_nets_refunds_per_customer_and_day(clv, spark, write):
    log = write(
        "tx.csv",
        "customer_id,date,amount\n"
        "A,2024-01-01,10\nA,2024-01-01,5\n"  # two transactions a day: one purchase
        "A,2024-01-05,20\nA,2024-01-05,-20\n"  # refunded whole: no purchase
        "A,2024-01-09,30\nA,2024-01-09,-10\n"  # netted: a purchase of 20
        "B,2024-01-02,7\nB,2024-01-04,-3\n"  # a refund on its own day
        "C,2024-01-03,-4\n"  # refunds only: not a customer
        "D,2024-01-10,8\n",
    )
    default = csv_frame(clv("summary", log, "--format", "csv", "-q"))
    ours = csv_frame(clv("summary", log, "--engine", "spark", *MASTER, "--format", "csv", "-q"))
    assert list(ours.columns) == SUMMARY[:5] + DATES + SUMMARY[5:]
    assert_same(ours, default, SUMMARY + DATES)
    a = ours.set_index("customer_id").loc["A"]
    assert (a["frequency"], a["recency"], a["T"], a["monetary_value"]) == (1, 8, 9, 20)
    # Up to --as-of, saying how many transactions are left out, as the default engine.
    early = ("summary", log, "--as-of", "2024-01-05", "--format", "csv")
    before = clv(*early)
    cut = clv(*early, "--engine", "spark", *MASTER)
    assert_same(csv_frame(cut), csv_frame(before), SUMMARY + DATES)
    warning = f"clv: warning: {log}: ignored 3 transactions after --as-of 2024-01-05"
    assert warning in before.stderr_lines and warning in cut.stderr_lines
    # The same log as a table of Spark's catalogue.
    spark.read.csv(str(log), header=True).createOrReplaceTempView("tx")
    table = csv_frame(clv("summary", "table:tx", "--engine", "spark", "--format", "csv", "-q"))
    assert_same(table, default, SUMMARY + DATES)


def test_compute_on_cdnow_equals_the_default_engine(clv, spark, tmp_path):
    options = ("--period", "week", "--model", "bgnbd", "-q")
    clv("compute", CDNOW, *options, "-o", tmp_path / "default.parquet")
    parts = tmp_path / "parts"
    result = clv("compute", CDNOW, "--engine", "spark", *MASTER, *options, "-o", f"{parts}/")
    assert result.exit_code == 0, result.stderr
    assert (parts / "_SUCCESS").exists()
    ours = pd.read_parquet(parts)
    default = pd.read_parquet(tmp_path / "default.parquet")
    assert list(ours.columns) == list(default.columns)
    assert len(ours) == len(default) == 23_570
    assert ours["customer_id"].is_monotonic_increasing  # the parts in customer id order
    assert_same(ours, default, list(default.columns))
    for column in ("expected_purchases", "p_alive", "predicted_clv"):
        assert ours[column].notna().all()
    # Written again over its own parts; a folder of other files is refused.
    again = clv("compute", CDNOW, "--engine", "spark", *MASTER, *options, "-o", f"{parts}/")
    assert again.exit_code == 0, again.stderr
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    refused = clv("compute", CDNOW, "--engine", "spark", *MASTER, *options,
                  "-o", f"{tmp_path / 'other'}/")  # fmt: skip
    assert refused.exit_code == 5
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_compute_to_a_file_and_fit_equal_the_default_engine(clv, spark, tmp_path):
    options = ("--period", "week", "--model", "bgnbd", "--format", "csv", "-q")
    default = csv_frame(clv("compute", SAMPLE / "shop.csv", *options))
    out = tmp_path / "customers.csv"
    result = clv("compute", SAMPLE / "shop.csv", "--engine", "spark", *MASTER, *options,
                 "-o", out, "--sidecar")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    ours = pd.read_csv(out, dtype={"customer_id": str})
    sidecar = json.loads((tmp_path / "customers.csv.meta.json").read_text())
    assert sidecar["models"]["purchases"]["model"] == "bgnbd"
    assert sidecar["inputs"][0]["path"] == str(SAMPLE / "shop.csv")
    columns = [c for c in default.columns if c != "channel"]  # Spark reads no channel
    assert list(ours.columns) == columns
    assert_same(ours, default, columns)
    fit = ("fit", SAMPLE / "shop.csv", "--model", "bgnbd", "--format", "json", "-q")
    theirs = json.loads(clv(*fit).stdout)
    result = clv(*fit, "--engine", "spark", *MASTER)
    assert result.exit_code == 0, result.stderr
    mine = json.loads(result.stdout)
    assert mine["n_customers"] == theirs["n_customers"]
    for name, value in theirs["params"].items():
        assert mine["params"][name] == pytest.approx(value, rel=1e-6)


def test_spark_errors_are_one_line_without_a_java_trace(clv, spark, write, tmp_path):
    missing = clv("summary", tmp_path / "nothing.parquet", "--engine", "spark", *MASTER)
    bad_amount = write("bad.csv", "customer_id,date,amount\nA,2024-01-01,abc\n")
    bad_date = write("date.csv", "customer_id,date,amount\nA,03/04/2024,5\n")
    empty = write("empty.csv", "customer_id,date,amount\nA,2024-01-01,5\n,2024-01-02,3\n")
    no_column = write("cols.csv", "customer_id,amount\nA,5\n")
    jalali = write("fa.csv", "customer_id,date,amount\nA,1403-01-05,5\n")
    for result, says in (
        (missing, "Spark could not run it"),
        (clv("summary", bad_amount, "--engine", "spark", *MASTER), "'abc'"),
        (clv("summary", bad_date, "--engine", "spark", *MASTER), "03/04/2024"),
        (clv("summary", empty, "--engine", "spark", *MASTER), "1 rows with an empty"),
        (clv("compute", no_column, "--engine", "spark", *MASTER), "date"),
        (clv("summary", jalali, "--engine", "spark", *MASTER), "1403-01-05, a Jalali date"),
    ):
        assert result.exit_code == 3, result.stderr
        lines = result.stderr_lines
        error = [line for line in lines if line.startswith("clv: error:")]
        assert len(error) == 1 and says in error[0], result.stderr
        assert "at org.apache" not in result.stderr and "Traceback" not in result.stderr


def test_without_pyspark_one_line_says_how_to_install_it(clv, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    result = clv("compute", SAMPLE / "shop.csv", "--engine", "spark")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "clv: error: --engine spark needs pyspark: pip install 'clvcli[spark]'"
    ]


def test_without_java_one_line_says_so(clv, monkeypatch):
    pytest.importorskip("pyspark")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    result = clv("summary", SAMPLE / "shop.csv", "--engine", "spark")
    assert result.exit_code == 2
    assert result.stderr_lines[0].startswith("clv: error: --engine spark needs a Java runtime")


def test_commands_that_do_not_run_on_spark_refuse_it(clv):
    for command, *options in (("stages",), ("segment", "--stage", "new")):
        result = clv(command, SAMPLE / "shop.csv", "--engine", "spark", *options)
        assert result.exit_code == 2
        assert result.stderr.startswith(f"clv: error: --engine spark: clv runs clv {command} on")
    assert clv("compute", SAMPLE / "shop.csv", "--engine", "nope").exit_code == 2
    assert clv("compute", "-", "--engine", "spark", input="a").exit_code == 2
    bgbb = clv("compute", SAMPLE / "shop.csv", "--engine", "spark", "--model", "bgbb")
    assert bgbb.exit_code == 2 and "purchase periods" in bgbb.stderr
    for option in (("--channel-col", "channel"), ("--calendar", "jalali"), ("--skip-invalid",)):
        refused = clv("summary", SAMPLE / "shop.csv", "--engine", "spark", *option)
        assert refused.exit_code == 2
        assert f"not {option[0]}" in refused.stderr_lines[0]


def test_cnbd_models_fit_and_score_on_spark_as_on_the_default_engine(clv, spark, tmp_path):
    """Spark's summary carries litt when the model needs it: BG/CNBD-k and MBG/CNBD-k
    fit as on the reader's log (k too) and score every customer."""
    from tests.cli.test_cnbd_engine import made_up_amounts

    grocery = pd.read_csv(DATA / "grocery.csv", dtype={"customer_id": str})
    grocery["amount"] = made_up_amounts(grocery["customer_id"])
    log = tmp_path / "grocery.csv"
    grocery.to_csv(log, index=False)
    for model in ("bgcnbd", "mbgcnbd"):
        fit = ("fit", log, "--model", model, "--period", "week", "--format", "json", "-q")
        theirs = json.loads(clv(*fit).stdout)
        result = clv(*fit, "--engine", "spark", *MASTER)
        assert result.exit_code == 0, result.stderr
        mine = json.loads(result.stdout)
        for name, value in theirs["params"].items():
            assert mine["params"][name] == pytest.approx(value, rel=1e-5), name
    options = ("--period", "week", "--model", "mbgcnbd", "--format", "csv")
    default = csv_frame(clv("compute", log, *options, "-q"))
    result = clv("compute", log, "--engine", "spark", *MASTER, *options)
    ours = csv_frame(result)
    assert not any("cnbd" in line for line in result.stderr_lines), result.stderr
    assert len(ours) == len(default)
    # Every customer scored. Not to the digit: the CNBD-k expected purchases carry a
    # bias correction summed over the customers scored together, which on Spark are
    # those of one batch, not the whole table.
    assert ours["expected_purchases"].notna().all()
