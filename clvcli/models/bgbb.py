r"""BG/BB: the beta-geometric / beta-Bernoulli model of discrete opportunities.

Fader, Hardie and Shang (2010), "Customer-base analysis in a discrete-time
noncontractual setting", Marketing Science 29(6). At each opportunity (one per
``--period``) an alive customer buys with probability :math:`p \sim
\mathrm{Beta}(\alpha, \beta)` and then dies with probability :math:`\theta \sim
\mathrm{Beta}(\gamma, \delta)`. Inputs: ``x`` opportunities with a purchase after the
first, ``t_x`` the last such opportunity, ``n`` opportunities observed.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1, psi

from clvcli.models.base import DistinctRows, Fitter
from clvcli.models.spread import Spread


class BGBBFitter(Fitter):
    """BG/BB with parameters ``alpha, beta, gamma, delta``."""

    name = "bgbb"
    param_names = ("alpha", "beta", "gamma", "delta")
    spreads = (
        Spread(
            "alpha",
            "beta",
            "beta",
            "customers do not differ in their chance of buying at each opportunity",
            "the common-purchase limit (one purchase probability for all, alpha/(alpha+beta))",
        ),
        Spread(
            "gamma",
            "delta",
            "beta",
            "customers do not differ in their chance of dropping out at each opportunity",
            "the common-dropout limit (one dropout probability for all, gamma/(gamma+delta))",
        ),
    )
    edges: ClassVar[dict[tuple[str, int], str]] = {
        ("gamma", -1): "customers almost never drop out (the no-dropout limit)",
        ("delta", 1): "customers almost never drop out (the no-dropout limit)",
        ("alpha", 1): "customers alive buy at nearly every opportunity",
        ("beta", -1): "customers alive buy at nearly every opportunity",
    }

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
        opportunity j in [t_x, n) after which the customer may have died.

        The terms for dying after opportunity j depend on (x, j) only, so they are
        tabulated once per distinct x and summed over ranges of j with cumulative
        sums from the right, in logs; the gradient's sums are split into their positive
        and negative parts so that they can be summed in logs too.
        """
        al, be, ga, de = params
        x, t_x, n = data.columns
        base = betaln(al, be) + betaln(ga, de)
        survive = betaln(al + x, be + n - x) + betaln(ga, de + n) - base
        d_base = np.array(
            [
                psi(al) - psi(al + be),
                psi(be) - psi(al + be),
                psi(ga) - psi(ga + de),
                psi(de) - psi(ga + de),
            ]
        )
        d_survive = (
            np.column_stack(
                [
                    psi(al + x) - psi(al + be + n),
                    psi(be + n - x) - psi(al + be + n),
                    np.full(len(x), psi(ga)) - psi(ga + de + n),
                    psi(de + n) - psi(ga + de + n),
                ]
            )
            - d_base
        )
        xs, at_x = data.levels(0)
        width = int(n.max()) if len(n) else 0
        j = np.arange(width, dtype=np.float64)[None, :]
        xx = xs[:, None]
        valid = j >= xx
        safe_j = np.where(valid, j, xx)
        log_h = np.where(
            valid,
            betaln(al + xx, be + safe_j - xx) + betaln(ga + 1, de + safe_j) - base,
            -np.inf,
        )
        d_h = (
            np.stack(
                [
                    psi(al + xx) - psi(al + be + safe_j),
                    psi(be + safe_j - xx) - psi(al + be + safe_j),
                    np.full_like(safe_j, psi(ga + 1)) - psi(ga + de + safe_j + 1),
                    psi(de + safe_j) - psi(ga + de + safe_j + 1),
                ]
            )
            - d_base[:, None, None]
        )
        start, stop = t_x.astype(np.int64), n.astype(np.int64)
        died = _range_log_sum(log_h, at_x, start, stop)
        total = np.logaddexp(survive, died)
        w0 = np.exp(survive - total)
        grad = w0[:, None] * d_survive
        has_range = stop > start
        for k in range(4):
            with np.errstate(divide="ignore"):
                log_up = log_h + np.log(np.maximum(d_h[k], 0))
                log_down = log_h + np.log(np.maximum(-d_h[k], 0))
            positive = _range_log_sum(log_up, at_x, start, stop)
            negative = _range_log_sum(log_down, at_x, start, stop)
            mean_d = np.exp(positive - total) - np.exp(negative - total)
            grad[:, k] += np.where(has_range, mean_d, 0.0)
        return total, grad

    def _log_likelihood_rows(self, x, t_x, n) -> np.ndarray:
        params = np.array(list(self.fitted().values()))
        data = DistinctRows(
            (np.asarray(x, float), np.asarray(t_x, float), np.asarray(n, float)),
            np.ones(np.size(x)),
            np.arange(np.size(x)),
        )
        return self.log_likelihood_terms(params, data)[0]

    def _shifted(self, gamma: float) -> BGBBFitter:
        return BGBBFitter().set_params({**self.fitted(), "gamma": gamma})

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
        self,
        t: float | np.ndarray,
        x: np.ndarray,
        t_x: np.ndarray,
        n: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected purchases in the next ``t`` opportunities, equation (13)."""
        al, be, ga, de = self.fitted().values()
        if abs(ga - 1) < 1e-4:
            values = [
                self._shifted(1 + d).expected_purchases(t, x, t_x, n, p_alive)
                for d in (2e-4, -2e-4)
            ]
            return np.mean(values, axis=0)
        x = np.asarray(x, dtype=np.float64)
        n = np.asarray(n, dtype=np.float64)
        # delta / (gamma - 1) and the bracket change sign together when gamma < 1.
        log_front = betaln(al + x + 1, be + n - x) - betaln(al, be)
        with np.errstate(over="ignore", under="ignore"):  # see the end
            span = _gamma_ratio(1 + de + n, ga + de + n) - _gamma_ratio(
                1 + de + n + t, ga + de + n + t
            )
            scale = de / (ga - 1) * np.exp(gammaln(ga + de) - gammaln(1 + de))
        if p_alive is not None:
            # P(alive) carries the same 1 / L; reuse it rather than the likelihood.
            log_alive = (
                betaln(al + x, be + n - x)
                - betaln(al, be)
                + betaln(ga, de + n + 1)
                - betaln(ga, de)
            )
            front = p_alive * np.exp(log_front - log_alive)
        else:
            front = np.exp(log_front - self._log_likelihood_rows(x, t_x, n))
        with np.errstate(invalid="ignore"):
            expected = front * scale * span
        if not np.all(np.isfinite(expected)):
            # For gamma and delta in the hundred thousands the scale overflows and the
            # span underflows (inf x 0): the same product, delta / (gamma - 1) (R(n) -
            # R(n + t)) with R(k) = B(gamma, 1 + delta + k) / B(gamma, 1 + delta), in logs.
            log_ratio = _log_gamma_ratio(ga, de, n)
            in_logs = np.exp(log_ratio) * -np.expm1(_log_gamma_ratio(ga, de, n + t) - log_ratio)
            expected = np.where(np.isfinite(expected), expected, front * de / (ga - 1) * in_logs)
        return expected

    def discounted_expected_purchases(
        self,
        rate: float,
        x: np.ndarray,
        t_x: np.ndarray,
        n: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """DERT: every future opportunity's expected purchase, discounted at ``rate``
        per opportunity (equation (14) of the paper, through P(alive))."""
        al, be, ga, de = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        n = np.asarray(n, dtype=np.float64)
        alive = self.p_alive(x, t_x, n) if p_alive is None else p_alive
        series = hyp2f1(1.0, de + n + 1, ga + de + n + 1, 1 / (1 + rate))
        return alive * (al + x) / (al + be + n) * series / (1 + rate)

    def probability_of_purchases(self, x: int | np.ndarray, n: int) -> np.ndarray:
        """P(X(n) = x): x purchases in the first n opportunities of a new customer.

        Alive through all n opportunities with x of them purchases, or died after
        opportunity i (x <= i < n) having bought at x of the first i.
        """
        al, be, ga, de = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        base = betaln(al, be) + betaln(ga, de)
        alive = np.exp(_log_choose(n, x) + betaln(al + x, be + n - x) + betaln(ga, de + n) - base)
        i = np.arange(n, dtype=np.float64)[:, None]
        usable = i >= x[None, :]
        safe_i = np.where(usable, i, x[None, :])
        died_terms = np.exp(
            _log_choose(safe_i, x[None, :])
            + betaln(al + x[None, :], be + safe_i - x[None, :])
            + betaln(ga + 1, de + safe_i)
            - base
        )
        return alive + np.sum(np.where(usable, died_terms, 0.0), axis=0)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] over the first ``t`` opportunities of a new customer, equation (7)."""
        al, be, ga, de = self.fitted().values()
        if abs(ga - 1) < 1e-4:
            # delta / (gamma - 1) times a bracket that vanishes at gamma = 1: the
            # mean of the values either side is the limit.
            return np.mean(
                [self._shifted(1 + d).expected_purchases_new(t) for d in (2e-4, -2e-4)], axis=0
            )
        t = np.asarray(t, dtype=np.float64)
        ratio = np.exp(
            gammaln(ga + de) + gammaln(1 + de + t) - gammaln(ga + de + t) - gammaln(1 + de)
        )
        return al / (al + be) * de / (ga - 1) * (1 - ratio)


