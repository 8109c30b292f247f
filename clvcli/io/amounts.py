"""Reading money amounts as exported by shops and accounting systems.

Amounts arrive as ``1250000``, ``1,250,000.50``, ``1.286,01``, ``1 234,56``,
``۱٬۲۵۰٬۰۰۰ تومان``, ``(1,200)`` or ``۱۲۰۰-`` (a minus that a right-to-left editor
moved behind the number). Whether ``,`` or ``.`` is the decimal mark is decided
once per column from all its distinct values, never value by value: ``12,50``
cannot be a thousands group (a group has three digits), so it makes the comma the
decimal mark of the whole column, and ``1,234`` then reads as 1.234. A column
whose values say both, or nothing (every separator followed by exactly three
digits), is refused, since reading it either way could be 1000 times off.
"""

from __future__ import annotations

import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.io.text import normalise_cells

DECIMAL_MARKS = (",", ".")

# Currency words or signs around the number.
_CURRENCY = r"(?i:تومان|ريال|ریال|tomans?|rials?|irr|irt|usd|eur|gbp|chf|brl|r\$|\$|€|£|¥|₹|₺)"
# The currency each word or sign names (lower case): a column that names two is
# refused, since adding 100 toman to 1000 rial (100 toman too) as 1100 is 5.5 times off.
_UNITS = {
    **dict.fromkeys(("تومان", "toman", "tomans", "irt"), "toman"),
    **dict.fromkeys(("ريال", "ریال", "rial", "rials", "irr"), "rial"),
    **dict.fromkeys(("usd", "$"), "US dollars"),
    **dict.fromkeys(("eur", "€"), "euros"),
    **dict.fromkeys(("gbp", "£"), "pounds"),
    **dict.fromkeys(("brl", "r$"), "reais"),
    "chf": "Swiss francs",
    "¥": "yen",
    "₹": "rupees",
    "₺": "lira",
}
# Separators that are never a decimal mark: spaces (plain, no-break, narrow
# no-break), apostrophes (Swiss), the Arabic thousands separator and Arabic comma.
_GROUP_ONLY = r"[\s\x{00a0}\x{202f}'’٬،]"
# After cleaning, a number's body holds digits, "_" for a separator that is never
# a decimal mark, "," and ".", and "٫" (the Arabic decimal separator, always one).
_BODY = r"^[0-9_,.٫]*[0-9][0-9_,.٫]*([eE][+-]?[0-9]+)?$"
# One thousands separator followed by exactly three digits: a thousands group if
# the column's decimal mark is the other one, the decimal part if it is this one.
_AMBIGUOUS = r"^[+-]?[1-9][0-9]{0,2}[,.][0-9]{3}$"


class AmountProblem(ValueError):
    """A column-wide amount problem (decimal mark); the reader names file and column."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def decimal_floats(column: pa.Array) -> np.ndarray:
    """Decimal amounts as the nearest float64 (NaN where empty).

    Arrow's own cast misses the nearest float for about a third of them (8.5300 gives
    8.530000000000001), which moved sums and means by a cent against DuckDB's, which
    casts exactly. Up to 15 digits the unscaled integer, exact as a float, is divided
    by the power of ten, one correctly rounded division; wider decimals go through
    their text, which Arrow parses exactly.
    """
    kind = column.type
    if (
        pa.types.is_decimal128(kind)
        and kind.precision <= 15
        and 0 <= kind.scale <= 22
        and sys.byteorder == "little"
    ):
        words = np.frombuffer(column.buffers()[1], dtype=np.int64)
        start = 2 * column.offset
        values = words[start : start + 2 * len(column) : 2] / 10.0**kind.scale
    else:
        values = pc.cast(column.cast(pa.string()), pa.float64()).to_numpy(zero_copy_only=False)
        values = np.asarray(values, dtype=np.float64)
    if column.null_count:
        values[pc.is_null(column).to_numpy(zero_copy_only=False)] = np.nan
    return values


def parse_amounts(
    column: pa.Array | pa.ChunkedArray, decimal: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Amounts as float64, and a mask of the cells that are not a finite number.

    ``decimal`` forces the decimal mark (``","`` or ``"."``); a value written with
    the other one is then a bad cell. Left None, the mark is inferred from the
    column; :class:`AmountProblem` says why it cannot be.
    """
    if decimal is not None and decimal not in DECIMAL_MARKS:
        raise ValueError(f"decimal mark must be ',' or '.', not {decimal!r}")
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        if column.null_count:
            values = np.where(pc.is_null(column).to_numpy(zero_copy_only=False), np.nan, values)
        return values, ~np.isfinite(values)
    if pa.types.is_decimal(column.type):
        values = decimal_floats(column)
        return values, ~np.isfinite(values)
    column = column.cast(pa.string())
    if decimal != ",":
        plain = _plain_numbers(column, check_groups=decimal is None)
        if plain is not None:
            return plain, np.zeros(len(plain), dtype=bool)
    encoded = pc.dictionary_encode(column)
    distinct_values, distinct_bad = _parse_distinct(encoded.dictionary, decimal)
    null_rows = pc.is_null(encoded.indices).to_numpy(zero_copy_only=False)
    indices = pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False)
    if len(distinct_values) == 0:
        return np.full(len(column), np.nan), np.ones(len(column), dtype=bool)
    bad = distinct_bad[indices] | null_rows
    return np.where(bad, np.nan, distinct_values[indices]), bad


