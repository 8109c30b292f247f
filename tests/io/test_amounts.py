"""clvcli.io.amounts: every form of amount shops export, and the bad ones."""

from __future__ import annotations

import decimal

import numpy as np
import pyarrow as pa
import pytest

from clvcli.io.amounts import AmountProblem, decimal_floats, parse_amounts


def parse(values: list[str | None]) -> tuple[list[float], list[bool]]:
    amounts, bad = parse_amounts(pa.array(values, type=pa.string()))
    assert amounts.dtype == np.float64
    assert bad.dtype == bool
    return amounts.tolist(), bad.tolist()


def one(value: str) -> float:
    amounts, bad = parse([value])
    assert bad == [False], f"{value!r} was rejected"
    return amounts[0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1250000", 1_250_000.0),
        ("0", 0.0),
        ("12.5", 12.5),
        ("0.75", 0.75),
        (".5", 0.5),
        ("+42", 42.0),
        ("  42  ", 42.0),
        ("1,250,000", 1_250_000.0),
        ("1,250,000.50", 1_250_000.5),
        ("1 250 000", 1_250_000.0),
        ("1\u00a0250\u00a0000", 1_250_000.0),
        ("1٬250٬000", 1_250_000.0),
        ("1،250،000", 1_250_000.0),
        ("۱۲۵۰۰۰۰", 1_250_000.0),
        ("١٢٥٠٠٠٠", 1_250_000.0),
        ("۱٬۲۵۰٬۰۰۰", 1_250_000.0),
        ("١٬٢٥٠٬٠٠٠", 1_250_000.0),
        ("۱۲٫۵", 12.5),
        ("۱٬۲۵۰٬۰۰۰ تومان", 1_250_000.0),
        ("1,250,000 تومان", 1_250_000.0),
        ("تومان 1250000", 1_250_000.0),
        ("12500000 ریال", 12_500_000.0),
        ("12500000 ريال", 12_500_000.0),  # Arabic yeh
        ("۱۲٬۵۰۰٬۰۰۰ ریال", 12_500_000.0),
        ("1250000 Toman", 1_250_000.0),
        ("1250000 tomans", 1_250_000.0),  # the plural is in the list of currency words
        ("1,250,000 rials", 1_250_000.0),
        ("1250000 IRR", 1_250_000.0),
        ("$1,200.50", 1200.5),
        ("€99", 99.0),
        ("-1200", -1200.0),
        ("\u22121200", -1200.0),
        ("(1200)", -1200.0),
        ("(1,200.00)", -1200.0),
        ("(۱٬۲۰۰)", -1200.0),
        ("1200-", -1200.0),
        ("۱۲۰۰-", -1200.0),
        ("۱٬۲۰۰-", -1200.0),
        ("-۱٬۲۵۰٬۰۰۰ تومان", -1_250_000.0),
        ("\u200f۱۲۵۰\u200e", 1250.0),
        ("1e3", 1000.0),
    ],
)
def test_each_form(value, expected):
    assert one(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "NaN",
        "nan",
        "inf",
        "-inf",
        "Infinity",
        "abc",
        "12abc",
        "1.2.3",
        "--5",
        "(12",
        "12)",
        "تومان",
        "1e999",
        "N/A",
        "-",
    ],
)
def test_bad_values(value):
    amounts, bad = parse([value, "10"])
    assert bad == [True, False]
    assert np.isnan(amounts[0])
    assert amounts[1] == 10.0


@pytest.mark.parametrize("value", ["NaN", "inf", "-inf"])
def test_non_finite_alone_is_bad(value):
    # Arrow can cast these without error; they must still be rejected.
    amounts, bad = parse([value])
    assert bad == [True]
    assert np.isnan(amounts[0])


def test_plain_column_uses_no_cleaning_and_keeps_values():
    amounts, bad = parse(["10", "20.5", "-3", "10"])
    assert amounts == [10.0, 20.5, -3.0, 10.0]
    assert bad == [False] * 4


def test_mixed_column_maps_each_distinct_value_back():
    values = ["1,000,000", None, "۲٬۰۰۰", "1,000,000", "(50)", "bad", "۲٬۰۰۰", ""]
    amounts, bad = parse(values)
    assert bad == [False, True, False, False, False, True, False, True]
    assert [a for a, b in zip(amounts, bad, strict=True) if not b] == [
        1_000_000.0,
        2000.0,
        1_000_000.0,
        -50.0,
        2000.0,
    ]
    assert all(np.isnan(a) for a, b in zip(amounts, bad, strict=True) if b)


def test_all_null_column():
    amounts, bad = parse_amounts(pa.array([None, None], type=pa.string()))
    assert bad.tolist() == [True, True]
    assert np.isnan(amounts).all()


