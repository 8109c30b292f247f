"""Rich tables of result frames, for terminals only.

Every cell is a ``Text`` object, never markup, so a customer id such as ``[/red]``
prints as itself, and control characters (terminal escape sequences in an id) are
shown escaped, never sent to the terminal. Money gets thousands separators;
whole-toman columns drop the decimals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich import box
from rich.table import Table
from rich.text import Text

from clvcli.shown import printable


def frame_table(
    frame: pd.DataFrame,
    *,
    money: set[str] = frozenset(),
    percent: set[str] = frozenset(),
    title: str | None = None,
    limit: int = 0,
    width: int | None = None,
    keep: frozenset[str] | set[str] = frozenset(),
    drop_order: list[str] | None = None,
    marked: dict[str, np.ndarray] | None = None,
) -> Table:
    """A rich Table of the first ``limit`` rows (all when 0).

    Cells are never cut: when ``width`` is too narrow for every column, columns are
    left out in ``drop_order`` (default: from the right), except the first column and
    those in ``keep``. ``marked`` names cells (a mask per column) shown with a
    trailing ``*``.
    """
    shown = frame if limit <= 0 else frame.head(limit)
    names = [str(c) for c in shown.columns]
    cells = {name: _cells(shown[name], name in money, name in percent) for name in names}
    for name, mask in (marked or {}).items():
        if name in cells:
            for cell, flag in zip(cells[name], mask[: len(shown)], strict=True):
                if flag:
                    cell.append("*")
    if width is not None:
        names = _fitting(names, cells, width, {names[0], *keep} if names else set(keep), drop_order)
    table = Table(
        title=title,
        header_style="bold",
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
    )
    for name in names:
        values = shown[name]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        table.add_column(
            Text(printable(name)), justify="right" if numeric else "left", no_wrap=True
        )
    for row in zip(*(cells[name] for name in names), strict=True):
        table.add_row(*row)
    return table


def _fitting(
    names: list[str],
    cells: dict[str, list[Text]],
    width: int,
    keep: set[str],
    drop_order: list[str] | None,
) -> list[str]:
    widths = {
        name: max([len(name), *(cell.cell_len for cell in cells[name])]) + 3 for name in names
    }
    kept = list(names)
    order = [n for n in (drop_order or []) if n in names] + list(reversed(names))
    droppable = list(dict.fromkeys(name for name in order if name not in keep))
    while droppable and sum(widths[n] for n in kept) > width:
        kept.remove(droppable.pop(0))
    return kept


def _number(value: float, form: str) -> str:
    """``value`` in ``form``; a small one that two decimals would show as 0.00 (a
    fitted beta of 0.000047, a P(alive) of 0.004) in three significant digits."""
    if value != 0 and abs(value) < 0.005:
        return f"{value:.3g}"
    return form.format(value)


def _cells(values: pd.Series, is_money: bool, is_percent: bool) -> list[Text]:
    if pd.api.types.is_datetime64_any_dtype(values):
        days = values.to_numpy(dtype="datetime64[D]")
        return [Text("" if np.isnat(d) else str(d)) for d in days]
    if is_percent:
        return [Text("" if pd.isna(v) else f"{v:.1%}") for v in values]
    if is_money:
        whole = bool(np.all(np.isnan(values) | (np.round(values, 2) % 1 == 0)))
        form = "{:,.0f}" if whole else "{:,.2f}"
        return [Text("" if pd.isna(v) else form.format(v)) for v in values]
    if pd.api.types.is_float_dtype(values):
        whole = bool(np.all(np.isnan(values) | (values % 1 == 0)))
        form = "{:,.0f}" if whole else "{:,.2f}"
        return [Text("" if pd.isna(v) else _number(v, form)) for v in values]
    if pd.api.types.is_integer_dtype(values):
        return [Text("" if pd.isna(v) else f"{v:,}") for v in values]
    return [
        Text("" if v is None or (isinstance(v, float) and np.isnan(v)) else printable(str(v)))
        for v in values
    ]
