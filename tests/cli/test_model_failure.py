"""A purchase model that cannot be fitted never loses the rest of the run.

`compute`, `stages`, `segment` and `report` write the historical columns and the
day-rule stages, warn once, and exit 0 (the README's Exit codes section says so);
`fit` and `validate`, whose output is the model, still exit 4.
"""

from __future__ import annotations

import csv
import io

import pytest

import clvcli.core.compute as compute_module
import clvcli.core.value as value_module
from clvcli.errors import ModelError
from tests.conftest import SAMPLE

SHOP = SAMPLE / "shop.csv"
WARNING = (
    "clv: warning: could not fit bgnbd: the fit did not converge (made to fail); predicted "
    "columns are empty, stages use the day rules"
)


@pytest.fixture
def failing_fit(monkeypatch):
    """Every purchase fit fails as a fit that does not converge does."""

    def fail(name, rows, lead=None):
        raise ModelError(f"{name}: the fit did not converge (made to fail)", "try another model")

    monkeypatch.setattr(compute_module, "fit_purchase_rows", fail)
    monkeypatch.setattr(value_module, "fit_purchase_rows", fail)  # fit and validate


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def day_rule_stages(clv) -> dict[str, str]:
    result = clv("compute", SHOP, "--period", "week", "--model", "none", "-q")
    return {row["customer_id"]: row["stage"] for row in rows(result.stdout)}


def test_compute_keeps_history_and_day_rule_stages(clv, failing_fit):
    result = clv("compute", SHOP, "--period", "week", "--model", "bgnbd", "--margin", "0.3")
    assert result.exit_code == 0
    assert WARNING in result.stderr_lines
    table = rows(result.stdout)
    assert len(table) == 1989
    first = table[0]
    assert (first["customer_id"], first["total_spend"]) == ("C0001", "1266000.00")
    assert first["historical_clv"] == "379800.00"
    assert first["total_clv"] == "379800.00"
    for column in ("expected_purchases", "p_alive", "expected_avg_spend", "predicted_clv"):
        assert {row[column] for row in table} == {""}, column
    assert {row["customer_id"]: row["stage"] for row in table} == day_rule_stages(clv)


def test_compute_to_parquet_keeps_the_rest(clv, failing_fit, tmp_path):
    import pyarrow.parquet as pq

    path = tmp_path / "customers.parquet"
    result = clv("compute", SHOP, "--model", "bgnbd", "-o", path)
    assert result.exit_code == 0
    assert pq.read_table(path).column("p_alive").null_count == 1989


@pytest.mark.parametrize(
    "command",
    [("stages",), ("segment", "--summary"), ("segment", "--stage", "loyal")],
)
def test_stages_and_segment_behave_the_same(clv, failing_fit, command):
    result = clv(*command, SHOP, "--period", "week", "--model", "bgnbd")
    assert result.exit_code == 0
    assert result.stdout
    assert WARNING in result.stderr_lines


def test_report_is_written_with_the_warning(clv, failing_fit, tmp_path):
    path = tmp_path / "report.md"
    result = clv("report", SHOP, "--model", "bgnbd", "--holdout", "26w", "-o", path)
    assert result.exit_code == 0
    assert WARNING in result.stderr_lines
    assert any("the report has no holdout check" in line for line in result.stderr_lines)
    assert "Customers**: 1,989" in path.read_text(encoding="utf-8")


def test_fit_still_exits_4(clv, failing_fit):
    result = clv("fit", SHOP, "--model", "bgnbd")
    assert result.exit_code == 4


def test_nobody_bought_twice(clv, write):
    lines = ["customer,date,amount"] + [f"C{i},2024-01-{i:02d},{i}0" for i in range(1, 29)]
    path = write("once.csv", "\n".join(lines) + "\n")
    result = clv("compute", path, "--model", "bgnbd")
    assert result.exit_code == 0
    assert result.stderr_lines == [
        "clv: warning: could not fit bgnbd: too little data to fit: 28 customers, 0 with a "
        "repeat purchase; predicted columns are empty, stages use the day rules"
    ]
    table = rows(result.stdout)
    assert {row["stage"] for row in table} == {"new"}
    assert table[0]["historical_clv"] == "10.00"