def test_empty_column():
    amounts, bad = parse_amounts(pa.array([], type=pa.string()))
    assert amounts.tolist() == []
    assert bad.tolist() == []


def test_integer_column():
    amounts, bad = parse_amounts(pa.array([1_250_000, -200, None], type=pa.int64()))
    assert amounts.tolist()[:2] == [1_250_000.0, -200.0]
    assert np.isnan(amounts[2])
    assert bad.tolist() == [False, False, True]


def test_float_column_rejects_nan_and_inf():
    amounts, bad = parse_amounts(
        pa.array([1.5, float("nan"), float("inf"), -float("inf"), None], type=pa.float64())
    )
    assert amounts[0] == 1.5
    assert bad.tolist() == [False, True, True, True, True]


def test_decimal_column():
    column = pa.array(
        [decimal.Decimal("1250000.50"), decimal.Decimal("-3.25"), None],
        type=pa.decimal128(12, 2),
    )
    amounts, bad = parse_amounts(column)
    assert amounts.tolist()[:2] == [1_250_000.5, -3.25]
    assert bad.tolist() == [False, False, True]


def test_chunked_column():
    column = pa.chunked_array([pa.array(["1,000.50", "x"]), pa.array(["۵۰۰"])])
    amounts, bad = parse_amounts(column)
    assert bad.tolist() == [False, True, False]
    assert amounts[0] == 1000.5
    assert amounts[2] == 500.0


def test_plain_numbers_read_as_the_distinct_values_do():
    """A column of plain numbers is cast at once; one messy cell sends it the long way."""
    from clvcli.io import amounts

    plain = pa.array(["12.5", "1e3", "-4", "0.1", "7"] * 1000)
    values, bad = parse_amounts(plain)
    assert amounts._plain_numbers(plain) is not None
    assert values[:5].tolist() == [12.5, 1000.0, -4.0, 0.1, 7.0] and not bad.any()
    messy = pa.array(["12.5", "1,250", "۱۲", None, "inf", "7"])
    assert amounts._plain_numbers(messy) is None
    values, bad = parse_amounts(messy)
    assert values[:3].tolist() == [12.5, 1250.0, 12.0]
    assert bad.tolist() == [False, False, False, True, True, False]
    assert amounts._plain_numbers(pa.array(["1", "inf"])) is None


@pytest.mark.parametrize(
    ("values", "named"),
    [
        (["100 تومان", "1000 ریال", "50 تومان"], ("'ریال' and 'تومان'", "a toman is ten rials")),
        (["100 toman", "۱۲۰ IRR"], ("'IRR' and 'toman'", "a toman is ten rials")),
        (["$100", "100 EUR"], ("'$' and 'EUR'", "one currency first")),
        (["$100", "R$ 12"], ("'$' and 'R$'", "one currency first")),
    ],
)
def test_a_column_in_two_currencies_is_refused(values, named):
    """Added as they are, 100 toman and 1000 rial make 1100, where both are 100 toman."""
    with pytest.raises(AmountProblem) as refused:
        parse_amounts(pa.array(values))
    assert named[0] in str(refused.value) and named[1] in refused.value.hint


def test_one_currency_under_its_names_and_signs_is_read():
    values, bad = parse_amounts(pa.array(["100 تومان", "20 toman", "3 IRT", "4", "۵ تومان"]))
    assert values.tolist() == [100, 20, 3, 4, 5] and not bad.any()
    values, _ = parse_amounts(pa.array(["$1.50", "USD 2", "3 usd"]))
    assert values.tolist() == [1.5, 2, 3]


def test_decimal_amounts_are_read_as_the_nearest_float():
    """Arrow's cast of decimal128(12, 4) missed the nearest float for about a third of
    the values (8.5300 read as 8.530000000000001), so sums and means ending in half a
    cent came out a cent apart from DuckDB's, which casts exactly."""
    rng = np.random.default_rng(3)
    texts = [f"{v / 10_000:.4f}" for v in rng.integers(-(10**9), 10**10, 5_000)]
    nearest = np.array([float(t) for t in texts])
    column = pa.array([decimal.Decimal(t) for t in texts], pa.decimal128(15, 4))
    assert np.array_equal(decimal_floats(column), nearest)
    assert np.array_equal(decimal_floats(column.slice(7)), nearest[7:])  # an offset
    assert decimal_floats(pa.array([decimal.Decimal("8.5300")], pa.decimal128(12, 4)))[0] == 8.53
    for wide in (pa.decimal128(30, 4), pa.decimal256(40, 4)):  # through their text
        assert np.array_equal(decimal_floats(column.cast(wide)), nearest)
    with_empty = pa.array([decimal.Decimal("1.25"), None], pa.decimal128(12, 2))
    values = decimal_floats(with_empty)
    assert values[0] == 1.25 and np.isnan(values[1])
