"""The sample shop's reports, built once for the whole session.

The English report is the shop's English export with its costs file; the Persian
one is the Persian export with the Persian costs file (Jalali months) and --lang fa.
Both fit BG/NBD in weeks and check it on a 26-week holdout, so every section and
chart is there: 7 charts in all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from clvcli.core.compute import ComputeSettings
from clvcli.core.validation import holdout_days
from clvcli.io.costs import read_costs
from clvcli.io.readers import ReadSettings, read_transactions
from clvcli.report.analysis import Costs, ReportData, ReportSettings, build_report
from clvcli.report.labels import Labels
from clvcli.report.render import render_report
from tests.conftest import SAMPLE

SHOPS = {
    "en": (SAMPLE / "shop.csv", SAMPLE / "shop_costs.csv"),
    "fa": (SAMPLE / "shop_fa.csv", SAMPLE / "shop_costs_fa.csv"),
}
# The CLI options that give the same report as build_shop(lang).
OPTIONS = ["--period", "week", "--holdout", "26w", "-q"]
CHARTS = 7


@dataclass
class Shop:
    """One language's report data and its three files."""

    lang: str
    data: ReportData
    html: Path
    xlsx: Path
    md: Path


def build_shop(lang: str) -> ReportData:
    log, costs = SHOPS[lang]
    spend, calendar = read_costs(str(costs))
    settings = ReportSettings(
        compute=ComputeSettings(period="week"),
        costs=Costs(spend, calendar),
        holdout_days=holdout_days("26w"),
        cohort_calendar="jalali" if lang == "fa" else "gregorian",
    )
    return build_report(read_transactions(str(log), ReadSettings()), settings)


def _shop(lang: str, folder: Path) -> Shop:
    data = build_shop(lang)
    paths = {}
    for fmt in ("html", "xlsx", "md"):
        path = folder / f"report_{lang}.{fmt}"
        path.write_bytes(render_report(data, Labels(lang), fmt))
        paths[fmt] = path
    return Shop(lang, data, **paths)


@pytest.fixture(scope="session")
def shop_en(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return _shop("en", tmp_path_factory.mktemp("report_en"))


@pytest.fixture(scope="session")
def shop_fa(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    return _shop("fa", tmp_path_factory.mktemp("report_fa"))


# Values a spreadsheet would run as formulas, or a page as markup, as customer ids
# and channel names; "a|b" would split a Markdown cell.
HOSTILE_LOG = """customer,date,amount,channel
<script>alert(1)</script>,2024-01-05,100,<b>web</b>
<script>alert(1)</script>,2024-03-05,150,<b>web</b>
=1+1,2024-01-10,200,"=HYPERLINK(""http://x"")"
=1+1,2024-02-10,50,"=HYPERLINK(""http://x"")"
@SUM(A1),2024-02-01,300,+ads
-2+3,2024-02-15,80,@mail
a|b,2024-03-01,120,-tv
$x$,2024-03-02,70,$\\bad{$
"""
HOSTILE_COSTS = """channel,period,spend
<b>web</b>,2024-01,100
"=HYPERLINK(""http://x"")",2024-01,50
+ads,2024-02,30
@mail,2024-02,20
-tv,2024-03,10
$\\bad{$,2024-03,5
"""
HOSTILE_IDS = ("<script>alert(1)</script>", "=1+1", "@SUM(A1)", "-2+3", "a|b", "$x$")
# "$\bad{$" would stop matplotlib, were it read as math text.
HOSTILE_CHANNELS = ("<b>web</b>", '=HYPERLINK("http://x")', "+ads", "@mail", "-tv", "$\\bad{$")


@pytest.fixture
def hostile(clv, write, tmp_path):
    """Run ``clv report`` on the hostile log into ``report.EXT``; returns its path."""
    log = write("hostile.csv", HOSTILE_LOG)
    costs = write("hostile_costs.csv", HOSTILE_COSTS)

    def run(ext: str, *extra: str) -> Path:
        out = tmp_path / f"report.{ext}"
        result = clv("report", log, "--costs", costs, "--model", "none", "-o", out, *extra)
        assert result.exit_code == 0, result.stderr
        return out

    return run
