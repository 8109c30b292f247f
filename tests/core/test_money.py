"""Sums of money: the same bits whatever the order of the rows."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np

from clvcli.core.money import sums_by_group, sums_of_runs


def test_sums_of_cents_are_exact_in_every_order():
    rng = np.random.default_rng(7)
    cents = rng.integers(-50_000, 200_000, 20_000)
    amounts = cents / 100.0
    groups = rng.integers(0, 500, len(amounts))
    first = sums_by_group(groups, amounts, 500)
    for _ in range(5):
        order = rng.permutation(len(amounts))
        assert sums_by_group(groups[order], amounts[order], 500).tobytes() == first.tobytes()
    exact = [sum(Decimal(int(c)) for c in cents[groups == g]) / 100 for g in range(500)]
    assert first.tolist() == [float(e) for e in exact]


def test_the_three_amounts_whose_order_once_moved_a_cent():
    amounts = np.array([251.53, -102.99, 198.79])
    for order in ([0, 1, 2], [1, 2, 0], [2, 0, 1]):
        total = sums_by_group(np.zeros(3, dtype=np.int64), amounts[order], 1)[0]
        assert total == 347.33 and round(total / 2, 2) == 173.66
    runs = sums_of_runs(np.array([251.53, -102.99, 198.79, 1.0, 2.5]), np.array([0, 3]))
    assert runs.tolist() == [347.33, 3.5]


def test_amounts_finer_than_cents_are_added_in_finer_whole_units():
    """Prices with three or four decimals (fuel, fractions of a share, a refund of 30 %)
    are whole ten-thousandths: their sums are exact too, in every order."""
    amounts = np.array([0.001, 0.002, 1.0055])
    assert sums_by_group(np.zeros(3, dtype=np.int64), amounts, 1)[0] == 1.0085
    rng = np.random.default_rng(5)
    tenths = rng.integers(-2_000_000, 9_000_000, 20_000) / 10_000
    groups = rng.integers(0, 300, len(tenths))
    first = sums_by_group(groups, tenths, 300)
    order = rng.permutation(len(tenths))
    assert sums_by_group(groups[order], tenths[order], 300).tobytes() == first.tobytes()
    thirds = np.array([1 / 3, 2 / 3, 1.0])  # no decimal scale: added as floats
    assert sums_by_group(np.zeros(3, dtype=np.int64), thirds, 1)[0] == np.sum(thirds)
    huge = np.array([4e13, 5e13, 1.0])  # past 2**53 cents: float sums, no overflow of cents
    assert sums_by_group(np.zeros(3, dtype=np.int64), huge, 1)[0] == 9e13 + 1.0


def test_a_fraction_of_a_cent_however_small_is_not_taken_for_cents():
    """1e-9 (a free order's rounding) and 12345678901.2345 stay as they are: only
    amounts within a few last bits of whole cents are added as cents."""
    for amounts in ([5.0, 1e-9], [12345678901.2345, 0.01]):
        values = np.array(amounts)
        assert sums_by_group(np.array([0, 1]), values, 2).tolist() == amounts


def test_every_block_of_a_long_column_is_checked():
    """The amounts are checked a block at a time: a fraction of a cent in a later
    block, or a total past 2**53 cents that no one block reaches, still makes the
    sums floats."""
    groups = np.zeros(300_000, dtype=np.int64)
    amounts = np.full(300_000, 1.25)
    amounts[250_001] = 0.001
    assert sums_by_group(groups, amounts, 1)[0] == np.bincount(groups, weights=amounts)[0]
    cents = np.full(300_000, 1.25)
    assert sums_by_group(groups, cents, 1)[0] == 375_000.0
    large = np.full(300_000, 1e9 + 0.01)  # 3e16 cents in all, 6.6e15 per block
    assert sums_by_group(groups, large, 1)[0] == math.fsum(large)  # not in cents


def test_amounts_in_no_scale_are_summed_to_the_nearest_float():
    """Amounts past exact sums of units (1e13 with four decimals) are added as their
    whole parts, exactly, plus their rests: the nearest float to the exact sum of the
    floats, as DuckDB's compensated sum gives it, where a plain sum was two floats off."""
    amounts = np.array(
        [33987179051170.0117, 28189047470439.0, 21688697510087.9297, 1575765472603.1599]
    )
    total = sums_by_group(np.zeros(4, dtype=np.int64), amounts, 1)[0]
    assert total == math.fsum(amounts) and f"{total:.2f}" == "85440689504300.09"
    runs = sums_of_runs(amounts, np.array([0, 2]))
    groups = np.array([0, 0, 1, 1])
    assert runs.tolist() == sums_by_group(groups, amounts, 2).tolist()
    assert runs[1] == math.fsum(amounts[2:])
