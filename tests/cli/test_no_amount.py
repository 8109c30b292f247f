"""Logs with no amount column, on the BTYDplus grocery log and a counted-gifts log.

Published (BTYDplus vignette, `groceryElog`: 1,525 customers, 2006-01-01 to
2007-12-30, calibration to 2006-12-31, 52 weeks of holdout): 3,389 actual holdout
purchases; Pareto/NBD predicts 3,990.7 and BG/NBD 3,996.4 of them. The donations of
Fader, Hardie and Shang (2010), written as one row per gift, give the published BG/BB
estimates alpha 1.204, beta 0.750, gamma 0.657, delta 2.783.
"""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
import pytest

from clvcli.contract import COMPUTE_COLUMNS
from tests.conftest import DATA

GROCERY = DATA / "grocery.csv"
MONEY = (
    "total_spend",
    "avg_order_value",
    "historical_clv",
    "expected_avg_spend",
    "predicted_clv",
    "total_clv",
)
NOTE = f"clv: note: {GROCERY} has no amount column: purchases are counted, money columns are empty"


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_summary_counts_customers_and_purchase_days(clv):
    result = clv("summary", GROCERY, "--period", "week", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [NOTE]
    customers = json.loads(result.stdout)
    assert len(customers) == 1525
    # Every row of the log is a distinct (customer, day): each one a purchase.
    assert sum(c["orders"] for c in customers) == 10483
    assert {c["monetary_value"] for c in customers} == {None}
    assert {c["total_spend"] for c in customers} == {None}


def test_validate_matches_the_published_holdout(clv):
    result = clv(
        "validate",
        GROCERY,
        "--calibration-end",
        "2006-12-31",
        "--period",
        "week",
        "--model",
        "pnbd",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [NOTE]
    model = json.loads(result.stdout)["models"]["pnbd"]
    assert model["actual_holdout_purchases"] == 3389
    assert model["predicted_holdout_purchases"] == pytest.approx(3990.7, rel=0.005)


def test_validate_bgnbd_matches_the_published_holdout(clv):
    args = ["--calibration-end", "2006-12-31", "--period", "week", "--format", "json", "-q"]
    result = clv("validate", GROCERY, "--model", "bgnbd", *args)
    model = json.loads(result.stdout)["models"]["bgnbd"]
    assert model["actual_holdout_purchases"] == 3389
    assert model["predicted_holdout_purchases"] == pytest.approx(3996.4, rel=0.005)


def test_fit_gives_purchases_only(clv):
    result = clv(
        "fit", GROCERY, "--model", "pnbd", "--period", "week", "--as-of", "2006-12-31",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert "spend_model" not in report
    assert set(report["params"]) == {"r", "alpha", "s", "beta"}
    assert NOTE in result.stderr_lines
    assert not any("gamma-gamma" in line for line in result.stderr_lines)
    spend = clv("fit", GROCERY, "--model", "gamma-gamma", "--period", "week")
    assert spend.exit_code == 3
    assert "has no amount column" in spend.stderr_lines[-2]


def test_compute_leaves_money_empty_in_csv_json_and_parquet(clv, tmp_path):
    args = ["--period", "week", "--model", "pnbd"]
    result = clv("compute", GROCERY, *args)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [NOTE]
    table = rows(result.stdout)
    assert list(table[0]) == COMPUTE_COLUMNS
    assert len(table) == 1525
    for column in MONEY:
        assert {row[column] for row in table} == {""}, column
    assert all(row["expected_purchases"] and row["p_alive"] for row in table)
    as_json = json.loads(clv("compute", GROCERY, *args, "--format", "json", "-q").stdout)
    assert {row["predicted_clv"] for row in as_json} == {None}
    path = tmp_path / "customers.parquet"
    assert clv("compute", GROCERY, *args, "-o", path, "-q").exit_code == 0
    written = pq.read_table(path)
    assert written.column_names == COMPUTE_COLUMNS
    for column in MONEY:
        assert written.column(column).null_count == 1525, column


def test_stages_segment_and_cohorts_work_without_money(clv):
    args = ["--period", "week", "--model", "pnbd", "-q"]
    funnel = rows(clv("stages", GROCERY, *args).stdout)
    assert sum(int(row["customers"]) for row in funnel) == 1525
    assert {row["revenue"] for row in funnel} == {""}  # unknown, not 0
    summary = rows(clv("segment", GROCERY, "--summary", *args).stdout)
    assert {row["mean_total_clv"] for row in summary} == {""}
    loyal = rows(clv("segment", GROCERY, "--stage", "loyal", *args).stdout)
    assert loyal and {row["stage"] for row in loyal} == {"loyal"}
    cohorts = rows(clv("cohorts", GROCERY, "-q").stdout)
    assert sum(int(row["customers"]) for row in cohorts) == 1525


def test_compute_output_and_summary_chain_without_money(clv, tmp_path):
    summary = tmp_path / "summary.csv"
    clv("summary", GROCERY, "--period", "week", "-o", summary, "-q")
    result = clv("compute", "--summary", summary, "--period", "week", "--model", "pnbd")
    assert result.exit_code == 0, result.stderr
    assert {row["total_clv"] for row in rows(result.stdout)} == {""}
    assert any("monetary_value is empty in every row" in line for line in result.stderr_lines)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (("cohorts", GROCERY, "--metric", "revenue"), "--metric revenue needs amounts"),
    ],
)
def test_commands_that_need_money_refuse_in_one_line(clv, command, expected):
    result = clv(*command)
    assert result.exit_code == 3
    assert expected in result.stderr_lines[-2]
    assert "--amount-col" in result.stderr_lines[-1]


def test_cac_refuses_a_log_with_no_amounts(clv, write):
    costs = write("costs.csv", "period,spend\n2006-01,100\n")
    result = clv("cac", GROCERY, "--costs", costs, "--model", "none")
    assert result.exit_code == 3
    assert result.stderr_lines == [
        f"clv: error: {GROCERY}: no amount column, and CLV against acquisition cost needs "
        "the money customers spent",
        "hint: name the amount column with --amount-col",
    ]


def test_report_leaves_the_money_parts_out(clv, tmp_path):
    path = tmp_path / "report.md"
    result = clv("report", GROCERY, "--period", "week", "--model", "pnbd", "-o", path)
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [NOTE]
    text = path.read_text(encoding="utf-8")
    assert "The log has no amount column" in text
    assert "Revenue**: 0" not in text and "Mean CLV" not in text
    assert "customers expected to buy the most" in text


def test_an_unrecognised_amount_column_is_refused_with_how_to_count(clv, write):
    path = write("shop.csv", "customer_id,date,Kwota\nA,2024-01-01,12.50\nA,2024-02-01,3\n")
    result = clv("compute", path, "--model", "none")
    assert result.exit_code == 3
    assert "column 'Kwota' holds numbers and could be the amount" in result.stderr_lines[0]
    assert "--amount-col none" in result.stderr_lines[1]
    counted = clv("compute", path, "--model", "none", "--amount-col", "none")
    assert counted.exit_code == 0
    assert rows(counted.stdout)[0]["orders"] == "2"


def donations_log(path) -> None:
    """The donations summary as one row per gift: a first gift in 1995, then x gifts
    in the six years after, the last of them in year t_x (mid-year dates)."""
    lines = ["donor,date"]
    donor = 0
    with open(DATA / "donations.csv", encoding="utf-8") as handle:
        for pattern in csv.DictReader(handle):
            x, t_x = int(pattern["frequency"]), int(pattern["recency"])
            years = [0] + ([*range(1, x), t_x] if x else [])
            for _ in range(int(pattern["weights"])):
                donor += 1
                lines += [f"D{donor:05d},{1995 + year}-06-15" for year in years]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_counted_gifts_fit_bgbb_by_year(clv, tmp_path):
    path = tmp_path / "gifts.csv"
    donations_log(path)
    args = ["--model", "bgbb", "--period", "year", "--customer-col", "donor"]
    fitted = clv("fit", path, *args, "--format", "json", "-q")
    assert fitted.exit_code == 0, fitted.stderr
    params = json.loads(fitted.stdout)["params"]
    published = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    assert params == pytest.approx(published, rel=2e-3)
    computed = clv("compute", path, *args)
    assert computed.exit_code == 0, computed.stderr
    table = rows(computed.stdout)
    assert len(table) == 11104
    assert {row["predicted_clv"] for row in table} == {""}
    assert all(row["p_alive"] for row in table)


@pytest.mark.parametrize("suffix", ["html", "xlsx"])
def test_html_and_excel_reports_without_money(clv, tmp_path, suffix):
    path = tmp_path / f"report.{suffix}"
    result = clv("report", GROCERY, "--period", "week", "--model", "pnbd", "-o", path, "-q")
    assert result.exit_code == 0, result.stderr
    if suffix == "html":
        text = path.read_text(encoding="utf-8")
        assert text.count("The log has no amount column") == 2  # headline, distribution
        assert "customers expected to buy the most" in text
    else:
        from openpyxl import load_workbook

        summary = load_workbook(path)["summary"]
        cells = [cell.value for row in summary.iter_rows() for cell in row]
        assert any(str(value).startswith("The log has no amount column") for value in cells)


@pytest.mark.parametrize("option", [("--top", "5"), ("--min-clv", "0")])
def test_segment_refuses_to_rank_by_clv_that_no_customer_has(clv, option):
    result = clv("segment", GROCERY, *option, "--period", "week", "--model", "pnbd", "-q")
    assert result.exit_code == 3
    assert result.stderr_lines[0] == (
        f"clv: error: {option[0]} ranks customers by total CLV, and no customer has one (the "
        "input has no amounts)"
    )
    ranked = clv(
        "segment", GROCERY, "--stage", "loyal", "--sort", "expected_purchases",
        "--period", "week", "--model", "pnbd", "-q",
    )  # fmt: skip
    assert rows(ranked.stdout)[0]["customer_id"] == "334"
