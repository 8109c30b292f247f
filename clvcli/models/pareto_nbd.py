r"""Pareto/NBD: Poisson purchasing with exponential lifetimes.

Schmittlein, Morrison and Colombo (1987), "Counting your customers: who are they and
what will they do next?", Management Science 33(1); estimation as in Fader and Hardie,
"A note on deriving the Pareto/NBD model". While alive, purchases follow a Poisson
process with :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`; lifetimes are
exponential with :math:`\mu \sim \mathrm{Gamma}(s, \beta)`.

The likelihood is usually written with a Gaussian hypergeometric function whose
direct evaluation overflows or loses all precision for long tenures and frequent
buyers. Here it is computed from the integral over the death time,

.. math:: I = \int_{t_x}^{T} (\alpha+\tau)^{-(r+x)} (\beta+\tau)^{-(s+1)} d\tau
          = F(x, t_x) - F(x, T),

where :math:`F(x, u) = (\alpha+u)^{-c} \int_0^1 w^{c-1} (1 + \rho w)^{-(s+1)} dw`,
:math:`c = r+x+s`, :math:`\rho = (\beta-\alpha)/(\alpha+u)` (the Euler integral of
that 2F1). Substituting :math:`w = y^{3/c}` leaves a bounded integrand that
Gauss-Legendre quadrature integrates to near machine precision, everything stays in
logs, and F needs evaluating only once per distinct (x, t_x) and (x, T) pair. The
derivatives of F in the parameters are integrals of the same kind, so the gradient is
analytic too.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from numpy.polynomial.legendre import leggauss
from scipy.special import gammaln, hyperu, psi

from clvcli.models import pareto_limit
from clvcli.models.base import DistinctRows, Fitter, logaddexp, sum_in_blocks
from clvcli.models.spread import LIMIT_SIZE, PURCHASE_RATES, Spread
from clvcli.parallel import in_blocks

_NODES, _WEIGHTS = leggauss(32)
_PANEL_Y = (_NODES + 1) / 2
_PANEL_WEIGHTS = _WEIGHTS / 2
_M = 3.0
# Where (1 + rho w)^-(s+1) turns, as a multiple of 1/rho (rho > 0) or of 1 + rho
# (rho < 0): the quadrature splits there so both sides are smooth.
_TURN = 4.0
# From this s on, the model is its homogeneous-dropout limit (mu = s / beta) and is
# computed by :mod:`clvcli.models.pareto_limit`: the quadrature here is inaccurate
# there, and a gamma of shape 1e6 is one rate to three digits anyway.
AT_LIMIT = LIMIT_SIZE / 2


def _at_limit(s: float) -> bool:
    return s >= AT_LIMIT


def _nodes(c: np.ndarray, rho: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature nodes y in (0, 1) per row, and weights including (M/c)-free Jacobian.

    w = y^(M/c), dw = (M/c) y^(M/c - 1) dy: the weight w^(c-1) dw becomes
    (M/c) y^(M-1) dy, smooth at 0 whatever c is (the 1/c is kept outside). Two panels
    of Gauss-Legendre nodes meet where the other factor turns.
    """
    turn = np.where(
        rho > 0,
        np.minimum(0.5, _TURN / np.maximum(rho, 1e-300)),
        np.maximum(0.5, 1 - _TURN * (1 + rho)),
    )
    split = np.exp(c / _M * np.log(turn))[:, None]
    y = np.concatenate([split * _PANEL_Y, split + (1 - split) * _PANEL_Y], axis=1)
    weight = np.concatenate([split * _PANEL_WEIGHTS, (1 - split) * _PANEL_WEIGHTS], axis=1)
    return y, weight * _M * y ** (_M - 1)


