"""`clv cac` on a hand-worked log and costs file, and bad costs files.

Margin 0.5, history only. A (ads) buys 100 in January, February and March 2024;
B (ads) 50 in January; C (seo) 200 in February. Costs: ads 150 in January, seo 40 in
February and 10 in March (a month in which seo acquired nobody).

ads/2024-01: 2 customers, CAC 150 / 2 = 75; margin to date (150 + 25) / 2 = 87.5;
ratio 87.5 / 75 = 1.17, thin; cumulative margin per customer 37.5, 62.5, 87.5 by
months 1, 2, 3, so payback in month 3.
seo/2024-02: 1 customer, CAC 40, margin 100, ratio 2.5, thin, payback in month 1.
seo/2024-03: spend 10, no customers.
Total: 3 customers, spend 200, blended CAC 66.67, mean margin 91.67, ratio 1.375;
per customer by month since acquisition 58.33, 75, 91.67: payback in month 2.
"""

from __future__ import annotations

import csv
import io

import pytest

LOG = """customer,date,amount,channel
A,2024-01-10,100,ads
B,2024-01-20,50,ads
C,2024-02-05,200,seo
A,2024-02-10,100,ads
A,2024-03-10,100,ads
"""
COSTS = "channel,period,spend\nads,2024-01,150\nseo,2024-02-14,40\nseo,2024-03,10\n"


def rows(result) -> dict[tuple[str, str], dict[str, str]]:
    assert result.exit_code == 0, result.stderr
    return {(r["channel"], r["cohort"]): r for r in csv.DictReader(io.StringIO(result.stdout))}


@pytest.fixture
def files(write):
    return write("tx.csv", LOG), write("costs.csv", COSTS)


def run(clv, log, costs, *options: str):
    return clv("cac", log, "--costs", costs, "--model", "none", "--margin", "0.5", "-q", *options)


def test_by_channel_and_cohort(clv, files):
    table = rows(run(clv, *files))
    ads = table[("ads", "2024-01")]
    assert (ads["customers"], ads["spend"], ads["cac"]) == ("2", "150.00", "75.00")
    assert (ads["mean_historical_clv"], ads["mean_total_clv"]) == ("87.50", "87.50")
    assert float(ads["clv_cac_ratio"]) == pytest.approx(87.5 / 75)
    assert (ads["payback_months"], ads["verdict"]) == ("3", "thin")
    seo = table[("seo", "2024-02")]
    assert (seo["cac"], seo["payback_months"], seo["verdict"]) == ("40.00", "1", "thin")
    empty = table[("seo", "2024-03")]
    assert (empty["customers"], empty["spend"], empty["cac"]) == ("0", "10.00", "")
    assert empty["verdict"] == "no customers"
    total = table[("total", "total")]
    assert (total["customers"], total["spend"], total["cac"]) == ("3", "200.00", "66.67")
    assert float(total["clv_cac_ratio"]) == pytest.approx(91.6666667 / 66.6666667)
    assert total["payback_months"] == "2"
    assert list(table)[-1] == ("total", "total")


def test_by_channel(clv, files):
    table = rows(run(clv, *files, "--by", "channel"))
    assert table[("seo", "all")]["cac"] == "50.00"
    assert float(table[("seo", "all")]["clv_cac_ratio"]) == 2.0
    assert table[("ads", "all")]["payback_months"] == "3"


def test_losing_and_not_yet_and_no_spend(clv, files, write):
    log, _ = files
    costs = write("dear.csv", "channel,period,spend\nads,2024-01,500\n")
    table = rows(run(clv, log, costs))
    ads = table[("ads", "2024-01")]
    assert (ads["verdict"], ads["payback_months"]) == ("losing", "not yet")
    assert table[("seo", "2024-02")]["verdict"] == "no spend"


