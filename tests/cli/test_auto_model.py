"""--model auto, the default: every command that fits says which model it chose and
why, records it, and never holds an old one-time buyer alive; validate's metrics."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from tests.cli.test_models_cli import VALIDATE_KEYS
from tests.conftest import DATA, SAMPLE

SHOP = SAMPLE / "shop.csv"
NOTE = re.compile(
    r"^clv: note: model auto chose (mbgnbd|pnbd|ggomnbd|mbgcnbd): lowest holdout MAE "
    r"\(\d\.\d{3} vs "
    r"(?:(?:mbgnbd|pnbd|ggomnbd|mbgcnbd) \d\.\d{3}(?:, )?)+\) on a 35-week holdout of 1,625 "
    r"customers; bgnbd left out: it gives P\(alive\) 1\.00 to the 415 one-time buyers "
    r"older than 365 days; bgcnbd left out: it gives P\(alive\) 1\.00 to the 415 one-time "
    r"buyers older than 365 days$"
)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def notes(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "model auto chose" in line]


def test_compute_chooses_says_why_and_holds_no_old_one_time_buyer_alive(clv, tmp_path):
    out = tmp_path / "customers.csv"
    result = clv("compute", SHOP, "--period", "week", "-o", out, "--sidecar")
    assert result.exit_code == 0, result.stderr
    [note] = notes(result.stderr)
    assert NOTE.match(note), note
    chosen = NOTE.match(note).group(1)
    table = rows(out.read_text())
    old = [r for r in table if r["frequency"] == "0" and int(r["days_since_last"]) > 365]
    assert len(old) == 415
    assert max(float(r["p_alive"]) for r in old) < 0.99
    meta = json.loads((tmp_path / "customers.csv.meta.json").read_text())
    assert meta["options"]["model"] == "auto"
    purchases = meta["models"]["purchases"]
    assert purchases["model"] == chosen
    assert purchases["chosen_by"]["rule"] == "holdout_mae"
    assert purchases["chosen_by"]["holdout_days"] == 243.0  # a third of 730 days
    assert set(purchases["chosen_by"]["scores"]) == {
        "bgnbd", "mbgnbd", "pnbd", "ggomnbd", "bgcnbd", "mbgcnbd"
    }  # fmt: skip
    assert set(purchases["chosen_by"]["left_out"]) == {"bgnbd", "bgcnbd"}


def test_the_churn_cut_off_is_the_one_given(clv):
    result = clv("compute", SHOP, "--period", "week", "--churn-days", "400", "--risk-days", "90")
    assert result.exit_code == 0, result.stderr
    [note] = notes(result.stderr)
    assert "one-time buyers older than 400 days" in note
    old = [
        r for r in rows(result.stdout) if r["frequency"] == "0" and int(r["days_since_last"]) > 400
    ]
    assert old and max(float(r["p_alive"]) for r in old) < 0.99


def test_cdnow_master_by_default(clv, tmp_path):
    result = clv("compute", DATA / "cdnow_master.csv", "--period", "week")
    assert result.exit_code == 0, result.stderr
    [note] = notes(result.stderr)
    # Half the customers: every other one by the reader, one hash bucket of two by DuckDB.
    assert re.search(r"on a 26-week holdout of 11,[78]\d\d customers", note), note
    assert "bgnbd left out: it gives P(alive) 1.00 to the 12,054 one-time buyers" in note
    table = rows(result.stdout)
    old = [r for r in table if r["frequency"] == "0" and int(r["days_since_last"]) > 365]
    assert len(old) == 12_054
    assert max(float(r["p_alive"]) for r in old) < 0.99
    # No row calls a customer churned while holding them certainly alive.
    assert all(float(r["p_alive"]) < 0.99 for r in table if r["stage"] == "churned")


def test_an_explicit_model_works_as_before_and_says_nothing(clv):
    result = clv("compute", SHOP, "--period", "week", "--model", "bgnbd")
    assert result.exit_code == 0, result.stderr
    assert notes(result.stderr) == []
    one_time = [r for r in rows(result.stdout) if r["frequency"] == "0"]
    assert one_time and all(float(r["p_alive"]) == 1.0 for r in one_time)


def test_quiet_silences_the_note(clv):
    result = clv("compute", SHOP, "--period", "week", "-q")
    assert result.exit_code == 0 and result.stderr == ""


def test_saved_parameters_keep_their_model(clv, tmp_path):
    params = tmp_path / "params.json"
    fitted = clv("fit", SHOP, "--period", "week", "--model", "pnbd", "-o", params, "-q")
    assert fitted.exit_code == 0, fitted.stderr
    result = clv("compute", SHOP, "--params", params, "-o", tmp_path / "c.csv", "--sidecar")
    assert result.exit_code == 0, result.stderr
    assert notes(result.stderr) == []
    meta = json.loads((tmp_path / "c.csv.meta.json").read_text())
    assert meta["models"]["purchases"]["model"] == "pnbd"


def test_model_none_stays(clv):
    result = clv("compute", SHOP, "--model", "none")
    assert result.exit_code == 0 and notes(result.stderr) == []
    assert all(r["p_alive"] == "" for r in rows(result.stdout))


def test_fit_by_default_fits_the_model_compute_chooses(clv):
    fitted = clv("fit", SHOP, "--period", "week", "--format", "json")
    assert fitted.exit_code == 0, fitted.stderr
    [note] = notes(fitted.stderr)
    report = json.loads(fitted.stdout)
    assert report["model"] == NOTE.match(note).group(1)
    assert report["chosen_by"]["rule"] == "holdout_mae"
    assert report["spend_model"]["model"] == "gamma-gamma"
    computed = clv("compute", SHOP, "--period", "week")
    assert notes(computed.stderr) == [note]


def test_a_summary_is_chosen_by_bic(clv, tmp_path):
    summary = tmp_path / "summary.csv"
    made = clv("summary", SHOP, "--period", "week", "-o", summary, "-q")
    assert made.exit_code == 0, made.stderr
    result = clv("compute", "--summary", summary, "--period", "week")
    assert result.exit_code == 0, result.stderr
    [note] = notes(result.stderr)
    assert re.match(
        r"clv: note: model auto chose \w+: lowest BIC \([\d,.]+ vs \w+ [\d,.]+, \w+ [\d,.]+\)", note
    )
    assert "a per-customer summary (--summary, --engine spark) holds no holdout" in note
    assert "bgnbd left out" in note


def test_a_short_log_is_chosen_by_bic_and_says_why(clv, tmp_path):
    lines = SHOP.read_text().splitlines()
    short = [lines[0]] + [line for line in lines[1:] if ",2023-0" in line]
    path = tmp_path / "short.csv"
    path.write_text("\n".join(short) + "\n")
    result = clv("compute", path, "--period", "week")
    assert result.exit_code == 0, result.stderr
    [note] = notes(result.stderr)
    assert "lowest BIC" in note and "under the 52 a holdout needs" in note


def test_stages_say_the_model_of_each_date(clv):
    result = clv("stages", SHOP, "--period", "week", "--compare-to", "2024-06-30")
    assert result.exit_code == 0, result.stderr
    now, then = notes(result.stderr)
    assert now.startswith("clv: note: model auto chose")
    # The earlier date's stages are those clv stages --as-of 2024-06-30 gives.
    assert then.startswith("clv: note: at 2024-06-30, model auto chose")
    alone = clv("stages", SHOP, "--period", "week", "--as-of", "2024-06-30")
    assert notes(alone.stderr) == [then.replace("at 2024-06-30, ", "")]


def test_segment_cac_and_report_choose_too(clv, tmp_path):
    segment = clv("segment", SHOP, "--summary", "--period", "week")
    assert segment.exit_code == 0 and len(notes(segment.stderr)) == 1
    costs = SAMPLE / "shop_costs.csv"
    cac = clv("cac", SHOP, "--costs", costs, "--period", "week")
    assert cac.exit_code == 0 and len(notes(cac.stderr)) == 1
    report = clv("report", SHOP, "--period", "week", "--holdout", "26w", "-o", tmp_path / "r.md")
    assert report.exit_code == 0, report.stderr
    assert len(notes(report.stderr)) == 1


def test_validate_compares_auto_candidates_by_default_best_by_mae(clv):
    result = clv("validate", SHOP, "--period", "week", "--holdout", "26w", "--format", "json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report["models"]) == ["bgnbd", "mbgnbd", "pnbd", "ggomnbd", "bgcnbd", "mbgcnbd"]
    for metrics in report["models"].values():
        assert set(metrics) >= VALIDATE_KEYS
        assert len(metrics["deciles"]) == 10
        assert sum(row["customers"] for row in metrics["deciles"]) == report["customers"]
        total = metrics["actual_holdout_purchases"]
        assert metrics["bias"] == pytest.approx(metrics["predicted_holdout_purchases"] / total - 1)
        assert metrics["rel_mae"] == pytest.approx(metrics["mae"] * report["customers"] / total)
    maes = {name: m["mae"] for name, m in report["models"].items()}
    assert report["best"] == min(maes, key=maes.get)


def test_validate_all_explains_bgbb_total(clv):
    argv = ("validate", SHOP, "--period", "week", "--holdout", "26w", "--model", "all")
    result = clv(*argv, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert (
        "clv: note: bgbb counts purchase periods (a period with several purchases is one), "
        "not purchases" in result.stderr
    )
    table = {row["model"]: row for row in rows(result.stdout)}
    assert list(next(iter(table.values()))) == [
        "model",
        "predicted_holdout_purchases",
        "actual_holdout_purchases",
        "error_pct",
        "mae",
        "rmse",
        "msle",
        "bias",
        "rel_mae",
        "correlation",
        "log_likelihood",
    ]
    assert float(table["bgbb"]["actual_holdout_purchases"]) < float(
        table["pnbd"]["actual_holdout_purchases"]
    )


def test_auto_on_the_grocery_log_predicts_its_holdout_best(clv):
    """The issue's goal on BTYDplus's grocery log: the model auto chooses from the
    calibration year alone predicts the next 52 weeks with a relative MAE at or below
    MBG/CNBD-k's published 0.644 (BTYDplus's Pareto/GGG, by MCMC, reaches 0.621)."""
    grocery = DATA / "grocery.csv"
    fitted = clv("fit", grocery, "--as-of", "2006-12-31", "--period", "week", "-q",
                 "--format", "json")  # fmt: skip
    assert fitted.exit_code == 0, fitted.stderr
    chosen = json.loads(fitted.stdout)["model"]
    result = clv("validate", grocery, "--calibration-end", "2006-12-31", "--as-of",
                 "2007-12-30", "--period", "week", "--model", chosen, "--format", "json",
                 "-q")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)["models"][chosen]
    assert metrics["actual_holdout_purchases"] == 3389
    assert metrics["rel_mae"] <= 0.644 * 1.005, chosen
