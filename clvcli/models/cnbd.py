r"""BG/CNBD-k and MBG/CNBD-k: BG/NBD and MBG/NBD for customers who buy at regular intervals.

Reutterer, Platzer and Schröder (2021), "Leveraging purchase regularity for predicting
customer behavior the easy way", IJRM 38(1); BTYDplus in R. BG/NBD's times between
purchases are exponential, as irregular as times can be; here they are Erlang-k: the
sum of k exponential stages of rate :math:`\lambda \sim \mathrm{Gamma}(r, \alpha)`, so
a customer buys about every :math:`k / \lambda` with less spread the larger k is. A
grocery shopper who comes every week is not "overdue" after two quiet weeks under
BG/NBD; under k = 3 they are. Dropout is BG/NBD's (after each repeat purchase, with
:math:`p \sim \mathrm{Beta}(a, b)`); MBG/CNBD-k also tosses the coin at the first
purchase, as MBG/NBD does. k = 1 is BG/NBD (MBG/NBD).

k is an integer chosen by the likelihood, from 1 up to 12. Only that choice needs each
customer's ``litt``, the sum of the logs of their times between purchases: for a fixed k
it is a constant of the likelihood. The fit's rows carry its sums
(:attr:`DistinctRows.litt`).

Conditional expected purchases follow BTYDplus: BG/NBD's (MBG/NBD's) expression with
alpha scaled by k, times P(alive) of this model; for k > 1 this is biased, and the sum
over a cohort of at least 100 customers is scaled to the model's exact unconditional
expectation over the same customers' ages (its "bias correction").
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any, ClassVar

import numpy as np
from scipy.special import betaln, expit, gammaln, psi

from clvcli.errors import ModelError
from clvcli.models import bgnbd, mbgnbd
from clvcli.models.base import DistinctRows, Fitter, logaddexp, on_distinct, sum_in_blocks
from clvcli.models.bgnbd import _NO_DROPOUT, BGNBDFitter
from clvcli.models.spread import DROPOUT_AFTER_PURCHASE, PURCHASE_RATES
from clvcli.parallel import in_blocks

# The largest k tried: Erlang-12 times vary by 29 % of their mean, regular enough for
# any shop's customers.
K_MAX = 12
# BTYDplus scales conditional expectations to the exact unconditional ones only for a
# cohort at least this large: the scaling is a property of many customers' sum.
COHORT_MIN = 100
# Distinct rows beyond which k is chosen on an even sample of this many (see fit_rows).
CHOICE_ROWS = 32_768
# Nodes of the spline that stands for the unconditional expectation when it is asked
# at many ages at once.
_NODES = 96
# The most Erlang stages the unconditional expectation sums over (8 MB an array).
_MOST_STAGES = 1 << 20


def by_x(params: np.ndarray, k: int, at_zero: bool, xs: np.ndarray) -> dict[str, np.ndarray]:
    """The likelihood's functions of x alone, once per distinct x: millions of rows
    share a few hundred x, and these are the special functions."""
    r, alpha, a, b = params
    z = 1.0 if at_zero else 0.0
    xs = np.asarray(xs, dtype=np.float64)
    rk = r + k * xs
    can_die = (xs > 0) | at_zero
    safe = np.where(can_die, b + xs - 1 + z, 1.0)
    with np.errstate(divide="ignore"):
        died = np.where(can_die, np.log(a) - np.log(safe), -np.inf)
    # Stage j of S2 is (r+kx)_j u^j / j!: its part in x, and that part's d/dr.
    i = np.arange(k - 1, dtype=np.float64)
    zeros = np.zeros((len(xs), 1))
    stages = np.concatenate(
        [zeros, np.cumsum(np.log(rk[:, None] + i) - np.log(i + 1), axis=1)], axis=1
    )
    d_r_stages = np.concatenate([zeros, np.cumsum(1.0 / (rk[:, None] + i), axis=1)], axis=1)
    return {
        "rk": rk,
        "died": died,
        "inverse_safe": 1.0 / safe,
        "stages": stages,
        "d_r_stages": d_r_stages,
        "constant": betaln(a, b + xs + z) - betaln(a, b) + gammaln(rk) - gammaln(r),
        "d_r": psi(rk) - psi(r) + np.log(alpha),
        "d_a": psi(a + b) - psi(a + b + xs + z),
        "d_b": psi(b + xs + z) - psi(a + b + xs + z) - psi(b) + psi(a + b),
    }


def log_parts(
    params: np.ndarray,
    k: int,
    at_zero: bool,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    parts: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """The pieces of the likelihood of (x, t_x, T) at (r, alpha, a, b) and k.

    The likelihood, without the k-dependent constant of the inter-purchase times, is
    B(a, b+x+z)/B(a, b) Gamma(r+kx) alpha^r / (Gamma(r) (alpha+T)^(r+kx)) (S1 + S2),
    z = 1 for MBG; ``died`` is ln S1, the customer dropped out right after the last
    purchase (or at the first, MBG only), ``alive`` ln S2, they are alive at T with
    their next purchase not yet due: a sum over the j < k stages of the Erlang time
    already passed since t_x. All in logs: nothing overflows for extreme customers.
    ``parts``: :func:`by_x` of the distinct x and each row's index among them, when
    the caller has them.
    """
    _, alpha, _, _ = params
    x = np.asarray(x, dtype=np.float64)
    if parts is None:
        xs, at_x = np.unique(x, return_inverse=True)
        parts = (by_x(params, k, at_zero, xs), at_x.reshape(-1))
    per_x, at_x = parts
    rk = per_x["rk"].take(at_x)
    log_T = np.log(alpha + T)
    log_t_x = np.log(alpha + t_x)
    with np.errstate(divide="ignore", invalid="ignore"):
        died = per_x["died"].take(at_x) + rk * (log_T - log_t_x)
        log_u = np.log(np.maximum(T - t_x, 0.0)) - log_T
        # Stage j: its part in x plus j ln u (u = 0 leaves only stage 0).
        stages = per_x["stages"].take(at_x, axis=0)
        if k > 1:
            stages[:, 1:] += np.arange(1, k) * log_u[:, None]
    top = stages.max(axis=1)
    alive = top + np.log(np.exp(stages - top[:, None]).sum(axis=1))
    return {
        "rk": rk,
        "log_T": log_T,
        "log_t_x": log_t_x,
        "died": died,
        "alive": alive,
        "stages": stages,
        "per_x": per_x,  # type: ignore[dict-item]
        "at_x": at_x,
    }


def log_likelihood_terms(
    params: np.ndarray,
    k: int,
    at_zero: bool,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    parts: tuple[dict[str, np.ndarray], np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row log-likelihood at a fixed k (without its constant in litt) and its
    gradient in (r, alpha, a, b), shape (n, 4); ``parts`` as for :func:`log_parts`."""
    r, alpha, a, _ = params
    p = log_parts(params, k, at_zero, x, t_x, T, parts)
    per_x, at_x = p["per_x"], p["at_x"]
    rk, log_T, log_t_x = p["rk"], p["log_T"], p["log_t_x"]
    total = logaddexp(p["died"], p["alive"])
    w_died = np.exp(p["died"] - total)
    w_alive = 1.0 - w_died
    # Within S2: each stage's share, and d/dr, d/dalpha of its log.
    shares = np.exp(p["stages"] - p["alive"][:, None])
    d_r_alive = (shares * per_x["d_r_stages"].take(at_x, axis=0)).sum(axis=1)
    d_alpha_alive = -(shares @ np.arange(k, dtype=np.float64)) / (alpha + T)
    terms = per_x["constant"].take(at_x) + r * np.log(alpha) - rk * log_T + total
    gradient = np.empty((len(terms), 4))
    gradient[:, 0] = (
        per_x["d_r"].take(at_x) - log_T + w_died * (log_T - log_t_x) + w_alive * d_r_alive
    )
    gradient[:, 1] = (
        r / alpha
        - rk / (alpha + T)
        + w_died * rk * (1 / (alpha + T) - 1 / (alpha + t_x))
        + w_alive * d_alpha_alive
    )
    gradient[:, 2] = per_x["d_a"].take(at_x) + w_died / a
    gradient[:, 3] = per_x["d_b"].take(at_x) - w_died * per_x["inverse_safe"].take(at_x)
    return terms, gradient


