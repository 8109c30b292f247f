r"""Gamma-Gompertz/NBD: Poisson purchasing with a dropout that changes with tenure.

Bemmaor and Glady (2012), "Modeling purchasing behavior with sudden 'death': a
flexible customer lifetime model", Management Science 58(5); the conditional
expectation as corrected by Adler (2022, Management Science), which CLVTools follows.
While alive, purchases follow a Poisson process with
:math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`. A customer's lifetime is Gompertz,
:math:`P(\tau > t \mid \eta) = \exp(-\eta(e^{bt} - 1))`, with
:math:`\eta \sim \mathrm{Gamma}(s, \beta)`, so that across customers

.. math:: S(t) = \left(\frac{\beta}{\beta + e^{bt} - 1}\right)^s,
          \qquad h(t) = \frac{s b e^{bt}}{\beta - 1 + e^{bt}}.

The population's dropout rate h grows with tenure when beta > 1 and shrinks when
beta < 1. As b -> 0 with beta / b fixed, S is the Pareto (Lomax) survival of the
Pareto/NBD with its beta equal to beta / b: the model nests Pareto/NBD.

With :math:`\Lambda(t) = \ln(\beta + e^{bt} - 1)` (computed without cancellation for
tiny b t and without overflow for large), the likelihood of (x, t_x, T) is

.. math:: L = \frac{\Gamma(r+x)\alpha^r}{\Gamma(r)} \Big[(\alpha+T)^{-(r+x)}
          \beta^s e^{-s\Lambda(T)} + s b \beta^s \int_{t_x}^T (\alpha+\tau)^{-(r+x)}
          e^{b\tau - (s+1)\Lambda(\tau)} d\tau\Big],

the first term for a customer alive at T, the second for one who died at tau after
the last purchase. The integral has no closed form; it is evaluated per distinct row
by :func:`clvcli.models.log_quadrature.log_integral` in
:math:`u = \ln(1 + (\tau - t_x)/c)`, c the shorter of the scales on which the
purchase and the dropout parts change, where a frequent buyer's steep
:math:`(\alpha+\tau)^{-(r+x)}` and a Pareto-like dropout are nearly straight
lines. Its derivatives in the parameters are means over the same nodes, so the
gradient is analytic.

Given alive at T, lambda is Gamma(r + x, alpha + T) and eta is
Gamma(s, beta + e^{bT} - 1), independently, so the expected purchases in (T, T + t] are

.. math:: P(\text{alive}) \frac{r+x}{\alpha+T} \int_0^t
          e^{-s(\Lambda(T+w) - \Lambda(T))} dw.
"""

from __future__ import annotations

import time
from typing import ClassVar

import numpy as np
from scipy.special import gammaln, psi

from clvcli.errors import ModelError
from clvcli.models.base import (
    _LOG_BOUND,
    DistinctRows,
    Fitter,
    _Estimate,
    logaddexp,
    on_distinct,
    weighted_sums,
)
from clvcli.models.log_quadrature import DROP, log_integral
from clvcli.models.pareto_nbd import ParetoNBDFitter
from clvcli.models.spread import PURCHASE_RATES, Coordinates
from clvcli.parallel import in_blocks

# Distinct rows per quadrature block: 96 nodes and a 13-point scan each.
_ROWS = 1024
# b t from which e^{bt} would overflow: ln(beta + e^{bt} - 1) is bt + log1p(...) there.
_OVERFLOW = 700.0
# Where a free fit starts b when the Pareto/NBD limit's slope says b should grow, as
# a share of 1 / (mean T): close to the limit, far enough for the optimiser to move.
_B_NEAR_LIMIT = 1e-3
# The Pareto/NBD's dropout shape carried over to a start, at most.
_SHAPE_CAP = 3.0
# Distinct rows from which the search runs on an even sample of this many, and only
# its result is refitted on all rows (1.7 million rows, a 10M-row log's, cost about
# 20 s per evaluation of the likelihood).
_LARGE_ROWS = 50_000
# Rows of the even sample on which fits away from the Pareto/NBD limit are tried.
_PROBE_ROWS = 1000
# A sample's fit whose log parameters are all within this many of its standard
# errors (on the log scale) of a fit already found on all rows is that fit.
_SAME_BASIN = 3.0
# A free fit must beat the Pareto/NBD limit by this much log-likelihood to be kept.
_BETTER = 1e-3


