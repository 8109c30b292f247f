"""Logs with no amount column: purchase days alone, or an amount clv did not recognise?

Visit logs, counted gifts and the field's grocery log (BTYDplus) have a customer and a
date and nothing else; their purchases can be counted, their money cannot. A log whose
amount column has a name clv does not know (``Betrag``, ``Summe``) looks the same by
its header, and reading it as amount-less would silently drop its money. So a log is
read as purchase days alone only when no other column could hold amounts: besides the
customer, date and channel columns it has none, or none of its other columns holds a
cell that reads as a number. Otherwise it is refused, naming the columns that could be
the amount, ``--amount-col`` to name it, and ``--amount-col none`` to count purchases
without amounts all the same.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from clvcli.errors import InputError
from clvcli.io.amounts import AmountProblem, parse_amounts
from clvcli.io.columns import ColumnChoice, no_amount_given


def columns_to_inspect(
    header: list[str], choice: ColumnChoice, given: dict[str, str | None]
) -> list[int]:
    """The positions of the columns that might hold amounts, to read and look into:
    none when an amount column was found, or when ``--amount-col none`` says so."""
    if choice.amount is not None or no_amount_given(given):
        return []
    used = {choice.customer, choice.date, choice.channel}
    return [index for index in range(len(header)) if index not in used]


def check_amountless(source: str, header: list[str], others: dict[int, pa.Array]) -> None:
    """Refuse a log without a recognised amount column when one of its ``others``
    (position: cells) could be the amount; return quietly when none could."""
    numeric = [header[index] for index, cells in others.items() if could_hold_amounts(cells)]
    if not numeric:
        return
    named = ", ".join(f"'{name}'" for name in numeric[:5])
    more = f" and {len(numeric) - 5} more" if len(numeric) > 5 else ""
    raise InputError(
        f"{source}: no amount column found; column{'s' if len(numeric) > 1 else ''} "
        f"{named}{more} hold{'' if len(numeric) > 1 else 's'} numbers and could be the "
        f"amount; columns are: {', '.join(header[:12])}{' ...' if len(header) > 12 else ''}",
        f"name it with --amount-col (e.g. --amount-col '{numeric[0]}'), or pass "
        "--amount-col none to count purchases without amounts",
    )


def could_hold_amounts(cells: pa.Array | pa.ChunkedArray) -> bool:
    """Whether any non-empty cell of a column reads as a number (as an amount would)."""
    if isinstance(cells, pa.ChunkedArray):
        cells = cells.combine_chunks()
    kind = cells.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return len(cells) > cells.null_count
    if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
        return False  # dates, times, booleans, nested values: not money
    distinct = pc.unique(pc.utf8_trim_whitespace(cells))
    distinct = distinct.filter(pc.fill_null(pc.not_equal(distinct, ""), False))
    if not len(distinct):
        return False
    try:
        _, bad = parse_amounts(distinct)
    except AmountProblem:  # numbers, whichever their decimal mark
        return True
    return not bool(bad.all())