def litt_constant(k: int, rows: DistinctRows) -> float:
    """The part of the log-likelihood that only k and the purchase times set:
    (k - 1) sum(litt) - sum(x) ln (k-1)!, over the customers of ``rows``."""
    assert rows.litt is not None
    repeats = float(np.dot(rows.weight, rows.columns[0]))
    return (k - 1) * float(np.sum(rows.litt)) - repeats * float(gammaln(k))


class _AtK(Fitter):
    """The model with k held: parameters r, alpha, a, b (a class per k and variant, so
    that the fit machinery can make more of it)."""

    k: ClassVar[int] = 1
    at_zero: ClassVar[bool] = False
    param_names = ("r", "alpha", "a", "b")
    spreads = (PURCHASE_RATES, DROPOUT_AFTER_PURCHASE)
    edges: ClassVar[dict[tuple[str, int], str]] = {
        ("a", -1): _NO_DROPOUT,
        ("b", 1): _NO_DROPOUT,
    }

    # The optimum at k - 1, when known: the fit at k starts there (alpha rescaled).
    lead: np.ndarray | None = None

    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        # k stages of rate lambda per purchase: alpha is about a k-th of BG/NBD's.
        scale = np.array([1.0, 1.0 / self.k, 1.0, 1.0])
        starts = [start * scale for start in BGNBDFitter().initial_params(data)]
        return ([self.lead] if self.lead is not None else []) + starts

    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        x, t_x, T = data.columns
        return log_likelihood_terms(params, self.k, self.at_zero, x, t_x, T)

    def weighted_log_likelihood(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[float, np.ndarray]:
        """The weighted sums block by block: the k stages of every row at once would
        take k arrays as long as the rows."""
        x, t_x, T = data.columns
        xs, at_x = data.levels(0)
        per_x = by_x(params, self.k, self.at_zero, xs)

        def fill(rows: slice, terms: np.ndarray, gradient: np.ndarray) -> None:
            terms[:], gradient[:] = log_likelihood_terms(
                params, self.k, self.at_zero, x[rows], t_x[rows], T[rows], (per_x, at_x[rows])
            )

        return sum_in_blocks(fill, data.weight, 4)


@cache
def _at_k(name: str, k: int, at_zero: bool) -> type[_AtK]:
    return type(f"_AtK{k}_{name}", (_AtK,), {"name": name, "k": k, "at_zero": at_zero})


class _CNBDFitter(Fitter):
    """Shared by BG/CNBD-k and MBG/CNBD-k: parameters r, alpha, a, b and k."""

    at_zero: ClassVar[bool] = False
    param_names = ("r", "alpha", "a", "b", "k")
    estimated_names = ("r", "alpha", "a", "b")
    needs_purchase_days = True
    scales_over_cohort = True

    def __init__(self) -> None:
        super().__init__()
        # The customers the correction is summed over when not those scored (see
        # scale_over), and its value at each horizon t.
        self._cohort: DistinctRows | None = None
        self._cohort_scales: dict[float, float] = {}
        self.log_likelihoods_: dict[int, float] = {}
        # (largest age covered, (scale, nodes, exact values)): the spline's knots of the
        # unconditional expectation, see _unconditional.
        self._spline: tuple[float, Any] | None = None

    # -- fitting ------------------------------------------------------------------
    def fit_rows(self, data: DistinctRows) -> Fitter:
        """Fit at each k from 1 and keep the most likely; stop once the likelihood has
        fallen twice in a row (past its peak in k, as BTYDplus stops), or at
        :data:`K_MAX`. On more than :data:`CHOICE_ROWS` distinct rows
        k is chosen on an even sample of that many, and only the chosen k is fitted on
        them all (a fit per k on millions of rows would cost minutes; the likelihoods
        of neighbouring k differ by thousands on such data)."""
        if data.litt is None:
            raise ModelError(
                f"{self.name}: choosing k needs each customer's purchase days (the sum of "
                "log times between purchases), which this input does not give",
                "give the transaction log itself, or another --model",
            )
        started = time.perf_counter()
        sampled = len(data.weight) > CHOICE_ROWS
        sample = data.every(-(-len(data.weight) // CHOICE_ROWS)) if sampled else data
        best, lls, iterations = self._choose_k(sample)
        log_likelihood, k, fitted = best
        if sampled:
            model = _at_k(self.name, k, self.at_zero)()
            model.lead = np.array([fitted.params_[name] for name in model.param_names])
            fitted = model.fit_rows(data)
            iterations += fitted.iterations_
            log_likelihood = fitted.log_likelihood_ + litt_constant(k, data)
        self._take(fitted, k, log_likelihood, data.customers)
        self.iterations_ = iterations
        self.seconds_ = time.perf_counter() - started
        self.log_likelihoods_ = lls
        return self

    def _choose_k(
        self, data: DistinctRows
    ) -> tuple[tuple[float, int, Fitter], dict[int, float], int]:
        """The most likely (log-likelihood, k, fit at k) on ``data``, the log-likelihood
        of each k tried, and the optimiser's iterations."""
        best: tuple[float, int, Fitter] | None = None
        failure: ModelError | None = None
        iterations = 0
        lls: dict[int, float] = {}
        previous: dict[str, float] | None = None
        for k in range(1, K_MAX + 1):
            model = _at_k(self.name, k, self.at_zero)()
            if previous is not None:
                r, alpha, a, b = (previous[name] for name in model.param_names)
                model.lead = np.array([r, alpha * (k - 1) / k, a, b])
            try:
                fitted = model.fit_rows(data)
            except ModelError as exc:
                failure = failure or exc
                if best is not None:
                    break
                continue
            iterations += fitted.iterations_
            previous = fitted.params_
            lls[k] = fitted.log_likelihood_ + litt_constant(k, data)
            if best is None or lls[k] > best[0]:
                best = (lls[k], k, fitted)
            if k > 2 and k - 1 in lls and k - 2 in lls and lls[k] < lls[k - 1] < lls[k - 2]:
                break
        if best is None:
            assert failure is not None
            raise failure
        return best, lls, iterations

    def _take(self, fitted: Fitter, k: int, log_likelihood: float, customers: int) -> None:
        """The fit at the chosen k as this model's, with k one more parameter."""
        free = 5
        self.params_ = {**fitted.params_, "k": float(k)}  # type: ignore[dict-item]
        self.std_errors_ = {**fitted.std_errors_, "k": None}
        self.ci_lower_ = {**fitted.ci_lower_, "k": None}
        self.ci_upper_ = {**fitted.ci_upper_, "k": None}
        self.log_likelihood_ = log_likelihood
        self.aic_ = 2 * free - 2 * log_likelihood
        self.bic_ = free * np.log(customers) - 2 * log_likelihood
        self.converged_ = fitted.converged_
        self.n_customers_ = customers
        self.warnings_ = list(fitted.warnings_)
        self.log_covariance_ = fitted.log_covariance_
        self._spline = None
        self._cohort_scales = {}

    def log_likelihood(self, params: np.ndarray | dict[str, float], data: DistinctRows) -> float:
        """The whole log-likelihood of ``data`` (its rows need their litt for k > 1)."""
        r, alpha, a, b, k = self._vector(params)
        k = int(k)
        x, t_x, T = data.columns
        terms, _ = log_likelihood_terms(np.array([r, alpha, a, b]), k, self.at_zero, x, t_x, T)
        constant = litt_constant(k, data) if k > 1 else 0.0
        return float(np.dot(data.weight, terms)) + constant

    def set_params(self, params: dict[str, float]) -> Fitter:
        """Known parameters; k must be a whole number from 1 up."""
        k = params.get("k")
        if k is None or not np.isfinite(float(k)) or float(k) < 1 or float(k) != int(float(k)):
            raise ModelError(f"{self.name}: k must be a whole number of 1 or more", None)
        super().set_params(params)
        self._spline = None
        self._cohort_scales = {}
        return self

    def scale_over(self, rows: DistinctRows | None) -> None:
        """The bias correction summed over ``rows`` (the whole table's distinct rows)
        from now on, whichever customers are scored: a table scored a million
        customers at a time then gets the values of the table scored at once."""
        self._cohort = rows
        self._cohort_scales = {}

    def _values(self) -> tuple[float, float, float, float, int]:
        r, alpha, a, b, k = (self.fitted()[name] for name in self.param_names)
        return r, alpha, a, b, int(k)

    # -- predictions --------------------------------------------------------------
    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive at T | x, t_x, T): S2 / (S1 + S2)."""
        r, alpha, a, b, k = self._values()
        x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (x, t_x, T)))
        shape, params = x.shape, np.array([r, alpha, a, b])
        x, t_x, T = x.ravel(), t_x.ravel(), T.ravel()
        alive = np.empty(len(x))

        def fill(rows: slice) -> None:
            p = log_parts(params, k, self.at_zero, x[rows], t_x[rows], T[rows])
            with np.errstate(invalid="ignore"):
                alive[rows] = expit(p["alive"] - p["died"])

        in_blocks(fill, len(x))
        return alive.reshape(shape)

    def _growth(self, x: np.ndarray, T: np.ndarray, t: np.ndarray) -> np.ndarray:
        """BG/NBD's (MBG/NBD's) expected purchases in (T, T + t] of a customer alive at
        T, with alpha scaled by k (BTYDplus's approximation, before its correction)."""
        r, alpha, a, b, k = self._values()
        z = t / (k * alpha + T + t)
        growth = mbgnbd._growth if self.at_zero else bgnbd._growth
        return bgnbd._regular(growth, r, a, b, x, z)

    def expected_purchases(
        self,
        t: float | np.ndarray,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected purchases in (T, T + t], each element of the arrays one customer.

        With k > 1, one horizon t and at least :data:`COHORT_MIN` customers, scaled
        so that their sum is the model's exact expectation for customers of their ages.
        """
        x = np.asarray(x, dtype=np.float64)
        alive = self.p_alive(x, t_x, T) if p_alive is None else p_alive
        raw = alive * on_distinct(self._growth, x, T, t)
        if np.ndim(t) > 0:
            flat = np.ravel(t)
            if flat.size == 0 or not np.all(flat == flat[0]):
                return raw
            t = float(flat[0])
        ages = np.ravel(np.broadcast_to(np.asarray(T, dtype=np.float64), np.shape(raw)))
        return raw * self._correction(float(t), ages, np.ones(ages.size), raw.ravel())

    def expected_purchases_of_rows(
        self, t: float, rows: DistinctRows, p_alive: np.ndarray
    ) -> np.ndarray:
        """The same for distinct rows, each weighted by its customers."""
        if len(p_alive) == 0:
            return np.zeros(0)
        xs, Ts, pairs = rows.levels(0, 2)
        growth = self._growth(xs, Ts, np.full(len(xs), t, dtype=np.float64))
        raw = p_alive * growth[pairs]
        return raw * self._correction(t, rows.columns[2], rows.weight, raw)

    def _correction(self, t: float, ages: np.ndarray, weight: np.ndarray, raw: np.ndarray) -> float:
        """BTYDplus's bias correction: the exact expected purchases in (T, T + t] of
        customers aged T, summed over the cohort, over the approximation's sum. The
        cohort is the customers scored, or those :meth:`scale_over` gave."""
        cohort = self._cohort
        if cohort is None or len(cohort.weight) == 0 or self._values()[4] == 1:
            return self._cohort_correction(t, ages, weight, raw)
        if t not in self._cohort_scales:
            xs, Ts, pairs = cohort.levels(0, 2)
            alive = np.asarray(self.p_alive(*cohort.columns), dtype=np.float64)
            growth = self._growth(xs, Ts, np.full(len(xs), t, dtype=np.float64))
            self._cohort_scales[t] = self._cohort_correction(
                t, cohort.columns[2], cohort.weight, alive * growth[pairs]
            )
        return self._cohort_scales[t]

    def _cohort_correction(
        self, t: float, ages: np.ndarray, weight: np.ndarray, raw: np.ndarray
    ) -> float:
        """The correction summed over the customers of ``ages`` and ``weight``."""
        k = self._values()[4]
        customers = float(np.sum(weight))
        if k == 1 or customers < COHORT_MIN or not t > 0:
            return 1.0
        approximate = float(np.dot(weight, raw))
        levels, codes = np.unique(ages, return_inverse=True)
        at_level = np.bincount(codes.ravel(), weights=weight, minlength=len(levels))
        gain = self._unconditional(levels + t) - self._unconditional(levels)
        exact = float(np.dot(at_level, gain))
        if not (np.isfinite(exact) and np.isfinite(approximate) and approximate > 0):
            return 1.0
        return exact / approximate

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired (exact)."""
        t = np.asarray(t, dtype=np.float64)
        return self._unconditional(t.ravel()).reshape(t.shape)

    def _unconditional(self, t: np.ndarray) -> np.ndarray:
        """E[X(t)] at each t: exactly at a few distinct t, else from a spline through
        exact values at :data:`_NODES` ages, kept for later calls (the monthly sums ask
        at every month end)."""
        t = np.asarray(t, dtype=np.float64)
        distinct, codes = np.unique(t, return_inverse=True)
        if len(distinct) <= 64:
            return self._exact_new(distinct)[codes].reshape(t.shape)
        from scipy.interpolate import CubicSpline

        alpha, k = self._values()[1], self._values()[4]
        largest = float(distinct[-1])
        if self._spline is None or self._spline[0] < largest:
            cover = max(largest, 2 * self._spline[0]) if self._spline is not None else largest
            scale = k * alpha
            nodes = np.linspace(0.0, np.log1p(cover / scale), _NODES)
            exact = self._exact_new(np.expm1(nodes) * scale)
            # The ages whose sums were too long come last: the spline stops before them.
            known = int(np.argmin(np.isfinite(exact))) if not np.isfinite(exact).all() else None
            self._spline = (cover, (scale, nodes[:known], exact[:known]))
        scale, nodes, exact = self._spline[1]
        if len(nodes) < 4:
            return np.full(t.shape, np.nan)
        where = np.log1p(np.maximum(distinct, 0.0) / scale)
        values = np.where(where <= nodes[-1], CubicSpline(nodes, exact)(where), np.nan)
        return values[codes].reshape(t.shape)

    def _exact_new(self, ages: np.ndarray) -> np.ndarray:
        """E[X(t)] = sum_n P(M(t) = n) W(floor(n / k)), M(t) the NBD count of Erlang
        stages by t, W(m) = sum_{j=1..m} E[(1-p)^(j-1+z)] the purchases a customer makes
        of their first m before dropping out, on average. Where the sum would need more
        than :data:`_MOST_STAGES` terms (stages far faster than the horizon), millions
        of stages make floor(M / k) a Poisson count of rate lambda / k to a part in a
        million: BG/NBD's (MBG/NBD's) closed form with alpha scaled by k."""
        r, alpha, a, b, k = self._values()
        z = 1.0 if self.at_zero else 0.0
        ages = np.asarray(ages, dtype=np.float64)
        found = np.full(len(ages), np.nan)
        positive = ages > 0
        found[~positive] = 0.0
        if not positive.any():
            return found
        t = ages[positive]
        log_q, log_p = np.log(alpha) - np.log(alpha + t), np.log(t) - np.log(alpha + t)
        # Terms to a tail below e^-39: past the mean by ten standard deviations, and far
        # enough down the geometric tail n^(r-1) p^n.
        mean = r * t / alpha
        tail = (44.0 - r * log_q + max(r - 1, 0.0) * np.log1p(mean)) / -log_p
        stages = np.ceil(mean + 10 * np.sqrt(mean * (1 + t / alpha)) + tail + 2 * k)
        usable = stages <= _MOST_STAGES
        values = np.full(len(t), np.nan)
        if not usable.all():
            far = t[~usable]
            z_far = far / (k * alpha + far)
            growth = mbgnbd._growth_new if self.at_zero else bgnbd._growth
            values[~usable] = bgnbd._regular(growth, r, a, b, np.zeros_like(far), z_far)
        if not usable.any():
            found[positive] = values
            return found
        most = int(stages[usable].max())
        # ln Gamma(r+n) - ln Gamma(r) - ln n!, and W(floor(n/k)), for every n at once.
        n = np.arange(1, most + 1, dtype=np.float64)
        log_rising = np.concatenate([[0.0], np.cumsum(np.log1p((r - 1) / n))])
        j = np.arange(1, most // k + 1, dtype=np.float64)
        survive = np.exp(betaln(a, b + j - 1 + z) - betaln(a, b))  # E[(1-p)^(j-1+z)]
        kept = np.concatenate([[0.0], np.cumsum(survive)])[np.arange(most + 1) // k]
        for i in np.flatnonzero(usable):
            m = int(stages[i]) + 1
            log_pmf = r * log_q[i] + log_rising[:m] + np.arange(m) * log_p[i]
            values[i] = float(np.dot(np.exp(log_pmf), kept[:m]))
        found[positive] = values
        return found


class BGCNBDFitter(_CNBDFitter):
    """BG/CNBD-k with parameters ``r, alpha, a, b, k``."""

    name = "bgcnbd"
    at_zero = False

    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """As BG/NBD's: a customer with no repeat purchase is alive by construction."""
        alive = super().p_alive(x, t_x, T)
        return np.where(np.asarray(x) > 0, alive, 1.0)


class MBGCNBDFitter(_CNBDFitter):
    """MBG/CNBD-k with parameters ``r, alpha, a, b, k``."""

    name = "mbgcnbd"
    at_zero = True