def log_lambda(b: float, beta: float, tau: np.ndarray) -> np.ndarray:
    """ln(beta + e^{b tau} - 1) for tau >= 0, exact for tiny b tau (expm1) and without
    overflow for huge (b tau + log1p(...)); the second form only where it is needed."""
    bt = b * np.asarray(tau, dtype=np.float64)
    if bt.size and float(np.max(bt)) < _OVERFLOW:
        return np.log(np.expm1(bt) + beta)
    low = np.minimum(bt, _OVERFLOW)
    high = np.maximum(bt, _OVERFLOW)
    return np.where(
        bt < _OVERFLOW,
        np.log(np.expm1(low) + beta),
        high + np.log1p((beta - 1) * np.exp(-high)),
    )


def survival_integral(
    b: float, s: float, beta: float, start: np.ndarray, t: np.ndarray, rate: float = 0.0
) -> np.ndarray:
    """The integral over w in (0, t] of e^{-rate w} S(start + w) / S(start): the
    expected (discounted) time alive in the next t of a customer alive at ``start``.

    In u = ln(1 + w / c), c the scale on which the survival falls at ``start``, a
    Pareto-like survival is a straight line.
    """
    start, t = np.broadcast_arrays(np.asarray(start, np.float64), np.asarray(t, np.float64))
    start, t = start.ravel(), t.ravel()
    out = np.zeros(len(start))
    if len(start) == 0:
        return out

    def work(rows: slice) -> None:
        for first in range(rows.start, rows.stop, _ROWS):
            part = slice(first, min(first + _ROWS, rows.stop))
            out[part] = _survival_block(b, s, beta, start[part], t[part], rate)

    in_blocks(work, len(start))
    return out


def _survival_block(
    b: float, s: float, beta: float, start: np.ndarray, t: np.ndarray, rate: float
) -> np.ndarray:
    at_start = log_lambda(b, beta, start)
    # ln(1 / Lambda'(start)), the scale of a Pareto-like fall, or ln(1 / (s b)), that of
    # the steep fall after a Gompertz dropout has taken off, whichever is shorter.
    log_c = np.minimum(at_start - b * start - np.log(b), -np.log(s * b))
    c = np.exp(log_c)[:, None]
    at = at_start[:, None]
    base = start[:, None]

    def log_f(u: np.ndarray) -> np.ndarray:
        w = c * np.expm1(u)
        return -s * (log_lambda(b, beta, base + w) - at) - rate * w + u + np.log(c)

    upper = np.log1p(t / c[:, 0])
    positive = t > 0
    value, _, _ = log_integral(log_f, np.zeros(len(t)), np.where(positive, upper, 0.0))
    return np.where(positive, np.exp(value), 0.0)


class _Rows:
    """The likelihood's parts for a block of distinct rows at one parameter vector:
    log-likelihood terms, log P(alive) and the gradient in (r, alpha, b, s, beta)."""

    def __init__(self, params: np.ndarray, x: np.ndarray, t_x: np.ndarray, T: np.ndarray):
        r, alpha, b, s, beta = params
        k = r + x
        log_alpha_t = np.log(alpha + T)
        at_t = log_lambda(b, beta, T)
        log_beta = np.log(beta)
        alive = -k * log_alpha_t + s * log_beta - s * at_t
        log_c = gammaln(k) - gammaln(r) + r * np.log(alpha)
        died, died_grad = _died(params, k, t_x, T)
        died = died + np.log(s) + np.log(b) + s * log_beta
        total = logaddexp(alive, died)
        self.terms = log_c + total
        self.log_alive = alive - total
        w1 = np.exp(self.log_alive)
        w2 = np.exp(died - total)
        q_t = np.exp(b * T - at_t)  # e^{bT} / (beta + e^{bT} - 1)
        grad = np.empty((len(x), 5))
        grad[:, 0] = psi(k) - psi(r) + np.log(alpha) - w1 * log_alpha_t
        grad[:, 1] = r / alpha - w1 * k / (alpha + T)
        grad[:, 2] = -w1 * s * T * q_t + w2 / b
        grad[:, 3] = w1 * (log_beta - at_t) + w2 * (1 / s + log_beta)
        grad[:, 4] = w1 * (s / beta - s * np.exp(-at_t)) + w2 * s / beta
        grad += w2[:, None] * died_grad
        self.grad = grad


