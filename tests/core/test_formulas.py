"""The sources' worked examples of the hand formulas."""

from __future__ import annotations

import pytest

from clvcli.formulas import historical_clv, simple_clv


def test_simple_clv_of_the_sources_example():
    # 400,000 toman a month is 4,800,000 a year; over 30 years, 144,000,000.
    assert simple_clv(400_000, "month", 30) == 144_000_000


@pytest.mark.parametrize(
    ("per", "expected"), [("year", 1_000), ("month", 12_000), ("week", 52_000), ("day", 365_000)]
)
def test_simple_clv_per_period(per, expected):
    assert simple_clv(1_000, per, 1) == expected


def test_historical_clv_of_the_sources_example():
    assert historical_clv(1_000_000, 0.3) == pytest.approx(300_000)
