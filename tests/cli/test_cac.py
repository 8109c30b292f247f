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
