r"""MBG/NBD: BG/NBD in which a customer may also drop out right after the first purchase.

Batislam, Denizel and Filiztekin (2007), "Empirical validation and comparison of
models for customer base analysis", IJRM 24(3). The same Poisson purchasing and
beta-distributed dropout as BG/NBD, but the dropout coin is also tossed at time 0,
so one-time buyers are no longer certainly alive.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import betaln, gammaln, psi

from clvcli.models.base import DistinctRows, Fitter, logaddexp, on_distinct
from clvcli.models.bgnbd import (
    _NO_DROPOUT,
    BGNBDFitter,
    GrowthByPairs,
    PoissonGammaPart,
    SplitByX,
    _regular,
    euler_tail,
)
from clvcli.models.spread import DROPOUT_AFTER_PURCHASE, PURCHASE_RATES


class MBGNBDFitter(GrowthByPairs, Fitter):
    """MBG/NBD with parameters ``r, alpha, a, b``."""

    name = "mbgnbd"
    param_names = ("r", "alpha", "a", "b")
    spreads = (
        PURCHASE_RATES,
        DROPOUT_AFTER_PURCHASE,
    )
    edges: ClassVar[dict[tuple[str, int], str]] = {
        ("a", -1): _NO_DROPOUT,
        ("b", 1): _NO_DROPOUT,
    }

    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        return BGNBDFitter().initial_params(data)

    def _log_parts(self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
        r, alpha, a, b = params
        base = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        dead_later = betaln(a, b + x + 1) - betaln(a, b) - (r + x) * np.log(alpha + T)
        dead_at_last = betaln(a + 1, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t_x)
        return base, dead_later, dead_at_last

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        """Functions of x, t_x and T alone are evaluated once per distinct value; the rows
        are filled block by block (:func:`in_blocks`)."""
        return _MBGNBDLevels(params, data).all_rows(data)

    def weighted_log_likelihood(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[float, np.ndarray]:
        """The terms' weighted sums, without a row's array: see :class:`SplitByX`."""
        return _MBGNBDLevels(params, data).sums(data)

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""
        params = np.array(list(self.fitted().values()))
        _, alive, ended = self._log_parts(params, np.asarray(x, float), t_x, T)
        return np.exp(alive - np.logaddexp(alive, ended))

    def expected_purchases(
        self,
        t: float | np.ndarray,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected purchases in (T, T + t], with the tail computed as in BG/NBD."""
        x = np.asarray(x, dtype=np.float64)
        alive = self.p_alive(x, t_x, T) if p_alive is None else p_alive
        return alive * on_distinct(self._growth, x, T, t)

    def _growth(self, x: np.ndarray, T: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Expected purchases in (T, T + t] of a customer alive at T."""
        r, alpha, a, b = self.fitted().values()
        z = t / (alpha + T + t)
        return _regular(_growth, r, a, b, x, z)

    def probability_of_purchases(self, n: int | np.ndarray, t: float) -> np.ndarray:
        """P(X(t) = n) for a customer just acquired.

        Either n purchases came in (0, t] and the customer survived the n + 1 coin
        tosses so far (at time 0 and after each purchase), or they died right after
        the n-th purchase (at time 0 when n = 0) with at least n purchases' worth of time.
        """
        r, alpha, a, b = self.fitted().values()
        n = np.asarray(n, dtype=np.float64)
        count = n.astype(np.int64)
        nbd = _nbd_terms(r, alpha, t, int(np.max(count)) if count.size else 0)
        at_least = 1 - np.concatenate([[0.0], np.cumsum(nbd)])[count]
        survived = np.exp(betaln(a, b + n + 1) - betaln(a, b)) * nbd[count]
        died = np.exp(betaln(a + 1, b + n) - betaln(a, b)) * at_least
        return survived + died

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        r, alpha, a, b = self.fitted().values()
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + t)
        return _regular(_growth_new, r, a, b, np.zeros_like(z), z)


class _MBGNBDLevels(SplitByX):
    """The MBG/NBD likelihood's functions of x, of t_x and of T at one parameter vector,
    gathered block by block with the per-row arithmetic in the order of the formulas."""

    def __init__(self, params: np.ndarray, data: DistinctRows) -> None:
        r, alpha, a, b = params
        self.rates = PoissonGammaPart(r, alpha, data)
        xs = self.rates.xs
        self.alive = betaln(a, b + xs + 1) - betaln(a, b)
        self.ended = betaln(a + 1, b + xs) - betaln(a, b)
        common = psi(a + b) - psi(a + b + xs + 1)
        rates = self.rates
        self.by_x = np.array([rates.base, rates.d_r, rates.r_alpha, common, common - psi(b)])
        self.d_a_ended = psi(a + 1) - psi(a)
        self.psi_b_x1, self.psi_b_x = psi(b + xs + 1), psi(b + xs)

    def fill_rows(self, rows: slice, terms: np.ndarray, gradient: np.ndarray) -> None:
        rates = self.rates.block(rows)
        at_x = rates.at_x
        alive = self.alive.take(at_x) - rates.r_x * rates.log_T
        ended = self.ended.take(at_x) - rates.r_x * rates.log_t_x
        total = logaddexp(alive, ended, out=terms)
        w1 = np.exp(np.subtract(alive, total, out=alive), out=alive)
        w2 = np.subtract(1.0, w1, out=ended)
        self.rates.gradient(rates, w1, w2, gradient[:, 0], gradient[:, 1])
        np.multiply(w2, self.d_a_ended, out=gradient[:, 2])
        part = np.multiply(w2, self.psi_b_x.take(at_x), out=w2)
        np.add(np.multiply(w1, self.psi_b_x1.take(at_x), out=w1), part, out=gradient[:, 3])


def _nbd_terms(r: float, alpha: float, t: float, upto: int) -> np.ndarray:
    """P(N = j) for j = 0..upto of the gamma-Poisson count over t (NBD)."""
    j = np.arange(upto + 1, dtype=np.float64)
    log_q = np.log(alpha) - np.log(alpha + t)
    log_p = np.log(t) - np.log(alpha + t)
    return np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * log_q + j * log_p)


def _growth(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    return (a + b + x) / (a - 1) * (1 - _tail(r, a, b, x, z))


def _growth_new(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    return b / (a - 1) * (1 - _tail(r, a, b, x, z))


def _tail(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(1-z)^(r+x) 2F1(r+x, b+x+1; a+b+x; z) in its convergent Euler form (see BG/NBD)."""
    x = np.asarray(x, dtype=np.float64)
    below_one = np.broadcast_to(a > 1, np.shape(x))  # (a + b + x) / (a - 1) (1 - tail) >= 0
    return euler_tail(
        lambda x: (a - 1, a + b - r, a - 1, a + b + x),
        lambda x: (r + x, r + x, b + x + 1, a + b + x),
        x,
        z,
        euler=x + r + 1 >= a,
        below_one=below_one,
    )
