"""The decimal mark of an amount column: inferred from all its values, or forced.

A comma or a point followed by exactly three digits may group thousands or mark
decimals; anything else about a column (``12,50``, ``1.286,01``, ``1,234,567``)
says which. Reading such a column the wrong way is 100 or 1000 times off, so a
column that says both, or nothing, is refused rather than guessed.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from clvcli.io import amounts
from clvcli.io.amounts import AmountProblem, parse_amounts


def read(values: list[str | None], decimal: str | None = None) -> tuple[list[float], list[bool]]:
    parsed, bad = parse_amounts(pa.array(values, type=pa.string()), decimal)
    return parsed.tolist(), bad.tolist()


def good(values: list[str], decimal: str | None = None) -> list[float]:
    parsed, bad = read(values, decimal)
    assert not any(bad), f"rejected: {[v for v, b in zip(values, bad, strict=True) if b]}"
    return parsed


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # A comma before one, two or four digits is no thousands group.
        (["11,77"], [11.77]),
        (["12,50", "3,5"], [12.5, 3.5]),
        (["0,99"], [0.99]),
        (["1,2345"], [1.2345]),
        # ...and once a column's comma is decimal, "1,234" in it is 1.234.
        (["12,50", "1,234"], [12.5, 1.234]),
        # A leading zero is no thousands group either.
        (["0,500"], [0.5]),
        (["0.500"], [0.5]),
        # European: point groups, comma decimal.
        (["1.286,01"], [1286.01]),
        (["1.286,01", "11,77", "1.000"], [1286.01, 11.77, 1000.0]),
        (["1.234.567,89"], [1_234_567.89]),
        # English: comma groups, point decimal.
        (["1,286.01"], [1286.01]),
        (["1,286.01", "11.77", "1,000"], [1286.01, 11.77, 1000.0]),
        (["12.50", "1.234"], [12.5, 1.234]),
        # Spaces group thousands (plain, no-break, narrow no-break), either mark.
        (["1 234,56"], [1234.56]),
        (["1\u00a0234,56", "12,5"], [1234.56, 12.5]),
        (["1\u202f234\u202f567,89"], [1_234_567.89]),
        (["1 234.56"], [1234.56]),
        (["1 234"], [1234.0]),
        # Swiss apostrophes.
        (["1'234.50"], [1234.5]),
        # Several groups are thousands, whichever the mark.
        (["1,234,567"], [1_234_567.0]),
        (["1.234.567"], [1_234_567.0]),
        # Indian grouping (lakh, crore).
        (["1,23,456.78"], [123_456.78]),
        # Integers and exponents say nothing and need nothing.
        (["1250", "-3", "1e3"], [1250.0, -3.0, 1000.0]),
        # Three decimals, once another value shows the point is decimal.
        (["12.500", "0.125", "7"], [12.5, 0.125, 7.0]),
    ],
)
def test_inferred_mark(values, expected):
    assert good(values) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["۱۲٫۵"], [12.5]),
        (["۱٬۲۸۶٫۰۱"], [1286.01]),
        (["۱٬۲۵۰٬۰۰۰ تومان"], [1_250_000.0]),
        (["۱۲۰٬۰۰۰"], [120_000.0]),  # ٬ is never a decimal mark
        (["۱۲۰٬۰۰۰", "۱۲٫۵"], [120_000.0, 12.5]),
        (["۱۲٫۵", "۱۲,۵"], [12.5, 12.5]),  # ٫ is decimal whatever the column's mark
        (["۱٬۲۰۰-"], [-1200.0]),
        (["۱۲۵۰۰۰۰ ریال", "۱٫۵"], [1_250_000.0, 1.5]),
    ],
)
def test_persian_forms(values, expected):
    assert good(values) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-1.286,01", -1286.01),
        ("(1.286,01)", -1286.01),
        ("1.286,01-", -1286.01),
        ("\u22121.286,01", -1286.01),
        ("+1.286,01", 1286.01),
        ("- 1 286,01", -1286.01),
        ("-1,286.01", -1286.01),
        ("(1,286.01)", -1286.01),
    ],
)
def test_negatives(value, expected):
    decided_by = "11,77" if value.index(",") > value.find(".") else "11.77"
    assert good([value, decided_by])[0] == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["€ 1.286,01", "11,77 €"], [1286.01, 11.77]),
        (["1.286,01 EUR", "EUR 11,77"], [1286.01, 11.77]),
        (["$1,286.01", "USD 11.77"], [1286.01, 11.77]),
        (["1.250.000 تومان", "12,5 تومان"], [1_250_000.0, 12.5]),
        (["£(1,286.01)"], [-1286.01]),
        (["R$ 1.286,01", "R$ 11,77"], [1286.01, 11.77]),
    ],
)
def test_currency_words_around_numbers(values, expected):
    assert good(values) == expected


@pytest.mark.parametrize(
    ("values", "first"),
    [
        (["1,234"], "'1,234'"),
        (["1.234"], "'1.234'"),
        (["1,234", "2,500", "3,000", "4,750", "500"], "'1,234', '2,500', '3,000'"),
        (["1.286", "250", "12.000"], "'1.286', '12.000'"),
        (["(1,200)"], "'(1,200)'"),
        (["1,234 تومان", "۲٬۵۰۰"], "'1,234 تومان'"),
    ],
)
def test_ambiguous_column_is_refused(values, first):
    with pytest.raises(AmountProblem) as caught:
        read(values)
    message = str(caught.value)
    assert message.startswith(f"amounts such as {first} could use ")
    assert "as the decimal mark or to group thousands" in message
    assert "--decimal ." in caught.value.hint and "--decimal ," in caught.value.hint
    assert len(message.splitlines()) == 1


def test_ambiguous_hint_says_what_each_mark_gives():
    with pytest.raises(AmountProblem) as caught:
        read(["1.286", "2.500"])
    assert caught.value.hint == (
        "say which mark is the decimal one: --decimal . reads '1.286' as 1.286, --decimal , as 1286"
    )


@pytest.mark.parametrize(
    "values",
    [
        ["1,286.01", "12,50"],
        ["12.50", "12,50"],  # a single "12,50" in a dot-decimal file
        ["11.77"] * 50 + ["12,50"],
        ["1.286,01", "1,286.01"],
        ["1.234.567", "1,234,567"],
    ],
)
def test_column_mixing_marks_is_refused(values):
    with pytest.raises(AmountProblem) as caught:
        read(values)
    assert str(caught.value).startswith("amounts mix decimal marks: '")
    assert "--decimal" in caught.value.hint


def test_forced_comma():
    values, bad = read(["1.286,01", "11,77", "1,234", "1.234", "12.50", "1,286.01"], ",")
    assert values[:4] == [1286.01, 11.77, 1.234, 1234.0]
    assert bad == [False] * 4 + [True, True]


def test_forced_point():
    values, bad = read(["1,286.01", "11.77", "1,234", "1.234", "1.286,01", "12,50"], ".")
    assert values[:4] == [1286.01, 11.77, 1234.0, 1.234]
    assert bad == [False] * 4 + [True, True]


def test_forced_mark_settles_a_mixed_column():
    values, bad = read(["11.77", "12,50"], ".")
    assert values[0] == 11.77 and bad == [False, True]


def test_forced_point_keeps_the_plain_cast():
    assert good(["1.234", "5"], ".") == [1.234, 5.0]


def test_unknown_mark_is_a_programming_error():
    with pytest.raises(ValueError, match="decimal mark"):
        read(["1"], ";")


@pytest.mark.parametrize("value", ["1.2.3", "12,5,0", "1.2,3", "12 50", "1.23,456", "1,,234", ","])
def test_malformed_numbers_are_bad_not_guessed(value):
    values, bad = read([value, "12,50"])
    assert bad == [True, False] and np.isnan(values[0])


def test_bad_cells_say_nothing_about_the_mark():
    # "abc" and empty cells fit neither reading; the rest of the column decides.
    values, bad = read(["abc", "", "11,77", None])
    assert bad == [True, True, False, True]
    assert values[2] == 11.77


def test_typed_columns_need_no_mark():
    parsed, bad = parse_amounts(pa.array([1.234, 12.5]))
    assert parsed.tolist() == [1.234, 12.5] and not bad.any()


def test_plain_cells_that_may_be_groups_leave_the_fast_path():
    assert amounts._may_hold_groups(pa.array(["12.50", "1.234"]))
    assert amounts._may_hold_groups(pa.array(["-1.234"]))
    assert not amounts._may_hold_groups(pa.array(["12.50", "1.5", "100", "1234"]))
    assert not amounts._may_hold_groups(pa.array(["1.234", "12.5"]).slice(1))
    assert amounts._plain_numbers(pa.array(["12.50", "1.5"])) is not None
    assert amounts._plain_numbers(pa.array(["12.50", "1.234"])) is None
    assert amounts._plain_numbers(pa.array(["12.50", "1.234"]), check_groups=False) is not None


def test_many_rows_map_back_through_the_distinct_values():
    rng = np.random.default_rng(42)
    cents = rng.integers(0, 500_000, size=20_000)
    text = [f"{c / 100:,.2f}".translate(str.maketrans(",.", ".,")) for c in cents]
    values, bad = read(text)
    assert not any(bad)
    assert np.array_equal(np.round(np.asarray(values) * 100), cents)


def test_a_column_of_ambiguous_numbers_could_hold_amounts():
    from clvcli.io.amountless import could_hold_amounts

    assert could_hold_amounts(pa.array(["1,234", "2,500"]))
    assert not could_hold_amounts(pa.array(["gift", "card"]))
