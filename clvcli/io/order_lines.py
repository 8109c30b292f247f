"""Exports written one row per order line, read as the transactions they stand for.

Shops' systems export orders line by line rather than as a clean log:

- a Shopify order export writes an order's ``Total`` on its first line only and
  leaves it empty on the lines after (one per further item): a row with no amount
  whose order number has a row with an amount is a line of that order, already
  counted, not a bad row;
- the UCI Online Retail layout has no amount but a ``Quantity`` and a ``UnitPrice``:
  the amount of a line is quantity x price, and an invoice number ``C536379`` (``C``
  and digits, among invoices of digits alone) is a return, whose amount counts as
  negative whatever the sign of its quantity (negative amounts are refunds, netted
  per customer and day as any);
- ids written by a spreadsheet or pandas as floats (``17850.0``): when every id of
  the column is a whole number, with ``.0`` or without, ``17850.0`` is read as
  ``17850``. Any other column (``0042``, ``A17``, ``1.5``) is left as written.

Everything here works on whole columns with Arrow kernels.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.errors import InputError
from clvcli.io.amounts import parse_amounts
from clvcli.io.columns import describe
from clvcli.io.source import RawColumns

_WHOLE_NUMBER = r"^(0|[1-9][0-9]*)(\.0+)?$"
_FLOAT_ZERO = r"\.0+$"


def prepare(raw: RawColumns) -> tuple[RawColumns, list[str]]:
    """The rows and ids that stand for transactions, and what was done, for the note.

    Float-rendered ids become whole numbers; an ``id`` column found by the log's shape
    must repeat across rows; lines of an order already counted are set aside.
    """
    facts: list[str] = []
    ids, rendered = whole_number_ids(raw.columns["customer"])
    if rendered:
        raw.columns["customer"] = ids
        facts.append(f"ids written as floats ('{rendered}') read as whole numbers")
    if raw.choice.customer_by_shape:
        _check_repeats(raw)
    if "order" in raw.columns and "amount" in raw.columns:
        lines = order_lines(raw.columns["amount"], raw.columns["order"])
        if lines is not None:
            raw = _without(raw, lines)
            facts.append(
                f"{_rows(int(lines.sum()))} with no {raw.column_name('amount')!r} read as "
                f"further lines of an order counted once (by {raw.column_name('order')!r})"
            )
    return raw, facts


def line_amounts(
    raw: RawColumns, amount: np.ndarray, facts: list[str], decimal: str | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Each row's amount: quantity x unit price where the amount is a price, negative
    on a return invoice. Gives the amounts and the rows whose quantity is unreadable.
    Quantities are read with the decimal mark ``decimal`` (None: inferred)."""
    bad_quantity = None
    if "quantity" in raw.columns:
        quantity, bad_quantity = parse_amounts(raw.columns["quantity"], decimal)
        amount = amount * quantity
    if "order" in raw.columns:
        returns = return_invoices(raw.columns["order"])
        if returns is not None:
            amount = np.where(returns, -np.abs(amount), amount)
            facts.append(
                f"{_rows(int(returns.sum()))} of invoices starting with C "
                f"({raw.column_name('order')!r}) read as returns"
            )
    return amount, bad_quantity


def note(raw: RawColumns, facts: list[str]) -> list[str]:
    """The one note on the columns used, when detection chose or the rows were reshaped."""
    if raw.choice.note is None and not facts:
        return []
    said = raw.choice.note or f"{raw.source}: {describe(raw.choice, raw.header)}"
    return ["; ".join([said, *facts])]


def whole_number_ids(column: pa.Array) -> tuple[pa.Array, str | None]:
    """The ids with ``.0`` dropped when every one is a whole number (``17850.0``), and
    an example of such an id (None when the column is left as it is)."""
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return column, None
    # Every id is looked at, wherever the first float-rendered one is: the same rows
    # in another order are the same customers. Ids without ".0" cost one search.
    if not pc.any(pc.fill_null(pc.match_substring(column, ".0"), False)).as_py():
        return column, None
    trimmed = pc.utf8_trim_whitespace(column)
    whole = pc.match_substring_regex(trimmed, _WHOLE_NUMBER)
    empty = pc.equal(trimmed, "")
    if not pc.all(pc.fill_null(pc.or_(whole, empty), True)).as_py():
        return column, None
    rendered = pc.fill_null(pc.match_substring_regex(trimmed, _FLOAT_ZERO), False)
    example = trimmed[pc.index(rendered, True).as_py()].as_py()
    return pc.replace_substring_regex(trimmed, _FLOAT_ZERO, ""), example


def order_lines(amount: pa.Array, order: pa.Array) -> np.ndarray | None:
    """Rows with no amount whose order number has a row with an amount (None if none).

    Such a row is a further line of an order whose total another row holds.
    """
    no_amount = _empty(amount)
    if not no_amount.any():
        return None
    encoded = pc.dictionary_encode(order.cast(pa.string()))
    blank = _empty(encoded.dictionary)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    named = codes >= 0
    named[named] = ~blank[codes[named]]
    counted = np.zeros(len(encoded.dictionary), dtype=bool)
    counted[codes[named & ~no_amount]] = True
    lines = no_amount & named
    lines[lines] = counted[codes[lines]]
    return lines if lines.any() else None


def return_invoices(order: pa.Array) -> np.ndarray | None:
    """Rows of a return invoice (``C536379``) in a column of numbered invoices, or None."""
    if not (pa.types.is_string(order.type) or pa.types.is_large_string(order.type)):
        return None
    maybe = pc.fill_null(pc.starts_with(order, "C"), False)
    if not pc.any(maybe).as_py():
        return None
    trimmed = pc.utf8_trim_whitespace(order)
    returns = pc.fill_null(pc.match_substring_regex(trimmed, r"^C[0-9]+$"), False)
    numbered = pc.any(pc.match_substring_regex(trimmed, r"^[0-9]+$")).as_py()
    if not numbered or not pc.any(returns).as_py():
        return None
    return returns.to_numpy(zero_copy_only=False)


def _empty(column: pa.Array) -> np.ndarray:
    """Cells with nothing in them: null, empty or blanks only."""
    empty = pc.is_null(column)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        blank = pc.or_(pc.equal(pc.binary_length(column), 0), pc.utf8_is_space(column))
        empty = pc.or_(empty, pc.fill_null(blank, True))
    return empty.to_numpy(zero_copy_only=False)


def _check_repeats(raw: RawColumns) -> None:
    """A bare ``id`` with a new value on every row numbers rows, not customers."""
    column = raw.columns["customer"]
    if len(column) > 1 and pc.count_distinct(column).as_py() == len(column):
        name = raw.column_name("customer")
        raise InputError(
            f"{raw.source}: column '{name}' has a different value on every row, so it "
            "numbers the rows rather than the customers",
            "name the customer column with --customer-col (--customer-col "
            f"'{name}' if it is the customer)",
        )


def _without(raw: RawColumns, rows: np.ndarray) -> RawColumns:
    """The columns without ``rows``; rows are still reported by their place in the file."""
    keep = ~rows
    kept = np.flatnonzero(keep)
    mask = pa.array(keep)
    locate = raw.locate
    shorter = dataclasses.replace(
        raw,
        columns={role: column.filter(mask) for role, column in raw.columns.items()},
        locate=lambda row: locate(int(kept[row])),
    )
    raw.columns.clear()  # the reader consumes its columns: hold the rows once
    return shorter


def _rows(count: int) -> str:
    return "1 row" if count == 1 else f"{count:,} rows"
