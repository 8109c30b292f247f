"""The report as one self-contained HTML file.

Nothing is fetched when it opens: styles are inline, charts are inline SVG, and a
Content-Security-Policy forbids scripts and every network request, so the file
works offline and a hostile value in the data cannot run. Every value from the
data is HTML-escaped. A Persian report is right to left (``<html dir="rtl"
lang="fa">``) with its charts kept left to right, as their axes read.
"""

from __future__ import annotations

from html import escape

from clvcli.core.cohorts import partial_cells
from clvcli.report.analysis import ReportData
from clvcli.report.charts import Chart, charts
from clvcli.report.labels import Labels
from clvcli.report.layout import (
    TextTable,
    headline_items,
    model_note,
    retention_note,
    settings_items,
    tables,
    validation_note,
)

POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
:root { color-scheme: light; --ink: #1d2733; --muted: #5b6877; --line: #d8dee6;
  --panel: #f5f7fa; --accent: #0072b2; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff; line-height: 1.5;
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Tahoma,
  "DejaVu Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.25rem; margin: 40px 0 12px; padding-bottom: 6px;
  border-bottom: 2px solid var(--line); }
.subtitle, .note, footer { color: var(--muted); }
nav ol { display: flex; flex-wrap: wrap; gap: 4px 18px; padding: 0; margin: 14px 0 0;
  list-style: none; font-size: 0.92rem; }
nav a, a { color: var(--accent); }
.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr));
  gap: 12px; margin: 0; }
.kpis div { background: var(--panel); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; }
.kpis dt { font-size: 0.85rem; color: var(--muted); }
.kpis dd { margin: 4px 0 0; font-size: 1.3rem; font-weight: 650;
  font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
figure { margin: 16px 0; }
figure.chart svg { display: block; width: 100%; max-width: 860px; height: auto; }
.table-wrap { overflow-x: auto; margin: 12px 0 20px; }
table { border-collapse: collapse; font-size: 0.88rem; min-width: 50%; }
caption { text-align: start; font-weight: 600; padding: 4px 0 8px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: start;
  white-space: nowrap; }
thead th { background: var(--panel); border-bottom: 2px solid var(--line); }
td.num, th.num { text-align: end; font-variant-numeric: tabular-nums; }
tbody tr:last-child td { border-bottom: 0; }
dl.settings { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; }
dl.settings dt { color: var(--muted); }
dl.settings dd { margin: 0; }
@media print { nav { display: none; } h2 { break-after: avoid; } figure, table {
  break-inside: avoid; } }
"""
SECTIONS = (
    "headline",
    "distribution",
    "stages",
    "cac",
    "cohorts",
    "retention",
    "model",
    "validation",
    "top",
    "settings",
)


def render_html(data: ReportData, labels: Labels) -> bytes:
    """The report page, UTF-8."""
    drawn = charts(data, labels)
    found = tables(data, labels)
    lang = labels.lang
    direction = "rtl" if labels.rtl else "ltr"
    title = labels["title"]
    subtitle = escape(labels["subtitle"]).format(
        source=f"<bdi>{escape(data.source)}</bdi>", as_of=escape(labels.date(data.as_of))
    )
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{lang}" dir="{direction}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="clv {escape(data.version)}">',
        f"<title>{escape(title)}: {escape(data.source)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<main>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="subtitle">{subtitle}</p>',
        _nav(data, labels),
        "</header>",
    ]
    body = {
        "headline": _definitions(headline_items(data, labels), "kpis"),
        "distribution": _distribution_note(data, labels),
        "stages": "",
        "cac": "" if data.cac_by_cohort is not None else _note(labels["cac_missing"]),
        "cohorts": _note(_cohorts_note(data, labels)),
        "retention": _note(retention_note(data, labels)),
        "model": _note(model_note(data, labels)),
        "validation": _note(validation_note(data, labels) or labels["validation_missing"]),
        "top": "",
        "settings": _definitions(settings_items(data, labels), "settings"),
    }
    for key in _sections(data):
        parts.append(f'<section id="{key}" aria-labelledby="{key}-title">')
        parts.append(f'<h2 id="{key}-title">{escape(labels[key])}</h2>')
        parts.append(body[key])
        parts.extend(_figure(chart) for chart in drawn if chart.section == key)
        parts.extend(_table(table) for table in found.get(key, []))
        parts.append("</section>")
    if data.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in data.warnings)
        parts.append(
            f'<section id="notes"><h2>{escape(labels["warnings"])}</h2><ul>{items}</ul></section>'
        )
    parts += [
        f"<footer><p>{escape(labels['made_by'].format(version=labels.digits(data.version)))}</p></footer>",
        "</main>",
        "</body>",
        "</html>",
    ]
    return ("\n".join(p for p in parts if p) + "\n").encode("utf-8")


def _sections(data: ReportData) -> list[str]:
    """The report's sections: retention only with --subscriptions FILE."""
    return [key for key in SECTIONS if key != "retention" or data.retention is not None]


def _nav(data: ReportData, labels: Labels) -> str:
    links = "".join(
        f'<li><a href="#{key}">{escape(labels[key])}</a></li>' for key in _sections(data)
    )
    return f'<nav aria-label="{escape(labels["contents"])}"><ol>{links}</ol></nav>'


def _note(text: str | None) -> str:
    return f'<p class="note">{escape(text)}</p>' if text else ""


def _cohorts_note(data: ReportData, labels: Labels) -> str:
    note = labels["cohorts_note"]
    if partial_cells(data.cohorts).any():
        note += " " + labels["cohorts_partial"]
    return note


def _distribution_note(data: ReportData, labels: Labels) -> str:
    if not data.has_amount:
        return _note(labels["no_amounts"])
    note = labels["distribution_note"]
    zero = int((data.customers["total_clv"] <= 0).sum())
    if zero:
        note += " " + labels["distribution_zero"].format(count=labels.number(zero))
    return _note(note)


def _definitions(items: list[tuple[str, str]], css: str) -> str:
    rows = "".join(
        f"<div><dt>{escape(name)}</dt><dd>{escape(value)}</dd></div>" for name, value in items
    )
    return f'<dl class="{css}">{rows}</dl>'


def _figure(chart: Chart) -> str:
    # Left to right even in a Persian page: the axes read that way. The chart's own
    # <title> and aria-label name it, so there is no caption repeating its title.
    return f'<figure class="chart" id="chart-{chart.key}" dir="ltr">\n{chart.svg}\n</figure>'


def _table(table: TextTable) -> str:
    def attr(numeric: bool) -> str:
        return ' class="num"' if numeric else ""

    head = "".join(
        f'<th scope="col"{attr(n)}>{escape(h)}</th>'
        for h, n in zip(table.headers, table.numeric, strict=True)
    )
    body = "\n".join(
        "<tr>"
        + "".join(f"<td{attr(n)}>{escape(v)}</td>" for v, n in zip(row, table.numeric, strict=True))
        + "</tr>"
        for row in table.rows
    )
    return (
        f'<div class="table-wrap"><table id="table-{table.key}">'
        f"<caption>{escape(table.caption)}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>"
    )
