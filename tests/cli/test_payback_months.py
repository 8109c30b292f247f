"""`clv cac`: a payback still to come is counted from the months already gone.

Two customers acquired in January 2024 bring 15 of margin on average; by the as-of date
(15 December) twelve calendar months have gone without payback, so the estimate in
brackets cannot be a month before the thirteenth (it said month 3: the last month
with a purchase, plus what the predicted margin still needs).
"""

from __future__ import annotations

import csv
import io
import re

from tests.conftest import SAMPLE

LOG = "customer,date,amount\nA,2024-01-10,10\nB,2024-01-12,10\nB,2024-02-12,10\n"


def test_not_yet_counts_from_the_as_of_month(clv, write, tmp_path):
    params = tmp_path / "params.json"
    fitted = clv("fit", SAMPLE / "shop.csv", "--period", "month", "-q", "-o", params)
    assert fitted.exit_code == 0, fitted.stderr
    log = write("log.csv", LOG)
    costs = write("costs.csv", "period,spend\n2024-01,1000\n")
    result = clv(
        "cac", log, "--costs", costs, "--params", params, "--as-of", "2024-12-15",
        "--by", "cohort", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["cohort"] for r in rows] == ["2024-01", "total"]
    for row in rows:
        found = re.fullmatch(r"not yet \(~(\d+)\)", row["payback_months"])
        assert found, row["payback_months"]
        assert int(found.group(1)) >= 13
