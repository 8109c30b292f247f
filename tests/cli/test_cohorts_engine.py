"""`clv cohorts` on the log's engine: a log DuckDB takes as it is gives the reader's
table, byte for byte, its cells counted by DuckDB over the log's files."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.cli.test_engine_rules import _cdnow
from tests.cli.test_validate_engine import _same_run, _twins, counted, in_small_ranges


@pytest.fixture
def engine_cells(monkeypatch) -> list[str]:
    """The logs whose cells DuckDB counted over their files."""
    return counted(monkeypatch, "aggregate_log")


COHORTS = (
    (),
    ("--metric", "revenue"),
    ("--metric", "margin", "--margin", "0.3", "--cohort", "quarter"),
    ("--format", "json"),
)


def test_cohorts_on_the_engine_give_the_readers_table(clv, tmp_path, engine_cells):
    parquet, text = _twins(tmp_path, _cdnow())
    for options in COHORTS:
        result = _same_run(clv, parquet, text, "cohorts", *options)
        assert result.exit_code == 0 and result.stdout.count("\n") >= 2, result.stderr
    assert engine_cells == [str(parquet)] * len(COHORTS)


def test_refunds_count_as_the_reader_counts_them(clv, tmp_path, engine_cells):
    """A refund that cancels a day's purchase leaves no purchase that day; a refund
    before the first purchase counts in the cohort's revenue from its first month."""
    refunds = pd.DataFrame(
        {
            "customer_id": ["R1", "R1", "R1", "R2", "R2", "00001"],
            "date": pd.to_datetime(
                ["1997-02-01", "1997-02-01", "1997-04-03", "1997-01-20", "1997-03-01", "1997-05-01"]
            ).date,
            "amount": [30.0, -30.0, 12.5, -8.0, 20.0, -4.0],
        }
    )
    frame = pd.concat([_cdnow(), refunds], ignore_index=True)
    parquet, text = _twins(tmp_path, frame)
    for metric in ("retention", "revenue"):
        assert _same_run(clv, parquet, text, "cohorts", "--metric", metric).exit_code == 0
    assert engine_cells == [str(parquet)] * 2


def test_ids_the_reader_must_normalise_go_to_the_reader(clv, tmp_path, engine_cells):
    frame = _cdnow()
    frame.loc[frame.index[::40], "customer_id"] = " " + frame["customer_id"]
    parquet, text = _twins(tmp_path, frame)
    assert _same_run(clv, parquet, text, "cohorts").exit_code == 0
    assert engine_cells == []


def test_a_large_log_is_counted_a_range_of_customers_at_a_time(
    clv, tmp_path, engine_cells, monkeypatch
):
    """Past IN_MEMORY_ROWS DuckDB counts each range of customer ids apart (on 100M
    transactions at once it ran out of memory): the cells of the ranges add up to the
    reader's."""
    ranges = in_small_ranges(monkeypatch)
    parquet, text = _twins(tmp_path, _cdnow())
    for metric in ("retention", "revenue"):
        assert _same_run(clv, parquet, text, "cohorts", "--metric", metric).exit_code == 0
    assert engine_cells == [str(parquet)] * 2 and min(ranges) >= 3
