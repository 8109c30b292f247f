"""The report's charts as inline SVG, drawn by matplotlib.

No JavaScript and nothing to fetch: each chart is an ``<svg>`` element with a
``<title>`` and an ``aria-label``, text kept as text (``svg.fonttype = none``: small,
searchable, read by screen readers, and shaped by the browser, Persian included),
and the same bytes for the same data (a fixed ``svg.hashsalt``, no date in the
metadata). Element ids get a per-chart prefix so several charts can share a page.

matplotlib is imported here only, and this module only by the report command, so
the other commands never pay for it. Figures are drawn with ``Figure`` objects and
the SVG canvas directly: pyplot, its global state and GUI backends are never used.
"""

from __future__ import annotations

import html
import io
import logging
import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvcli.core.cohorts import partial_cells, period_columns
from clvcli.io import jalali
from clvcli.report.labels import Labels

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from clvcli.report.analysis import ReportData

# Okabe-Ito: told apart by every kind of colour vision.
BLUE, ORANGE, GREEN, VERMILLION, SKY, PURPLE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#56B4E9",
    "#CC79A7",
)
VERDICT_COLOURS = {"healthy": GREEN, "thin": ORANGE, "losing": VERMILLION}
WIDTH = 7.2
RC = {
    "svg.fonttype": "none",
    "svg.hashsalt": "clv-report",
    # Channel names are data: "$" in one must not start matplotlib's math text.
    "text.parse_math": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Vazirmatn", "Tahoma", "Arial"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
}
_ID = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


@dataclass(frozen=True)
class Chart:
    """One chart: its section, its title, and the ``<svg>`` element."""

    key: str
    section: str
    title: str
    svg: str


def charts(data: ReportData, labels: Labels) -> list[Chart]:
    """Every chart the report's data supports, in the report's order."""
    mpl = _matplotlib()
    drawn: list[Chart] = []
    with mpl.rc_context(RC):
        for key, section, title, fig in figures(data, labels):
            drawn.append(Chart(key, section, title, _svg(fig, title, f"c{len(drawn) + 1}-")))
    return drawn


def figures(data: ReportData, labels: Labels) -> list[tuple[str, str, str, Figure]]:
    """The charts' figures (key, section, title, figure), laid out, before SVG.

    Call within ``matplotlib.rc_context(RC)``. Every figure's tick labels have been
    thinned until none overlaps another, and legends sit outside the plot area.
    """
    _matplotlib()
    made = []
    for key, section, draw in _CHARTS:
        drawn = draw(data, labels)
        if drawn is None:
            continue
        title, fig = drawn
        _no_overlap(fig)
        made.append((key, section, title, fig))
    return made


def _no_overlap(fig: Figure) -> None:
    """Fewer ticks on the axes whose tick labels overlap (long Persian number words).

    One layout pass per figure when nothing overlaps, the common case.
    """
    for _ in range(6):
        fig.draw_without_rendering()
        crowded = []
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                shown = _tick_labels(axis)
                if len(shown) >= 3 and overlapping([t.get_window_extent() for t in shown]):
                    crowded.append((axis, len(shown)))
        if not crowded:
            return
        for axis, shown_count in crowded:
            _fewer_ticks(axis, shown_count)


def _tick_labels(axis: Any) -> list[Any]:
    """The major tick labels drawn: with text, within the axis's view."""
    low, high = sorted(axis.get_view_interval())
    return [
        label
        for where, label in zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=False)
        if label.get_visible() and label.get_text() and low <= where <= high
    ]


def overlapping(boxes: list[Any], pad: float = 6.0) -> bool:
    """Whether any two boxes (matplotlib Bbox, in pixels) overlap or come within ``pad``.

    The browser draws the SVG text in its own font, a little wider or narrower than
    the one matplotlib measures with: ``pad`` keeps labels apart either way.
    """
    for i, first in enumerate(boxes):
        for second in boxes[i + 1 :]:
            if (
                first.x0 < second.x1 + pad
                and second.x0 < first.x1 + pad
                and first.y0 < second.y1 + pad
                and second.y0 < first.y1 + pad
            ):
                return True
    return False


