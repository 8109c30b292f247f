"""`clv retention` on the sample files: the English and the Persian subscription logs
(the same subscribers, in Gregorian and Jalali months) and Table 1 as a cohort table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import SAMPLE

# The sBG the sample logs were simulated from (sample_data/make_subscriptions.py).
ALPHA, BETA = 1.2, 7.5


def fit(clv, name: str, *options: str) -> dict:
    result = clv("retention", SAMPLE / name, "--format", "json", *options)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_english_log_recovers_the_simulated_parameters(clv):
    document = fit(clv, "subscriptions.csv")
    assert document["period"] == "month" and document["subscribers"] == 600
    for name, truth in (("alpha", ALPHA), ("beta", BETA)):
        assert abs(document["params"][name] - truth) < 2 * document["std_errors"][name]


def test_persian_log_is_the_same_subscribers_in_jalali_months(clv):
    english = fit(clv, "subscriptions.csv", "--per-subscriber")
    persian = fit(clv, "subscriptions_fa.csv", "--per-subscriber")
    assert persian["params"] == english["params"]
    assert persian["as_of"] == "2025-03-18"  # 1403/12/28
    assert persian["base"]["active_subscribers"] == english["base"]["active_subscribers"]
    first = persian["active_subscribers"][0]
    assert first["customer_id"] == "S0003" and first["plan"] == "ویژه"
    assert first["price"] == 390000


def test_english_log_per_plan_and_per_subscriber(clv):
    result = clv("retention", SAMPLE / "subscriptions.csv", "--by", "plan", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("plan,cohort,period")
    result = clv("retention", SAMPLE / "subscriptions.csv", "--per-subscriber", "--margin", "0.8")
    assert result.exit_code == 0, result.stderr
    assert "base: 228 active subscribers worth" in result.stderr


def test_cohort_table_sample_is_table1(clv):
    document = fit(clv, "subscription_cohorts.csv")
    assert document["params"]["alpha"] == pytest.approx(0.704, rel=5e-3)
    projected = [100 * row["fitted_survival"] for row in document["survival"][8:13]]
    assert projected == pytest.approx([22.0, 20.4, 19.1, 18.0, 17.0], abs=0.1)


def test_the_script_writes_the_committed_files(tmp_path):
    script = SAMPLE / "make_subscriptions.py"
    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, timeout=120)
    for name in ("subscriptions.csv", "subscriptions_fa.csv", "subscription_cohorts.csv"):
        assert (tmp_path / name).read_bytes() == (SAMPLE / name).read_bytes(), name
