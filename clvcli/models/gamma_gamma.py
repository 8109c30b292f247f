r"""Gamma-Gamma: the expected value of a customer's purchases.

Fader and Hardie (2013), "The Gamma-Gamma model of monetary value"; Fader, Hardie
and Lee (2005), "RFM and CLV". A customer's purchase values are Gamma(p, nu) with
:math:`\nu \sim \mathrm{Gamma}(q, \gamma)` across customers. Fitted on repeat
customers' mean repeat purchase value ``m`` over ``x`` repeat purchases. Its key
assumption, that spend does not depend on frequency, is checked by
:func:`spend_frequency_correlation`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln, psi

from clvcli.errors import ModelError
from clvcli.models.base import DistinctRows, Fitter, add_up_blocks, dot
from clvcli.models.spread import Spread

# A correlation above this between frequency and spend breaks the model's assumption
# badly enough to tell the user.
CORRELATION_WARNING = 0.3


class GammaGammaFitter(Fitter):
    """Gamma-Gamma with parameters ``p, q, v`` (v is the papers' gamma)."""

    name = "gamma-gamma"
    param_names = ("p", "q", "v")
    spreads = (
        Spread(
            "p",
            "v",
            "product",
            "each customer's purchases are all worth about the same",
            "the constant-spend limit (no spread within a customer; p*v sets the spread "
            "between customers)",
        ),
        Spread(
            "q",
            "v",
            "gamma",
            "customers do not differ in how much they spend on average",
            "the common-spend limit (one mean purchase value for all, p*v/(q-1))",
        ),
    )

    def fit_rows(self, data: DistinctRows) -> GammaGammaFitter:
        """Fit; when that fails, fit again in units of the mean spend.

        The model does not depend on the unit of money: spend k times larger gives a v k
        times larger, the same p and q, and each customer's log-likelihood lower by ln k.
        The parameter box, exp(+-14), cannot hold v for amounts in rials (v = 3.5e6 for
        the sample shop), so such a fit runs on m / k, with k the mean spend.
        """
        try:
            return super().fit_rows(data)
        except ModelError as error:
            x, m = data.columns
            unit = float(np.average(m, weights=data.weight)) if data.customers else 1.0
            if not (np.isfinite(unit) and unit > 0) or unit == 1.0:
                raise
            first = error
        try:
            super().fit_rows(DistinctRows((x, m / unit), data.weight, data.inverse))
        except ModelError:
            raise first from None
        assert self.params_ is not None
        for values in (self.params_, self.std_errors_, self.ci_lower_, self.ci_upper_):
            if values["v"] is not None:
                values["v"] *= unit
        # The warnings name values in the fit's unit: say them again in the data's.
        self.warnings_ = self._boundary_warnings([w for w in self.warnings_ if "fits as well" in w])
        self.log_likelihood_ -= data.customers * np.log(unit)
        k = len(self.param_names)
        self.aic_ = 2 * k - 2 * self.log_likelihood_
        self.bic_ = k * np.log(data.customers) - 2 * self.log_likelihood_
        return self

    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        _, m = data.columns
        mean = max(float(np.average(m, weights=data.weight)), 1e-6)
        return [
            np.array([1.0, 2.0, mean]),
            np.array([6.0, 4.0, mean * 2.5]),
            np.array([2.0, 3.0, mean]),
            np.array([0.5, 1.5, mean / 2]),
        ]

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        """Equation (3) of Fader and Hardie (2013), as logs, with its gradient."""
        p, q, v = params
        x, m = data.columns
        px = p * x
        log_total = np.log(v + m * x)
        terms = (
            gammaln(px + q)
            - gammaln(px)
            - gammaln(q)
            + q * np.log(v)
            + (px - 1) * np.log(m)
            + px * np.log(x)
            - (px + q) * log_total
        )
        grad = np.empty((len(x), 3))
        grad[:, 0] = x * (psi(px + q) - psi(px) + np.log(m) + np.log(x) - log_total)
        grad[:, 1] = psi(px + q) - psi(q) + np.log(v) - log_total
        grad[:, 2] = q / v - (px + q) / (v + m * x)
        return terms, grad

    def weighted_log_likelihood(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[float, np.ndarray]:
        """The same sums as the terms give, with the gamma functions evaluated once per
        distinct x (a few hundred) and one log per row: the fit's whole cost."""
        p, q, v = params
        stats = _sufficient(data)
        level, weight, log_m_sum = stats.level, stats.level_weight, stats.level_log_m
        pl = p * level
        total_weight = stats.total_weight
        per_level = gammaln(pl + q) - gammaln(pl) + pl * np.log(level)
        x_log_total, sum_log_total, x_inverse_total, sum_inverse_total = _per_row_sums(
            v, stats.mx, data.columns[0], data.weight
        )
        total = (
            dot(weight, per_level)
            + total_weight * (q * np.log(v) - gammaln(q))
            + p * dot(level, log_m_sum)
            - stats.log_m_total
            - p * x_log_total
            - q * sum_log_total
        )
        digamma_sum = psi(pl + q)
        grad_p = (
            dot(weight, level * (digamma_sum - psi(pl) + np.log(level)))
            + dot(level, log_m_sum)
            - x_log_total
        )
        grad_q = dot(weight, digamma_sum) + total_weight * (np.log(v) - psi(q)) - sum_log_total
        grad_v = total_weight * q / v - p * x_inverse_total - q * sum_inverse_total
        return total, np.array([grad_p, grad_q, grad_v])

    def expected_spend(self, x: np.ndarray, m: np.ndarray) -> np.ndarray:
        """E[mean purchase value | x, m]: a weighted mean of the population mean and m.

        Customers without repeat purchases (x = 0) get the population mean p v / (q - 1).
        """
        p, q, v = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        m = np.asarray(m, dtype=np.float64)
        population = p * v / (q - 1) if q > 1 else np.nan
        # p (v + m x) / (p x + q - 1): the posterior mean, finite even when q <= 1 as long
        # as p x + q > 1; below that it is infinite too (NaN, like the population's).
        with np.errstate(divide="ignore", invalid="ignore"):
            posterior = np.where(p * x + q > 1, p * (v + m * x) / (p * x + q - 1), np.nan)
        return np.where(x > 0, posterior, population)


def _per_row_sums(
    v: float, mx: np.ndarray, x: np.ndarray, weight: np.ndarray
) -> tuple[float, float, float, float]:
    """x . w ln(v + m x), the sum of w ln(v + m x), x . w / (v + m x) and the sum of
    w / (v + m x): the likelihood's only per-row work, reduced block by block
    (:func:`add_up_blocks`) without arrays as long as the data.

    Up to BLAS_ROWS rows the sums are those of one dot product and one numpy sum each,
    as they always were, so that fits on such data do not move: this fit's optimum is
    flat enough that summing in another order moves p, q and v by 1e-8.
    """

    def sums(rows: slice) -> np.ndarray:
        spread = v + mx[rows]
        log_total = np.multiply(weight[rows], np.log(spread))
        inverse_total = np.divide(weight[rows], spread, out=spread)
        return np.array(
            [
                dot(x[rows], log_total),
                log_total.sum(),
                dot(x[rows], inverse_total),
                inverse_total.sum(),
            ]
        )

    x_log, log_sum, x_inverse, inverse_sum = add_up_blocks(sums, len(mx), 4)
    return float(x_log), float(log_sum), float(x_inverse), float(inverse_sum)


@dataclass(frozen=True)
class _Sufficient:
    """What the Gamma-Gamma likelihood needs of the data, computed once per fit."""

    level: np.ndarray  # distinct x
    level_weight: np.ndarray  # customers at each x
    level_log_m: np.ndarray  # their sum of ln m
    log_m_total: float
    total_weight: float
    mx: np.ndarray  # m x per row


def _sufficient(data: DistinctRows) -> _Sufficient:
    cached = data._levels.get(("gamma-gamma",))
    if cached is None:
        x, m = data.columns
        level, codes = data.levels(0)
        weighted_log_m = data.weight * np.log(m)
        cached = _Sufficient(
            level=level,
            level_weight=np.bincount(codes, weights=data.weight, minlength=len(level)),
            level_log_m=np.bincount(codes, weights=weighted_log_m, minlength=len(level)),
            log_m_total=float(weighted_log_m.sum()),
            total_weight=float(data.weight.sum()),
            mx=m * x,
        )
        data._levels[("gamma-gamma",)] = cached
    return cached


def spend_rows(frequency: np.ndarray, monetary_value: np.ndarray) -> DistinctRows:
    """The repeat customers with a positive mean spend, as distinct (x, m) rows."""
    return DistinctRows.of(*_repeat_spend(frequency, monetary_value))


def spend_frequency_correlation(frequency: np.ndarray, monetary_value: np.ndarray) -> float:
    """Pearson correlation of frequency and mean spend among repeat customers."""
    return _correlation(*_repeat_spend(frequency, monetary_value))


def spend_rows_and_correlation(
    frequency: np.ndarray, monetary_value: np.ndarray
) -> tuple[DistinctRows, float]:
    """:func:`spend_rows` and :func:`spend_frequency_correlation`, picking the repeat
    customers out of millions once instead of twice."""
    x, m = _repeat_spend(frequency, monetary_value)
    return DistinctRows.of(x, m), _correlation(x, m)


def _repeat_spend(
    frequency: np.ndarray, monetary_value: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    keep = (frequency > 0) & (monetary_value > 0)
    return frequency[keep], monetary_value[keep]


def _correlation(x: np.ndarray, m: np.ndarray) -> float:
    if len(x) < 3 or np.std(x) == 0 or np.std(m) == 0:
        return 0.0
    return float(np.corrcoef(x, m)[0, 1])
