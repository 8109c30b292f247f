"""The Persian report reads as Persian: its digits, its charts' labels and legends.

Checked on the figures matplotlib laid out (the boxes it computed for every label,
legend and bar), and on the page and Markdown written from them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from clvcli.report.charts import RC, _matplotlib, _no_overlap, _tick_labels, figures, overlapping
from clvcli.report.labels import Labels

ASCII_DIGIT = re.compile(r"[0-9]")


@pytest.fixture(scope="module")
def laid_out(shop_en, shop_fa):
    """Every chart of both reports, laid out as the report lays them out."""
    mpl = _matplotlib()
    with mpl.rc_context(RC):
        made = {
            lang: figures(shop.data, Labels(lang))
            for lang, shop in (("en", shop_en), ("fa", shop_fa))
        }
        for charts in made.values():
            for _, _, _, fig in charts:
                fig.draw_without_rendering()
        yield made


def _text_cells(page: str) -> list[str]:
    """The text of every table cell, definition, heading and caption of the page."""
    body = page[page.index("<body>") : page.index('<section id="notes">')]
    body = re.sub(r"<svg.*?</svg>", "", body, flags=re.S)
    # Customer ids are data, kept as written (C0618 is what the shop's systems know).
    top = body[body.index('<table id="table-top') :]
    top = top[: top.index("</table>")]
    body = body.replace(top, re.sub(r"<td>C\d+</td>", "<td></td>", top))
    return [t for t in re.findall(r">([^<>]+)<", body) if t.strip()]


def test_no_ascii_digit_in_the_persian_page(shop_fa):
    page = shop_fa.html.read_text(encoding="utf-8")
    texts = _text_cells(page)
    assert len(texts) > 200
    with_digits = [t for t in texts if ASCII_DIGIT.search(t) and "sample_data" not in t]
    assert with_digits == []
    footer = re.search(r"<footer><p>([^<]*)</p>", page).group(1)
    assert not ASCII_DIGIT.search(footer)


def test_payback_months_are_in_persian_digits(shop_fa):
    page = shop_fa.html.read_text(encoding="utf-8")
    table = page[page.index('<table id="table-cac_channel"') :]
    table = table[: table.index("</table>")]
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", table)
    column = headers.index(Labels("fa").column("payback_months"))
    rows = re.findall(r"<tr>(<td.*?)</tr>", table)
    payback = [re.findall(r"<td[^>]*>([^<]*)</td>", row)[column] for row in rows]
    shown = [p for p in payback if p]
    assert shown and all(re.fullmatch(r"[۰-۹]+|[^0-9]+", p) for p in shown), payback
    assert Labels("fa").word("12") == "۱۲" and Labels("en").word("12") == "12"


def test_no_ascii_digit_in_the_persian_markdown_tables(shop_fa):
    lines = shop_fa.md.read_text(encoding="utf-8").splitlines()
    cells = [c.strip() for line in lines if line.startswith("|") for c in line.split("|")]
    cells = [c for c in cells if c and not re.fullmatch(r"C\d+|-+|:?-+:?", c)]
    assert cells and [c for c in cells if ASCII_DIGIT.search(c)] == []


def test_no_ascii_digit_in_the_persian_charts(laid_out):
    for key, _, _, fig in laid_out["fa"]:
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
        shown = [t for t in texts if t]
        assert shown, key
        assert [t for t in shown if ASCII_DIGIT.search(t)] == [], key


def test_no_tick_labels_overlap(laid_out):
    for lang, charts in laid_out.items():
        for key, _, _, fig in charts:
            for ax in fig.axes:
                for axis in (ax.xaxis, ax.yaxis):
                    boxes = [label.get_window_extent() for label in _tick_labels(axis)]
                    # Half an em apart: "۱ میلیارد ۲ میلیارد" 4 px apart reads as one
                    # run of words, and the browser's font is not quite matplotlib's.
                    assert not overlapping(boxes, pad=6.0), (lang, key, axis.axis_name)


def test_legends_cover_no_bar_and_no_label(laid_out):
    legends = 0
    for lang, charts in laid_out.items():
        for key, _, _, fig in charts:
            for ax in fig.axes:
                legend = ax.get_legend()
                if legend is None:
                    continue
                legends += 1
                box = legend.get_window_extent()
                bars = [p.get_window_extent() for p in ax.patches if p.get_width() != 0]
                notes = [t.get_window_extent() for t in ax.texts]
                for other in bars + notes:
                    assert not overlapping([box, other], pad=0.0), (lang, key)
                assert box.x0 >= ax.get_window_extent().x1, (lang, key)
    assert legends >= 8  # CAC by channel and cohort, by frequency, tracking: twice


def test_crowded_labels_are_thinned_until_none_overlaps():
    mpl = _matplotlib()
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    with mpl.rc_context(RC):
        fig = Figure(figsize=(3, 2), layout="constrained")
        ax = fig.subplots()
        ax.bar(np.arange(40), np.arange(40) * 1e9)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e9:.0f} میلیارد"))
        ax.set_xlim(0, 4e10)
        ax.set_xticks(np.arange(0, 4e10, 2e9))
        fig.draw_without_rendering()
        before = [t.get_window_extent() for t in _tick_labels(ax.xaxis)]
        assert overlapping(before, pad=0.0)
        _no_overlap(fig)
        fig.draw_without_rendering()
        after = [t.get_window_extent() for t in _tick_labels(ax.xaxis)]
        assert len(after) >= 2 and not overlapping(after, pad=0.0)


def test_the_heatmap_hatches_the_partial_month(laid_out, shop_fa):
    from matplotlib.patches import Rectangle

    from clvcli.core.cohorts import partial_cells

    cohorts = shop_fa.data.cohorts
    marks = partial_cells(cohorts)
    assert marks.sum() == len(cohorts)  # the sample's as-of date ends no month
    (retention,) = [fig for key, _, _, fig in laid_out["fa"] if key == "retention"]
    hatched = [p for p in retention.axes[0].patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert sorted((int(p.get_y()), int(p.get_x())) for p in hatched) == sorted(
        zip(*np.nonzero(marks), strict=True)
    )
    page = shop_fa.html.read_text(encoding="utf-8")
    assert Labels("fa")["cohorts_partial"] in page