def _plain_numbers(column: pa.Array, *, check_groups: bool = True) -> np.ndarray | None:
    """The column as float64 if every cell is a plain finite number, else None.

    Most exports write plain numbers: one cast of all cells costs half of hashing
    them for the distinct values. A cell such as ``1.234`` casts too, though it may
    be a thousands group: with ``check_groups``, a column holding any such cell goes
    the long way, where its decimal mark is decided.
    """
    if column.null_count:
        return None
    values = _cast(column)
    if values is None:
        return None
    if not np.isfinite(values).all():
        return None
    if check_groups and _may_hold_groups(column):
        return None
    return values


def _cast(cells: pa.Array) -> np.ndarray | None:
    """The cells as float64 if Arrow casts every one, else None.

    A cast that fails costs far more than one that succeeds (seconds for millions of
    cells), so the first cells are tried alone: a column of ``1.286,01`` fails there.
    """
    try:
        if len(cells) > _TRIAL_CELLS:
            pc.cast(cells.slice(0, _TRIAL_CELLS), pa.float64())
        return pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


_TRIAL_CELLS = 1024


def _may_hold_groups(column: pa.Array) -> bool:
    """Whether any cell has its point before exactly three last digits (``1.234``).

    Read straight from the cells' bytes: one comparison per cell, where a regex
    over every cell would cost three times the cast itself.
    """
    data_buffer = column.buffers()[2]
    if len(column) == 0 or data_buffer is None:
        return False
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)
    offsets = offsets[column.offset : column.offset + len(column) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    mark = offsets[1:] - 4
    mark = mark[mark > offsets[:-1]]
    return bool((data[mark] == ord(".")).any())


def _integer_part(group: str) -> str:
    """Digits, or digits grouped by threes (or the Indian 1,23,456) with ``group``."""
    threes = rf"[1-9][0-9]{{0,2}}(?:{group}[0-9]{{3}})+"
    indian = rf"[1-9][0-9]?(?:{group}[0-9]{{2}})+{group}[0-9]{{3}}"
    return rf"(?:[0-9]+|{threes}|{indian})"


def _number(mark: str) -> str:
    """A number whose decimal mark is ``mark`` (or ``٫``); the other of , . groups."""
    other = "," if mark == "." else "."
    whole = _integer_part(rf"[_\{other}]")
    return rf"^(?:{whole}(?:[\{mark}٫][0-9]*)?|[\{mark}٫][0-9]+)(?:[eE][+-]?[0-9]+)?$"


def _one_currency(values: pa.Array) -> None:
    """:class:`AmountProblem` when the values name more than one currency (values
    that name none are taken to be in the one the others name)."""
    named = pc.struct_field(pc.extract_regex(values, f"(?P<unit>{_CURRENCY})"), [0])
    words = [w for w in pc.unique(named).to_pylist() if w is not None]
    units = {_UNITS.get(w.lower(), w.lower()): w for w in words}
    if len(units) > 1:
        iranian = {"toman", "rial"} <= units.keys()
        first, second = ("rial", "toman") if iranian else sorted(units)[:2]
        raise AmountProblem(
            f"amounts in more than one currency ({units[first]!r} and {units[second]!r}), "
            "which clv would add up as they are",
            "convert them to one currency first" + (" (a toman is ten rials)" if iranian else ""),
        )


def _clean(values: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Each value's sign (True for minus) and body, currency words and signs removed.

    Each step runs only when some value needs it: a regex replacing over every
    distinct value costs several times a plain search.
    """
    cleaned = normalise_cells(values)
    if _any(pc.match_substring_regex(cleaned, _CURRENCY)):
        _one_currency(cleaned)
        cleaned = pc.replace_substring_regex(cleaned, _CURRENCY, "")
        cleaned = pc.utf8_trim_whitespace(cleaned)
    if _any(pc.invert(pc.string_is_ascii(cleaned))):
        cleaned = pc.replace_substring(cleaned, "\u2212", "-")
    # Accounting negatives "(1200)" and a trailing minus "1200-".
    if _any(pc.starts_with(cleaned, "(")):
        cleaned = pc.replace_substring_regex(cleaned, r"^\((.+)\)$", "-\\1")
    if _any(pc.ends_with(cleaned, "-")):
        cleaned = pc.replace_substring_regex(cleaned, r"^([0-9][^-+]*)-$", "-\\1")
    minus = pc.fill_null(pc.starts_with(cleaned, "-"), False)
    signed = pc.or_(minus, pc.fill_null(pc.starts_with(cleaned, "+"), False))
    body = pc.if_else(signed, pc.utf8_slice_codeunits(cleaned, 1), cleaned)
    if _any(pc.match_substring_regex(body, _GROUP_ONLY)):
        body = pc.utf8_trim_whitespace(body)
        body = pc.replace_substring_regex(body, _GROUP_ONLY, "_")
    # A value with the Arabic decimal separator has no other decimal mark.
    persian = pc.fill_null(pc.match_substring(body, "٫"), False)
    if _any(persian):
        body = pc.if_else(persian, pc.replace_substring_regex(body, r"[,.]", "_"), body)
    return minus, body


def _any(mask: pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def _read_as(minus: pa.Array, body: pa.Array, mark: str) -> tuple[np.ndarray, np.ndarray]:
    """The values read with ``mark`` as the decimal mark, and which can be."""
    fits = pc.fill_null(pc.match_substring_regex(body, _number(mark)), False)
    other = "," if mark == "." else "."
    text = pc.replace_substring(pc.replace_substring(body, "_", ""), other, "")
    text = pc.replace_substring(pc.replace_substring(text, mark, "."), "٫", ".")
    text = pc.if_else(fits, text, "nan")
    values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    values = np.where(minus.to_numpy(zero_copy_only=False), -values, values)
    fits = fits.to_numpy(zero_copy_only=False) & np.isfinite(values)
    return np.where(fits, values, np.nan), fits


def _parse_distinct(values: pa.Array, decimal: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct value read with the column's decimal mark, and the bad ones."""
    if decimal != ",":
        parsed = _cast(values)
        if (
            parsed is not None
            and np.isfinite(parsed).all()
            and (decimal == "." or not _any(pc.match_substring_regex(values, _AMBIGUOUS)))
        ):
            return parsed, np.zeros(len(parsed), dtype=bool)
    minus, body = _clean(values)
    shaped = pc.fill_null(pc.match_substring_regex(body, _BODY), False)
    body = pc.if_else(shaped, body, "")
    if decimal is None:
        decimal = _decide(values, minus, body)
    parsed, fits = _read_as(minus, body, decimal)
    return parsed, ~fits


def _decide(values: pa.Array, minus: pa.Array, body: pa.Array) -> str:
    """The column's decimal mark from the values only one reading fits."""
    point_fits = pc.fill_null(pc.match_substring_regex(body, _number(".")), False)
    comma_fits = pc.fill_null(pc.match_substring_regex(body, _number(",")), False)
    point_fits = point_fits.to_numpy(zero_copy_only=False)
    comma_fits = comma_fits.to_numpy(zero_copy_only=False)
    only_point = point_fits & ~comma_fits
    only_comma = comma_fits & ~point_fits
    if only_point.any() and only_comma.any():
        with_point = _examples(values, only_point, 1)[0]
        with_comma = _examples(values, only_comma, 1)[0]
        raise mixed_marks(with_point, with_comma)
    if only_comma.any():
        return ","
    if only_point.any():
        return "."
    # Read either way, a value holding , or . means two different amounts.
    marked = pc.fill_null(pc.match_substring_regex(body, r"[,.]"), False)
    differ = point_fits & comma_fits & marked.to_numpy(zero_copy_only=False)
    if differ.any():
        first = int(np.flatnonzero(differ)[0])
        one = (minus[first : first + 1], body[first : first + 1])
        as_point, as_comma = (_read_as(*one, mark)[0][0] for mark in DECIMAL_MARKS[::-1])
        raise ambiguous_marks(_examples(values, differ, 3), as_point, as_comma)
    return "."


def mixed_marks(with_point: str, with_comma: str) -> AmountProblem:
    """The refusal of a column with amounts in both decimal marks."""
    return AmountProblem(
        f"amounts mix decimal marks: '{with_point}' has a decimal point, "
        f"'{with_comma}' a decimal comma",
        "fix the file, or say which mark it uses with --decimal . or --decimal , "
        "(amounts written with the other are then bad rows)",
    )


def ambiguous_marks(examples: list[str], as_point: float, as_comma: float) -> AmountProblem:
    """The refusal of a column that reads either way; ``as_point`` and ``as_comma``
    are the first example read with each mark."""
    listed = ", ".join(f"'{value}'" for value in examples)
    return AmountProblem(
        f"amounts such as {listed} could use '{_mark_in(examples[0])}' as the decimal "
        "mark or to group thousands",
        f"say which mark is the decimal one: --decimal . reads '{examples[0]}' as "
        f"{as_point:g}, --decimal , as {as_comma:g}",
    )


def _examples(values: pa.Array, mask: np.ndarray, most: int) -> list[str]:
    return [str(values[int(i)].as_py()).strip() for i in np.flatnonzero(mask)[:most]]


def _mark_in(value: str) -> str:
    return "," if "," in value else "."