def _log_choose(n: np.ndarray | float, k: np.ndarray) -> np.ndarray:
    return gammaln(np.asarray(n) + 1) - gammaln(k + 1) - gammaln(np.asarray(n) - k + 1)


def _gamma_ratio(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    return np.exp(gammaln(top) - gammaln(bottom))


def _log_gamma_ratio(ga: float, de: float, k: np.ndarray) -> np.ndarray:
    """ln of Gamma(gamma + delta) Gamma(1 + delta + k) / (Gamma(1 + delta) Gamma(gamma +
    delta + k)), the chance of surviving k more opportunities relative to the first."""
    k = np.asarray(k, dtype=np.float64)
    return gammaln(ga + de) - gammaln(1 + de) + gammaln(1 + de + k) - gammaln(ga + de + k)


def _range_log_sum(
    log_table: np.ndarray, row: np.ndarray, start: np.ndarray, stop: np.ndarray
) -> np.ndarray:
    """log of the sum of exp(log_table[row, j]) over j in [start, stop), per entry."""
    with np.errstate(divide="ignore"):
        padded = np.concatenate([log_table, np.full((len(log_table), 1), -np.inf)], axis=1)
        suffix = np.logaddexp.accumulate(padded[:, ::-1], axis=1)[:, ::-1]
        upper = suffix[row, start]
        lower = suffix[row, stop]
        finite = np.isfinite(upper) & (upper > lower)
        gap = np.where(finite, lower - np.where(finite, upper, 0.0), -np.inf)
        return np.where(finite, upper + np.log1p(-np.exp(gap)), -np.inf)
