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

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import betaln, expit, gammaln, hyp2f1, logsumexp, psi

from clvcli.models.base import (
    DistinctRows,
    Fitter,
    logaddexp,
    on_distinct,
    sum_in_blocks,
    weighted_sums,
)
from clvcli.models.spread import DROPOUT_AFTER_PURCHASE, PURCHASE_RATES
from clvcli.parallel import in_blocks

_NO_DROPOUT = "customers almost never drop out after a purchase (the no-dropout limit: an NBD)"


class PoissonGammaPart:
    """The purchase-rate half shared by BG/NBD and MBG/NBD likelihoods.

    Gamma(r, alpha)-mixed Poisson purchasing contributes
    ln Gamma(r+x) - ln Gamma(r) + r ln alpha, and (r+x) ln(alpha + t) for the time
    t the customer was last known to buy at rate lambda: T if alive, t_x if not. Each
    function is evaluated once per distinct x, t_x or T; :meth:`block` gathers them for
    a block of rows (see :func:`in_blocks`).
    """

    def __init__(self, r: float, alpha: float, data: DistinctRows) -> None:
        self.r, self.x = r, data.columns[0]
        self.xs, self.at_x = data.levels(0)
        t_xs, self.at_t_x = data.levels(1)
        Ts, self.at_T = data.levels(2)
        self.log_alpha_T, self.inverse_T = np.log(alpha + Ts), 1 / (alpha + Ts)
        self.log_alpha_t_x, self.inverse_t_x = np.log(alpha + t_xs), 1 / (alpha + t_xs)
        self.base = gammaln(r + self.xs) - gammaln(r) + r * np.log(alpha)  # per x
        self.d_r = psi(r + self.xs) - psi(r) + np.log(alpha)
        self.r_alpha = np.full(len(self.xs), r / alpha)

    def block(self, rows: slice) -> RateBlock:
        """The codes of ``rows`` and their r + x, ln(alpha + T) and ln(alpha + t_x)."""
        at_x, at_t_x, at_T = self.at_x[rows], self.at_t_x[rows], self.at_T[rows]
        return RateBlock(
            at_x,
            at_t_x,
            at_T,
            np.add(self.r, self.x[rows]),  # cheaper than gathering, and the same bits
            self.log_alpha_T.take(at_T),
            self.log_alpha_t_x.take(at_t_x),
        )

    def gradient(
        self,
        rates: RateBlock,
        w_T: np.ndarray,
        w_t_x: np.ndarray,
        d_r: np.ndarray,
        d_alpha: np.ndarray,
    ) -> None:
        """d/dr and d/dalpha of a block less their parts per x (:attr:`d_r` and
        :attr:`r_alpha`), given the weights of the alive-at-T and died-at-t_x terms,
        written into ``d_r`` and ``d_alpha``."""
        part, other = w_T * rates.log_T, w_t_x * rates.log_t_x
        np.subtract(np.negative(part, out=part), other, out=d_r)
        part = np.multiply(w_T, self.inverse_T.take(rates.at_T), out=part)
        part += np.multiply(w_t_x, self.inverse_t_x.take(rates.at_t_x), out=other)
        np.negative(np.multiply(rates.r_x, part, out=part), out=d_alpha)


@dataclass(frozen=True)
class RateBlock:
    """A block of rows' level codes and the purchase-rate values gathered for them."""

    at_x: np.ndarray
    at_t_x: np.ndarray
    at_T: np.ndarray
    r_x: np.ndarray  # r + x
    log_T: np.ndarray  # ln(alpha + T)
    log_t_x: np.ndarray  # ln(alpha + t_x)


def _one_time(data: DistinctRows) -> np.ndarray:
    """Rows without a repeat purchase (x = 0), found once per set of rows."""
    cached = data._levels.get(("one-time",))
    if cached is None:
        cached = (~(data.columns[0] > 0),)
        data._levels[("one-time",)] = cached
    return cached[0]


