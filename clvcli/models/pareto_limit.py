r"""Pareto/NBD at its homogeneous-dropout limit: one exponential dropout rate for all.

When customers do not differ in how fast they drop out, the Pareto/NBD's s and beta
run off together with :math:`\mu = s/\beta` fixed. The Pareto/NBD quadrature loses
its accuracy there (r + x + s in the millions), so the limit has its own likelihood.
With :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`, :math:`a = r + x` and
:math:`C = \Gamma(a)\alpha^r/\Gamma(r)`, writing
:math:`1/(\lambda+\mu) = \int_0^\infty e^{-(\lambda+\mu)u} du` gives

.. math:: L = C\,[\mu e^{-\mu t_x} (\alpha+t_x)^{1-a} K(a, \mu(\alpha+t_x))
              + a\, e^{-\mu T} (\alpha+T)^{-a} K(a+1, \mu(\alpha+T))],

with :math:`K(a, c) = \int_0^\infty e^{-c y} (1+y)^{-a} dy` (Tricomi's
:math:`U(1, 2-a, c)`). In :math:`v = \ln(1+y)` the integrand
:math:`\exp(-c(e^v-1) - (a-1)v)` is smooth, has one peak and dies double-exponentially,
so Gauss-Legendre panels on each side of the peak integrate it to near machine
precision for any a and c, with everything in logs. The derivatives of ln K are means
over the same nodes, so the gradient is analytic. The alive part of L is
:math:`C (\alpha+T)^{-a} e^{-\mu T}`, which gives P(alive) in closed form.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import gammaln, psi

_NODES, _WEIGHTS = leggauss(48)
_Y = (_NODES + 1) / 2
_W = _WEIGHTS / 2
# The integrand is cut where it has fallen by e^-60 from its peak.
_DROP = 60.0


def _exponent(a: np.ndarray, c: np.ndarray, v: np.ndarray) -> np.ndarray:
    return -c * np.expm1(v) - (a - 1) * v


# Rows per block: 96 nodes each, so a temporary stays near 3 MB however many rows.
_BLOCK_ROWS = 4096


def log_k(a: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ln K(a, c) and its derivatives in a and in c, for rows of a > 0 and c > 0."""
    a, c = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(c, np.float64))
    a, c = np.ravel(a), np.ravel(c)
    out = np.empty((3, len(a)))
    for start in range(0, len(a), _BLOCK_ROWS):
        part = slice(start, start + _BLOCK_ROWS)
        out[:, part] = _log_k_block(a[part], c[part])
    return out[0], out[1], out[2]


def _log_k_block(a: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`log_k` for one block of rows."""
    # The peak: where c e^v = 1 - a (a < 1), else at 0.
    peak = np.where(a < 1, np.log(np.maximum(1 - a, 1e-300) / c), 0.0)
    peak = np.maximum(peak, 0.0)
    top = _exponent(a, c, peak)
    # The far end, by bisection on a bracket where the integrand is surely below the cut.
    low = peak.copy()
    high = peak + np.log1p(4 * _DROP / c) + 1.0
    high = np.where(a > 1, np.minimum(high, peak + 2 * _DROP / np.maximum(a - 1, 1e-300)), high)
    for _ in range(30):
        middle = (low + high) / 2
        below = _exponent(a, c, middle) < top - _DROP
        high = np.where(below, middle, high)
        low = np.where(below, low, middle)
    end = high
    # Two panels: [0, peak] (empty when the peak is at 0) and [peak, end].
    v = np.concatenate([peak[:, None] * _Y, peak[:, None] + (end - peak)[:, None] * _Y], axis=1)
    w = np.concatenate([peak[:, None] * _W, (end - peak)[:, None] * _W], axis=1)
    g = _exponent(a[:, None], c[:, None], v) - top[:, None]
    weights = w * np.exp(g)
    total = weights.sum(axis=1)
    log_value = top + np.log(total)
    d_a = -(weights * v).sum(axis=1) / total
    d_c = -(weights * np.expm1(v)).sum(axis=1) / total
    return log_value, d_a, d_c


def terms(
    r: float, alpha: float, mu: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row log-likelihood, log P(alive) and gradient in (r, alpha, mu)."""
    x, t_x, T = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    a = r + x
    z1, z2 = alpha + t_x, alpha + T
    log_c = gammaln(a) - gammaln(r) + r * np.log(alpha)
    k1, k1_a, k1_c = log_k(a, mu * z1)
    k2, k2_a, k2_c = log_k(a + 1, mu * z2)
    log_z1, log_z2 = np.log(z1), np.log(z2)
    part_a = np.log(mu) - mu * t_x + (1 - a) * log_z1 + k1
    part_b = np.log(a) - a * log_z2 - mu * T + k2
    total = np.logaddexp(part_a, part_b)
    log_alive = -a * log_z2 - mu * T - total
    w_a = np.exp(part_a - total)
    w_b = 1 - w_a
    grad = np.empty((len(a), 3))
    grad[:, 0] = (
        psi(a) - psi(r) + np.log(alpha) + w_a * (-log_z1 + k1_a) + w_b * (1 / a - log_z2 + k2_a)
    )
    grad[:, 1] = r / alpha + w_a * ((1 - a) / z1 + mu * k1_c) + w_b * (-a / z2 + mu * k2_c)
    grad[:, 2] = w_a * (1 / mu - t_x + z1 * k1_c) + w_b * (-T + z2 * k2_c)
    return log_c + total, log_alive, grad


def expected_purchases(
    r: float, alpha: float, mu: float, t, x, T, p_alive: np.ndarray
) -> np.ndarray:
    """Expected purchases in (T, T + t]: P(alive) (r+x)/(alpha+T) (1 - e^(-mu t)) / mu."""
    x = np.asarray(x, dtype=np.float64)
    return p_alive * (r + x) / (alpha + np.asarray(T, dtype=np.float64)) * -np.expm1(-mu * t) / mu


def discounted_expected_purchases(
    r: float, alpha: float, mu: float, rate: float, x, T, p_alive: np.ndarray
) -> np.ndarray:
    """The whole future's purchases discounted continuously at ``rate``: the lifetime's
    discounted length is 1 / (rate + mu)."""
    x = np.asarray(x, dtype=np.float64)
    return p_alive * (r + x) / (alpha + np.asarray(T, dtype=np.float64)) / (rate + mu)
