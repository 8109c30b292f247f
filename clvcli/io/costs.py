"""Reading acquisition costs: spend per channel (optional) and month.

A costs file has a ``period`` column (a month such as ``2024-03`` or ``1403-07``, or
any date in it), a ``spend`` column and optionally a ``channel`` column, named in
English or Persian. Months come back as indices (year * 12 + month - 1) in the
calendar they were written in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.errors import InputError
from clvcli.io.amounts import AmountProblem, parse_amounts
from clvcli.io.columns import listed_columns
from clvcli.io.dates import parse_dates
from clvcli.io.jalali import NOT_A_DATE
from clvcli.io.readers import channel_labels
from clvcli.io.source import load_input, read_records
from clvcli.io.text import header_key, normalise_cells
from clvcli.shown import quote_value

_NAMES = {
    "channel": ("channel", "source", "کانال", "کانال جذب", "منبع"),
    "period": ("period", "month", "date", "ماه", "دوره", "تاریخ"),
    "spend": ("spend", "cost", "costs", "amount", "budget", "هزینه", "مبلغ", "بودجه"),
}
_MONTH = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$"


def read_costs(path: str, decimal: str | None = None) -> tuple[pd.DataFrame, str]:
    """(channel, month, spend) rows and the calendar of the months: gregorian or jalali.

    ``decimal`` is the decimal mark of the spend (None: inferred from the column).
    """
    loaded = load_input(path)
    table, locate = read_records(loaded)
    header = list(table.column_names)
    found = {role: _find(header, names) for role, names in _NAMES.items()}
    for role in ("period", "spend"):
        if found[role] is None:
            raise InputError(
                f"{loaded.name}: no {role} column found; columns are: {listed_columns(header)}",
                "a costs file has period (2024-03 or 1403-07), spend and optionally channel",
            )
    if table.num_rows == 0:
        raise InputError(f"{loaded.name}: has a header but no rows", None)
    try:
        spend, bad_spend = parse_amounts(table.column(found["spend"]).combine_chunks(), decimal)
    except AmountProblem as exc:
        raise InputError(f"{loaded.name}, column '{found['spend']}': {exc}", exc.hint) from None
    months, calendar, bad_month = _months(table.column(found["period"]).combine_chunks())
    for role, bad, problem in (
        ("period", bad_month, "cannot read {value} as a month"),
        ("spend", bad_spend, "cannot read {value} as an amount"),
        ("spend", ~bad_spend & (spend < 0), "spend {value} is negative"),
    ):
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            value = table.column(found[role])[row].as_py()
            raise InputError(
                f"{loaded.name}: {locate(row)}, column '{found[role]}': "
                + problem.format(value=quote_value(value)),
                "periods are months such as 2024-03 or 1403-07; spend is a number >= 0",
            )
    _check_total(loaded.name, locate, found["spend"], table.column(found["spend"]), spend)
    if found["channel"] is not None:
        channels = channel_labels(table.column(found["channel"]).combine_chunks())
    else:
        channels = np.full(table.num_rows, None, dtype=object)
    frame = pd.DataFrame({"channel": channels, "month": months, "spend": spend})
    return frame, calendar


def _find(header: list[str], names: tuple[str, ...]) -> str | None:
    keys = [header_key(name) for name in header]
    for name in names:
        for column, key in zip(header, keys, strict=True):
            if key == name or key.split(" (")[0] == name:
                return column
    return None


def _months(column: pa.Array) -> tuple[np.ndarray, str, np.ndarray]:
    text = normalise_cells(column.cast(pa.string()))
    found = pc.extract_regex(text, _MONTH)
    is_month = pc.is_valid(found).to_numpy(zero_copy_only=False)
    year = pc.fill_null(pc.struct_field(found, "y"), "0").cast(pa.int64()).to_numpy()
    month = pc.fill_null(pc.struct_field(found, "m"), "0").cast(pa.int64()).to_numpy()
    days = parse_dates(text)
    dated = ~is_month & (days != NOT_A_DATE)
    lead = pc.fill_null(pc.utf8_slice_codeunits(text, 0, 4), "")
    lead_year = pd.to_numeric(pd.Series(lead.to_numpy(zero_copy_only=False)), errors="coerce")
    jalali_text = (lead_year < 1700).to_numpy()
    calendar = "jalali" if (jalali_text & (is_month | dated)).any() else "gregorian"
    if ((is_month | dated) & (jalali_text != (calendar == "jalali"))).any():
        raise InputError("the costs file mixes Jalali and Gregorian periods", None)
    if dated.any():
        from clvcli.io.dates import month_index

        index = month_index(days[dated], calendar)
        year, month = year.copy(), month.copy()
        year[dated], month[dated] = index // 12, index % 12 + 1
    bad = ~(is_month | dated) | (month < 1) | (month > 12)
    return year * 12 + month - 1, calendar, bad


def _check_total(
    name: str,
    locate: Callable[[int], str],
    column: str,
    cells: pa.ChunkedArray,
    spend: np.ndarray,
) -> None:
    """Spends near 1e308 add up to infinity: refused at the row where the sum overflows,
    not carried into every channel's CAC."""
    with np.errstate(over="ignore"):
        running = np.cumsum(np.abs(spend))
    if not len(running) or np.isfinite(running[-1]):
        return
    row = int(np.argmax(~np.isfinite(running)))
    raise InputError(
        f"{name}: {locate(row)}, column '{column}': with {quote_value(cells[row].as_py())} "
        "the spends add up to more than the largest number clv can hold (1.8e308)",
        "check the spend column: such totals are not money",
    )
