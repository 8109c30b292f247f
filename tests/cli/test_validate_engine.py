"""`clv validate` on the log's engine: a log DuckDB takes as it is gives the reader's
report, byte for byte, with the reader's warnings and errors.

Each case runs the command on a typed Parquet log (the engine's) and on the same rows
written as CSV and left to the reader.
"""

from __future__ import annotations

import pandas as pd
import pytest

from clvcli.engines import csv_log as csv_engine
from clvcli.engines import duckdb as engine
from tests.cli.test_engine_rules import _cdnow, _parquet


def counted(monkeypatch, name: str) -> list[str]:
    """The logs the DuckDB engine's function ``name`` (taking the log first) ran on to
    the end, not those it found the reader must read, filled as the runs go; CSV logs
    are left to the reader."""
    monkeypatch.setattr(csv_engine, "csv_log", lambda *args: None)
    calls: list[str] = []
    original = getattr(engine, name)

    def wrapped(log, *args, **kwargs):
        found = original(log, *args, **kwargs)
        calls.append(log.path)
        return found

    monkeypatch.setattr(engine, name, wrapped)
    return calls


def in_small_ranges(monkeypatch) -> list[int]:
    """Logs past 1,000 rows taken a range of about 20,000 rows of customers at a time,
    as the engine takes logs past IN_MEMORY_ROWS; how many ranges each run had."""
    monkeypatch.setattr(engine, "IN_MEMORY_ROWS", 1_000)
    monkeypatch.setattr(engine, "RANGE_ROWS", 20_000)
    ranges: list[int] = []
    original = engine._range_sources

    def listed(connection, log):
        found = list(original(connection, log))
        ranges.append(len(found))
        return iter(found)

    monkeypatch.setattr(engine, "_range_sources", listed)
    return ranges


@pytest.fixture
def engine_calls(monkeypatch) -> list[str]:
    return counted(monkeypatch, "holdout_table")


def _twins(tmp_path, frame: pd.DataFrame):
    parquet = _parquet(tmp_path, frame)
    text = tmp_path / "log.csv"
    frame.to_csv(text, index=False)
    return parquet, text


def _same_run(clv, parquet, text, command, *options):
    """``command`` on the Parquet log and on its CSV twin: the same output and exit
    code, and the same messages but for the file's name."""
    direct = clv(command, parquet, *options)
    read = clv(command, text, *options)
    assert direct.exit_code == read.exit_code, direct.stderr + read.stderr
    assert direct.stderr == read.stderr.replace("log.csv", "log.parquet")
    assert direct.stdout == read.stdout
    return direct


VALIDATIONS = (
    ("--holdout", "39w", "--model", "pnbd", "--format", "json"),
    # The regularity models choose k by the litt the engine sums per customer.
    ("--holdout", "39w", "--model", "mbgcnbd", "--format", "json"),
    ("--calibration-end", "1997-09-30", "--model", "bgnbd", "--period", "week"),
    ("--calibration-end", "1997-09-30", "--model", "bgnbd", "--by-frequency"),
)


def test_validate_on_the_engine_gives_the_readers_report(clv, tmp_path, engine_calls):
    parquet, text = _twins(tmp_path, _cdnow())
    for options in VALIDATIONS:
        result = _same_run(clv, parquet, text, "validate", *options)
        assert result.exit_code == 0 and result.stdout.count("\n") > 1, result.stderr
    assert engine_calls == [str(parquet)] * len(VALIDATIONS)


def test_a_large_log_is_validated_a_range_of_ids_at_a_time(
    clv, tmp_path, engine_calls, monkeypatch
):
    """Past IN_MEMORY_ROWS the engine reads the log once per range of customer ids
    (here four of CDNOW's 69,659 rows): the same customers in the same order."""
    ranges = in_small_ranges(monkeypatch)
    parquet, text = _twins(tmp_path, _cdnow())
    options = ("--holdout", "39w", "--model", "bgnbd", "--format", "json")
    assert _same_run(clv, parquet, text, "validate", *options).exit_code == 0
    assert engine_calls == [str(parquet)] and ranges[0] >= 3


def test_refund_only_customers_are_counted_as_the_reader_counts_them(clv, tmp_path, engine_calls):
    """One customer with only a refund in calibration is left out with a warning; one
    whose only refund falls in the holdout is no calibration customer at all."""
    frame = _cdnow()
    refunds = pd.DataFrame(
        {
            "customer_id": ["R1", "R2", "R3", "R3"],
            "date": pd.to_datetime(["1997-02-01", "1998-05-01", "1997-03-01", "1997-03-01"]),
            "amount": [-5.0, -5.0, 10.0, -10.0],
        }
    )
    frame = pd.concat([frame, refunds.assign(date=refunds["date"].dt.date)], ignore_index=True)
    parquet, text = _twins(tmp_path, frame)
    result = _same_run(clv, parquet, text, "validate", "--holdout", "39w", "--model", "pnbd")
    assert result.exit_code == 0
    assert "left out 2 customers with refunds but no purchase" in result.stderr
    assert engine_calls == [str(parquet)]


def test_ids_the_reader_must_normalise_go_to_the_reader(clv, tmp_path, engine_calls):
    frame = _cdnow()
    frame.loc[frame.index[::50], "customer_id"] += " "  # read as the id without the blank
    parquet, text = _twins(tmp_path, frame)
    options = ("--holdout", "39w", "--model", "pnbd", "--format", "json")
    assert _same_run(clv, parquet, text, "validate", *options).exit_code == 0
    assert engine_calls == []  # the engine found the ids unclean


def test_bgbb_counts_purchase_periods_from_the_transactions(clv, tmp_path, engine_calls):
    parquet, text = _twins(tmp_path, _cdnow())
    options = ("--holdout", "26w", "--model", "bgbb", "--period", "month", "--format", "json")
    assert _same_run(clv, parquet, text, "validate", *options).exit_code == 0
    assert engine_calls == []


def test_a_calibration_end_outside_the_log_is_refused_before_the_pass(clv, tmp_path, engine_calls):
    parquet, text = _twins(tmp_path, _cdnow())
    for end in ("1996-12-31", "1998-06-30"):
        result = _same_run(clv, parquet, text, "validate", "--calibration-end", end)
        assert result.exit_code == 2 and result.stdout == ""
        assert "--calibration-end" in result.stderr and len(result.stderr.splitlines()) == 1
    assert engine_calls == []


def test_spark_is_refused_in_one_line(clv, tmp_path):
    parquet, _ = _twins(tmp_path, _cdnow())
    result = clv("validate", parquet, "--holdout", "39w", "--engine", "spark")
    assert result.exit_code == 2 and result.stdout == ""
    assert "clv validate on the default engine only" in result.stderr
