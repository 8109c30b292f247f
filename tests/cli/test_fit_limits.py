"""`clv fit` on data whose fit runs off to a limit, and `clv fit --model all`."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def extreme(tmp_path_factory) -> Path:
    """A shop's extreme customers: daily buyers for a year, buyers of 500 orders a month
    for three months (many a day), and one-time buyers of 30 years ago."""
    end = dt.date(2024, 12, 31)
    lines = ["customer_id,date,amount"]
    for c in range(20):
        lines += [f"daily{c},{end - dt.timedelta(days=d)},{10 + c}" for d in range(365)]
    for c in range(10):
        lines += [
            f"heavy{c},{end - dt.timedelta(days=k * 90 // 1500)},{5 + c}" for k in range(1500)
        ]
    for c in range(30):
        lines.append(f"old{c},{end - dt.timedelta(days=int(365.25 * 30) - c)},50")
    path = tmp_path_factory.mktemp("extreme") / "extreme.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_pareto_nbd_on_extreme_customers_exits_0_with_the_limit_and_a_warning(
    clv, extreme, tmp_path
):
    """Nobody who repeated ever left: the fit runs to the no-dropout limit. It used to
    exit 4; now it reports the limit, says so on stderr and in the JSON, and the file
    scores customers with compute --params."""
    params = tmp_path / "params.json"
    result = clv("fit", extreme, "--model", "pnbd", "--period", "week", "-o", params)
    assert result.exit_code == 0, result.stderr
    assert "clv: warning: pnbd: beta runs to the edge of its range" in result.stderr
    assert "customers almost never drop out" in result.stderr
    report = json.loads(params.read_text())
    assert set(report["params"]) == {"r", "alpha", "s", "beta"}
    assert any("beta runs to the edge" in w for w in report["warnings"])
    assert report["std_errors"]["beta"] is None  # held at the limit, not estimated
    # Every purchase a customer makes is worth the same: Gamma-Gamma's limit.
    assert any("p and v run off together" in w for w in report["spend_model"]["warnings"])
    scored = clv("compute", extreme, "--params", params, "--format", "csv", "-q")
    assert scored.exit_code == 0, scored.stderr
    daily = next(
        r for r in csv.DictReader(io.StringIO(scored.stdout)) if r["customer_id"] == "daily0"
    )
    assert float(daily["p_alive"]) > 0.99 and float(daily["expected_avg_spend"]) == 10.0


def test_compute_says_when_its_fit_is_at_a_limit(clv, extreme):
    result = clv("compute", extreme, "--model", "bgnbd", "--period", "week", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    assert "clv: warning: bgnbd: a runs to the edge of its range" in result.stderr


def test_fit_all_on_cdnow_gives_every_model_side_by_side(clv, cdnow):
    result = clv(
        "fit",
        cdnow,
        "--model",
        "all",
        "--period",
        "week",
        "--as-of",
        "1997-09-30",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    # The transactions after --as-of, and the Gamma-Gompertz/NBD's b at its Pareto/NBD limit.
    assert result.stderr.count("clv: warning") == 2
    assert "ggomnbd: b runs to the edge of its range" in result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "all" and report["period"] == "week"
    assert list(report["models"]) == [
        "bgnbd",
        "mbgnbd",
        "pnbd",
        "ggomnbd",
        "bgbb",
        "bgcnbd",
        "mbgcnbd",
        "gamma-gamma",
    ]
    single = json.loads(
        clv(
            "fit",
            cdnow,
            "--model",
            "pnbd",
            "--period",
            "week",
            "--as-of",
            "1997-09-30",
            "--format",
            "json",
            "-q",
        ).stdout
    )
    pnbd = report["models"]["pnbd"]
    # The single-model object, less the spend model, which comes once at the end.
    assert set(pnbd) == set(single) - {"spend_model"}
    assert pnbd["params"] == pytest.approx(single["params"], rel=1e-6)
    assert pnbd["log_likelihood"] == pytest.approx(-9594.976, abs=0.01)
    assert report["models"]["gamma-gamma"]["params"]["p"] == pytest.approx(6.25, rel=0.01)
    assert report["models"]["bgnbd"]["params"]["r"] == pytest.approx(0.243, rel=0.01)


def test_fit_all_shows_a_failed_model_in_its_row_and_the_others_still(clv, tmp_path):
    """From a summary, BG/BB cannot be fitted (it needs the log): its row says so."""
    summary = tmp_path / "summary.csv"
    made = clv("summary", SAMPLE / "shop.csv", "--period", "week", "-o", summary, "-q")
    assert made.exit_code == 0, made.stderr
    result = clv("fit", "--summary", summary, "--model", "all", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = {r["model"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    assert list(table) == [
        "bgnbd", "mbgnbd", "pnbd", "ggomnbd", "bgbb", "bgcnbd", "mbgcnbd", "gamma-gamma"
    ]  # fmt: skip
    assert table["bgbb"]["warnings"].startswith("error: bgbb: needs the transaction log")
    assert table["bgbb"]["converged"] == "false"
    assert table["pnbd"]["converged"] == "true" and table["pnbd"]["params"].startswith("r ")
    assert "clv: warning: bgbb: needs the transaction log" in result.stderr
    as_json = json.loads(
        clv("fit", "--summary", summary, "--model", "all", "--format", "json", "-q").stdout
    )
    assert "error" in as_json["models"]["bgbb"] and "params" in as_json["models"]["pnbd"]


def test_fit_all_table_has_a_row_per_model(clv):
    result = clv("fit", SAMPLE / "shop.csv", "--model", "all", "--format", "table")
    assert result.exit_code == 0, result.stderr
    for name in ("bgnbd", "mbgnbd", "pnbd", "ggomnbd", "bgbb"):
        assert name in result.stdout


def test_fit_all_exits_4_when_no_model_can_be_fitted(clv, write):
    path = write("tx.csv", "customer,date,amount\nA,2024-01-01,5\nB,2024-01-02,7\n")
    result = clv("fit", path, "--model", "all")
    assert result.exit_code == 4
    assert result.stderr.splitlines()[-2].startswith("clv: error: no model could be fitted: ")
