"""`clv report` from the command line: formats, options, errors and atomic writes."""

from __future__ import annotations

import io
import math

import openpyxl
import pandas as pd
import pytest

from tests.conftest import SAMPLE
from tests.report.conftest import OPTIONS, SHOPS


def test_html_as_the_library_makes_it(clv, shop_en, tmp_path):
    log, costs = SHOPS["en"]
    out = tmp_path / "report.html"
    result = clv("report", log, "--costs", costs, *OPTIONS, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""
    # Another run, in another process's state: the same bytes.
    assert out.read_bytes() == shop_en.html.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_persian_markdown(clv, shop_fa, tmp_path):
    log, costs = SHOPS["fa"]
    out = tmp_path / "report.md"
    result = clv("report", log, "--costs", costs, "--lang", "fa", *OPTIONS, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == shop_fa.md.read_bytes()


def test_headline_matches_clv_compute(clv, shop_en):
    result = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q")
    assert result.exit_code == 0, result.stderr
    customers = pd.read_csv(io.StringIO(result.stdout))
    total = customers["total_clv"].sort_values(ascending=False)
    top = total.head(math.ceil(len(total) / 10)).sum() / total.sum()
    summary = openpyxl.load_workbook(shop_en.xlsx)["summary"]
    values = {row[0].value: row[1].value for row in summary.iter_rows(min_row=2)}
    assert values["Customers"] == len(customers)
    assert values["Revenue"] == pytest.approx(customers["total_spend"].sum())
    assert values["Mean CLV"] == pytest.approx(customers["total_clv"].mean())
    assert values["Total CLV"] == pytest.approx(customers["total_clv"].sum())
    assert values["Share of CLV in the top 10% of customers"] == pytest.approx(top)
    page = shop_en.html.read_text(encoding="utf-8")
    assert f"<dd>{customers['total_clv'].sum():,.0f}</dd>" in page


def test_top_and_markdown_without_costs(clv, tmp_path):
    out = tmp_path / "report.md"
    result = clv("report", SAMPLE / "shop.csv", "--period", "week", "--top", "3", "-q", "-o", out)
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "The 3 customers of highest total CLV." in text
    assert "Run with --costs FILE to compare CLV with acquisition cost." in text
    assert "## Holdout validation" not in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "report.pdf"], "cannot tell the report format of 'report.pdf' from its extension"),
        ([], "clv report writes a file: give -o FILE"),
        (["-o", "r.html", "--format", "csv"], "clv report takes its format from -o's extension"),
        (["-o", "r.html", "--lang", "de"], "--lang de is not one of: en, fa"),
        (["-o", "r.html", "--model", "none", "--holdout", "26w"], "--holdout checks a model"),
        (["-o", "r.html", "--holdout", "soon"], "--holdout 'soon' is not a length"),
    ],
)
def test_usage_errors(clv, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = clv("report", SAMPLE / "shop.csv", *args)
    assert result.exit_code == 2, result.stderr
    assert result.stderr_lines[0].startswith(f"clv: error: {message}")
    assert list(tmp_path.iterdir()) == []


def test_bad_extension_hint(clv, tmp_path):
    result = clv("report", SAMPLE / "shop.csv", "-o", tmp_path / "report.csv")
    assert result.exit_code == 2
    assert result.stderr_lines[-1] == "hint: name the file .html, .xlsx or .md"


@pytest.mark.parametrize("where", ["missing/report.html", "folder.html"])
def test_unwritable_output(clv, tmp_path, where):
    (tmp_path / "folder.html").mkdir()
    result = clv("report", SAMPLE / "shop.csv", "-o", tmp_path / where)
    assert result.exit_code == 5, result.stderr
    assert result.stderr_lines[0].startswith("clv: error: cannot write ")


def test_a_failed_run_leaves_the_old_report(clv, write, tmp_path, monkeypatch):
    import clvcli.report.render

    out = write("report.html", "the old report")

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(clvcli.report.render, "render_report", broken)
    log = write("tx.csv", "customer,date,amount\nA,2024-01-01,10\nA,2024-02-01,20\n")
    result = clv("report", log, "--model", "none", "-o", out)
    assert result.exit_code == 130
    assert out.read_text() == "the old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "tx.csv"]


def test_sidecar_records_the_run(clv, write, tmp_path):
    import json

    log = write("tx.csv", "customer,date,amount\nA,2024-01-01,10\nA,2024-02-01,20\n")
    out = tmp_path / "report.md"
    result = clv("report", log, "--model", "none", "--sidecar", "-o", out)
    assert result.exit_code == 0, result.stderr
    meta = json.loads((tmp_path / "report.md.meta.json").read_text(encoding="utf-8"))
    assert meta["command"] == "report" and meta["as_of"] == "2024-02-01"
    assert meta["inputs"][0]["path"] == str(log)
