"""Sums of money that do not depend on the order of the rows.

Floating-point addition is not associative: 251.53 - 102.99 + 198.79 and the same
three in another order differ in the last bit, enough to turn an average of
173.665 into 173.67 one night and 173.66 the next when an export comes sorted
differently, and to differ from DuckDB's compensated sum. Amounts in whole units of
a cent (almost every log), or of a hundredth or a ten-thousandth of one (prices of
fuel or of fractions of a share, partial refunds), are added as whole numbers of
those units instead: exact in float64 up to 2**53 units, so every order gives the
same bits, and so does DuckDB's summary, which adds them the same way.
"""

from __future__ import annotations

import numpy as np

# Units per 1 of money tried in turn: cents, then 1e-4 and 1e-6 of the currency.
SCALES = (100.0, 10_000.0, 1_000_000.0)
# Past this many units in all, float64 stops holding every whole number.
EXACT_UNITS = float(2**53)
# A decimal amount times its scale is a few units of its last bit off a whole number
# (a relative 1e-16 each); anything further is a fraction of a unit.
TOLERANCE = 1e-14
# Amounts checked at a time: 512 KB of float64, which stays in the cache.
_BLOCK = 1 << 16


def _whole_units(amounts: np.ndarray, scale: float) -> np.ndarray | None:
    """The amounts in whole units of 1 / ``scale``, as floats; None when some amount
    is not a whole number of them (or their total is past what float64 adds exactly).

    Checked a block at a time: each block's few passes stay in the processor's cache,
    which at 10M amounts is ten times faster than whole-array passes through memory,
    and the first block that fails ends the check.
    """
    units = np.empty(len(amounts))
    scaled = np.empty(min(len(amounts), _BLOCK))
    size = np.empty_like(scaled)
    total = 0.0
    for start in range(0, len(amounts), _BLOCK):
        block = amounts[start : start + _BLOCK]
        s, z, u = scaled[: len(block)], size[: len(block)], units[start : start + len(block)]
        np.multiply(block, scale, out=s)
        np.rint(s, out=u)
        np.abs(s, out=z)
        total += float(z.sum())
        np.subtract(s, u, out=s)
        np.abs(s, out=s)
        z *= TOLERANCE
        if (s > z).any():
            return None
    return None if total >= EXACT_UNITS else units


def _units(amounts: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The amounts in whole units of the coarsest scale that holds them all, and the
    scale; None when none does."""
    for scale in SCALES:
        units = _whole_units(amounts, scale)
        if units is not None:
            return units, scale
    return None


def sums_by_group(groups: np.ndarray, amounts: np.ndarray, size: int) -> np.ndarray:
    """The sum of ``amounts`` per group (``groups`` in 0..size-1), order-free."""
    found = _units(amounts)
    if found is None:
        return np.bincount(groups, weights=amounts, minlength=size)
    units, scale = found
    return np.bincount(groups, weights=units, minlength=size) / scale


def sums_of_runs(amounts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The sum of each run of ``amounts`` that begins at ``starts``, order-free."""
    found = _units(amounts)
    if found is None:
        return np.add.reduceat(amounts, starts)
    units, scale = found
    return np.add.reduceat(units, starts) / scale


def in_units(amounts: np.ndarray) -> np.ndarray:
    """``amounts`` as the sums of this module give them: whole units over their scale
    (so 59.970000000000006, a price times a quantity, is 59.97), or as they are when
    no scale holds them."""
    found = _units(amounts)
    if found is None:
        return amounts
    units, scale = found
    units /= scale
    return units
