"""--customers FILE: prospects (stage potential), listed channels, and per-customer CAC.

The log is the hand-worked one of test_cac.py: margin 0.5, history only. A (ads) buys
100 in January, February and March 2024; B (ads) 50 in January; C (seo) 200 in
February. The list: A 60 and B 90 (ads), C 40 (seo), D 30 (seo, never bought), E
(no channel, no cost, never bought).

Per customer, by channel and cohort:
ads/2024-01: A and B, spend 60 + 90 = 150, CAC 75, margin per customer 87.5, ratio 1.17,
thin; cumulative margin per customer 37.5, 62.5, 87.5: payback in month 3.
seo/2024-02: C, spend 40, CAC 40, margin 100, ratio 2.5, thin, payback in month 1.
seo/none: D's 30 bought nobody: no customers.
Total: 3 customers, spend 220, CAC 73.33, margin 91.67, ratio 1.25; per customer by
month since acquisition 58.33, 75, 91.67: payback in month 2.
By channel, seo: spend 70, CAC 70, ratio 100 / 70, payback in month 1.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.cli.test_cac import LOG

LIST = "customer_id,channel,acquisition_cost\nA,ads,60\nB,ads,90\nC,seo,40\nD,seo,30\nE,,\n"


def table(result) -> list[dict[str, str]]:
    assert result.exit_code == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


@pytest.fixture
def files(write):
    return write("tx.csv", LOG), write("list.csv", LIST)


def run(clv, command, log, listed, *options: str):
    return clv(command, log, "--customers", listed, "--model", "none", "--margin", "0.5", *options)


def test_compute_adds_prospects_as_potential(clv, files):
    result = table(run(clv, "compute", *files))
    assert [r["customer_id"] for r in result] == ["A", "B", "C", "D", "E"]
    d = result[3]
    assert (d["stage"], d["orders"], d["total_spend"], d["total_clv"]) == (
        "potential",
        "0",
        "0.00",
        "0.00",
    )
    assert (d["first_purchase"], d["frequency"], d["days_since_last"], d["T"]) == ("", "", "", "")
    assert (d["channel"], d["acquisition_cost"]) == ("seo", "30.00")
    assert (result[4]["channel"], result[4]["acquisition_cost"]) == ("unknown", "")
    assert result[0]["orders"] == "3" and result[0]["acquisition_cost"] == "60.00"
    assert list(result[0])[:17][-1] == "stage"


def test_listed_channel_wins_and_empty_one_leaves_the_log_channel(clv, write):
    log = write("tx.csv", LOG)
    listed = write("list.csv", "customer,channel\nA,tv\nB,\n")
    result = {r["customer_id"]: r for r in table(run(clv, "compute", log, listed))}
    assert (result["A"]["channel"], result["B"]["channel"], result["C"]["channel"]) == (
        "tv",
        "ads",
        "seo",
    )
    assert "acquisition_cost" not in result["A"]


def test_no_prospects_keeps_integer_columns(clv, write):
    log = write("tx.csv", LOG)
    result = table(run(clv, "compute", log, write("list.csv", "customer\nA\n")))
    assert [r["frequency"] for r in result] == ["2", "0", "0"]


def test_segment_potential(clv, files, tmp_path):
    result = table(run(clv, "segment", *files, "--stage", "potential"))
    assert [r["customer_id"] for r in result] == ["D", "E"]
    computed = tmp_path / "values.csv"
    assert clv("compute", files[0], "--model", "none", "-o", computed).exit_code == 0
    again = table(clv("segment", computed, "--customers", files[1], "--stage", "potential"))
    assert [r["customer_id"] for r in again] == ["D", "E"]
    summary = table(run(clv, "segment", *files, "--summary"))
    assert summary[0]["stage"] == "potential" and summary[0]["customers"] == "2"


def test_stages_funnel_and_movements(clv, files):
    funnel = table(run(clv, "stages", *files))
    assert (funnel[0]["stage"], funnel[0]["customers"], funnel[0]["revenue"]) == (
        "potential",
        "2",
        "0.00",
    )
    assert sum(float(r["share"]) for r in funnel) == pytest.approx(1.0)
    moves = {
        r["from_stage"]: r for r in table(run(clv, "stages", *files, "--compare-to", "2024-01-31"))
    }
    # C was listed but had not bought by January's end: a prospect then, new now.
    assert moves["potential"]["potential"] == "2" and moves["potential"]["new"] == "1"
    assert moves["potential"]["total"] == "3"
    assert moves["not_yet_customer"]["total"] == "0"
    assert moves["new"]["total"] == "2"


def rows_by_group(result) -> dict[tuple[str, str], dict[str, str]]:
    return {(r["channel"], r["cohort"]): r for r in table(result)}


def test_cac_per_customer_costs(clv, files):
    groups = rows_by_group(run(clv, "cac", *files))
    ads = groups[("ads", "2024-01")]
    assert (ads["customers"], ads["spend"], ads["cac"]) == ("2", "150.00", "75.00")
    assert float(ads["clv_cac_ratio"]) == pytest.approx(87.5 / 75)
    assert (ads["payback_months"], ads["verdict"]) == ("3", "thin")
    seo = groups[("seo", "2024-02")]
    assert (seo["cac"], seo["payback_months"], seo["verdict"]) == ("40.00", "1", "thin")
    prospects = groups[("seo", "none")]
    assert (prospects["customers"], prospects["spend"], prospects["verdict"]) == (
        "0",
        "30.00",
        "no customers",
    )
    total = groups[("total", "total")]
    assert (total["customers"], total["spend"], total["cac"]) == ("3", "220.00", "73.33")
    assert float(total["clv_cac_ratio"]) == pytest.approx(91.6666667 / 73.3333333)
    assert total["payback_months"] == "2"
    assert list(groups)[-1] == ("total", "total")


def test_cac_per_customer_by_channel(clv, files):
    groups = rows_by_group(run(clv, "cac", *files, "--by", "channel"))
    seo = groups[("seo", "all")]
    assert (seo["customers"], seo["spend"], seo["cac"]) == ("1", "70.00", "70.00")
    assert float(seo["clv_cac_ratio"]) == pytest.approx(100 / 70)
    assert seo["payback_months"] == "1"


def test_cac_from_a_summary_matches_but_has_no_payback(clv, files, tmp_path):
    log, listed = files
    summary = tmp_path / "summary.csv"
    assert clv("summary", log, "-o", summary).exit_code == 0
    from_log = rows_by_group(run(clv, "cac", log, listed))
    result = clv(
        "cac", "--summary", summary, "--customers", listed, "--model", "none", "--margin", "0.5"
    )
    from_summary = rows_by_group(result)
    assert "payback months need the transaction log" in result.stderr
    assert list(from_summary) == list(from_log)
    for key, row in from_log.items():
        for column in ("customers", "spend", "cac", "mean_total_clv", "clv_cac_ratio", "verdict"):
            assert from_summary[key][column] == row[column], (key, column)
        assert from_summary[key]["payback_months"] == ""


def test_cac_costs_file_with_summary(clv, files, tmp_path, write):
    log, _ = files
    summary = tmp_path / "summary.csv"
    assert clv("summary", log, "-o", summary).exit_code == 0
    costs = write("costs.csv", "channel,period,spend\nads,2024-01,150\n")
    result = clv("cac", "--summary", summary, "--costs", costs, "--by", "cohort", "--model", "none")
    groups = rows_by_group(result)
    assert groups[("all", "2024-01")]["cac"] == "75.00"


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ((), "clv cac needs what acquiring customers cost"),
        (("--costs", "COSTS"), "both --costs and the acquisition_cost column"),
    ],
)
def test_cac_spend_from_exactly_one_source(clv, files, write, extra, expected):
    log, listed = files
    costs = write("costs.csv", "period,spend\n2024-01,10\n")
    args = [str(costs) if a == "COSTS" else a for a in extra]
    if not extra:
        listed = write("ids.csv", "customer\nA\n")
    result = clv("cac", log, "--customers", listed, *args)
    assert result.exit_code == 2
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_cac_input_and_summary_not_both(clv, files):
    log, listed = files
    result = clv("cac", log, "--summary", log, "--customers", listed)
    assert result.exit_code == 2


@pytest.mark.parametrize("command", ["compute", "segment", "stages", "cac"])
def test_bad_list_is_an_input_error(clv, files, write, command):
    log, _ = files
    bad = write("bad.csv", "customer_id,acquisition_cost\nA,lots\n")
    extra = ["--stage", "new"] if command == "segment" else []
    result = clv(command, log, "--customers", bad, *extra)
    assert result.exit_code == 3
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("clv: error: ") and "bad.csv: row 1 (line 2)" in lines[0]
    assert "'acquisition_cost'" in lines[0]
    missing = clv(command, log, "--customers", "nowhere.csv", *extra)
    assert missing.exit_code == 3 and "nowhere.csv" in missing.stderr
