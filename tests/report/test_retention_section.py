"""The report's retention section (`clv report --subscriptions FILE`): the survival
curve, actual against projected, its table and the value of the subscriber base, in
HTML, Excel and Markdown, English and Persian."""

from __future__ import annotations

import re

import openpyxl
import pytest

from tests.conftest import SAMPLE

# A small shop log, so that the report itself is quick (no purchase model).
LOG = "customer_id,date,amount\n" + "".join(
    f"C{i},2024-0{1 + i % 6}-1{i % 9},{10 + i}\nC{i},2024-0{2 + i % 6}-0{1 + i % 9},{5 + i}\n"
    for i in range(20)
)
FAST = ["--model", "none", "-q"]


@pytest.fixture
def log(write):
    return write("shop.csv", LOG)


def report(clv, log, tmp_path, name: str, *options: str):
    out = tmp_path / name
    result = clv("report", log, *FAST, "-o", out, *options)
    assert result.exit_code == 0, result.stderr
    return out


def test_html_has_the_curve_table_and_base_value(clv, log, tmp_path):
    plain = report(clv, log, tmp_path, "plain.html").read_text(encoding="utf-8")
    assert '<section id="retention"' not in plain and 'href="#retention"' not in plain
    subscriptions = SAMPLE / "subscriptions.csv"
    page = report(clv, log, tmp_path, "r.html", "--subscriptions", subscriptions)
    page = page.read_text(encoding="utf-8")
    assert '<section id="retention"' in page and 'href="#retention"' in page
    assert len(re.findall(r"<svg ", page)) == len(re.findall(r"<svg ", plain)) + 1
    assert 'id="chart-survival"' in page
    assert "Subscribers still subscribed, actual and projected" in page
    assert 'id="table-retention"' in page and 'id="table-retention_parameters"' in page
    assert "sbg fitted on 600 subscribers (monthly renewals)" in page
    assert re.search(r"228 active subscribers worth [\d,]+ in all", page)


def test_persian_report_with_the_persian_log(clv, log, tmp_path):
    subscriptions = SAMPLE / "subscriptions_fa.csv"
    page = report(clv, log, tmp_path, "r.html", "--subscriptions", subscriptions, "--lang", "fa")
    page = page.read_text(encoding="utf-8")
    assert "ماندگاری مشترکان" in page and "۲۲۸ مشترک فعال" in page


def test_xlsx_has_retention_and_subscriber_sheets(clv, log, tmp_path):
    out = report(clv, log, tmp_path, "r.xlsx", "--subscriptions", SAMPLE / "subscriptions.csv")
    book = openpyxl.load_workbook(out)
    assert {"retention", "subscribers"} <= set(book.sheetnames)
    sheet = book["retention"]
    assert [c.value for c in sheet[1]][:4] == ["cohort", "period", "active", "survival"]
    assert sheet.cell(2, 4).value == 1 and sheet.cell(2, 4).number_format.endswith("%")
    assert book["subscribers"].max_row == 229


def test_markdown_with_a_cohort_table(clv, log, tmp_path):
    out = report(clv, log, tmp_path, "r.md", "--subscriptions", SAMPLE / "subscription_cohorts.csv")
    text = out.read_text(encoding="utf-8")
    assert "## Subscription retention" in text
    assert "sbg fitted on 1,000 subscribers (yearly renewals)" in text
    assert "| 8 |  |  | 22.0% |" in text  # year 8, projected as the paper does


def test_a_retention_fit_that_fails_leaves_a_warning(clv, log, tmp_path, write):
    nobody_left = write("s.csv", "customer_id,start,end\nA,2024-01-01,\nB,2024-02-01,\n")
    out = tmp_path / "r.html"
    result = clv("report", log, "--model", "none", "-o", out, "--subscriptions", nobody_left)
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert '<section id="retention"' not in page
    assert "the report has no retention section" in page


def test_bad_subscriptions_file_is_exit_3(clv, log, tmp_path, write):
    bad = write("s.csv", "customer_id,start,end\nA,2024-03-01,2024-01-01\n")
    result = clv("report", log, "-o", tmp_path / "r.html", "--subscriptions", bad)
    assert result.exit_code == 3
    assert "before it starts" in result.stderr
    assert not (tmp_path / "r.html").exists()