def _died(
    params: np.ndarray, k: np.ndarray, t_x: np.ndarray, T: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ln of the integral over (t_x, T] of (alpha+tau)^-k e^{b tau - (s+1) Lambda(tau)},
    and its gradient in the five parameters (zero where t_x = T: no window to die in)."""
    _, alpha, b, s, beta = params
    # The scale on which the integrand first changes: the purchase rate's posterior
    # (alpha + t_x), or the dropout's (1 / Lambda'(t_x), or 1 / ((s + 1) b) once a
    # Gompertz dropout has taken off), whichever is shortest.
    log_c = np.minimum(
        np.log(alpha + t_x),
        np.minimum(log_lambda(b, beta, t_x) - b * t_x, -np.log(s + 1)) - np.log(b),
    )
    c = np.exp(log_c)[:, None]
    log_c = log_c[:, None]
    kk = k[:, None]
    low, high = t_x[:, None], T[:, None]

    def tau_of(u: np.ndarray) -> np.ndarray:
        return np.minimum(low + c * np.expm1(u), high)  # u >= 0: never below t_x

    last: dict[str, np.ndarray] = {}

    def log_f(u: np.ndarray) -> np.ndarray:
        tau = tau_of(u)
        log_at, at = np.log(alpha + tau), log_lambda(b, beta, tau)
        last.update(u=u, tau=tau, log_at=log_at, at=at)  # the nodes' are the gradient's
        # The integrand times the Jacobian c e^u.
        return -kk * log_at + b * tau - (s + 1) * at + log_c + u

    upper = np.log1p((T - t_x) / c[:, 0])
    value, nodes, shares = log_integral(log_f, np.zeros(len(k)), upper)
    if last.get("u") is not nodes:
        log_f(nodes)
    tau, log_at, at = last["tau"], last["log_at"], last["at"]
    q = np.exp(b * tau - at)

    def mean(values: np.ndarray) -> np.ndarray:
        return (shares * values).sum(axis=1)

    grad = np.empty((len(k), 5))
    grad[:, 0] = mean(-log_at)
    grad[:, 1] = mean(-kk * np.exp(-log_at))
    grad[:, 2] = mean(tau * (1 - (s + 1) * q))
    grad[:, 3] = mean(-at)
    grad[:, 4] = mean(-(s + 1) * np.exp(-at))
    return value, grad


_PARETO_LIMIT = (
    "the dropout neither grows nor shrinks with tenure, so the model is the Pareto/NBD "
    "(whose beta is beta/b here)"
)


def _pins(estimate: _Estimate) -> dict[int, float]:
    """The log values of the parameters an estimate holds at the edge, by index."""
    names = GammaGompertzNBDFitter.param_names
    return {names.index(name): float(np.log(value)) for name, value in estimate.pinned.items()}


def _mean_t(data: DistinctRows) -> float:
    """The customers' mean T: the time scale the starting values of b are set by."""
    _, _, T = data.columns
    return max(float(np.average(T, weights=data.weight)), 1e-3)


class GammaGompertzNBDFitter(Fitter):
    """Gamma-Gompertz/NBD with parameters ``r, alpha, b, s, beta``."""

    name = "ggomnbd"
    param_names = ("r", "alpha", "b", "s", "beta")
    spreads = (PURCHASE_RATES,)
    # A large spread is named, not fitted at its limit.
    limit_shapes: ClassVar[tuple[str, ...] | None] = ()
    edges: ClassVar[dict[tuple[str, int], str]] = {
        ("b", -1): _PARETO_LIMIT,
        ("beta", 1): "customers almost never drop out (the no-dropout limit: an NBD)",
    }

    def __init__(self) -> None:
        super().__init__()
        self._pareto: dict[str, float] | None = None

    # -- likelihood ---------------------------------------------------------------
    def _rows(self, params: np.ndarray, data: DistinctRows) -> tuple[np.ndarray, ...]:
        """Terms, log P(alive) and gradient of every row, block by block."""
        x, t_x, T = (np.asarray(c, dtype=np.float64) for c in data.columns)
        n = len(x)
        terms, log_alive, grad = np.empty(n), np.empty(n), np.empty((n, 5))

        def work(rows: slice) -> None:
            for first in range(rows.start, rows.stop, _ROWS):
                part = slice(first, min(first + _ROWS, rows.stop))
                found = _Rows(params, x[part], t_x[part], T[part])
                terms[part], log_alive[part], grad[part] = (
                    found.terms,
                    found.log_alive,
                    found.grad,
                )

        with np.errstate(all="ignore"):
            in_blocks(work, n)
        return terms, log_alive, grad

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        terms, _, grad = self._rows(np.asarray(params, dtype=np.float64), data)
        return terms, grad

    def weighted_log_likelihood(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[float, np.ndarray]:
        terms, grad = self.log_likelihood_terms(params, data)
        return weighted_sums(data.weight, terms, grad)

    # -- fitting ------------------------------------------------------------------
    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        """Generic starting points, for when the Pareto/NBD could not be fitted (the
        search otherwise starts from it: see :meth:`_fit_rows`)."""
        _, _, T = data.columns
        scale = max(float(np.average(T, weights=data.weight)), 1e-3)
        return [
            np.array([0.5, scale / 4, 1 / scale, 1.0, 1.0]),
            np.array([1.0, scale, 0.1 / scale, 0.5, 0.1]),
        ]

    def _fit_rows(self, data: DistinctRows) -> Fitter:
        """The Pareto/NBD first, then the model at its Pareto/NBD limit (b held at the
        lower edge of the box, the other four fitted from the Pareto/NBD's values),
        then free fits with b > 0; a free fit is kept only when it is more likely
        than the limit, so the log-likelihood is never below the Pareto/NBD's.

        A free fit starts just off the limit when the likelihood's slope in b there
        is positive; fits from b of order 1 / T look for an optimum away from the
        limit (:meth:`_probed_starts`). On data like CDNOW, where the optimum is the
        limit itself, the fit costs a Pareto/NBD fit and a few dozen evaluations of
        the likelihood, where the generic search, hunting an interior optimum that is
        not there, took half a minute. On more than :data:`_LARGE_ROWS` distinct rows
        all this runs on an even sample of them, and only the fit it ends at is
        refitted on every row.
        """
        started = time.perf_counter()
        if data.customers == 0:
            raise ModelError(f"{self.name}: no customers to fit", None)
        if len(data.weight) > _LARGE_ROWS:
            sample = data.every(len(data.weight) // _LARGE_ROWS)
            lead = self._best_of(sample)
            best = None
            if lead is not None:
                start = np.log(self._vector(lead.params))
                best = self._fit_at(data, Coordinates(self.param_names, pinned=_pins(lead)), start)
            iterations = 0 if lead is None else lead.iterations
        else:
            best = self._best_of(data)
            iterations = 0
        if best is None:
            return super()._fit_rows(data)
        self._apply(best, iterations + best.iterations, time.perf_counter() - started)
        self.run_off_ = {}
        self.warnings_ = self._boundary_warnings([])
        return self

    def _best_of(self, data: DistinctRows) -> _Estimate | None:
        """The Pareto/NBD limit or the best free fit more likely than it (see
        :meth:`_fit_rows`); None when the Pareto/NBD fails and nothing is found."""
        self._pareto = data._levels.get(("fitted", ParetoNBDFitter))
        if self._pareto is None:
            try:
                self._pareto = dict(ParetoNBDFitter().fit_rows(data).fitted())
            except ModelError:
                return None
        limit = self._pareto_limit(data)
        found = [] if limit is None else [limit]
        off = self._off_limit(data, limit)
        if off is not None:
            found += self._free_fits(data, [off])
        found += self._free_fits(data, self._probed_starts(data, found))
        if not found:
            return None
        best = max(found, key=lambda e: e.log_likelihood)
        if limit is not None and not self._beats(best, limit):
            best = limit
        best.iterations = sum(e.iterations for e in found)
        return best

    @staticmethod
    def _beats(estimate: _Estimate, limit: _Estimate | None) -> bool:
        """Whether a free fit is more likely than the limit (by more than _BETTER)."""
        if limit is None:
            return estimate.free == 5
        return estimate.log_likelihood >= limit.log_likelihood + _BETTER

    def _free_fits(self, data: DistinctRows, starts: list[np.ndarray]) -> list[_Estimate]:
        """The free fits (every parameter estimated) from ``starts`` that end at an
        optimum with standard errors."""
        found = []
        for start in starts:
            estimate = self._fit_at(data, Coordinates(self.param_names), np.log(start))
            if estimate is not None:
                found.append(estimate)
        return found

    def _off_limit(self, data: DistinctRows, limit: _Estimate | None) -> np.ndarray | None:
        """A start just off the limit, b = _B_NEAR_LIMIT / (mean T) with beta / b kept,
        when the likelihood's slope in b at the limit is positive; else None."""
        if limit is None:
            return None
        at = self._vector(limit.params)
        # The objective's gradient in log b is minus the likelihood's slope (scaled);
        # :meth:`_pareto_limit` has just evaluated it at this point.
        if not self._objective(np.log(at), data)[1][2] < 0:
            return None
        off = at.copy()
        off[2] = _B_NEAR_LIMIT / _mean_t(data)
        off[4] = off[2] * at[4] / at[2]
        return off

    def _probed_starts(self, data: DistinctRows, found: list[_Estimate]) -> list[np.ndarray]:
        """Starts away from the limit: at b = 1 / (mean T) with the Pareto/NBD's
        dropout carried over, its shape capped (a Pareto/NBD at its homogeneous limit
        has s in the millions, and then a start with a dropout of no particular shape
        is added). On many rows they are tried on an even sample first; a sample fit
        that beats the sample's limit, and is not one of the fits ``found`` already
        (its log parameters within :data:`_SAME_BASIN` standard errors of theirs), is
        refitted on all rows from where it ended."""
        assert self._pareto is not None
        p = self._pareto
        b = 1 / _mean_t(data)
        shape = min(p["s"], _SHAPE_CAP)
        starts = [np.array([p["r"], p["alpha"], b, shape, b * p["beta"] * shape / p["s"]])]
        if p["s"] > _SHAPE_CAP:
            starts.append(np.array([p["r"], p["alpha"], b, 1.0, 1.0]))
        if len(data.weight) < 2 * _PROBE_ROWS:
            return starts
        probe = data.every(len(data.weight) // _PROBE_ROWS)
        probe_limit = self._pareto_limit(probe, fitted_here=False)
        known = [np.log(self._vector(e.params)) for e in found if self._beats(e, None)]
        chosen = []
        for estimate in self._free_fits(probe, starts):
            at = np.log(self._vector(estimate.params))
            spread = _SAME_BASIN * np.array(
                [(estimate.std_errors[n] or 0.0) / estimate.params[n] for n in self.param_names]
            )
            if self._beats(estimate, probe_limit) and all(
                np.any(np.abs(at - other) > spread) for other in known
            ):
                chosen.append(np.exp(at))
                known.append(at)
        return chosen

    def _pareto_limit(self, data: DistinctRows, fitted_here: bool = True) -> _Estimate | None:
        """The fit with b held at the lower edge of the box, from the Pareto/NBD.

        There the model is the Pareto/NBD with its beta = beta / b, so the Pareto/NBD
        fitted on these rows is already at the optimum: Newton steps with the Hessian
        the standard errors need confirm it, and the optimiser runs only when they do
        not. On other rows (``fitted_here`` false: a sample of those it was fitted
        on) they do not, and the optimiser runs at once.
        """
        assert self._pareto is not None
        p = self._pareto
        b = float(np.exp(-_LOG_BOUND))
        start = np.log([p["r"], p["alpha"], b, p["s"], b * p["beta"]])
        coordinates = Coordinates(self.param_names, pinned={2: -_LOG_BOUND})
        z = coordinates.start(start)
        bounds = np.array(coordinates.bounds(_LOG_BOUND))
        if fitted_here and np.all((z > bounds[:, 0] + 1e-6) & (z < bounds[:, 1] - 1e-6)):
            estimate = self._estimate(z, data, coordinates)
            if estimate is not None:
                log_params = np.log(self._vector(estimate.params))
                gradient = self._objective(log_params, data)[1]
                if np.all(
                    np.abs(coordinates.with_jacobian(coordinates.start(log_params))[1].T @ gradient)
                    < 1e-4
                ):
                    return estimate
        return self._fit_at(data, coordinates, start)

    # -- predictions --------------------------------------------------------------
    def _params(self) -> np.ndarray:
        return np.array([self.fitted()[name] for name in self.param_names])

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive at T | x, t_x, T): the share of the likelihood from surviving to T."""
        params = self._params()
        x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, t_x, T)))
        shape = x.shape
        x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
        missing = np.isnan(x) | np.isnan(t_x) | np.isnan(T)
        safe = [np.where(missing, 0.0, v) for v in (x, t_x, T)]

        def alive(x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
            data = DistinctRows((x, t_x, T), np.ones(len(x)), np.arange(len(x)))
            return np.exp(self._rows(params, data)[1])

        values = on_distinct(alive, *safe)
        return np.where(missing, np.nan, values).reshape(shape)

    def expected_purchases(
        self,
        t: float | np.ndarray,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history (Adler's correction)."""
        r, alpha, b, s, beta = self._params()
        x = np.asarray(x, dtype=np.float64)
        T = np.asarray(T, dtype=np.float64)
        alive = self.p_alive(x, t_x, T) if p_alive is None else p_alive
        with np.errstate(all="ignore"):
            time_alive = on_distinct(
                lambda T, t: survival_integral(b, s, beta, T, t), T, np.asarray(t, np.float64)
            )
        return alive * (r + x) / (alpha + T) * time_alive

    def discounted_expected_purchases(
        self,
        rate: float,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """The whole future's purchases discounted continuously at ``rate`` per unit."""
        r, alpha, b, s, beta = self._params()
        x = np.asarray(x, dtype=np.float64)
        T = np.asarray(T, dtype=np.float64)
        alive = self.p_alive(x, t_x, T) if p_alive is None else p_alive
        # Beyond this the discount alone has fallen by e^-(DROP + 14).
        horizon = (DROP + 14.0) / rate
        with np.errstate(all="ignore"):
            time_alive = on_distinct(
                lambda T: survival_integral(b, s, beta, T, np.full(len(T), horizon), rate), T
            )
        return alive * (r + x) / (alpha + T) * time_alive

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired: r / alpha times the expected time alive."""
        r, alpha, b, s, beta = self._params()
        t = np.asarray(t, dtype=np.float64)
        with np.errstate(all="ignore"):
            time_alive = on_distinct(
                lambda t: survival_integral(b, s, beta, np.zeros(len(t)), t), t
            )
        return r / alpha * time_alive.reshape(t.shape)
