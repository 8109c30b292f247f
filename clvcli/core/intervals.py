"""How sure: per-customer intervals of expected purchases and predicted CLV.

A customer's expected purchases and CLV are functions of the fitted parameters, which
are known only up to their sampling error: the fit's asymptotic normal of the log
parameters, whose covariance is the inverse Hessian the standard errors come from.
The interval of a customer's expected value holds the central ``level`` share of its
values over parameter vectors from that normal.

Those values are found without scoring every history at hundreds of drawn parameter
vectors, which would cost a hundred times the whole run. Along each axis of the
covariance (a column of its Cholesky factor, so that the parameters are the estimate
plus sum_j z_j axis_j with independent standard normal z_j), each distinct history's
log value is evaluated at the estimate and one standard deviation either way: 2k
more scorings for k parameters (over a coarser month grid, see COARSE). The
quadratic through those three points on each axis, sum_j (slope_j z_j + curve_j
z_j^2), is exact for a value log-linear in the parameters and keeps the curvature
that makes an interval lopsided. Its first four cumulants have closed forms, and the
quantiles follow from them by the Cornish-Fisher expansion: the quantiles of the
draws, without the draws. Predicted
CLV multiplies the purchase model's discounted expected purchases by the spend
model's expected spend, whose log is treated the same way per customer (it depends
on the customer's own mean spend); the two models come from separate fits, so their
parameters vary independently and the cumulants of the two logs add up.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clvcli.errors import UsageError
from clvcli.models import DistinctRows, Fitter, GammaGammaFitter
from clvcli.parallel import in_blocks, in_parallel

# Floor of a value before its logarithm: a value of zero stays (near) zero.
_TINY = 1e-300
# Log parameters beyond this overflow; a shift there is clipped (never reached in practice).
_LOG_CLIP = 700.0
# Cornish-Fisher's expansion holds (to within 0.3% at the 5% and 95% quantiles) up to
# a skewness of 2 and more; a more lopsided value is read at these.
_MOST_SKEW = 3.0
_MOST_KURTOSIS = 20.0


# The shifted models sum a horizon's discounted purchases over every COARSE-th month
# end (and the last): a third of the work or less, and, taken as a ratio to the
# estimate's sum over the same months, the same to within 0.3% of the interval's
# width (the sample shop, 12 months and lifetime).
COARSE = 4


def coarse_grid(months: np.ndarray) -> np.ndarray:
    """Every COARSE-th month end of ``months``, and the last."""
    picked = months[COARSE - 1 :: COARSE]
    if not len(picked) or picked[-1] != months[-1]:
        picked = np.append(picked, months[-1])
    return picked


def check_level(level: float) -> float:
    """``--interval``: 0 (no intervals) or a share strictly between 0 and 1."""
    if level == 0:
        return 0.0
    if not 0.0 < level < 1.0:
        raise UsageError(
            f"--interval {level:g} is outside (0, 1): give the coverage as 0.9 or 90%, "
            "or 0 for no intervals"
        )
    return float(level)


def axes_of(model: Fitter) -> np.ndarray | None:
    """The Cholesky factor of the model's log-parameter covariance; None without one."""
    covariance = getattr(model, "log_covariance_", None)
    if covariance is None:
        return None
    covariance = np.asarray(covariance, dtype=np.float64)
    if not np.all(np.isfinite(covariance)):
        return None
    try:
        return np.linalg.cholesky(covariance)
    except np.linalg.LinAlgError:
        return None


def at_log_shift(model: Fitter, shift: np.ndarray) -> Fitter:
    """The model with its log parameters moved by ``shift``."""
    params = model.fitted()
    names = model.covariance_names()
    log = np.log([params[name] for name in names]) + shift
    values = np.exp(np.clip(log, -_LOG_CLIP, _LOG_CLIP))
    return model.with_params({**params, **dict(zip(names, values.tolist(), strict=True))})


def shifted(model: Fitter, axes: np.ndarray) -> list[tuple[Fitter, Fitter]]:
    """The model one standard deviation up and down each axis, in the axes' order."""
    return [(at_log_shift(model, axis), at_log_shift(model, -axis)) for axis in axes.T]


