"""Choosing a report format from a file name, and rendering a report in it."""

from __future__ import annotations

from pathlib import Path

from clvcli.report.analysis import ReportData
from clvcli.report.labels import Labels

EXTENSIONS = {".html": "html", ".htm": "html", ".xlsx": "xlsx", ".md": "md", ".markdown": "md"}


def report_format(path: str) -> str | None:
    """html, xlsx or md for a file name's extension; None for any other."""
    return EXTENSIONS.get(Path(path).suffix.lower())


def render_report(data: ReportData, labels: Labels, fmt: str) -> bytes:
    """The report's bytes in ``fmt`` (html, xlsx or md)."""
    if fmt == "html":
        from clvcli.report.html import render_html

        return render_html(data, labels)
    if fmt == "xlsx":
        from clvcli.report.xlsx import render_xlsx

        return render_xlsx(data, labels)
    if fmt == "md":
        from clvcli.report.markdown import render_markdown

        return render_markdown(data, labels)
    raise ValueError(f"unknown report format {fmt!r}")
