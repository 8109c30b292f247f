"""`clv cac` on the log's engine: a log DuckDB takes as it is gives the reader's
table, byte for byte, the customers' values and the margins by month from DuckDB."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.test_engine_rules import _cdnow
from tests.cli.test_validate_engine import _same_run, _twins, counted, in_small_ranges

COSTS = "period,spend\n1997-01,50000\n1997-02,40000\n1997-03,30000\n"
OPTIONS = ("--by", "cohort", "--margin", "0.3", "--model", "pnbd")


@pytest.fixture
def engine_margins(monkeypatch) -> list[str]:
    """The logs whose margins by month DuckDB added up over their files."""
    return counted(monkeypatch, "aggregate_log")


def test_cac_on_the_engine_gives_the_readers_table(clv, tmp_path, engine_margins):
    parquet, text = _twins(tmp_path, _cdnow())
    costs = tmp_path / "costs.csv"
    costs.write_text(COSTS, encoding="utf-8")
    result = _same_run(clv, parquet, text, "cac", "--costs", costs, *OPTIONS)
    assert result.exit_code == 0 and result.stdout.count("\n") == 5, result.stderr
    assert engine_margins == [str(parquet)]


def test_integer_ids_and_ranges_of_customers(clv, tmp_path, engine_margins, monkeypatch):
    """The members compared are the summary's text ids; a log of integer ids matches
    them as integers, and a large log adds its margins up a range of ids at a time."""
    ranges = in_small_ranges(monkeypatch)
    frame = _cdnow()
    frame["customer_id"] = frame["customer_id"].astype("int64")
    parquet, text = _twins(tmp_path, frame)
    assert pq.read_schema(parquet).field("customer_id").type == pa.int64()
    costs = tmp_path / "costs.csv"
    costs.write_text(COSTS, encoding="utf-8")
    assert _same_run(clv, parquet, text, "cac", "--costs", costs, *OPTIONS).exit_code == 0
    assert engine_margins == [str(parquet)] and max(ranges) >= 3
