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


def _units(
    amounts: np.ndarray, scale: float | str | None = "any"
) -> tuple[np.ndarray, float] | None:
    """The amounts in whole units of ``scale`` (by default the coarsest of
    :data:`SCALES` that holds them all), and the scale; None when it does not."""
    if scale is None:
        return None
    for tried in SCALES if scale == "any" else (float(scale),):
        units = _whole_units(amounts, tried)
        if units is not None:
            return units, tried
    return None


def money_scale(amounts: np.ndarray) -> float | None:
    """The coarsest scale of :data:`SCALES` whose units every amount is a whole number
    of, None when none is. Decided once on a log's amounts, it is the scale of every
    sum of them and of their daily nets, as DuckDB's summary decides it once."""
    found = _units(amounts)
    return None if found is None else found[1]


def _split(amounts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each amount as a whole number and the rest, both exact: a = whole + rest."""
    whole = np.rint(amounts)
    return whole, amounts - whole


def sums_by_group(
    groups: np.ndarray, amounts: np.ndarray, size: int, scale: float | str | None = "any"
) -> np.ndarray:
    """The sum of ``amounts`` per group (``groups`` in 0..size-1), order-free, in whole
    units of ``scale`` (see :func:`money_scale`; by default the amounts' own).

    Amounts in no scale's units (huge totals, or amounts such as 1/3) are added as
    their whole parts, exactly, plus the sum of their rests, rounded once: within a
    unit in the last place of the exact sum, as DuckDB's compensated sum is, where a
    plain sum drifted by several (a cent at 1e13)."""
    found = _units(amounts, scale)
    if found is not None:
        units, scale = found
        return np.bincount(groups, weights=units, minlength=size) / scale
    whole, rest = _split(amounts)
    sizes = np.bincount(groups, weights=np.abs(whole), minlength=size)
    if sizes.max(initial=0.0) >= EXACT_UNITS:  # a group's whole parts past exact sums
        return np.bincount(groups, weights=amounts, minlength=size)
    wholes = np.bincount(groups, weights=whole, minlength=size)
    return wholes + np.bincount(groups, weights=rest, minlength=size)


def sums_of_runs(amounts: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The sum of each run of ``amounts`` that begins at ``starts``, order-free (see
    :func:`sums_by_group`)."""
    found = _units(amounts)
    if found is not None:
        units, scale = found
        return np.add.reduceat(units, starts) / scale
    whole, rest = _split(amounts)
    if len(starts) and np.add.reduceat(np.abs(whole), starts).max() >= EXACT_UNITS:
        return np.add.reduceat(amounts, starts)
    return np.add.reduceat(whole, starts) + np.add.reduceat(rest, starts)


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