def test_persian_costs_with_jalali_months(clv, files, write):
    log, _ = files
    costs = write("fa.csv", "کانال,ماه,هزینه (تومان)\nads,۱۴۰۲-۱۰,۱۵۰\nseo,۱۴۰۲/۱۱,۴۰\n".encode())
    table = rows(run(clv, log, costs))
    assert table[("ads", "1402-10")]["cac"] == "75.00"
    assert table[("ads", "1402-10")]["payback_months"] == "3"
    assert table[("seo", "1402-11")]["cac"] == "40.00"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("channel,period\nads,2024-01\n", "no spend column found; columns are: channel, period"),
        ("channel,period,spend\nads,2024-13,5\n", "row 1 (line 2), column 'period'"),
        ("channel,period,spend\nads,2024-01,-5\n", "spend '-5' is negative"),
        ("channel,period,spend\nads,someday,5\n", "cannot read 'someday' as a month"),
    ],
)
def test_bad_costs_files(clv, files, write, content, message):
    log, _ = files
    costs = write("bad.csv", content)
    result = run(clv, log, costs)
    assert result.exit_code == 3
    assert message in result.stderr.splitlines()[0]


# ------------------------------------------------ channels missing or not matching

MARGIN_NOTE = (
    "clv: note: CLV and payback treat revenue as margin (margin 1); give the gross margin "
    "with --margin 0.3, or margin = 0.3 in clv.toml"
)


def test_costs_without_channels_fall_back_to_cohorts(clv, files, write):
    log, _ = files
    costs = write("months.csv", "period,spend\n2024-01,150\n2024-02,50\n")
    result = run(clv, log, costs)
    table = rows(result)
    assert list(table) == [("all", "2024-01"), ("all", "2024-02"), ("total", "total")]
    assert table[("all", "2024-01")]["cac"] == "75.00"  # 150 over A and B
    assert table[("total", "total")]["spend"] == "200.00"


def test_a_log_without_channels_falls_back_to_cohorts_with_a_note(clv, files, write):
    _, costs = files
    log = write("plain.csv", "".join(line.rsplit(",", 1)[0] + "\n" for line in LOG.splitlines()))
    result = clv("cac", log, "--costs", costs, "--model", "none", "--margin", "0.5")
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [
        "clv: note: the log names no channels (name its column with --channel-col): CAC by "
        "acquisition cohort, all customers in one channel (--by cohort)"
    ]
    table = rows(result)
    assert table[("all", "2024-01")]["cac"] == "75.00"
    assert table[("all", "2024-03")]["verdict"] == "no customers"


def test_channels_that_do_not_match_are_named(clv, files, write):
    log, _ = files
    costs = write("other.csv", "channel,period,spend\nads,2024-01,150\ntiktok,2024-01,90\n")
    result = clv("cac", log, "--costs", costs, "--model", "none", "--margin", "0.5")
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines == [
        "clv: warning: the costs have spend on channel 'tiktok' (90.00) that acquired no "
        "customer in the log; the total row counts that spend",
        "clv: warning: channel 'seo' (1 customer) of the log has no costs; the total row "
        "counts it as acquired for nothing",
    ]
    assert rows(result)[("total", "total")]["spend"] == "240.00"


def test_margin_one_is_said_once(clv, files):
    log, costs = files
    result = clv("cac", log, "--costs", costs, "--model", "none")
    assert result.exit_code == 0, result.stderr
    assert result.stderr_lines.count(MARGIN_NOTE) == 1
    with_margin = clv("cac", log, "--costs", costs, "--model", "none", "--margin", "0.3")
    assert MARGIN_NOTE not in with_margin.stderr_lines


def test_report_with_costs_says_margin_one_and_names_mismatches(clv, files, write, tmp_path):
    log, _ = files
    costs = write("other.csv", "channel,period,spend\nads,2024-01,150\n")
    out = tmp_path / "report.md"
    result = clv("report", log, "--costs", costs, "--model", "none", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert MARGIN_NOTE in result.stderr_lines
    assert any("channel 'seo' (1 customer)" in line for line in result.stderr_lines)
