"""Blocks of rows on threads: the same values as one pass, however many threads."""

from __future__ import annotations

import numpy as np
import pytest

from clvcli import parallel


@pytest.mark.parametrize("cores", [1, 2, 3])
@pytest.mark.parametrize("index_type", [np.int32, np.int64])
def test_gather_is_a_fancy_index(monkeypatch, cores, index_type):
    monkeypatch.setattr(parallel, "BLOCK_ROWS", 7)  # blocks end anywhere
    monkeypatch.setattr(parallel, "cores", lambda: cores)
    rng = np.random.default_rng(4)
    days = rng.integers(-5_000, 20_000, 1_000)
    amounts = rng.normal(size=1_000)
    rows = rng.permutation(1_000)[:600].astype(index_type)
    for values in (days, amounts):
        gathered = parallel.gather(values, rows)
        assert gathered.dtype == values.dtype
        np.testing.assert_array_equal(gathered, values[rows])


def test_gather_of_no_rows_is_empty():
    gathered = parallel.gather(np.arange(5.0), np.zeros(0, dtype=np.int32))
    assert gathered.shape == (0,) and gathered.dtype == np.float64


def test_a_row_out_of_range_is_an_error_as_in_numpy(monkeypatch):
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    with pytest.raises(IndexError):
        parallel.gather(np.arange(5), np.array([0, 5]))


def test_blocks_cover_the_rows_once_in_order(monkeypatch):
    monkeypatch.setattr(parallel, "BLOCK_ROWS", 4)
    assert parallel.row_blocks(10) == [slice(0, 4), slice(4, 8), slice(8, 10)]
    assert parallel.row_blocks(0) == []


def test_blocks_of_a_given_size():
    assert parallel.row_blocks(5, 2) == [slice(0, 2), slice(2, 4), slice(4, 5)]