class SplitByX:
    """A likelihood whose terms and gradient are a part that depends on x alone plus
    one that varies within a level of x.

    Subclasses set :attr:`by_x` (k + 1, levels of x): the terms' part and each gradient
    column's, once per distinct x, and implement :meth:`fill_rows`. The fit's sums take
    the parts per x weighted by the customers at each x, so no row gathers them.
    """

    rates: PoissonGammaPart
    by_x: np.ndarray

    def fill_rows(self, rows: slice, terms: np.ndarray, gradient: np.ndarray) -> None:
        """The parts of the terms and gradient that vary within a level of x, for
        ``rows``, written into ``terms`` (m,) and ``gradient`` (m, k)."""
        raise NotImplementedError

    def fill(self, rows: slice, terms: np.ndarray, gradient: np.ndarray) -> None:
        """The whole terms and gradient of ``rows``: the varying parts plus those per x."""
        self.fill_rows(rows, terms, gradient)
        at_x = self.rates.at_x[rows]
        terms += self.by_x[0].take(at_x)
        gradient += self.by_x[1:].take(at_x, axis=1).T

    def all_rows(self, data: DistinctRows) -> tuple[np.ndarray, np.ndarray]:
        """The terms (n,) and gradient (n, k) of every row, block by block."""
        terms = np.empty(len(data.weight))
        gradient = np.empty((len(terms), len(self.by_x) - 1))
        in_blocks(lambda rows: self.fill(rows, terms[rows], gradient[rows]), len(terms))
        return terms, gradient

    def sums(self, data: DistinctRows) -> tuple[float, np.ndarray]:
        """The weighted sums of the terms and of the gradient over all rows."""
        total, gradient = sum_in_blocks(self.fill_rows, data.weight, len(self.by_x) - 1)
        per_x, per_x_gradient = weighted_sums(data.level_weights(0), self.by_x[0], self.by_x[1:].T)
        return total + per_x, gradient + per_x_gradient


class _BGNBDLevels(SplitByX):
    """The BG/NBD likelihood's functions of x, of t_x and of T at one parameter vector.

    Each is evaluated once per distinct value; :meth:`fill_rows` gathers them for a
    block of rows and does the per-row arithmetic of equation (6) in place, in the
    cache: the values are those of one pass over all rows, bit for bit.
    """

    def __init__(self, params: np.ndarray, data: DistinctRows) -> None:
        r, alpha, a, b = params
        self.a = a
        self.rates = PoissonGammaPart(r, alpha, data)
        self.one_time = _one_time(data)
        xs = self.rates.xs
        b_x = np.where(xs > 0, b + xs - 1, 1.0)
        constant = self.rates.base + (
            gammaln(a + b) + gammaln(b + xs) - gammaln(b) - gammaln(a + b + xs)
        )
        d_a = psi(a + b) - psi(a + b + xs)
        d_b = psi(a + b) + psi(b + xs) - psi(b) - psi(a + b + xs)
        self.by_x = np.array([constant, self.rates.d_r, self.rates.r_alpha, d_a, d_b])
        self.dropout = np.log(a) - np.log(b_x)
        self.inverse_b_x = 1 / b_x

    def fill_rows(self, rows: slice, terms: np.ndarray, gradient: np.ndarray) -> None:
        rates = self.rates.block(rows)
        alive = rates.r_x * rates.log_T
        np.negative(alive, out=alive)  # alive at T
        dead = rates.r_x * rates.log_t_x  # died right after the last purchase at t_x
        np.subtract(self.dropout.take(rates.at_x), dead, out=dead)
        np.copyto(dead, -np.inf, where=self.one_time[rows])
        total = logaddexp(alive, dead, out=terms)
        w_T = np.exp(np.subtract(alive, total, out=alive), out=alive)
        w_t_x = np.subtract(1.0, w_T, out=dead)
        self.rates.gradient(rates, w_T, w_t_x, gradient[:, 0], gradient[:, 1])
        np.divide(w_t_x, self.a, out=gradient[:, 2])
        part = np.multiply(w_t_x, self.inverse_b_x.take(rates.at_x), out=w_T)
        np.negative(part, out=gradient[:, 3])


class GrowthByPairs:
    """Expected purchases as P(alive) times a growth that depends on (x, T) only.

    Shared by BG/NBD and MBG/NBD, whose ``_growth(x, T, t)`` differ: scoring evaluates
    the growth once per distinct (x, T) of the rows, a grouping kept across horizons.
    """

    def expected_purchases_of_rows(
        self, t: float, rows: DistinctRows, p_alive: np.ndarray
    ) -> np.ndarray:
        if len(p_alive) == 0:
            return self.expected_purchases(t, *rows.columns, p_alive=p_alive)  # type: ignore[attr-defined]
        xs, Ts, pairs = rows.levels(0, 2)
        growth = self._growth(xs, Ts, np.full(len(xs), t, dtype=np.float64))  # type: ignore[attr-defined]
        return p_alive * growth[pairs]

    def expected_purchases_by_block(
        self, t: float, rows: DistinctRows, p_alive: np.ndarray
    ) -> Callable[[slice], np.ndarray] | None:
        """The growth once per distinct (x, T), gathered for a block of rows at a time."""
        if len(p_alive) == 0:
            return None
        xs, Ts, pairs = rows.levels(0, 2)
        growth = self._growth(xs, Ts, np.full(len(xs), t, dtype=np.float64))  # type: ignore[attr-defined]
        return lambda block: p_alive[block] * growth.take(pairs[block])


