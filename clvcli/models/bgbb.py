r"""BG/BB: the beta-geometric / beta-Bernoulli model of discrete opportunities.

Fader, Hardie and Shang (2010), "Customer-base analysis in a discrete-time
noncontractual setting", Marketing Science 29(6). At each opportunity (one per
``--period``) an alive customer buys with probability :math:`p \sim
\mathrm{Beta}(\alpha, \beta)` and then dies with probability :math:`\theta \sim
\mathrm{Beta}(\gamma, \delta)`. Inputs: ``x`` opportunities with a purchase after the
first, ``t_x`` the last such opportunity, ``n`` opportunities observed.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, gammaln, psi

from clvcli.models.base import DistinctRows, Fitter


class BGBBFitter(Fitter):
    """BG/BB with parameters ``alpha, beta, gamma, delta``."""

    name = "bgbb"
    param_names = ("alpha", "beta", "gamma", "delta")

    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        return [
            np.array([1.0, 1.0, 1.0, 1.0]),
            np.array([1.2, 0.75, 0.66, 2.8]),
            np.array([0.5, 2.0, 0.5, 5.0]),
            np.array([2.0, 0.5, 2.0, 0.5]),
        ]

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        """Equation (5) of the paper: the 'alive through n' term plus one term for each
        opportunity after t_x at which the customer may have died."""
        al, be, ga, de = params
        x, t_x, n = data.columns
        extra = n - t_x
        width = int(extra.max()) if len(extra) else 0
        i = np.arange(width)[None, :]
        used = i < extra[:, None]
        x2, t2 = x[:, None], t_x[:, None]
        base = betaln(al, be) + betaln(ga, de)
        survive = betaln(al + x, be + n - x) + betaln(ga, de + n) - base
        died = np.where(
            used,
            betaln(al + x2, be + t2 - x2 + i) + betaln(ga + 1, de + t2 + i) - base,
            -np.inf,
        )
        everything = np.concatenate([survive[:, None], died], axis=1)
        top = everything.max(axis=1, keepdims=True)
        shares = np.exp(everything - top)
        total = top[:, 0] + np.log(shares.sum(axis=1))
        shares /= shares.sum(axis=1, keepdims=True)
        w0, wi = shares[:, 0], shares[:, 1:]
        d_base_al = psi(al) - psi(al + be)
        d_base_be = psi(be) - psi(al + be)
        d_base_ga = psi(ga) - psi(ga + de)
        d_base_de = psi(de) - psi(ga + de)
        grad = np.empty((len(x), 4))
        grad[:, 0] = (
            w0 * (psi(al + x) - psi(al + be + n))
            + np.sum(wi * (psi(al + x2) - psi(al + be + t2 + i)), axis=1, where=used)
            - d_base_al
        )
        grad[:, 1] = (
            w0 * (psi(be + n - x) - psi(al + be + n))
            + np.sum(wi * (psi(be + t2 - x2 + i) - psi(al + be + t2 + i)), axis=1, where=used)
            - d_base_be
        )
        grad[:, 2] = (
            w0 * (psi(ga) - psi(ga + de + n))
            + np.sum(wi * (psi(ga + 1) - psi(ga + de + t2 + i + 1)), axis=1, where=used)
            - d_base_ga
        )
        grad[:, 3] = (
            w0 * (psi(de + n) - psi(ga + de + n))
            + np.sum(wi * (psi(de + t2 + i) - psi(ga + de + t2 + i + 1)), axis=1, where=used)
            - d_base_de
        )
        return total, grad

    def _log_likelihood_rows(self, x, t_x, n) -> np.ndarray:
        params = np.array(list(self.fitted().values()))
        data = DistinctRows(
            (np.asarray(x, float), np.asarray(t_x, float), np.asarray(n, float)),
            np.ones(np.size(x)),
            np.arange(np.size(x)),
        )
        return self.log_likelihood_terms(params, data)[0]

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, n: np.ndarray) -> np.ndarray:
        """P(alive at opportunity n + 1 | x, t_x, n), equation (11)."""
        al, be, ga, de = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        n = np.asarray(n, dtype=np.float64)
        alive = (
            betaln(al + x, be + n - x) - betaln(al, be) + betaln(ga, de + n + 1) - betaln(ga, de)
        )
        return np.exp(alive - self._log_likelihood_rows(x, t_x, n))

    def expected_purchases(
        self, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, n: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` opportunities, equation (13)."""
        al, be, ga, de = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        n = np.asarray(n, dtype=np.float64)
        # delta / (gamma - 1) and the bracket change sign together when gamma < 1.
        log_front = betaln(al + x + 1, be + n - x) - betaln(al, be)
        span = _gamma_ratio(1 + de + n, ga + de + n) - _gamma_ratio(1 + de + n + t, ga + de + n + t)
        scale = de / (ga - 1) * np.exp(gammaln(ga + de) - gammaln(1 + de))
        return np.exp(log_front - self._log_likelihood_rows(x, t_x, n)) * scale * span

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] over the first ``t`` opportunities of a new customer, equation (7)."""
        al, be, ga, de = self.fitted().values()
        t = np.asarray(t, dtype=np.float64)
        ratio = np.exp(
            gammaln(ga + de) + gammaln(1 + de + t) - gammaln(ga + de + t) - gammaln(1 + de)
        )
        return al / (al + be) * de / (ga - 1) * (1 - ratio)


def _gamma_ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.exp(gammaln(top) - gammaln(bottom))
