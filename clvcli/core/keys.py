"""Distinct integer keys without numpy's hashing.

numpy 2.3 and later answer ``np.unique(keys)`` (no inverse, index or counts) by
hashing, which on millions of distinct int64 keys runs twenty times slower than a
sort: 4.7 s against 0.18 s for three million, 11 s for the ten million keys of a
cohort table. Keys built from occasions in customer and day order are sorted
already and need one pass over neighbours.
"""

from __future__ import annotations

import numpy as np


def distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys`` in ascending order (what np.unique gives)."""
    keys = np.asarray(keys)
    if len(keys) == 0:
        return keys.copy()
    if not bool(np.all(keys[1:] >= keys[:-1])):
        keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]]


def small_range_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for integers within a small range
    (months, days), by counting instead of sorting millions of them."""
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0:
        return values.copy(), np.zeros(0, dtype=np.int64)
    low = int(values.min())
    present = np.bincount(values - low) > 0
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[values - low]