class BGNBDFitter(GrowthByPairs, Fitter):
    """BG/NBD with parameters ``r, alpha, a, b``."""

    name = "bgnbd"
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
        """Equation (6) of the paper, as logs; gradient by the digamma function.

        Functions of x alone, of t_x alone and of T alone are evaluated once per
        distinct value and gathered: millions of rows share a few hundred of each. The
        rows are filled block by block (:func:`in_blocks`).
        """
        return _BGNBDLevels(params, data).all_rows(data)

    def weighted_log_likelihood(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[float, np.ndarray]:
        """The terms' weighted sums, without a row's array: see :class:`SplitByX`."""
        return _BGNBDLevels(params, data).sums(data)

    # -- predictions --------------------------------------------------------------
    def p_alive(self, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive at T | x, t_x, T), equation (A.10) of the paper's note."""
        r, alpha, a, b = self.fitted().values()
        x = np.asarray(x, dtype=np.float64)
        safe_b = np.where(x > 0, b + x - 1, 1.0)
        log_odds = np.log(a) - np.log(safe_b) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(x > 0, expit(-log_odds), 1.0)

    def expected_purchases(
        self,
        t: float | np.ndarray,
        x: np.ndarray,
        t_x: np.ndarray,
        T: np.ndarray,
        p_alive: np.ndarray | None = None,
    ) -> np.ndarray:
        """Expected purchases in (T, T + t] given the history, equation (10).

        The hypergeometric term is evaluated in whichever of its two Euler-related forms
        has a convergent 2F1 at z = 1 (see :func:`_tail`), so that it stays finite for
        customers with hundreds of purchases and for horizons far beyond alpha.
        """
        x = np.asarray(x, dtype=np.float64)
        alive = self.p_alive(x, t_x, T) if p_alive is None else p_alive
        return alive * on_distinct(self._growth, x, T, t)

    def _growth(self, x: np.ndarray, T: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Expected purchases in (T, T + t] of a customer alive at T."""
        r, alpha, a, b = self.fitted().values()
        z = t / (alpha + T + t)
        return _regular(_growth, r, a, b, x, z)

    def expected_purchases_new(self, t: float | np.ndarray) -> np.ndarray:
        """E[X(t)] for a customer just acquired, equation (9)."""
        r, alpha, a, b = self.fitted().values()
        t = np.asarray(t, dtype=np.float64)
        z = t / (alpha + t)
        return _regular(_growth, r, a, b, np.zeros_like(z), z)

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


def _growth(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Expected purchases of a customer alive now, over the horizon z stands for."""
    return (a + b + x - 1) / (a - 1) * (1 - _tail(r, a, b, x, z))


def _regular(function, r: float, a: float, b: float, x: np.ndarray, z: np.ndarray):
    """``function`` at removable singularities (a = 1, a + b = 1) as the mean of the
    values just either side, which is exact to second order."""
    step = 1e-4
    if abs(a - 1) < step:
        return (function(r, 1 + step, b, x, z) + function(r, 1 - step, b, x, z)) / 2
    if abs(a + b - 1) < step:
        shift = 1 - a - b
        return (function(r, a, b + shift + step, x, z) + function(r, a, b + shift - step, x, z)) / 2
    return function(r, a, b, x, z)


def _tail(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(1-z)^(r+x) 2F1(r+x, b+x; a+b+x-1; z), the share of purchases not yet made.

    Euler's transformation gives the same value as
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z). Of the two, the form whose 2F1 has
    c - a - b > 0 converges at z = 1, so its power factor never meets an infinity.
    """
    x = np.asarray(x, dtype=np.float64)
    # The expected purchases, (a + b + x - 1) / (a - 1) (1 - tail), are not negative.
    below_one = (a - 1) * (a + b + x - 1) > 0
    return euler_tail(
        lambda x: (a - 1, a + b - 1 - r, a - 1, a + b + x - 1),
        lambda x: (r + x, r + x, b + x, a + b + x - 1),
        x,
        z,
        euler=x + r + 1 >= a,
        below_one=below_one,
    )


def euler_tail(
    transformed, original, x: np.ndarray, z: np.ndarray, euler: np.ndarray, below_one: np.ndarray
) -> np.ndarray:
    """A tail (1-z)^k 2F1(a, b; c; z) from whichever Euler-related form can be trusted.

    ``transformed`` and ``original`` give (k, a, b, c) of the two forms for given x;
    ``euler`` picks the form whose series converges at z = 1. scipy's 2F1 returns NaN,
    inf or even a wrong number for some parameter sets; the other form may not, and
    failing both, the series are summed directly (:func:`summed_tail`).
    """
    z = np.asarray(z, dtype=np.float64)
    shape = np.broadcast_shapes(np.shape(x), z.shape, np.shape(euler), np.shape(below_one))
    log1m = np.broadcast_to(np.log1p(-z), shape).reshape(-1)
    x, z, euler, below_one = (
        np.broadcast_to(v, shape).reshape(-1) for v in (x, z, euler, below_one)
    )

    def evaluate(form, rows: np.ndarray) -> np.ndarray:
        power, a, b, c = form(x[rows])
        return np.exp(power * log1m[rows]) * hyp2f1(a, b, c, z[rows])

    # Each row's preferred form first; the other (scipy's 2F1 is the cost) only where
    # that one cannot be a tail.
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        chosen = np.empty(len(z))
        chosen[euler] = evaluate(transformed, euler)
        chosen[~euler] = evaluate(original, ~euler)
        doubtful = ~plausible_tail(chosen, below_one)
        if doubtful.any():
            other = np.full(len(z), np.nan)
            other[doubtful & euler] = evaluate(original, doubtful & euler)
            other[doubtful & ~euler] = evaluate(transformed, doubtful & ~euler)
            trusted = np.where(plausible_tail(other, below_one), other, np.nan)
            chosen = np.where(doubtful, trusted, chosen)
    missing = np.isnan(chosen)
    if missing.any():
        chosen[missing] = summed_tail(
            transformed, original, *(v[missing] for v in (x, z, euler, below_one))
        )
    return chosen.reshape(shape)


def plausible_tail(values: np.ndarray, below_one: np.ndarray) -> np.ndarray:
    """Whether tails can be right: finite, and on the side of 1 that keeps the expected
    purchases from being negative (a wrong 2F1 often lands on the other). A tail may be
    negative itself: with x = 0 and a + b < 1, c = a + b - 1 is."""
    with np.errstate(invalid="ignore"):
        side = np.where(below_one, values <= 1 + 1e-9, values >= 1 - 1e-9)
        return np.isfinite(values) & side


def summed_tail(
    transformed, original, x: np.ndarray, z: np.ndarray, euler: np.ndarray, below_one: np.ndarray
) -> np.ndarray:
    """A tail (1-z)^k 2F1(a, b; c; z) by its power series, where scipy's 2F1 failed.

    ``transformed`` and ``original`` give (k, a, b, c) of the two Euler-related forms
    for given x. Each row is summed first in the form ``euler`` picks (the one whose
    series converges at z = 1), then in the other. The original form's terms are all
    positive, so it is summed in logs (nothing overflows, nothing cancels); the
    transformed form's value is dropped where cancellation between its terms ate the
    digits. NaN where both fail, or where the result cannot be a tail
    (:func:`plausible_tail`).
    """
    log1m = np.log1p(-z)
    result = np.full(x.shape, np.nan)
    attempts = ((transformed, euler), (original, ~euler), (transformed, ~euler), (original, euler))
    for form, preferred in attempts:
        rows = preferred & np.isnan(result)
        if not rows.any():
            continue
        power, a, b, c = (np.broadcast_to(v, (int(rows.sum()),)) for v in form(x[rows]))
        positive = (a > 0) & (b > 0) & (c > 0)  # every term positive: summed in logs
        log_series = np.full(len(a), np.nan)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            zr = z[rows]
            if positive.any():
                ap, bp, cp = a[positive], b[positive], c[positive]
                series = log_hyp2f1_series(ap, bp, cp, zr[positive])
                # With c > a + b the sum is below its value at z = 1; where even that
                # times the power factor is below 1e-15, the tail (a share of purchases
                # still to come, used as 1 - tail) is 0 to double precision.
                bound = np.where(
                    cp > ap + bp,
                    gammaln(cp) + gammaln(cp - ap - bp) - gammaln(cp - ap) - gammaln(cp - bp),
                    np.inf,
                )
                vanishing = np.isnan(series) & (
                    power[positive] * log1m[rows][positive] + bound < -34.5
                )
                log_series[positive] = np.where(vanishing, -np.inf, series)
            if not positive.all():
                mixed = ~positive
                log_series[mixed] = np.log(hyp2f1_series(a[mixed], b[mixed], c[mixed], zr[mixed]))
            value = np.exp(power * log1m[rows] + log_series)
        result[rows] = np.where(plausible_tail(value, below_one[rows]), value, np.nan)
    return result


def log_hyp2f1_series(a, b, c, z, terms: int = 2_000_000) -> np.ndarray:
    """ln 2F1(a, b; c; z) by its power series in logs, for a, b, c > 0 and 0 < z < 1.

    The terms of such a series are positive and may climb far past the largest double
    before they fall (a = 500,000 and z = 0.003 peak near e^1500) while the tail's
    power factor brings the product back down; in logs neither overflows. Near z = 1
    the terms fall like a power of n and need many blocks; rows stop as they converge.
    """
    a, b, c, z = (
        np.ravel(v)
        for v in np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    )
    log_total = np.zeros(z.shape)
    log_term = np.zeros(z.shape)
    last_ratio = np.zeros(z.shape)
    # Terms go as n^e z^n, e = a + b - c - 1: they climb until about e z / (1 - z), then
    # fall geometrically; with e < -1 they also fall as a power. Rows that would need
    # more than ``terms`` terms either way are not started (and get no value).
    e = a + b - c - 1
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        geometric = np.maximum(e, 0) * z / (1 - z) + 18.4 / -np.log(z)
        power = np.where(e < -1, (1e8 / np.maximum(-e - 1, 1e-300)) ** (1 / (-e - 1)), np.inf)
    hopeless = np.minimum(geometric, power) > terms
    last_ratio[hopeless] = 1.0
    active = np.flatnonzero(~hopeless)
    start, block = 0, _SERIES_BLOCK
    while active.size and start < terms:
        # Blocks double, so that a series of 100,000 terms takes a few steps.
        n = np.arange(start, min(start + block, terms), dtype=np.float64)
        start, block = start + block, min(2 * block, 1 << 16)
        log_ratios = (
            np.log(a[active, None] + n)
            + np.log(b[active, None] + n)
            - np.log(c[active, None] + n)
            - np.log(n + 1)
            + np.log(z[active, None])
        )
        log_steps = log_term[active, None] + np.cumsum(log_ratios, axis=-1)
        log_total[active] = np.logaddexp(log_total[active], logsumexp(log_steps, axis=-1))
        log_term[active] = log_steps[:, -1]
        last_ratio[active] = np.exp(log_ratios[:, -1])
        active = active[log_term[active] > log_total[active] - 39.2]  # 1e-17 of the sum
    # What is left is about term x ratio / (1 - ratio) (the ratio of the last two terms
    # rises towards z): where that is above 1e-8 of the sum (z too near 1), no value.
    with np.errstate(divide="ignore"):
        log_rest = log_term + np.log(last_ratio) - np.log1p(-np.minimum(last_ratio, 1.0))
    return np.where(log_rest <= log_total - 18.4, log_total, np.nan)


_SERIES_BLOCK = 250


def hyp2f1_series(a, b, c, z, terms: int = 20000) -> np.ndarray:
    """2F1(a, b; c; z) by its power series, for |z| < 1 (a fallback, not the main path);
    NaN where it does not converge or cancellation leaves fewer than 8 digits."""
    a, b, c, z = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (a, b, c, z)))
    total = np.ones(z.shape)
    term = np.ones(z.shape)
    largest = np.ones(z.shape)
    # Blocks of terms as cumulative products: the same terms, without a Python step
    # for each of the thousands a slowly converging series needs.
    for start in range(0, terms, _SERIES_BLOCK):
        n = np.arange(start, min(start + _SERIES_BLOCK, terms), dtype=np.float64)
        ratios = (a[..., None] + n) * (b[..., None] + n) / ((c[..., None] + n) * (n + 1))
        ratios *= z[..., None]
        steps = term[..., None] * np.cumprod(ratios, axis=-1)
        total = total + steps.sum(axis=-1)
        largest = np.maximum(largest, np.abs(steps).max(axis=-1))
        term = steps[..., -1]
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    # No value where the series has not converged, or where terms of opposite signs
    # cancelled more than 8 of the 16 digits (a huge negative a alternates them).
    usable = (np.abs(term) <= 1e-12 * np.abs(total)) & (largest <= 1e8 * np.abs(total))
    return np.where(usable, total, np.nan)
