"""The Markdown report: headline figures and tables a wiki or chat renders."""

from __future__ import annotations

import re

from clvcli.report.labels import Labels
from clvcli.report.markdown import escape_cell, render_markdown


def tables(text: str) -> list[list[str]]:
    """The Markdown tables of ``text``, each as its lines."""
    found, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            found.append(current)
            current = []
    return found


def cells(line: str) -> list[str]:
    return [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]


def test_headline_and_tables(shop_en):
    text = shop_en.md.read_text(encoding="utf-8")
    figures = shop_en.data.headline
    assert text.startswith("# Customer lifetime value report\n")
    assert f"- **Customers**: {figures.customers:,}\n" in text
    assert f"- **Total CLV**: {figures.total_clv:,.0f}\n" in text
    assert f"- **Share of CLV in the top 10% of customers**: {figures.top_share:.1%}\n" in text
    found = tables(text)
    headers = [cells(t[0]) for t in found]
    assert ["Stage", "Customers", "Share", "Revenue", "Mean CLV", "Total CLV"] in headers
    assert [
        "Channel",
        "Customers",
        "Spend",
        "CAC",
        "Mean total CLV",
        "CLV:CAC",
        "Payback (months)",
        "Verdict",
    ] in headers
    assert [
        "Model",
        "Parameter",
        "Estimate",
        "Std. error",
        "95% CI lower",
        "95% CI upper",
    ] in headers
    top = next(t for t in found if cells(t[0])[0] == "Customer")
    assert len(top) == 2 + 20
    for table in found:
        assert re.fullmatch(r"\|(---:?\|)+", table[1])
        assert {len(cells(line)) for line in table} == {len(cells(table[0]))}
    stages = next(t for t in found if cells(t[0])[0] == "Stage")
    assert [cells(line)[0] for line in stages[2:]] == [
        "new",
        "repeat",
        "loyal",
        "at\\_risk",
        "churned",
    ]


def test_persian(shop_fa):
    text = shop_fa.md.read_text(encoding="utf-8")
    assert text.startswith("# گزارش ارزش طول عمر مشتری\n")
    assert "**تاریخ مبنا**: ۱۴۰۳/۱۰/۱۱" in text
    assert "| وفادار |" in text


def test_same_data_same_bytes(shop_en):
    assert render_markdown(shop_en.data, Labels("en")) == shop_en.md.read_bytes()


def test_pipes_and_markup_are_escaped(hostile):
    text = hostile("md").read_text(encoding="utf-8")
    assert "| a\\|b |" in text
    assert "\\<script\\>alert(1)\\</script\\>" in text
    assert "<script>" not in text
    for table in tables(text):
        assert {len(cells(line)) for line in table} == {len(cells(table[0]))}


def test_escape_cell():
    assert escape_cell("a|b") == "a\\|b"
    assert escape_cell("two\nlines") == "two lines"
