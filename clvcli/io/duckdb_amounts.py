"""The decimal mark of a CSV's amounts when DuckDB reads the file (--engine duckdb).

DuckDB's CSV sniffer reads ``1.286`` as 1.286 whatever the file meant, and a cell
such as ``11,77`` as text. So before the summary, one pass over the amount column
as text decides the mark as the default engine does: a value such as ``12.50`` or
``11,77`` says which; ``1.234`` alone says nothing, and a column of nothing else
is refused. A decimal comma is then read by DuckDB's own ``decimal_separator``;
what DuckDB cannot read (thousands separators, currency words, Persian digits)
stays an error that points to the default engine.
"""

from __future__ import annotations

from typing import Any

from clvcli.errors import InputError

_AMBIGUOUS = r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}"
_POINT = r"[+-]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
_COMMA = r"[+-]?([0-9]+,[0-9]*|,[0-9]+)([eE][+-]?[0-9]+)?"


def csv_reader(connection: Any, listed: str, amount: str, decimal: str | None, source: str) -> str:
    """The ``read_csv`` expression for the files ``listed``, reading ``amount`` with
    the decimal mark given or found; raises :class:`InputError` when the column's
    mark cannot be told."""
    plain = f"read_csv([{listed}], header = true, union_by_name = true)"
    if decimal is None:
        decimal = _mark(connection, listed, amount, source)
    if decimal == ".":
        return plain
    return (
        f"read_csv([{listed}], header = true, union_by_name = true, "
        f"decimal_separator = ',', types = {{{_text(amount)}: 'DOUBLE'}})"
    )


def check_parquet(
    connection: Any, listed: str, amount: str, decimal: str | None, source: str
) -> None:
    """Refuse Parquet amounts stored as text that DuckDB would read wrongly: a column
    whose decimal mark cannot be told, or a decimal comma (DuckDB casts none)."""
    reader = f"read_parquet([{listed}])"
    kind = connection.execute(f"SELECT typeof({_name(amount)}) FROM {reader} LIMIT 1").fetchone()
    if kind is None or kind[0] != "VARCHAR" or decimal == ".":
        return
    if (decimal or _mark(connection, reader, amount, source)) == ",":
        raise InputError(
            f"{source}, column '{amount}': amounts are text with a decimal comma, "
            "which --engine duckdb cannot read from Parquet",
            "use the default engine",
        )


def _mark(connection: Any, listed_or_reader: str, amount: str, source: str) -> str:
    from clvcli.io.amounts import ambiguous_marks, mixed_marks

    text = (
        listed_or_reader
        if listed_or_reader.startswith("read_parquet(")
        else f"read_csv([{listed_or_reader}], header = true, union_by_name = true, "
        f"types = {{{_text(amount)}: 'VARCHAR'}})"
    )
    cells = f"SELECT trim(CAST({_name(amount)} AS VARCHAR)) AS a FROM {text}"
    ambiguous = f"regexp_full_match(a, '{_AMBIGUOUS}')"
    points, commas, with_point, with_comma, unsure = connection.execute(
        f"SELECT count(*) FILTER (WHERE NOT {ambiguous} AND regexp_full_match(a, '{_POINT}')), "
        f"count(*) FILTER (WHERE NOT {ambiguous} AND regexp_full_match(a, '{_COMMA}')), "
        f"first(a) FILTER (WHERE NOT {ambiguous} AND regexp_full_match(a, '{_POINT}')), "
        f"first(a) FILTER (WHERE NOT {ambiguous} AND regexp_full_match(a, '{_COMMA}')), "
        f"count(*) FILTER (WHERE {ambiguous}) FROM ({cells})"
    ).fetchone()
    where = f"{source}, column '{amount}'"
    if points and commas:
        problem = mixed_marks(with_point, with_comma)
        raise InputError(f"{where}: {problem}", problem.hint)
    if commas:
        return ","
    if points or not unsure:
        return "."
    examples = [
        row[0]
        for row in connection.execute(
            f"SELECT DISTINCT a FROM ({cells}) WHERE {ambiguous} ORDER BY a LIMIT 3"
        ).fetchall()
    ]
    first = examples[0]
    as_point = float(first.replace(",", "."))
    as_comma = float(first.replace(",", "").replace(".", ""))
    if "," in first:
        as_point, as_comma = as_comma, as_point
    problem = ambiguous_marks(examples, as_point, as_comma)
    raise InputError(f"{where}: {problem}", problem.hint)


def _name(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
