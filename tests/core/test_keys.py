"""Distinct keys and small-range codes give what np.unique gives."""

from __future__ import annotations

import numpy as np
import pytest

from clvcli.core.keys import distinct, small_range_codes


@pytest.mark.parametrize(
    "keys", [[], [4], [1, 1, 2, 5, 5, 5, 9], [5, 1, 5, 2, 9, 1], [-3, -3, 0, 2], [7, 7, 7]]
)
def test_distinct_keys_are_np_uniques_sorted_or_not(keys):
    keys = np.array(keys, dtype=np.int64)
    assert distinct(keys).tolist() == np.unique(keys).tolist()


@pytest.mark.parametrize("presorted", [True, False])
def test_distinct_keys_of_many(presorted):
    keys = np.random.default_rng(5).integers(-(2**40), 2**40, 50_000)
    keys = np.concatenate([keys, keys[:1000]])  # repeats
    if presorted:
        keys = np.sort(keys)
    np.testing.assert_array_equal(distinct(keys), np.unique(keys))


@pytest.mark.parametrize(
    "values", [[], [24291], [24300, 24291, 24300, 24295], [-5, 3, -5, 0], [12, 12, 12]]
)
def test_small_range_codes_are_np_uniques_inverse(values):
    values = np.array(values, dtype=np.int64)
    got_values, got_codes = small_range_codes(values)
    want_values, want_codes = np.unique(values, return_inverse=True)
    assert got_values.tolist() == want_values.tolist()
    assert got_codes.tolist() == want_codes.reshape(-1).tolist()
    np.testing.assert_array_equal(got_values[got_codes], values)
