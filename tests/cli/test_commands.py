"""Each command end to end on the sample shop and on small hand-worked logs."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

LOG = """customer,date,amount
A,2024-01-01,100
A,2024-03-01,100
A,2024-05-01,100
A,2024-07-01,100
B,2024-01-05,80
C,2023-06-01,50
D,2024-07-01,10
D,2024-07-02,30
"""


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def log(write) -> Path:
    return write("tx.csv", LOG)


def test_compute_stages_by_the_day_rules(clv, log):
    stages = {r["customer_id"]: r["stage"] for r in rows(clv("compute", log).stdout)}
    # As of 2024-07-02: A has 4 purchase days over 182 days; B last bought 179 days ago
    # (new); C 397 days ago (churned); D bought on two days (repeat).
    assert stages == {"A": "loyal", "B": "new", "C": "churned", "D": "repeat"}


def test_stage_cut_offs_are_options(clv, log):
    stages = {
        r["customer_id"]: r["stage"]
        for r in rows(clv("compute", log, "--risk-days", "100", "--loyal-orders", "5").stdout)
    }
    assert stages == {"A": "repeat", "B": "at_risk", "C": "churned", "D": "repeat"}


def test_the_english_persian_and_parquet_sample_shops_agree(clv):
    def without_channel(path: Path) -> list[list[str]]:
        result = clv("compute", path)
        assert result.exit_code == 0, result.stderr
        return [line.rsplit(",", 1)[0] for line in result.stdout.splitlines()]

    english = without_channel(SAMPLE / "shop.csv")
    assert len(english) == 1990
    assert without_channel(SAMPLE / "shop_fa.csv") == english
    assert without_channel(SAMPLE / "shop.parquet") == english


def test_segment_filters_stages_from_transactions_and_from_compute_output(clv, log):
    direct = clv("segment", log, "--stage", "loyal,repeat")
    computed = clv("compute", log)
    piped = clv("segment", "--stage", "loyal,repeat", input=computed.stdout_bytes)
    assert direct.exit_code == piped.exit_code == 0
    assert [r["customer_id"] for r in rows(direct.stdout)] == ["A", "D"]
    assert piped.stdout == direct.stdout


def test_segment_summary_counts_share_revenue_and_mean_clv(clv, log):
    result = clv("segment", log, "--summary", "--margin", "0.5")
    summary = {r["stage"]: r for r in rows(result.stdout)}
    assert list(summary) == ["new", "repeat", "loyal", "at_risk", "churned"]
    assert summary["loyal"]["customers"] == "1"
    assert summary["loyal"]["share"] == "0.25"
    assert summary["loyal"]["revenue"] == "400.00"
    assert summary["loyal"]["mean_historical_clv"] == "200.00"
    assert summary["at_risk"]["customers"] == "0"
    assert summary["at_risk"]["mean_historical_clv"] == ""


def test_segment_summary_of_the_sample_adds_up(clv):
    result = clv("segment", SAMPLE / "shop.csv", "--summary")
    summary = rows(result.stdout)
    assert sum(int(r["customers"]) for r in summary) == 1989
    assert sum(float(r["share"]) for r in summary) == pytest.approx(1.0)


def test_summary_has_the_model_columns(clv, log):
    result = clv("summary", log, "--period", "week")
    assert result.stdout.splitlines()[0] == (
        "customer_id,frequency,recency,T,monetary_value,first_purchase,last_purchase,orders,"
        "total_spend"
    )
    a = rows(result.stdout)[0]
    assert a["frequency"] == "3"
    assert float(a["recency"]) == pytest.approx(182 / 7)
    assert a["monetary_value"] == "100.00"


def test_summary_with_calibration_end_adds_holdout_columns(clv, log):
    result = clv("summary", log, "--calibration-end", "2024-03-31")
    header = result.stdout.splitlines()[0].split(",")
    assert header[-3:] == ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    a = rows(result.stdout)[0]
    assert (a["frequency"], a["frequency_holdout"], a["duration_holdout"]) == ("1", "2", "93")


def test_formula_simple_and_historical_give_the_sources_numbers(clv):
    simple = clv("formula", "simple", "--spend", "400000", "--per", "month", "--years", "30")
    assert rows(simple.stdout)[0]["clv"] == "144000000.00"
    historical = clv("formula", "historical", "--total", "1000000", "--margin", "0.3")
    assert rows(historical.stdout)[0]["clv"] == "300000.00"
    persian = clv("formula", "historical", "--total", "۱٬۰۰۰٬۰۰۰", "--margin", "30%")
    assert rows(persian.stdout)[0]["clv"] == "300000.00"


def test_formula_table_shows_the_number(clv):
    result = clv("formula", "simple", "--spend", "400000", "--years", "30", "--format", "table")
    assert "144,000,000" in result.stdout


def test_margin_accepts_a_percentage(clv, log):
    a = rows(clv("compute", log, "--margin", "30%").stdout)[0]
    assert a["historical_clv"] == "120.00"


def test_stdin_input(clv):
    result = clv("compute", "-", input=LOG)
    assert [r["customer_id"] for r in rows(result.stdout)] == ["A", "B", "C", "D"]


def test_as_of_accepts_a_jalali_date(clv, log):
    # 1403/03/12 is 2024-06-01.
    result = clv("compute", log, "--as-of", "1403/03/12")
    assert "ignored 3 transactions after --as-of 2024-06-01" in result.stderr
    d = next(r for r in rows(result.stdout) if r["customer_id"] == "A")
    assert d["orders"] == "3"


def test_version_and_help(clv):
    assert clv("--version").stdout.startswith("clv ")
    bare = clv()
    assert bare.exit_code == 0 and "compute" in bare.stdout
    for command in (
        ["compute"],
        ["segment"],
        ["summary"],
        ["formula", "simple"],
        ["formula", "historical"],
    ):
        result = clv(*command, "-h")
        assert result.exit_code == 0
        assert "Example:" in result.stdout, command


def test_config_file_sets_defaults_and_options_win(clv, log, tmp_path, monkeypatch):
    config = tmp_path / "settings.toml"
    config.write_text("margin = 0.5\n[compute]\nchurn-days = 400\n")
    a = rows(clv("compute", log, "--config", config).stdout)[0]
    assert a["historical_clv"] == "200.00"
    a = rows(clv("compute", log, "--config", config, "--margin", "0.25").stdout)[0]
    assert a["historical_clv"] == "100.00"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clv.toml").write_text("margin = 0.1\n")
    assert rows(clv("compute", log).stdout)[0]["historical_clv"] == "40.00"


def test_config_file_with_an_unknown_key_is_a_usage_error(clv, log, tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("marginn = 0.5\n")
    result = clv("compute", log, "--config", config)
    assert result.exit_code == 2
    assert result.stderr_lines[0] == f"clv: error: config file {config}: unknown key 'marginn'"
