"""`clv report` on the log's engine: a log DuckDB takes as it is gives the reader's
report (the compute table, cohorts and CAC margins from DuckDB); with --holdout, whose
tracking curve needs the transactions, the reader reads it."""

from __future__ import annotations

import pytest

from tests.cli.test_cac_engine import COSTS
from tests.cli.test_engine_rules import _cdnow
from tests.cli.test_validate_engine import _twins, counted


@pytest.fixture
def engine_queries(monkeypatch) -> list[str]:
    return counted(monkeypatch, "aggregate_log")


def _reports(clv, tmp_path, *options):
    parquet, text = _twins(tmp_path, _cdnow())
    costs = tmp_path / "costs.csv"
    costs.write_text(COSTS, encoding="utf-8")
    written = []
    for log in (parquet, text):
        out = tmp_path / f"{log.suffix[1:]}.md"
        result = clv("report", log, "--costs", costs, "--model", "pnbd", *options, "-o", out)
        assert result.exit_code == 0, result.stderr
        written.append(out.read_text(encoding="utf-8").replace("log.csv", "log.parquet"))
    return parquet, written


def test_a_report_on_the_engine_is_the_readers(clv, tmp_path, engine_queries):
    parquet, (direct, read) = _reports(clv, tmp_path)
    assert direct == read and "log.parquet" in direct
    assert engine_queries == [str(parquet)] * 2  # the cohorts, then the CAC margins


def test_a_report_with_a_holdout_check_is_read_by_the_reader(clv, tmp_path, engine_queries):
    _, (direct, read) = _reports(clv, tmp_path, "--holdout", "26w")
    assert direct == read
    assert engine_queries == []