def _log_tail(
    k: np.ndarray, u: np.ndarray, params: np.ndarray, gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`_log_tail_of` a few rows at a time, on every core.

    The quadrature holds 64 values per row in each of a dozen temporaries: a million
    distinct pairs at once made arrays of half a gigabyte each. In blocks of
    ``_TAIL_ROWS`` they stay in the cache, and every row's value is the same.
    """
    n = len(k)
    log_f = np.empty(n)
    grad = np.empty((n, 4)) if gradient else None

    def work(rows: slice) -> None:
        for start in range(rows.start, rows.stop, _TAIL_ROWS):
            part = slice(start, min(start + _TAIL_ROWS, rows.stop))
            log_f[part], part_grad = _log_tail_of(k[part], u[part], params, gradient)
            if grad is not None:
                grad[part] = part_grad

    in_blocks(work, n)
    return log_f, grad


# Rows per quadrature block: 64 nodes each, so a temporary is 512 kB.
_TAIL_ROWS = 1024


def _log_tail_of(
    k: np.ndarray, u: np.ndarray, params: np.ndarray, gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """ln F(x, u) for rows of k = r + x and u, and its gradient in (r, alpha, s, beta)."""
    _, alpha, s, beta = params
    c = k + s
    base = alpha + u
    rho = (beta - alpha) / base
    y, y_weights = _nodes(c, rho)
    log_w = (_M / c)[:, None] * np.log(y)
    w = np.exp(log_w)
    one_plus = 1 + rho[:, None] * w
    log_one_plus = np.log(one_plus)
    g = np.exp(-(s + 1) * log_one_plus) * y_weights
    integral = g.sum(axis=1)
    log_f = -c * np.log(base) - np.log(c) + np.log(integral)
    if not gradient:
        return log_f, None

    def mean_of(values: np.ndarray) -> np.ndarray:
        return (g * values).sum(axis=1) / integral

    # d/dc of ln(1/c) + ln of the integral in y, where w depends on c too.
    mean_dc = -1 / c + mean_of(-(s + 1) * rho[:, None] * w * -log_w / c[:, None] / one_plus)
    mean_ratio = mean_of(w / one_plus)
    grad = np.empty((len(k), 4))
    grad[:, 0] = -np.log(base) + mean_dc
    grad[:, 1] = -c / base + (beta + u) / base**2 * (s + 1) * mean_ratio
    grad[:, 2] = -np.log(base) + mean_dc - mean_of(log_one_plus)
    grad[:, 3] = -(s + 1) * mean_ratio / base
    return log_f, grad


class _Shared:
    """What the rows' terms share at one point: the tails of every distinct (x, t_x)
    and (x, T) pair, and the special functions and logs of every distinct x and T."""

    def __init__(self, params: np.ndarray, data: DistinctRows, gradient: bool) -> None:
        r, alpha, s, beta = params
        self.params = params
        self.x, self.t_x, self.T = data.columns
        xs, self.at_x = data.levels(0)
        ts, self.at_t = data.levels(2)
        self.log_alpha_t = np.log(alpha + ts)
        self.log_beta_t = np.log(beta + ts)
        self.log_c = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        self.psi = psi(r + xs) - psi(r) if gradient else None
        xs_a, us_a, self.at_a = data.levels(0, 1)
        xs_b, us_b, self.at_b = data.levels(0, 2)
        self.log_f_a, self.grad_a = _log_tail(r + xs_a, us_a, params, gradient)
        self.log_f_b, self.grad_b = _log_tail(r + xs_b, us_b, params, gradient)

    def fill(
        self,
        rows: slice,
        terms: np.ndarray,
        grad: np.ndarray | None,
        log_alive: np.ndarray | None = None,
    ) -> None:
        """The terms of ``rows`` into ``terms``, their gradient into ``grad`` (if
        given) and log P(alive) into ``log_alive`` (if given)."""
        r, alpha, s, beta = self.params
        x, t_x, T = self.x[rows], self.t_x[rows], self.T[rows]
        at_x, at_t = self.at_x[rows], self.at_t[rows]
        k = r + x
        log_alpha_t, log_beta_t = self.log_alpha_t[at_t], self.log_beta_t[at_t]
        log_t1 = -k * log_alpha_t - s * log_beta_t
        at_a, at_b = self.at_a[rows], self.at_b[rows]
        log_f_a = self.log_f_a[at_a]
        # I = F(t_x) - F(T) >= 0; q = F(T) / F(t_x) is 1 when t_x = T.
        q = np.where(t_x < T, np.exp(np.minimum(self.log_f_b[at_b] - log_f_a, 0.0)), 1.0)
        # Numerically q can reach 1 with t_x < T when the window holds nothing.
        has_window = q < 1
        q = np.where(has_window, q, 0.0)
        log_integral = np.where(has_window, log_f_a + np.log1p(-q), -np.inf)
        total = logaddexp(log_t1, np.log(s) + log_integral)
        np.add(self.log_c[at_x], total, out=terms)
        if log_alive is not None:
            np.subtract(log_t1, total, out=log_alive)
        if grad is None:
            return
        assert self.grad_a is not None and self.grad_b is not None and self.psi is not None
        w1 = np.exp(log_t1 - total)
        w2 = 1.0 - w1
        d_integral = (self.grad_a[at_a] - q[:, None] * self.grad_b[at_b]) / (1 - q)[:, None]
        d_integral[~has_window] = 0.0
        grad[:, 0] = self.psi[at_x] + np.log(alpha) - w1 * log_alpha_t
        grad[:, 1] = r / alpha - w1 * k / (alpha + T)
        grad[:, 2] = np.log(beta) - w1 * log_beta_t + w2 / s
        grad[:, 3] = s / beta - w1 * s / (beta + T)
        grad += w2[:, None] * d_integral


class ParetoNBDFitter(Fitter):
    """Pareto/NBD with parameters ``r, alpha, s, beta``."""

    name = "pnbd"
    param_names = ("r", "alpha", "s", "beta")
    spreads = (
        PURCHASE_RATES,
        Spread(
            "s",
            "beta",
            "gamma",
            "customers do not differ in how fast they drop out",
            "the homogeneous-dropout limit (one exponential dropout rate for all, mu = s/beta "
            "per period)",
        ),
    )
    # The quadrature of the likelihood loses its accuracy when r + x + s runs to the
    # hundreds (its nodes underflow). The homogeneous-dropout limit has a likelihood of
    # its own (:mod:`clvcli.models.pareto_limit`) and is fitted; the common-rate limit
    # (r large) is only named.
    limit_shapes: ClassVar[tuple[str, ...]] = ("s",)
    edges: ClassVar[dict[tuple[str, int], str]] = {
        ("beta", 1): "customers almost never drop out (the no-dropout limit: an NBD)",
        ("s", -1): "nearly every customer never drops out, and the few who do leave at once",
    }

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
        """Per-row log-likelihood, log P(alive) and (with ``gradient``) the gradient."""
        if _at_limit(params[2]):
            return self._limit_terms(params, data)
        shared = _Shared(params, data, gradient)
        n = len(data.weight)
        terms, log_alive = np.empty(n), np.empty(n)
        grad = np.empty((n, 4)) if gradient else None

        def work(rows: slice) -> None:
            shared.fill(rows, terms[rows], None if grad is None else grad[rows], log_alive[rows])

        in_blocks(work, n)
        return terms, log_alive, grad

    def _limit_terms(self, params: np.ndarray, data: DistinctRows):
        """:meth:`_terms` at the homogeneous-dropout limit, mu = s / beta; the gradient
        in s and beta is the one in mu carried through mu's dependence on them."""
        r, alpha, s, beta = params
        mu = s / beta
        terms, log_alive, grad_mu = pareto_limit.terms(r, alpha, mu, *data.columns)
        grad = np.empty((len(terms), 4))
        grad[:, :2] = grad_mu[:, :2]
        grad[:, 2] = grad_mu[:, 2] / beta
        grad[:, 3] = -grad_mu[:, 2] * mu / beta
        return terms, log_alive, grad

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        terms, _, grad = self._terms(params, data, gradient=True)
        return terms, grad

    def weighted_log_likelihood(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[float, np.ndarray]:
        """The terms' weighted sums block by block: no array as long as the rows."""
        if _at_limit(params[2]):
            terms, _, grad = self._limit_terms(params, data)
            return float(data.weight @ terms), data.weight @ grad
        shared = _Shared(params, data, gradient=True)
        return sum_in_blocks(
            lambda rows, terms, grad: shared.fill(rows, terms, grad), data.weight, 4
        )

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
        # The levels a row's values are looked up in have no place for NaN: a history
        # with a missing value has no probability.
        missing = np.isnan(data.columns[0]) | np.isnan(data.columns[1]) | np.isnan(data.columns[2])
        return np.where(missing, np.nan, np.exp(log_alive))

    def expected_purchases(
        self,
        t: float | np.ndarray,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history."""
        r, alpha, s, beta = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        rate = (r + x) / (alpha + T)
        alive = self.p_alive(x, t_x, T) if p_alive is None else p_alive
        if _at_limit(s):
            return pareto_limit.expected_purchases(r, alpha, s / beta, t, x, T, alive)
        return alive * rate * _survival_integral(s, beta + T, t)

    def discounted_expected_purchases(
        self,
        rate: float,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """DET: the whole future's purchases discounted continuously at ``rate`` per unit.

        Fader, Hardie and Lee (2005), "RFM and CLV", equation (2), written as
        P(alive) (r+x)/(alpha+T) (beta+T)^s rate^(s-1) U(s, s; rate (beta+T)), with U
        Tricomi's confluent hypergeometric function.
        """
        r, alpha, s, beta = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        alive = self.p_alive(x, t_x, T) if p_alive is None else p_alive
        if _at_limit(s):
            return pareto_limit.discounted_expected_purchases(r, alpha, s / beta, rate, x, T, alive)
        horizon = beta + np.asarray(T, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            lifetime = np.exp(s * np.log(horizon) + (s - 1) * np.log(rate)) * hyperu(
                s, s, rate * horizon
            )
        # The discounted lifetime, the integral of exp(-rate u) (horizon / (horizon + u))^s,
        # lies between 1 / (rate + s / horizon) and 1 / rate. scipy's U overflows for a
        # large s and a small argument, and near s = 90 can be wrong, even negative:
        # outside the bounds the value is NaN, and the caller sums months instead.
        lower, upper = 1 / (rate + s / horizon), 1 / rate
        valid = (lifetime >= lower * (1 - 1e-9)) & (lifetime <= upper * (1 + 1e-9))
        lifetime = np.where(valid, lifetime, np.nan)
        return alive * (r + x) / (alpha + T) * lifetime

    def probability_of_purchases(self, n: int | np.ndarray, t: float) -> np.ndarray:
        """P(X(t) = n) for a customer just acquired.

        Given the death time tau, purchases are NBD over min(tau, t); tau is Pareto
        (Lomax) with P(tau > t) = (beta / (beta + t))^s, so the death-time part is a
        smooth one-dimensional integral over (0, t], done by Gauss-Legendre quadrature.
        """
        r, alpha, s, beta = self.fitted().values()
        n = np.asarray(n, dtype=np.float64)

        def nbd(exposure: np.ndarray) -> np.ndarray:
            exposure = np.asarray(exposure, dtype=np.float64)[..., None]
            return np.exp(
                gammaln(r + n)
                - gammaln(r)
                - gammaln(n + 1)
                + r * (np.log(alpha) - np.log(alpha + exposure))
                + n * (np.log(exposure) - np.log(alpha + exposure))
            )

        survive = np.exp(s * (np.log(beta) - np.log(beta + t)))
        tau = t * (_NODES + 1) / 2
        density = s * np.exp(s * np.log(beta) - (s + 1) * np.log(beta + tau))
        died = np.sum((t / 2 * _WEIGHTS * density)[:, None] * nbd(tau), axis=0)
        return survive * nbd(t) + died

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
