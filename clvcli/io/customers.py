"""Reading a customer list: who the business knows, their channel and what each cost.

A customer list has a customer column (named as in transaction logs) and optionally a
``channel`` and an ``acquisition_cost`` column, in English or Persian. Listed customers
who never bought are the ``potential`` stage; the channel of a listed customer wins
over the channel of their first purchase; the costs feed `clv cac` per customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.errors import InputError
from clvcli.io.amounts import AmountProblem, parse_amounts
from clvcli.io.columns import find_column, listed_columns
from clvcli.io.readers import channel_labels
from clvcli.io.source import load_input, read_records
from clvcli.io.text import header_key, normalise_id_column
from clvcli.shown import quote_value

_COST_NAMES = (
    "acquisition cost",
    "acquisitioncost",
    "cac",
    "cost",
    "هزینه جذب",
    "هزینه",
    "هزینه جذب مشتری",
)
# Where a row of the file is, for messages: "row 3 (line 5)".
Locate = Callable[[int], str]
_HINT = "a customer list has customer_id and optionally channel and acquisition_cost"


@dataclass(frozen=True)
class CustomerList:
    """Normalised ids (unique), and channel and acquisition cost when the file has them."""

    name: str
    ids: np.ndarray
    channel: np.ndarray | None
    acquisition_cost: np.ndarray | None


def read_customer_list(path: str, decimal: str | None = None) -> CustomerList:
    """The customer list at ``path``, its ids normalised as transaction ids are.

    ``decimal`` is the decimal mark of acquisition costs (None: inferred).
    """
    loaded = load_input(path)
    table, locate = read_records(loaded)
    header = list(table.column_names)
    customer = find_column(header, "customer")
    if customer is None:
        raise InputError(
            f"{loaded.name}: no customer column found; columns are: {listed_columns(header)}",
            _HINT,
        )
    if table.num_rows == 0:
        raise InputError(f"{loaded.name}: has a header but no rows", None)
    ids = normalise_id_column(table.column(customer).combine_chunks())
    empty = pc.fill_null(pc.equal(ids, ""), True).to_numpy(zero_copy_only=False)
    if empty.any():
        _bad_row(loaded.name, locate, header[customer], empty, "the customer id is empty", _HINT)
    ids = ids.to_numpy(zero_copy_only=False).astype(object)
    _refuse_repeats(loaded.name, locate, header[customer], ids)
    channel = _channel(table, header)
    cost = _cost(table, header, loaded.name, locate, decimal)
    order = np.argsort(ids, kind="stable")
    return CustomerList(
        loaded.name,
        ids[order],
        None if channel is None else channel[order],
        None if cost is None else cost[order],
    )


def _refuse_repeats(name: str, locate: Locate, column: str, ids: np.ndarray) -> None:
    order = np.argsort(ids, kind="stable")
    repeat = np.flatnonzero(ids[order][1:] == ids[order][:-1])
    if len(repeat):
        first, second = sorted(order[repeat[0] : repeat[0] + 2])
        raise InputError(
            f"{name}: customer {quote_value(ids[first])} is listed twice ({locate(first)} and "
            f"{locate(second)}), column '{column}'",
            "list each customer once, with their total acquisition cost",
        )


def _channel(table: pa.Table, header: list[str]) -> np.ndarray | None:
    position = find_column(header, "channel")
    return None if position is None else channel_labels(table.column(position).combine_chunks())


def _cost(
    table: pa.Table, header: list[str], name: str, locate: Locate, decimal: str | None
) -> np.ndarray | None:
    keys = [header_key(column) for column in header]
    position = next((keys.index(n) for n in _COST_NAMES if n in keys), None)
    if position is None:
        return None
    column = table.column(position).combine_chunks()
    try:
        cost, bad = parse_amounts(column, decimal)
    except AmountProblem as exc:
        raise InputError(f"{name}, column '{header[position]}': {exc}", exc.hint) from None
    hint = "acquisition_cost is a number >= 0 (empty when unknown)"
    blank = pc.fill_null(
        pc.equal(pc.utf8_trim_whitespace(column.cast(pa.string())), ""), True
    ).to_numpy(zero_copy_only=False)
    bad &= ~blank
    if bad.any():
        value = quote_value(column[int(np.flatnonzero(bad)[0])].as_py())
        _bad_row(name, locate, header[position], bad, f"cannot read {value} as an amount", hint)
    negative = ~blank & (cost < 0)
    if negative.any():
        value = quote_value(column[int(np.flatnonzero(negative)[0])].as_py())
        _bad_row(name, locate, header[position], negative, f"cost {value} is negative", hint)
    return np.where(blank, np.nan, cost)


def _bad_row(
    name: str, locate: Locate, column: str, bad: np.ndarray, problem: str, hint: str
) -> None:
    row = int(np.flatnonzero(bad)[0])
    raise InputError(f"{name}: {locate(row)}, column '{column}': {problem}", hint)