@dataclass(frozen=True)
class Cumulants:
    """Mean, variance, third and fourth cumulants of a log value, element by element."""

    mean: np.ndarray
    variance: np.ndarray
    third: np.ndarray
    fourth: np.ndarray

    @classmethod
    def through(cls, center: np.ndarray, up: list[np.ndarray], down: list[np.ndarray]) -> Cumulants:
        """Those of sum_j (b_j z_j + a_j z_j^2) + log center, the per-axis quadratic
        through the values at the estimate and one standard deviation up and down each
        axis (see :class:`AxisSums`)."""
        sums = AxisSums(center)
        for above, below in zip(up, down, strict=True):
            sums.add(above, below)
        return sums.cumulants()

    def take(self, rows: np.ndarray) -> Cumulants:
        return Cumulants(*(values.take(rows) for values in self._all()))

    def plus(self, other: Cumulants) -> Cumulants:
        """The cumulants of the sum of two independent log values."""
        return Cumulants(*(a + b for a, b in zip(self._all(), other._all(), strict=True)))

    def _all(self) -> tuple[np.ndarray, ...]:
        return self.mean, self.variance, self.third, self.fourth

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The (1 - level) / 2 and (1 + level) / 2 quantiles of exp(the log value), by
        the Cornish-Fisher expansion to the fourth cumulant."""
        from scipy.special import ndtri

        z = float(ndtri((1 + level) / 2))
        sd = np.sqrt(self.variance)
        with np.errstate(invalid="ignore", divide="ignore"):
            skew = np.where(sd > 0, self.third / (sd * sd * sd), 0.0)
            kurtosis = np.where(sd > 0, self.fourth / (self.variance * self.variance), 0.0)
        skew = np.clip(skew, -_MOST_SKEW, _MOST_SKEW)
        kurtosis = np.clip(kurtosis, -_MOST_KURTOSIS, _MOST_KURTOSIS)
        found = []
        for q in (-z, z):
            w = q + (q * q - 1) * skew / 6 + (q**3 - 3 * q) * kurtosis / 24
            w -= (2 * q**3 - 5 * q) * skew * skew / 36
            with np.errstate(over="ignore", invalid="ignore"):
                found.append(_finite(np.exp(self.mean + sd * w)))
        return found[0], found[1]


class AxisSums:
    """The cumulants of a log value gathered one axis at a time, so that only one
    axis's scorings are held at once.

    Along an axis, with z standard normal, the quadratic b z + a z^2 through the log
    values at z = -1, 0, 1 has the cumulant generating function
    -ln(1 - 2at) / 2 + b^2 t^2 / (2 (1 - 2at)): mean a, variance b^2 + 2a^2, third
    cumulant 6ab^2 + 8a^3, fourth 48a^2 b^2 + 48a^4. The axes are independent, so
    each adds its own.
    """

    def __init__(self, center: np.ndarray, reference: np.ndarray | None = None) -> None:
        """``center``: the values at the estimate; ``reference``: the same as the
        shifted values are computed (over fewer months, say), when they differ: each
        axis is read as a ratio to it."""
        self.log_center = _log(center)
        self.log_reference = self.log_center if reference is None else _log(reference)
        self.sums = [np.zeros_like(self.log_center) for _ in range(4)]

    def add(self, up: np.ndarray, down: np.ndarray) -> None:
        """One axis, given the values one standard deviation up and down it."""
        log_up, log_down = _log(up), _log(down)
        b = (log_up - log_down) / 2
        a = log_up
        a += log_down
        a /= 2
        a -= self.log_reference
        b2, a2 = b * b, a * a
        mean, variance, third, fourth = self.sums
        mean += a
        variance += b2 + 2 * a2
        third += 6 * a * b2 + 8 * a * a2
        fourth += 48 * a2 * (b2 + a2)

    def cumulants(self) -> Cumulants:
        mean, variance, third, fourth = self.sums
        return Cumulants(self.log_center + mean, variance, third, fourth)


def _log(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(np.isfinite(values), np.maximum(values, _TINY), np.nan))


def _finite(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


@dataclass(frozen=True)
class RowIntervals:
    """The intervals of a scored set of distinct histories, before they reach customers.

    ``expected_lower``/``expected_upper`` hold each row's interval of expected
    purchases (NaN where there is none); ``discounted`` the cumulants of each row's
    log discounted expected purchases, to which :meth:`clv` adds those of each
    customer's log expected spend. ``spend`` is the spend model at its estimate and
    one standard deviation up and down each axis (None: no CLV intervals).
    """

    level: float
    expected_lower: np.ndarray
    expected_upper: np.ndarray
    discounted: Cumulants | None
    spend: tuple[GammaGammaFitter, list[tuple[Fitter, Fitter]]] | None

    def clv(
        self,
        rows: np.ndarray,
        frequency: np.ndarray,
        monetary_value: np.ndarray,
        margin: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The predicted-CLV interval of customers (their distinct rows, frequency and
        mean spend), block by block on every core."""
        n = len(rows)
        lower, upper = np.full(n, np.nan), np.full(n, np.nan)
        if self.discounted is None or self.spend is None:
            return lower, upper
        discounted = self.discounted
        spend, ends = self.spend
        frequency = np.asarray(frequency)
        monetary_value = np.asarray(monetary_value, dtype=np.float64)

        def work(block: slice) -> None:
            x = np.asarray(frequency[block], dtype=np.float64)
            m = monetary_value[block]
            per_purchase = Cumulants.through(
                spend.expected_spend(x, m) * margin,
                [above.expected_spend(x, m) * margin for above, _ in ends],
                [below.expected_spend(x, m) * margin for _, below in ends],
            )
            both = discounted.take(rows[block]).plus(per_purchase)
            lower[block], upper[block] = both.interval(self.level)

        with np.errstate(all="ignore"):
            in_blocks(work, n)
        return lower, upper


