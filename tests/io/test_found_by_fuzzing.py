"""Regressions found by the property tests in tests/fuzz: readers and writers.

Each test is the smallest case of a bug the fuzzing found, kept here so that it is
checked on every run, whatever examples hypothesis happens to draw.
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from clvcli.errors import InputError
from clvcli.io.readers import read_transactions
from clvcli.io.results import read_summary
from clvcli.io.source import load_input
from clvcli.io.writers import encode


def _write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_money_beyond_36_digits_is_written_exactly_not_as_zero():
    """Arrow's decimal128(38, 2) cast wrote 0.00 for 1e36 and above, and rounding
    overflowed (an internal error) near 1.8e306."""
    frame = pd.DataFrame({"spend": [1e40, -1.5e36, 12.5, 1.797693134862316e306, 99.999]})
    lines = encode(frame, "csv", money=["spend"]).decode("utf-8").splitlines()
    assert lines[1] == "10000000000000000303786028427003666890752.00"
    assert lines[2] == "-1499999999999999989843979766188736512.00"
    assert lines[3] == "12.50"
    assert float(lines[4]) == 1.797693134862316e306 and lines[4].endswith(".00")
    assert lines[5] == "100.00"


def test_money_that_is_not_finite_is_left_empty_not_zero():
    frame = pd.DataFrame({"spend": [math.inf, -math.inf, math.nan, 1.0]})
    assert encode(frame, "csv", money=["spend"]).decode("utf-8").splitlines() == [
        "spend",
        "",
        "",
        "",
        "1.00",
    ]
    records = json.loads(encode(frame, "json", money=["spend"]))  # was Infinity: not JSON
    assert [r["spend"] for r in records] == [None, None, None, 1.0]


def test_amounts_adding_up_past_the_largest_number_are_an_input_error(tmp_path):
    """1e308 + 1e308 is inf: the totals came out as 0.00 (then as inf)."""
    path = _write(
        tmp_path,
        "tx.csv",
        "customer_id,date,amount\nC1,2024-01-01,1e308\nC2,2024-01-02,-1e308\n",
    )
    with pytest.raises(InputError) as caught:
        read_transactions(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: row 2 (line 3), column 'amount': with '-1e308'")
    assert "more than the largest number clv can hold" in message


def test_amounts_near_the_largest_number_are_read_when_they_add_up(tmp_path):
    path = _write(tmp_path, "tx.csv", "customer_id,date,amount\nC1,2024-01-01,1.7e308\n")
    assert read_transactions(path).amount.tolist() == [1.7e308]


def test_a_summary_with_a_header_and_no_rows_is_an_input_error(tmp_path):
    """It was an internal error (the max of an empty array) with first_purchase."""
    for header in (
        "customer_id,frequency,recency,T,monetary_value,first_purchase\n",
        "customer_id,frequency,recency,T,monetary_value\n",
    ):
        path = _write(tmp_path, "summary.csv", header)
        with pytest.raises(InputError, match="has a header but no data rows"):
            read_summary(load_input(path), period="day", as_of=19_000)
