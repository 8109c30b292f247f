r"""The report as Markdown: headline figures and the main tables, for wikis and chats.

Cell values are escaped so that a ``|`` in a customer id or channel name cannot
split a table cell, and Markdown or HTML in the data shows as text:

>>> escape_cell("a|b <i>*x*</i>")
'a\\|b \\<i\\>\\*x\\*\\</i\\>'
"""

from __future__ import annotations

import re

from clvcli.report import layout
from clvcli.report.analysis import ReportData
from clvcli.report.labels import Labels

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
SECTIONS = ("stages", "cac", "retention", "top", "model", "validation")


def escape_cell(text: str) -> str:
    """Text safe inside a Markdown table cell (one line, specials escaped)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(data: ReportData, labels: Labels) -> bytes:
    """The Markdown report, UTF-8."""
    found = layout.tables(data, labels)
    subtitle = labels["subtitle"].format(source=data.source, as_of=labels.date(data.as_of))
    lines = [f"# {escape_cell(labels['title'])}", "", escape_cell(subtitle), ""]
    lines += _section(labels["headline"], _items(layout.headline_items(data, labels)))
    notes = {
        "cac": None if data.cac_by_cohort is not None else labels["cac_missing"],
        "model": layout.model_note(data, labels),
        "validation": layout.validation_note(data, labels),
        "retention": layout.retention_note(data, labels),
    }
    for key in SECTIONS:
        blocks = found.get(key, [])
        if key in ("validation", "retention") and not blocks:
            continue
        body: list[str] = []
        if notes.get(key):
            body += [escape_cell(notes[key]), ""]
        for table in blocks:
            body += _table(table, heading=len(blocks) > 1)
        lines += _section(labels[key], body)
    lines += _section(labels["settings"], _items(layout.settings_items(data, labels)))
    if data.warnings:
        lines += _section(labels["warnings"], [f"- {escape_cell(w)}" for w in data.warnings] + [""])
    lines.append(escape_cell(labels["made_by"].format(version=labels.digits(data.version))))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _section(title: str, body: list[str]) -> list[str]:
    return [f"## {escape_cell(title)}", "", *body]


def _items(items: list[tuple[str, str]]) -> list[str]:
    return [f"- **{escape_cell(name)}**: {escape_cell(value)}" for name, value in items] + [""]


def _table(table: layout.TextTable, *, heading: bool) -> list[str]:
    caption = escape_cell(table.caption)
    lines = [f"### {caption}", ""] if heading else [caption, ""]
    lines.append("| " + " | ".join(escape_cell(h) for h in table.headers) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in table.numeric) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(escape_cell(v) for v in row) + " |")
    return [*lines, ""]
