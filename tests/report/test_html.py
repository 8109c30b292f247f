"""The HTML report: self-contained, escaped, Persian right to left, deterministic."""

from __future__ import annotations

import re

from clvcli.report.html import render_html
from clvcli.report.labels import Labels
from tests.report.conftest import CHARTS, HOSTILE_CHANNELS, HOSTILE_IDS


def test_one_self_contained_file(shop_en):
    page = shop_en.html.read_text(encoding="utf-8")
    assert page.startswith('<!DOCTYPE html>\n<html lang="en" dir="ltr">')
    # Nothing to fetch: every src and href is a fragment or inline data, and the
    # policy forbids scripts and requests anyway.
    links = re.findall(r'\b(?:src|href)="([^"]*)"', page)
    assert links and all(link.startswith(("#", "data:")) for link in links)
    assert "default-src 'none'" in page
    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert len(page.encode("utf-8")) < 1_000_000


def test_sections_and_charts(shop_en):
    page = shop_en.html.read_text(encoding="utf-8")
    for section in ("headline", "distribution", "stages", "cac", "cohorts", "model"):
        assert f'<section id="{section}"' in page
    for section in ("validation", "top", "settings"):
        assert f'<section id="{section}"' in page
    charts = re.findall(r"<svg [^>]*>", page)
    assert len(charts) == CHARTS
    for head in charts:
        assert 'class="chart"' in head and 'role="img"' in head and 'aria-label="' in head
    assert len(re.findall(r"<svg [^>]*>\n <title id=", page)) == CHARTS
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "element ids repeat across charts"


def test_headline_and_settings(shop_en):
    page = shop_en.html.read_text(encoding="utf-8")
    figures = shop_en.data.headline
    assert f"<dd>{figures.customers:,}</dd>" in page
    assert f"<dd>{figures.total_clv:,.0f}</dd>" in page
    assert f"<dd>{figures.top_share:.1%}</dd>" in page
    for setting in (
        "<dd>2024-12-31</dd>",
        f"<dd>{shop_en.data.values.choice.model}</dd>",  # the model auto chose
        "<dd>12 months</dd>",
        "<dd>10.0%</dd>",
    ):
        assert setting in page


def test_persian_report(shop_fa):
    page = shop_fa.html.read_text(encoding="utf-8")
    assert '<html lang="fa" dir="rtl">' in page
    assert "گزارش ارزش طول عمر مشتری" in page
    # Jalali as-of date and Persian digits: 2024-12-31 is 1403/10/11.
    assert "<dd>۱۴۰۳/۱۰/۱۱</dd>" in page
    assert (
        f"<dd>{shop_fa.data.headline.customers:,}</dd>".translate(
            str.maketrans("0123456789,", "۰۱۲۳۴۵۶۷۸۹٬")
        )
        in page
    )
    # Charts stay left to right inside the right-to-left page.
    assert page.count('<figure class="chart"') == CHARTS
    assert page.count('dir="ltr">\n<svg') == CHARTS
    cells = re.findall(r'<td class="num">([^<]*)</td>', page)
    assert cells and not any(re.search(r"[0-9]", cell) for cell in cells)
    assert "وفادار" in page and "سالم" in page


def test_same_data_same_bytes(shop_en):
    assert render_html(shop_en.data, Labels("en")) == shop_en.html.read_bytes()


def test_every_data_value_is_escaped(hostile):
    page = hostile("html").read_text(encoding="utf-8")
    assert "<script" not in page and "<b>web</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;web&lt;/b&gt;" in page
    for value in HOSTILE_IDS + HOSTILE_CHANNELS:
        assert (
            value.replace("&", "&amp;")
            .replace("<", "&lt;")
            .replace(">", "&gt;")
            .replace('"', "&quot;")
            in page
        )