def _fewer_ticks(axis: Any, shown: int) -> None:
    from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator

    locator = axis.get_major_locator()
    if isinstance(locator, FixedLocator):
        ticks = list(axis.get_majorticklocs())
        texts = [label.get_text() for label in axis.get_majorticklabels()]
        axis.set_ticks(ticks[::2], texts[::2])
    elif isinstance(locator, LogLocator):
        axis.set_major_locator(LogLocator(base=10, numticks=max(2, shown - 1)))
    else:
        integer = isinstance(locator, MaxNLocator) and locator._integer
        axis.set_major_locator(MaxNLocator(nbins=max(2, shown - 2), integer=integer))


def _matplotlib() -> Any:
    """matplotlib, with its cache in a private temporary folder and no first-run chatter."""
    if "MPLCONFIGDIR" not in os.environ:
        os.environ["MPLCONFIGDIR"] = _config_dir()
    logger = logging.getLogger("matplotlib")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        import matplotlib

        # Building the font cache on first use logs a warning: keep it quiet.
        import matplotlib.font_manager
    finally:
        logger.setLevel(level)
    return matplotlib


def _config_dir() -> str:
    """A folder of our own under the temporary directory, reused between runs."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    folder = Path(tempfile.gettempdir()) / f"clv-matplotlib-{uid}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.stat()
        if folder.is_symlink() or (hasattr(os, "getuid") and info.st_uid != uid):
            raise PermissionError(folder)
        return str(folder)
    except OSError:
        return tempfile.mkdtemp(prefix="clv-matplotlib-")


def _figure(height: float = 3.4, width: float = WIDTH) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Figure, title: str, prefix: str) -> str:
    """The figure as an accessible ``<svg>`` element with ids unique to it."""
    buffer = io.BytesIO()
    fig.savefig(
        buffer,
        format="svg",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    text = buffer.getvalue().decode("utf-8")
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, flags=re.S)
    text = _ID.sub(lambda m: m.group(1) + prefix + m.group(2), text)
    label = html.escape(title, quote=True)
    head_end = text.index(">") + 1
    head = text[:head_end].replace(
        "<svg ",
        f'<svg class="chart" role="img" aria-labelledby="{prefix}title" aria-label="{label}" ',
        1,
    )
    return head + f'\n <title id="{prefix}title">{label}</title>' + text[head_end:]


def _number_axis(axis: Any, labels: Labels, *, compact: bool = False, integer: bool = False):
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    if integer:
        axis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    if compact:
        axis.set_major_formatter(FuncFormatter(lambda v, _: labels.compact(v)))
    else:
        axis.set_major_formatter(FuncFormatter(lambda v, _: labels.number(v, _decimals(v))))


def _decimals(value: float) -> int:
    if value == 0 or abs(value) >= 10 or float(value).is_integer():
        return 0
    return 1 if abs(value * 10 - round(value * 10)) < 1e-9 else 2


def _legend(ax: Axes) -> None:
    """The legend beside the plot, at its top: it can cover no bar, line or label."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def _finish(fig: Figure, ax: Axes, title: str, x_label: str, y_label: str) -> tuple[str, Figure]:
    """Title and axis labels (with units): what every chart has."""
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_title(title, loc="left")
    return title, fig


