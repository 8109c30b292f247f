"""Fractions in CSV and JSON: ten significant digits, the same bytes on every machine."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from clvcli.io.writers import encode, significant
from tests.conftest import SAMPLE


def test_significant_agrees_with_decimal_formatting() -> None:
    rng = np.random.default_rng(7)
    values = np.exp(rng.normal(0, 25, 50_000)) * rng.choice([-1.0, 1.0], 50_000)
    rounded = significant(values)
    expected = np.array([float(f"{v:.10g}") for v in values])
    assert np.array_equal(rounded, expected)


def test_significant_keeps_zero_nan_infinity_and_short_values() -> None:
    values = np.array([0.0, np.nan, np.inf, -np.inf, 1.5, 1e300, 5e-324, 12.0])
    rounded = significant(values)
    assert rounded[0] == 0 and np.isnan(rounded[1])
    assert list(rounded[2:]) == [np.inf, -np.inf, 1.5, 1e300, float("4.940656458e-324"), 12.0]


def test_last_bits_of_a_model_output_do_not_change_the_bytes() -> None:
    """What another CPU gives: the same value but for its last bits."""
    rng = np.random.default_rng(11)
    values = rng.random(10_000)
    nudged = np.nextafter(values, 2.0)
    frame = pd.DataFrame({"customer_id": ["c"] * len(values), "p_alive": values})
    other = frame.assign(p_alive=nudged)
    for fmt in ("csv", "json", "jsonl"):
        same = encode(frame, fmt) == encode(other, fmt)
        # A value within a few units of the 17th digit of a rounding tie may differ.
        assert same or _differing_rows(frame, other, fmt) <= 2


def _differing_rows(a: pd.DataFrame, b: pd.DataFrame, fmt: str) -> int:
    left, right = encode(a, fmt).splitlines(), encode(b, fmt).splitlines()
    return sum(x != y for x, y in zip(left, right, strict=True))


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl"])
def test_text_formats_write_ten_digits_and_money_in_cents(fmt: str) -> None:
    frame = pd.DataFrame(
        {"recency": [10 / 7], "p_alive": [0.003018698861167536], "total_clv": [526.126]}
    )
    text = encode(frame, fmt, ["total_clv"]).decode()
    assert "1.428571429" in text and "0.003018698861" in text and "526.13" in text
    assert "1.4285714285" not in text and "0.0030186988611" not in text


def test_json_numbers_are_rounded_too() -> None:
    frame = pd.DataFrame({"T": [730 / 7], "orders": [3], "missing": [np.nan]})
    (row,) = json.loads(encode(frame, "json"))
    assert row == {"T": 104.2857143, "orders": 3, "missing": None}


def test_parquet_keeps_full_precision(tmp_path) -> None:
    frame = pd.DataFrame({"recency": [10 / 7]})
    path = tmp_path / "x.parquet"
    path.write_bytes(encode(frame, "parquet"))
    assert pq.read_table(path).column("recency")[0].as_py() == 10 / 7


def test_compute_csv_has_ten_significant_digits(clv) -> None:
    result = clv("compute", str(SAMPLE / "shop.csv"), "--period", "week", "-q")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split(",")
    for line in lines[1:50]:
        cells = dict(zip(header, line.split(","), strict=False))
        for column in ("recency", "T", "p_alive", "expected_purchases"):
            digits = cells[column].lstrip("-").split("e")[0].replace(".", "").lstrip("0")
            assert len(digits) <= 10, (column, cells[column])


def _floats(document) -> list[float]:
    if isinstance(document, float):
        return [document]
    if isinstance(document, dict):
        return [f for value in document.values() for f in _floats(value)]
    if isinstance(document, list):
        return [f for value in document for f in _floats(value)]
    return []


def test_validate_json_has_ten_digits_and_fit_json_full_precision(clv) -> None:
    shop = SAMPLE / "shop.csv"
    report = json.loads(clv("validate", shop, "--holdout", "26w", "-q", "--format", "json").stdout)
    numbers = _floats(report)
    assert len(numbers) > 20
    assert all(float(f"{v:.10g}") == v for v in numbers)
    assert any(float(f"{v:.6g}") != v for v in numbers)  # rounded, not truncated to few
    fit = json.loads(clv("fit", shop, "--period", "week", "-q", "--format", "json").stdout)
    assert any(float(f"{v:.10g}") != v for v in fit["params"].values())
