r"""MBG/NBD: BG/NBD in which a customer may also drop out right after the first purchase.

Batislam, Denizel and Filiztekin (2007), "Empirical validation and comparison of
models for customer base analysis", IJRM 24(3). The same Poisson purchasing and
beta-distributed dropout as BG/NBD, but the dropout coin is also tossed at time 0,
so one-time buyers are no longer certainly alive.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1, psi

from clvcli.models.base import DistinctRows, Fitter
from clvcli.models.bgnbd import BGNBDFitter


class MBGNBDFitter(Fitter):
    """MBG/NBD with parameters ``r, alpha, a, b``."""

    name = "mbgnbd"
    param_names = ("r", "alpha", "a", "b")

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
        r, alpha, a, b = params
        x, t_x, T = data.columns
        base, alive, ended = self._log_parts(params, x, t_x, T)
        total = np.logaddexp(alive, ended)
        w1 = np.exp(alive - total)
        w2 = np.exp(ended - total)
        grad = np.empty((len(x), 4))
        grad[:, 0] = (
            psi(r + x) - psi(r) + np.log(alpha) - w1 * np.log(alpha + T) - w2 * np.log(alpha + t_x)
        )
        grad[:, 1] = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + t_x))
        common_a = psi(a + b) - psi(a + b + x + 1)
        grad[:, 2] = common_a + w2 * (psi(a + 1) - psi(a))
        grad[:, 3] = common_a - psi(b) + w1 * psi(b + x + 1) + w2 * psi(b + x)
        return base + total, grad

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive at T | x, t_x, T)."""
        params = np.array(list(self.fitted().values()))
        _, alive, ended = self._log_parts(params, np.asarray(x, float), t_x, T)
        return np.exp(alive - np.logaddexp(alive, ended))

    def expected_purchases(
        self, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in (T, T + t], with Euler's transformation as in BG/NBD."""
        r, alpha, a, b = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        z = t / (alpha + T + t)
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - r, a - 1, a + b + x, z)
        return self.p_alive(x, t_x, T) * (a + b + x) / (a - 1) * (1 - tail)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        r, alpha, a, b = self.fitted().values()
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + t)
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - r, a - 1, a + b, z)
        return b / (a - 1) * (1 - tail)