def _distribution(data: ReportData, labels: Labels):
    values = data.customers["total_clv"].to_numpy(np.float64)
    positive = values[values > 0]
    if len(positive) == 0:
        return None
    title = labels["distribution"]
    fig = _figure(3.0)
    ax = fig.subplots()
    low, high = float(positive.min()), float(positive.max())
    bins = np.logspace(math.log10(low), math.log10(high if high > low else low * 10), 40)
    ax.hist(positive, bins=bins, color=BLUE, edgecolor="white", linewidth=0.4)
    ax.set_xscale("log")
    ax.axvline(data.headline.mean_clv, color=VERMILLION, linestyle="--", linewidth=1)
    ax.annotate(
        labels["mean_clv"],
        (data.headline.mean_clv, 1),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        va="top",
        color=VERMILLION,
    )
    _number_axis(ax.xaxis, labels, compact=True)
    _number_axis(ax.yaxis, labels, integer=True)
    return _finish(fig, ax, title, labels["clv_axis"], labels["customers_axis"])


def _funnel(data: ReportData, labels: Labels):
    stages = data.stages
    if stages["customers"].sum() == 0:
        return None
    title = labels["stages"]
    fig = _figure(2.8)
    # A log with no amounts has no CLV per stage: the customers' panel alone.
    panels = [("customers", BLUE), ("total_clv", GREEN)][: 2 if data.has_amount else 1]
    axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    left, right = axes[0], axes[-1]
    names = [labels.word(s) for s in stages["stage"]]
    y = np.arange(len(names))[::-1]
    for ax, (column, color) in zip(axes, panels, strict=True):
        ax.barh(y, stages[column], color=color)
    left.set_yticks(y, names)
    for ax, (column, _) in zip(axes, panels, strict=True):
        for position, value in zip(y, stages[column], strict=True):
            text = labels.number(value) if column == "customers" else labels.compact(value)
            ax.annotate(
                text,
                (value, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.grid(axis="y", visible=False)
        # Room for the value written after the longest bar (Persian words are long).
        ax.margins(x=0.3 if labels.lang == "fa" else 0.18)
    _number_axis(left.xaxis, labels, integer=True)
    left.set_xlabel(labels["customers_axis"])
    if len(panels) > 1:
        _number_axis(right.xaxis, labels, compact=True)
        right.set_xlabel(labels["stage_clv_axis"])
    left.set_ylabel(labels["stage_axis"])
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10)
    return title, fig


def _groups(table: pd.DataFrame | None, column: str) -> pd.DataFrame | None:
    """A CAC table's groups without its total row; None when there are none."""
    if table is None:
        return None
    groups = table[table[column] != "total"].reset_index(drop=True)
    return None if groups.empty else groups


def _cac_channels(data: ReportData, labels: Labels):
    table = _groups(data.cac_by_channel, "channel")
    if table is None:
        return None
    title = labels["cac_channel_title"]
    fig = _figure(0.9 + 0.42 * len(table))
    ax = fig.subplots()
    y = np.arange(len(table))[::-1]
    height = 0.38
    ax.barh(y + height / 2, table["cac"], height, color=ORANGE, label=labels["cac_series"])
    ax.barh(y - height / 2, table["mean_total_clv"], height, color=BLUE, label=labels["clv_series"])
    for position, row in zip(y, table.itertuples(), strict=True):
        top = np.nanmax([row.cac, row.mean_total_clv, 0])
        ax.annotate(
            labels.word(str(row.verdict)),
            (top, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=VERDICT_COLOURS.get(str(row.verdict), "#444444"),
            fontweight="bold",
        )
    ax.set_yticks(y, [str(c) for c in table["channel"]])
    ax.margins(x=0.15)
    ax.grid(axis="y", visible=False)
    _number_axis(ax.xaxis, labels, compact=True)
    _legend(ax)
    return _finish(fig, ax, title, labels["money_axis"], labels["channel_axis"])


def _cac_cohorts(data: ReportData, labels: Labels):
    table = _groups(data.cac_by_cohort, "cohort")
    if table is None:
        return None
    title = labels["cac_cohort_title"]
    settings = data.settings.cac
    fig = _figure(3.0)
    ax = fig.subplots()
    x = np.arange(len(table))
    colours = [VERDICT_COLOURS.get(str(v), "#999999") for v in table["verdict"]]
    ax.bar(x, table["clv_cac_ratio"].fillna(0), color=colours)
    for level, key, style in (
        (settings.healthy, "healthy_line", "--"),
        (settings.thin, "thin_line", ":"),
    ):
        ax.axhline(
            level,
            color="#444444",
            linestyle=style,
            linewidth=0.9,
            label=labels[key].format(value=labels.number(level, _decimals(level))),
        )
    _legend(ax)
    ax.set_xticks(x, [labels.digits(str(c)) for c in table["cohort"]], rotation=90, fontsize=7)
    ax.grid(axis="x", visible=False)
    _number_axis(ax.yaxis, labels)
    return _finish(fig, ax, title, labels["cohort_axis"], labels["ratio_axis"])


def _retention(data: ReportData, labels: Labels):
    cohorts = data.cohorts
    periods = period_columns(cohorts)
    if cohorts.empty or not periods:
        return None
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle

    title = labels["cohorts_title"]
    values = cohorts[periods].to_numpy(np.float64) * 100
    later = values[:, 1:] if values.shape[1] > 1 else values
    top = float(np.nanmax(later)) if np.isfinite(later).any() else 100.0
    fig = _figure(0.9 + 0.16 * len(cohorts) + 0.6)
    ax = fig.subplots()
    # One embedded image of one pixel per cell (interpolation none), not a path per
    # cell: a tenth of the bytes, and crisp at any zoom.
    mesh = ax.imshow(
        np.ma.masked_invalid(values),
        cmap="viridis",
        norm=Normalize(0, max(top, 1e-9), clip=True),
        interpolation="none",
        aspect="auto",
        extent=(0, len(periods), len(cohorts), 0),
    )
    ax.grid(False)
    # The month of the as-of date, not over: hatched, as the report's note says.
    for row, col in zip(*np.nonzero(partial_cells(cohorts)), strict=True):
        ax.add_patch(
            Rectangle((col, row), 1, 1, fill=False, hatch="////", edgecolor="white", linewidth=0)
        )
    step = max(1, math.ceil(len(cohorts) / 24))
    rows = np.arange(0, len(cohorts), step)
    ax.set_yticks(rows + 0.5, [labels.digits(str(cohorts["cohort"].iloc[i])) for i in rows])
    columns = np.arange(0, len(periods), max(1, math.ceil(len(periods) / 24)))
    ax.set_xticks(columns + 0.5, [labels.number(int(periods[i])) for i in columns])
    ax.tick_params(labelsize=7)
    bar = fig.colorbar(mesh, ax=ax, shrink=0.8, extend="max" if top < 100 else "neither")
    _number_axis(bar.ax.yaxis, labels)
    bar.set_label(labels["retention_axis"])
    return _finish(fig, ax, title, labels["months_since_axis"], labels["cohort_axis"])


def _survival(data: ReportData, labels: Labels):
    """The subscribers' survival: actual points, the fitted curve through the data and
    on, dashed, past it."""
    result = data.retention
    if result is None:
        return None
    curve = result.survival
    period = curve["period"].to_numpy(np.float64)
    actual = curve["survival"].to_numpy(np.float64) * 100
    fitted = curve["fitted_survival"].to_numpy(np.float64) * 100
    future = curve["projected"].to_numpy(bool)
    title = labels["survival_title"]
    fig = _figure(3.2)
    ax = fig.subplots()
    ax.plot(period, actual, "o", color=BLUE, markersize=3.5, label=labels["actual_series"])
    if np.isfinite(fitted).any():
        seen = ~future
        ax.plot(
            period[seen], fitted[seen], color=ORANGE, linewidth=1.6, label=labels["fitted_series"]
        )
        if future.any():
            last = int(np.flatnonzero(seen)[-1])
            ax.plot(
                period[last:],
                fitted[last:],
                color=ORANGE,
                linewidth=1.6,
                linestyle="--",
                label=labels["projected_series"],
            )
            ax.axvline(period[last], color="#999999", linewidth=0.8, linestyle=":")
    ax.set_ylim(0, 102)
    _number_axis(ax.xaxis, labels, integer=True)
    _number_axis(ax.yaxis, labels)
    _legend(ax)
    unit = labels.word(result.period)
    return _finish(
        fig, ax, title, labels["renewals_axis"].format(period=unit), labels["survival_axis"]
    )


def _by_frequency(data: ReportData, labels: Labels):
    model = data.validation_model
    if model is None:
        return None
    rows = pd.DataFrame(model["by_frequency"])
    title = labels["frequency_title"]
    fig = _figure(3.0)
    ax = fig.subplots()
    x = np.arange(len(rows))
    width = 0.4
    actual = rows["mean_actual"].astype(float)
    predicted = rows["mean_predicted"].astype(float)
    ax.bar(x - width / 2, actual, width, color=BLUE, label=labels["actual"])
    ax.bar(x + width / 2, predicted, width, color=ORANGE, label=labels["predicted"])
    ax.set_xticks(x, [labels.digits(str(f)) for f in rows["frequency"]])
    ax.grid(axis="x", visible=False)
    _number_axis(ax.yaxis, labels)
    _legend(ax)
    return _finish(fig, ax, title, labels["frequency_axis"], labels["mean_purchases_axis"])


def _tracking(data: ReportData, labels: Labels):
    tracking = data.tracking
    if tracking is None or tracking.empty or data.validation is None:
        return None
    title = labels["tracking_title"]
    days = tracking["date"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    end = int(np.datetime64(data.validation["calibration_end"], "D").astype(np.int64))
    fig = _figure(3.0)
    ax = fig.subplots()
    ax.plot(days, tracking["actual"], color=BLUE, linewidth=1.6, label=labels["actual"])
    ax.plot(
        days,
        tracking["predicted"],
        color=ORANGE,
        linewidth=1.6,
        linestyle="--",
        label=labels["predicted"],
    )
    ax.axvline(end, color="#444444", linestyle=":", linewidth=1)
    ax.annotate(
        labels["calibration_end"],
        (end, 0.98),
        xycoords=("data", "axes fraction"),
        xytext=(-3, 0),
        textcoords="offset points",
        ha="right",
        va="top",
        fontsize=8,
    )
    ticks = _quarter_starts(int(days[0]), int(days[-1]), labels)
    ax.set_xticks(ticks, [labels.month(t) for t in ticks])
    _number_axis(ax.yaxis, labels, compact=True)
    _legend(ax)
    return _finish(fig, ax, title, labels["date_axis"], labels["cumulative_axis"])


def _quarter_starts(first: int, last: int, labels: Labels) -> list[int]:
    """First days of the quarters between two days, in the report's calendar."""
    if labels.lang == "fa":
        year, month, _ = jalali.from_days(np.array([first, last]))
        index = np.arange(year[0] * 12 + month[0] - 1, year[1] * 12 + month[1])
        starts = jalali.to_days(index // 12, index % 12 + 1, np.ones_like(index))
    else:
        months = np.arange(
            np.datetime64(first, "D").astype("datetime64[M]"),
            np.datetime64(last, "D").astype("datetime64[M]") + 1,
        )
        index = months.astype(np.int64)
        starts = months.astype("datetime64[D]").astype(np.int64)
    keep = (index % 3 == 0) & (starts >= first) & (starts <= last)
    return [int(s) for s in starts[keep]]


_CHARTS = (
    ("distribution", "distribution", _distribution),
    ("funnel", "stages", _funnel),
    ("cac_channels", "cac", _cac_channels),
    ("cac_cohorts", "cac", _cac_cohorts),
    ("retention", "cohorts", _retention),
    ("survival", "retention", _survival),
    ("by_frequency", "validation", _by_frequency),
    ("tracking", "validation", _tracking),
)
