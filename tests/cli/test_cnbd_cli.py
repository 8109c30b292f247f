"""BG/CNBD-k and MBG/CNBD-k in every command that takes --model, on BTYDplus's grocery
log (1,525 customers, calibration 2006, 52 weeks of holdout, 3,389 actual purchases):
BG/CNBD-k at k = 2 predicts 3,830.1 (relative MAE 0.663), MBG/CNBD-k 3,970.1 (0.644)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.conftest import DATA

GROCERY = DATA / "grocery.csv"
HOLDOUT = ["--calibration-end", "2006-12-31", "--period", "week", "--format", "json", "-q"]
PUBLISHED = {"bgcnbd": (3830.1, 0.663), "mbgcnbd": (3970.1, 0.644)}


@pytest.mark.parametrize("model", ["bgcnbd", "mbgcnbd"])
def test_validate_matches_btydplus(clv, model):
    result = clv("validate", GROCERY, "--model", model, *HOLDOUT)
    assert result.exit_code == 0, result.stderr
    found = json.loads(result.stdout)["models"][model]
    total, rel_mae = PUBLISHED[model]
    assert found["actual_holdout_purchases"] == 3389
    assert found["predicted_holdout_purchases"] == pytest.approx(total, rel=0.005)
    assert found["rel_mae"] == pytest.approx(rel_mae, rel=0.005)
    assert found["params"]["k"] == 2


def test_validate_all_compares_them_with_the_others(clv):
    result = clv("validate", GROCERY, "--model", "all", *HOLDOUT)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"bgcnbd", "mbgcnbd", "bgnbd", "pnbd"} <= set(report["models"])
    assert report["best"] == "mbgcnbd"  # the lowest per-customer error here


def test_fit_json_round_trips_through_compute_params(clv, tmp_path):
    params = tmp_path / "params.json"
    fitted = clv("fit", GROCERY, "--model", "mbgcnbd", "--period", "week", "-o", params, "-q")
    assert fitted.exit_code == 0, fitted.stderr
    report = json.loads(params.read_text())
    assert report["model"] == "mbgcnbd"
    assert set(report["params"]) == {"r", "alpha", "a", "b", "k"}
    assert report["params"]["k"] == 2 and report["std_errors"]["k"] is None
    assert report["aic"] == pytest.approx(10 - 2 * report["log_likelihood"])
    refit = clv("compute", GROCERY, "--model", "mbgcnbd", "--period", "week", "-q")
    saved = clv("compute", GROCERY, "--params", params, "-q")
    assert refit.exit_code == 0 and saved.exit_code == 0, saved.stderr
    assert refit.stdout == saved.stdout
    rows = list(csv.DictReader(io.StringIO(saved.stdout)))
    assert len(rows) == 1525 and all(row["expected_purchases"] for row in rows)


def test_fit_table_shows_k(clv):
    result = clv("fit", GROCERY, "--model", "bgcnbd", "--period", "week", "--format", "csv", "-q")
    assert result.exit_code == 0, result.stderr
    rows = {row["parameter"]: row for row in csv.DictReader(io.StringIO(result.stdout))}
    assert set(rows) == {"r", "alpha", "a", "b", "k"}
    assert float(rows["k"]["estimate"]) >= 1 and rows["k"]["std_error"] == ""


def test_a_summary_cannot_choose_k(clv, tmp_path):
    summary = tmp_path / "summary.csv"
    clv("summary", GROCERY, "--period", "week", "-o", summary, "-q")
    result = clv("fit", "--summary", summary, "--model", "bgcnbd", "--period", "week")
    assert result.exit_code == 4
    assert result.stderr_lines[-2] == (
        "clv: error: bgcnbd: choosing k needs each customer's purchase days (the sum of log "
        "times between purchases), which this input does not give"
    )
    # --model auto chooses among the others there, without a word about them.
    auto = clv("compute", "--summary", summary, "--period", "week")
    assert auto.exit_code == 0, auto.stderr
    assert not any("cnbd" in line for line in auto.stderr_lines)


def test_report_and_lifetime_compute(clv, tmp_path):
    report = tmp_path / "report.html"
    result = clv("report", GROCERY, "--model", "bgcnbd", "--period", "week", "-o", report, "-q")
    assert result.exit_code == 0, result.stderr
    assert report.stat().st_size > 0
    lifetime = clv(
        "compute", GROCERY, "--model", "bgcnbd", "--period", "week", "--horizon", "lifetime", "-q"
    )
    assert lifetime.exit_code == 0, lifetime.stderr
    rows = list(csv.DictReader(io.StringIO(lifetime.stdout)))
    assert all(float(row["expected_purchases"]) >= 0 for row in rows)


def test_validate_on_a_summary_leaves_them_out_in_one_line(clv, tmp_path):
    summary = tmp_path / "calibration.csv"
    clv("summary", GROCERY, "--period", "week", "--calibration-end", "2006-12-31", "-o", summary)
    result = clv("validate", "--summary", summary, "--period", "week", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert set(json.loads(result.stdout)["models"]) == {"bgnbd", "mbgnbd", "pnbd", "ggomnbd"}
    assert (
        "clv: warning: bgcnbd and mbgcnbd choose their k by the purchase days, which a "
        "summary does not hold: left out"
    ) in result.stderr_lines


@pytest.mark.parametrize("model", ["bgcnbd", "mbgcnbd"])
def test_intervals_come_from_the_four_estimated_parameters(clv, tmp_path, model):
    """k is chosen, not estimated: the covariance is of r, alpha, a and b, the intervals
    are filled, and a saved fit gives the same intervals as the refit."""
    params = tmp_path / "params.json"
    fitted = clv("fit", GROCERY, "--model", model, "--period", "week", "-o", params, "-q")
    assert fitted.exit_code == 0, fitted.stderr
    assert set(json.loads(params.read_text())["covariance"]) == {"r", "alpha", "a", "b"}
    args = ["--period", "week", "--interval", "0.9", "-q"]
    refit = clv("compute", GROCERY, "--model", model, *args)
    saved = clv("compute", GROCERY, "--params", params, *args)
    assert refit.exit_code == 0 and saved.exit_code == 0, refit.stderr + saved.stderr
    assert refit.stdout == saved.stdout
    rows = list(csv.DictReader(io.StringIO(refit.stdout)))
    for row in rows:
        low, mid, high = (
            float(row[f"expected_purchases{end}"]) for end in ("_lower", "", "_upper")
        )
        assert low <= mid * (1 + 1e-9) and mid <= high * (1 + 1e-9)
    assert any(
        float(row["expected_purchases_upper"]) > float(row["expected_purchases_lower"])
        for row in rows
    )
