"""--model ggomnbd in every command that takes --model: fit (table and JSON), compute
(with the fit, with --params, over a lifetime), validate and report."""

from __future__ import annotations

import csv
import io
import json

import pytest

CDNOW_CALIBRATION = ("--period", "week", "--as-of", "1997-09-30")


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture(scope="module")
def saved(tmp_path_factory, cdnow):
    """``clv fit --model ggomnbd --format json`` of the CDNOW calibration, as a file."""
    from clvcli.cli.main import main

    path = tmp_path_factory.mktemp("ggomnbd") / "params.json"
    args = ["fit", str(cdnow), "--model", "ggomnbd", *CDNOW_CALIBRATION, "-o", str(path), "-q"]
    assert main(args) == 0
    return path


def test_fit_json_names_the_five_parameters_and_beats_nothing_worse_than_pnbd(saved):
    report = json.loads(saved.read_text())
    assert report["model"] == "ggomnbd"
    assert set(report["params"]) == {"r", "alpha", "b", "s", "beta"}
    assert set(report["std_errors"]) == set(report["params"])
    assert report["std_errors"]["b"] is None  # held at the edge: the Pareto/NBD limit
    assert report["log_likelihood"] >= -9594.976 - 1e-3
    assert report["params"]["r"] == pytest.approx(0.553, rel=0.01)
    assert any("Pareto/NBD" in warning for warning in report["warnings"])


def test_fit_table_shows_every_parameter(clv, cdnow):
    result = clv("fit", cdnow, "--model", "ggomnbd", *CDNOW_CALIBRATION, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = [r for r in rows(result.stdout) if r["model"] == "ggomnbd"]
    assert [r["parameter"] for r in table] == ["r", "alpha", "b", "s", "beta"]
    assert "ggomnbd: b runs to the edge of its range" in result.stderr


def test_compute_with_saved_params_is_the_compute_that_fits(clv, cdnow, saved):
    with_params = clv("compute", cdnow, "--params", saved, "--as-of", "1997-09-30", "-q")
    fitted = clv("compute", cdnow, "--model", "ggomnbd", *CDNOW_CALIBRATION, "-q")
    assert with_params.exit_code == 0, with_params.stderr
    assert with_params.stdout == fitted.stdout
    table = rows(with_params.stdout)
    assert len(table) == 2357
    assert all(0 <= float(r["p_alive"]) <= 1 and r["predicted_clv"] != "" for r in table)


def test_compute_at_the_limit_scores_as_pareto_nbd(clv, cdnow, saved):
    """CDNOW's Gamma-Gompertz/NBD is its Pareto/NBD limit: the same P(alive) and
    expected purchases to the printed digits' last few."""
    ggom = rows(clv("compute", cdnow, "--params", saved, "--as-of", "1997-09-30", "-q").stdout)
    pnbd = rows(clv("compute", cdnow, "--model", "pnbd", *CDNOW_CALIBRATION, "-q").stdout)
    for ours, theirs in zip(ggom, pnbd, strict=True):
        assert float(ours["p_alive"]) == pytest.approx(float(theirs["p_alive"]), abs=1e-4)
        assert float(ours["expected_purchases"]) == pytest.approx(
            float(theirs["expected_purchases"]), rel=1e-3, abs=1e-6
        )


def test_compute_over_a_lifetime(clv, cdnow, saved):
    result = clv(
        "compute", cdnow, "--params", saved, "--as-of", "1997-09-30", "--horizon", "lifetime"
    )
    assert result.exit_code == 0, result.stderr
    twelve = rows(clv("compute", cdnow, "--params", saved, "--as-of", "1997-09-30", "-q").stdout)
    for lifetime, year in zip(rows(result.stdout), twelve, strict=True):
        assert float(lifetime["predicted_clv"]) >= float(year["predicted_clv"]) - 0.01


def test_validate_ggomnbd_on_the_cdnow_holdout(clv, cdnow):
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
        "ggomnbd",
        "--format",
        "json",
        "-q",
    )
    assert result.exit_code == 0, result.stderr
    metrics = json.loads(result.stdout)["models"]["ggomnbd"]
    assert metrics["actual_holdout_purchases"] == 1882
    # At its Pareto/NBD limit: Pareto/NBD's relative MAE, 0.945.
    assert metrics["rel_mae"] == pytest.approx(0.945, abs=0.002)


def test_report_with_ggomnbd(clv, cdnow, tmp_path):
    out = tmp_path / "report.md"
    result = clv(
        "report", cdnow, "--model", "ggomnbd", "--period", "week", "--holdout", "39w", "-o", out
    )
    assert result.exit_code == 0, result.stderr
    text = out.read_text()
    assert "| ggomnbd | b |" in text and "| ggomnbd | beta |" in text
