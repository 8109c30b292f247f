r"""BG/NBD: the beta-geometric / negative binomial model of repeat purchasing.

Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative
to the Pareto/NBD model", Marketing Science 24(2). While alive, a customer buys at a
Poisson rate :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; after each repeat
purchase they drop out with probability :math:`p \sim \mathrm{Beta}(a, b)`. A
customer with no repeat purchase is alive with certainty by construction, which is
why the lifecycle stages add day rules.

Inputs per customer: ``x`` repeat purchases, ``t_x`` time of the last one, ``T``
time since the first purchase, in the model's time unit.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1, psi

from clvcli.models.base import DistinctRows, Fitter


class BGNBDFitter(Fitter):
    """BG/NBD with parameters ``r, alpha, a, b``."""

    name = "bgnbd"
    param_names = ("r", "alpha", "a", "b")

    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        _, _, T = data.columns
        scale = max(float(np.average(T, weights=data.weight)), 1e-3)
        return [
            np.array([1.0, scale, 1.0, 1.0]),
            np.array([0.25, scale / 10, 0.8, 2.5]),
            np.array([2.0, scale * 2, 0.5, 5.0]),
            np.array([0.5, scale / 2, 2.0, 2.0]),
        ]

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        """Equation (6) of the paper, as logs; gradient by the digamma function."""
        r, alpha, a, b = params
        x, t_x, T = data.columns
        repeat = x > 0
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
        a3 = -(r + x) * np.log(alpha + T)
        safe_b = np.where(repeat, b + x - 1, 1.0)
        a4 = np.where(repeat, np.log(a) - np.log(safe_b) - (r + x) * np.log(alpha + t_x), -np.inf)
        total = np.logaddexp(a3, a4)
        w3 = np.exp(a3 - total)
        w4 = np.exp(a4 - total)
        grad = np.empty((len(x), 4))
        grad[:, 0] = (
            psi(r + x) - psi(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
        )
        grad[:, 1] = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
        grad[:, 2] = psi(a + b) - psi(a + b + x) + w4 / a
        grad[:, 3] = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - w4 / safe_b
        return a1 + a2 + total, grad

    # -- predictions --------------------------------------------------------------
    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive at T | x, t_x, T), equation (A.10) of the paper's note."""
        r, alpha, a, b = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        safe_b = np.where(x > 0, b + x - 1, 1.0)
        log_odds = np.log(a) - np.log(safe_b) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, expit(-log_odds), 1.0)

    def expected_purchases(
        self, t: float | np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray
    ) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history, equation (10).

        The hypergeometric term is evaluated after Euler's transformation,
        (1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z) = (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z),
        whose small parameters keep it finite for customers with hundreds of purchases.
        """
        r, alpha, a, b = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        z = t / (alpha + T + t)
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
        return self.p_alive(x, t_x, T) * (a + b + x - 1) / (a - 1) * (1 - tail)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired, equation (9)."""
        r, alpha, a, b = self.fitted().values()
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + t)
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1 - tail)

    def probability_of_purchases(self, n: int | np.ndarray, t: float) -> np.ndarray:
        """P(X(t) = n) for a customer just acquired, equation (8)."""
        r, alpha, a, b = self.fitted().values()
        n = np.asarray(n, dtype=np.float64)
        log_q = np.log(alpha) - np.log(alpha + t)
        log_p = np.log(t) - np.log(alpha + t)
        first = np.exp(
            betaln(a, b + n)
            - betaln(a, b)
            + gammaln(r + n)
            - gammaln(r)
            - gammaln(n + 1)
            + r * log_q
            + n * log_p
        )
        # Sum over j < n of the NBD terms, for the second part (n > 0 only).
        most = int(np.max(n)) if n.size else 0
        j = np.arange(max(most, 1))
        nbd = np.exp(gammaln(r + j) - gammaln(r) - gammaln(j + 1) + r * log_q + j * log_p)
        cumulative = np.concatenate([[0.0], np.cumsum(nbd)])
        below = cumulative[n.astype(np.int64)]
        second = np.where(
            n > 0,
            np.exp(betaln(a + 1, np.maximum(b + n - 1, 1e-300)) - betaln(a, b)) * (1 - below),
            0.0,
        )
        return first + second
