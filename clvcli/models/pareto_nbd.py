r"""Pareto/NBD: Poisson purchasing with exponential lifetimes.

Schmittlein, Morrison and Colombo (1987), "Counting your customers: who are they and
what will they do next?", Management Science 33(1); estimation as in Fader and Hardie,
"A note on deriving the Pareto/NBD model". While alive, purchases follow a Poisson
process with :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; lifetimes are
exponential with :math:`\mu \sim \mathrm{Gamma}(s, \beta)`.

The likelihood is usually written with a Gaussian hypergeometric function whose
direct evaluation overflows or loses all precision for long tenures and frequent
buyers. Here the same quantity is computed from its integral over the death time,

.. math:: I = \int_{t_x}^{T} (\alpha+\tau)^{-(r+x)} (\beta+\tau)^{-(s+1)} d\tau,

after the change of variable :math:`z = 1 - ((\alpha+t_x)/(\alpha+\tau))^{r+x+s}`,
which leaves a bounded, smooth integrand for Gauss-Legendre quadrature and keeps
everything in logs. Its derivatives in the parameters are integrals of the same kind,
so the gradient is analytic too.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import gammaln, psi

from clvcli.models.base import DistinctRows, Fitter

_NODES, _WEIGHTS = leggauss(48)


class ParetoNBDFitter(Fitter):
    """Pareto/NBD with parameters ``r, alpha, s, beta``."""

    name = "pnbd"
    param_names = ("r", "alpha", "s", "beta")

    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        _, _, T = data.columns
        scale = max(float(np.average(T, weights=data.weight)), 1e-3)
        return [
            np.array([0.5, scale / 4, 0.5, scale / 4]),
            np.array([1.0, scale, 1.0, scale]),
            np.array([0.5, scale / 4, 1.5, scale * 2]),
            np.array([2.0, scale, 0.3, scale / 10]),
        ]

    def _terms(self, params: np.ndarray, data: DistinctRows, gradient: bool):
        r, alpha, s, beta = params
        x, t_x, T = data.columns
        k = r + x
        c = k + s
        log_c_term = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        log_t1 = -k * np.log(alpha + T) - s * np.log(beta + T)
        # z runs over [0, z_T]; the integrand in z is ((alpha+tau)/(beta+tau))^(s+1).
        log_ratio = np.log(alpha + t_x) - np.log(alpha + T)
        z_top = -np.expm1(c * log_ratio)
        z = z_top[:, None] * (_NODES[None, :] + 1) / 2
        log_alpha_tau = np.log(alpha + t_x)[:, None] - np.log1p(-z) / c[:, None]
        tau = np.exp(log_alpha_tau) - alpha
        log_beta_tau = np.log(beta + tau)
        g = np.exp((s + 1) * (log_alpha_tau - log_beta_tau))
        weights = _WEIGHTS[None, :] * (z_top[:, None] / 2)
        j0 = np.sum(weights * g, axis=1)
        has_window = j0 > 0
        log_integral = np.where(
            has_window,
            -c * np.log(alpha + t_x) - np.log(c) + np.log(np.where(has_window, j0, 1.0)),
            -np.inf,
        )
        log_t2 = np.log(s) + log_integral
        total = np.logaddexp(log_t1, log_t2)
        terms = log_c_term + total
        if not gradient:
            return terms, log_t1 - total, None
        w1 = np.exp(log_t1 - total)
        w2 = np.exp(log_t2 - total)
        safe_j0 = np.where(has_window, j0, 1.0)

        def mean_of(values: np.ndarray) -> np.ndarray:
            return np.sum(weights * g * values, axis=1) / safe_j0

        grad = np.empty((len(x), 4))
        grad[:, 0] = (
            psi(r + x)
            - psi(r)
            + np.log(alpha)
            - w1 * np.log(alpha + T)
            - w2 * mean_of(log_alpha_tau)
        )
        grad[:, 1] = r / alpha - w1 * k / (alpha + T) - w2 * k * mean_of(np.exp(-log_alpha_tau))
        grad[:, 2] = np.log(beta) - w1 * np.log(beta + T) + w2 * (1 / s - mean_of(log_beta_tau))
        grad[:, 3] = s / beta - w1 * s / (beta + T) - w2 * (s + 1) * mean_of(np.exp(-log_beta_tau))
        return terms, log_t1 - total, grad

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        terms, _, grad = self._terms(params, data, gradient=True)
        return terms, grad

    # -- predictions --------------------------------------------------------------
    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive at T | x, t_x, T): the share of the likelihood from surviving to T."""
        params = np.array(list(self.fitted().values()))
        data = DistinctRows(
            (np.asarray(x, float), np.asarray(t_x, float), np.asarray(T, float)),
            np.ones(np.size(x)),
            np.arange(np.size(x)),
        )
        _, log_alive, _ = self._terms(params, data, gradient=False)
        return np.exp(log_alive)

    def expected_purchases(
        self, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history."""
        r, alpha, s, beta = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        rate = (r + x) / (alpha + T)
        return self.p_alive(x, t_x, T) * rate * _survival_integral(s, beta + T, t)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired."""
        r, alpha, s, beta = self.fitted().values()
        return r / alpha * _survival_integral(s, beta, np.asarray(t, dtype=np.float64))


def _survival_integral(s: float, start: np.ndarray | float, t: np.ndarray | float):
    """The integral over (0, t] of (start / (start + u))^s du: expected lifetime in t."""
    start = np.asarray(start, dtype=np.float64)
    if abs(s - 1) < 1e-9:
        return start * np.log1p(t / start)
    return start / (s - 1) * -np.expm1((s - 1) * -np.log1p(t / start))