def _side_by_side(
    score: Callable[[Fitter], tuple[np.ndarray, np.ndarray]], ends: tuple[Fitter, Fitter]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``score`` of the models up and down one axis, on two cores: a scoring is mostly
    special functions, each one call on one core. Only one axis's are held at once."""
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def run(side: int) -> None:
        found[side] = score(ends[side])

    in_parallel(run, (0, 1))
    return [found[0], found[1]]


def row_intervals(
    purchases: Fitter,
    spend: GammaGammaFitter | None,
    rows: DistinctRows,
    expected: np.ndarray,
    discounted: np.ndarray,
    score: Callable[[Fitter], tuple[np.ndarray, np.ndarray]],
    level: float,
) -> tuple[RowIntervals, list[str]]:
    """The intervals of ``rows`` scored as ``expected`` and ``discounted`` (the horizon's
    expected and discounted expected purchases at the estimate); ``score(model)`` gives
    the same two for the model at other parameters (perhaps more cheaply: each axis is
    read as a ratio to ``score`` at the estimate). Also what the user should be told
    when a model has no covariance."""
    n = len(expected)
    said: list[str] = []
    axes = axes_of(purchases)
    if axes is None:
        said.append(
            f"{purchases.name}: no covariance of its parameters (a fit at a limit or an edge, "
            "or parameters saved without one), so the interval columns are empty"
        )
        return RowIntervals(level, np.full(n, np.nan), np.full(n, np.nan), None, None), said
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        expected_at, discounted_at = score(purchases)
        expected_sums = AxisSums(expected, expected_at)
        discounted_sums = AxisSums(discounted, discounted_at)
        del expected_at, discounted_at
        for ends in shifted(purchases, axes):
            (expected_up, discounted_up), (expected_down, discounted_down) = _side_by_side(
                score, ends
            )
            expected_sums.add(expected_up, expected_down)
            discounted_sums.add(discounted_up, discounted_down)
            del expected_up, discounted_up, expected_down, discounted_down
    lower, upper = expected_sums.cumulants().interval(level)
    discounted_at = discounted_sums.cumulants()
    spend_ends = None
    if spend is not None:
        spend_axes = axes_of(spend)
        if spend_axes is None:
            said.append(
                f"{spend.name}: no covariance of its parameters (a fit at a limit or an edge, "
                "or parameters saved without one), so predicted_clv_lower and "
                "predicted_clv_upper are empty"
            )
        else:
            spend_ends = (spend, shifted(spend, spend_axes))
    return RowIntervals(level, lower, upper, discounted_at, spend_ends), said
