"""The model commands end to end: compute with models, fit, validate, --params."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE

FIT_KEYS = {
    "model",
    "period",
    "as_of",
    "n_customers",
    "params",
    "std_errors",
    "ci_lower",
    "ci_upper",
    "log_likelihood",
    "aic",
    "bic",
    "converged",
    "iterations",
    "seconds",
    "warnings",
}
VALIDATE_KEYS = {
    "predicted_holdout_purchases",
    "actual_holdout_purchases",
    "error_pct",
    "mae",
    "rmse",
    "msle",
    "bias",
    "rel_mae",
    "correlation",
    "by_frequency",
    "deciles",
}


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_compute_fills_the_model_columns_by_default(clv):
    result = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q")
    assert result.exit_code == 0, result.stderr
    customers = rows(result.stdout)
    assert all(r["p_alive"] and r["predicted_clv"] for r in customers)
    for r in customers:
        assert 0 <= float(r["p_alive"]) <= 1
        total = float(r["historical_clv"]) + float(r["predicted_clv"])
        assert float(r["total_clv"]) == pytest.approx(total, abs=0.011)


def test_model_none_leaves_the_model_columns_empty(clv):
    customers = rows(clv("compute", SAMPLE / "shop.csv", "--model", "none", "-q").stdout)
    assert all(r["p_alive"] == "" and r["predicted_clv"] == "" for r in customers)


def test_twelve_month_clv_is_the_same_in_days_and_weeks(clv, tmp_path):
    totals = {}
    for period in ("day", "week"):
        out = tmp_path / f"{period}.parquet"
        assert (
            clv("compute", SAMPLE / "shop.csv", "--period", period, "-q", "-o", out).exit_code == 0
        )
        totals[period] = pq.read_table(out).column("predicted_clv").to_pandas().sum()
    assert totals["day"] == pytest.approx(totals["week"], rel=0.01)


def test_horizon_and_discounting_change_the_value_as_they_should(clv, tmp_path):
    def total(*options: str) -> float:
        out = tmp_path / "out.parquet"
        result = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q", "-o", out, *options)
        assert result.exit_code == 0, result.stderr
        return float(pq.read_table(out).column("predicted_clv").to_pandas().sum())

    twelve = total()
    assert total("--horizon", "24") > twelve
    assert total("--discount-rate", "0") > twelve
    assert total("--horizon", "lifetime") > total("--horizon", "60")
    assert total("--margin", "0.5") == pytest.approx(twelve / 2)


def test_lifetime_without_discounting_is_a_usage_error(clv):
    result = clv("compute", SAMPLE / "shop.csv", "--horizon", "lifetime", "--discount-rate", "0")
    assert result.exit_code == 2
    assert "positive --discount-rate" in result.stderr


def test_fit_json_has_the_contract_keys_and_matches_cdnow(clv, cdnow):
    result = clv(
        "fit",
        cdnow,
        "--model",
        "bgnbd",
        "--period",
        "week",
        "--as-of",
        "1997-09-30",
        "--format",
        "json",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report) >= FIT_KEYS
    assert report["model"] == "bgnbd" and report["period"] == "week"
    assert report["params"]["r"] == pytest.approx(0.243, rel=0.01)
    assert report["log_likelihood"] == pytest.approx(-9582.43, abs=0.1)
    assert report["spend_model"]["params"]["p"] == pytest.approx(6.25, rel=0.01)
    assert set(report["std_errors"]) == set(report["params"]) == set(report["ci_upper"])
    assert report["warnings"] == [] and report["spend_model"]["warnings"] == []


def test_fit_gamma_gamma_alone(clv, cdnow):
    result = clv(
        "fit",
        cdnow,
        "--model",
        "gamma-gamma",
        "--period",
        "week",
        "--as-of",
        "1997-09-30",
        "--format",
        "json",
        "-q",
    )
    report = json.loads(result.stdout)
    assert report["model"] == "gamma-gamma"
    assert set(report["params"]) == {"p", "q", "v"}


def test_compute_with_saved_params_scores_without_refitting(clv, cdnow, tmp_path):
    params = tmp_path / "params.json"
    assert (
        clv("fit", cdnow, "--period", "week", "--as-of", "1997-09-30", "-o", params, "-q").exit_code
        == 0
    )
    saved = clv("compute", cdnow, "--params", params, "--as-of", "1997-09-30", "-q")
    refit = clv("compute", cdnow, "--period", "week", "--as-of", "1997-09-30", "-q")
    assert saved.exit_code == 0, saved.stderr
    assert saved.stdout == refit.stdout
    first = rows(saved.stdout)[0]
    # Published: 24.65; the fit's last digits may differ on another CPU.
    assert first["customer_id"] == "0001"
    assert float(first["expected_avg_spend"]) == pytest.approx(24.65, abs=0.011)


def test_saved_spend_without_a_finite_mean_leaves_spend_empty(clv, cdnow, tmp_path):
    """A saved q <= 1 is refused as a fit refuses it: no half-empty spend column."""
    params = tmp_path / "params.json"
    made = clv("fit", cdnow, "--period", "week", "--as-of", "1997-09-30", "-o", params, "-q")
    assert made.exit_code == 0, made.stderr
    saved = json.loads(params.read_text())
    saved["spend_model"]["params"]["q"] = 0.8
    params.write_text(json.dumps(saved))
    result = clv("compute", cdnow, "--params", params, "--as-of", "1997-09-30")
    assert result.exit_code == 0, result.stderr
    assert "no finite mean (q = 0.8" in result.stderr
    table = rows(result.stdout)
    assert all(row["expected_avg_spend"] == "" and row["predicted_clv"] == "" for row in table)
    assert all(row["p_alive"] != "" for row in table)


def test_validate_json_names_the_best_model(clv, cdnow):
    result = clv(
        "validate",
        cdnow,
        "--period",
        "week",
        "--calibration-end",
        "1997-09-30",
        "--as-of",
        "1998-06-30",
        "--model",
        "all",
        "--format",
        "json",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["models"]) == {
        "bgnbd", "mbgnbd", "pnbd", "ggomnbd", "bgbb", "bgcnbd", "mbgcnbd"
    }  # fmt: skip
    for metrics in report["models"].values():
        assert set(metrics) >= VALIDATE_KEYS
        assert [row["frequency"] for row in metrics["by_frequency"]] == [
            "0",
            "1",
            "2",
            "3",
            "4",
            "5",
            "6",
            "7+",
        ]
        assert sum(row["customers"] for row in metrics["by_frequency"]) == 2357
    # The best is the smallest per-customer error among the models that count
    # purchases (BG/BB counts purchase periods: 1,882 purchases fall in fewer weeks).
    counting = {name: m for name, m in report["models"].items() if name != "bgbb"}
    assert report["best"] == min(counting, key=lambda name: counting[name]["mae"])
    for metrics in counting.values():
        assert metrics["actual_holdout_purchases"] == 1882  # the published holdout total
        predicted = metrics["predicted_holdout_purchases"]
        assert metrics["bias"] == pytest.approx(predicted / 1882 - 1)
        assert metrics["rel_mae"] == pytest.approx(metrics["mae"] * 2357 / 1882)
        assert sum(row["customers"] for row in metrics["deciles"]) == 2357
        # The top decile of predictions buys the most in the holdout, the last the least.
        actual = [row["mean_actual"] for row in metrics["deciles"]]
        assert actual[0] == max(actual) and actual[-1] < actual[0] / 5
    assert report["models"]["bgbb"]["actual_holdout_purchases"] < 1882


def test_validate_holdout_length_equals_the_calibration_end(clv, cdnow):
    by_length = clv(
        "validate",
        cdnow,
        "--period",
        "week",
        "--holdout",
        "273d",
        "--as-of",
        "1998-06-30",
        "--format",
        "json",
        "-q",
    )
    by_date = clv(
        "validate",
        cdnow,
        "--period",
        "week",
        "--calibration-end",
        "1997-09-30",
        "--as-of",
        "1998-06-30",
        "--format",
        "json",
        "-q",
    )
    assert json.loads(by_length.stdout)["calibration_end"] == "1997-09-30"
    assert json.loads(by_length.stdout)["models"] == json.loads(by_date.stdout)["models"]


def test_too_little_data_warns_in_compute_and_fails_fit_with_exit_4(clv, write):
    path = write("tx.csv", "customer,date,amount\nA,2024-01-01,5\nB,2024-01-02,7\n")
    computed = clv("compute", path)
    assert computed.exit_code == 0
    assert "too little data to fit" in computed.stderr
    assert rows(computed.stdout)[0]["historical_clv"] == "5.00"
    fitted = clv("fit", path)
    assert fitted.exit_code == 4
    assert fitted.stderr.startswith("clv: error: bgnbd: too little data to fit: 2 customers")


@pytest.mark.parametrize(
    ("content", "message"),
    [("{not json", "not a parameters file"), ('{"model": "bgnbd"}', "needs model, period")],
)
def test_a_bad_params_file_is_an_input_error(clv, write, content, message):
    params = write("p.json", content)
    result = clv("compute", SAMPLE / "shop.csv", "--params", params)
    assert result.exit_code == 3
    assert message in result.stderr


def test_unknown_models_are_usage_errors(clv):
    assert clv("compute", SAMPLE / "shop.csv", "--model", "gamma-gamma").exit_code == 2
    assert clv("fit", SAMPLE / "shop.csv", "--model", "every").exit_code == 2
    assert clv("validate", SAMPLE / "shop.csv", "--model", "xyz", "--holdout", "6m").exit_code == 2
    assert clv("validate", SAMPLE / "shop.csv").exit_code == 2


def test_the_registered_models_are_the_contracts_names_in_its_order():
    from clvcli.contract import PURCHASE_MODEL_NAMES
    from clvcli.models import PURCHASE_MODELS

    assert tuple(PURCHASE_MODELS) == PURCHASE_MODEL_NAMES
