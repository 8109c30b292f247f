"""How sure: per-customer intervals of expected purchases and predicted CLV.

A customer's expected purchases and CLV are functions of the fitted parameters, which
are known only up to their sampling error: the fit's asymptotic normal of the log
parameters, whose covariance is the inverse Hessian the standard errors come from.
The interval of a customer's expected value is the central ``level`` share of its
values over parameter vectors drawn from that normal (DRAWS of them, from a fixed
seed, so that a run is repeatable to the byte).

Evaluating the purchase model at every draw would cost DRAWS scorings of every
distinct history, a hundred times the whole run. Instead each distinct history's log
value is evaluated exactly at the estimate and one standard deviation either way
along each axis of the covariance (its Cholesky factor), 2k + 1 scorings, and read at
the draws from the quadratic through those three points on each axis: exact for a
value log-linear in the parameters, and it keeps the curvature (the skew of the
interval) along each axis. The spend model is cheap and is evaluated at every draw,
for every customer, since a customer's expected spend depends on their own mean
spend. Purchase and spend parameters come from separate fits: they are drawn
independently.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clvcli.errors import UsageError
from clvcli.models import DistinctRows, Fitter, GammaGammaFitter
from clvcli.parallel import in_parallel, row_blocks

DRAWS = 200
SEED = 20_231_123
# Rows per block: a block's (rows, DRAWS) arrays stay a few megabytes.
BLOCK_ROWS = 4096
# Floor of a value before its logarithm: a value of zero stays (near) zero.
_TINY = 1e-300
# Log parameters beyond this overflow; a draw there is clipped (never reached in practice).
_LOG_CLIP = 700.0


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


def standard_normal(k: int, stream: int) -> np.ndarray:
    """The run's (DRAWS, k) standard normal draws: the same for every run and every
    piece of a table. ``stream`` tells the purchase (0) and spend (1) models apart.

    A Latin hypercube: on each axis the draws are the normal quantiles of DRAWS equal
    slices of probability, in a shuffled order, so that their spread along any one
    axis is the normal's to the third digit rather than to within a sampling error of
    7% (which, the draws being the same for every customer, would make every interval
    too wide or too narrow alike).
    """
    from scipy.special import ndtri

    rng = np.random.default_rng([SEED, stream, k])
    middles = (np.arange(DRAWS) + 0.5) / DRAWS
    return np.column_stack([ndtri(rng.permutation(middles)) for _ in range(k)]).reshape(DRAWS, k)


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
    log = np.log([params[name] for name in model.param_names]) + shift
    values = np.exp(np.clip(log, -_LOG_CLIP, _LOG_CLIP))
    return model.with_params(dict(zip(model.param_names, values.tolist(), strict=True)))


@dataclass(frozen=True)
class Surrogate:
    """Per row, a log value as a function of standard normal draws ``z`` along the
    covariance's axes: center + sum_j (slope_j z_j + curve_j z_j^2)."""

    center: np.ndarray  # (n,)
    slope: np.ndarray  # (n, k)
    curve: np.ndarray  # (n, k)

    @classmethod
    def through(cls, center: np.ndarray, up: np.ndarray, down: np.ndarray) -> Surrogate:
        """The per-axis quadratic through the values at 0 (n,), +1 and -1 (n, k)."""
        center, up, down = (_log(v) for v in (center, up, down))
        mid = center[:, None]
        return cls(center, (up - down) / 2, (up + down) / 2 - mid)

    def at(self, rows: np.ndarray | slice, z: np.ndarray) -> np.ndarray:
        """The log values (len(rows), DRAWS) of ``rows`` at the draws ``z`` (DRAWS, k);
        the axes are added one after another, in their order, for every row alike."""
        values = np.repeat(self.center[rows][:, None], len(z), axis=1)
        slope, curve = self.slope[rows], self.curve[rows]
        squared = z * z
        for j in range(z.shape[1]):
            values += slope[:, j, None] * z[None, :, j]
            values += curve[:, j, None] * squared[None, :, j]
        return values


def _log(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.where(np.isfinite(values), np.maximum(values, _TINY), np.nan))


@dataclass(frozen=True)
class RowIntervals:
    """The intervals of a scored set of distinct histories, before they reach customers.

    ``expected_lower``/``expected_upper`` hold each row's interval of expected
    purchases; ``discounted`` gives each row's discounted expected purchases at the
    draws, which :meth:`clv` multiplies by each customer's expected spend at the
    spend model's draws. NaN where there is no interval.
    """

    level: float
    expected_lower: np.ndarray
    expected_upper: np.ndarray
    discounted: Surrogate | None
    purchase_draws: np.ndarray | None  # (DRAWS, k)
    spend_draws: tuple[GammaGammaFitter, ...] | None

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
        if self.discounted is None or self.spend_draws is None or self.purchase_draws is None:
            return lower, upper
        surrogate, z, spend = self.discounted, self.purchase_draws, self.spend_draws
        frequency = np.asarray(frequency)
        monetary_value = np.asarray(monetary_value, dtype=np.float64)

        def work(block: slice) -> None:
            values = np.exp(surrogate.at(rows[block], z))
            x = np.asarray(frequency[block], dtype=np.float64)
            m = monetary_value[block]
            for d, model in enumerate(spend):
                values[:, d] *= model.expected_spend(x, m)
            values *= margin
            lower[block], upper[block] = quantiles(values, self.level)

        with np.errstate(all="ignore"):
            in_parallel(work, row_blocks(n, BLOCK_ROWS))
        return lower, upper


def quantiles(values: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The (1 - level) / 2 and (1 + level) / 2 quantiles of each row of ``values``
    (numpy's linear interpolation between order statistics). A NaN draw counts as
    infinite (a spend with no finite mean); an infinite quantile is NaN, as the model
    columns have it."""
    draws = values.shape[1]
    values = np.where(np.isnan(values), np.inf, values)
    low, high = (draws - 1) * (1 - level) / 2, (draws - 1) * (1 + level) / 2
    picks = sorted({int(np.floor(low)), min(int(np.floor(low)) + 1, draws - 1)})
    picks += sorted({int(np.floor(high)), min(int(np.floor(high)) + 1, draws - 1)})
    ordered = np.partition(values, sorted(set(picks)), axis=1)

    def at(h: float) -> np.ndarray:
        below = int(np.floor(h))
        above = min(below + 1, draws - 1)
        share = h - below
        with np.errstate(invalid="ignore"):
            found = ordered[:, below] + share * (ordered[:, above] - ordered[:, below])
        found = np.where(share == 0, ordered[:, below], found)
        return np.where(np.isfinite(found), found, np.nan)

    return at(low), at(high)


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
    the same two for the model at other parameters. Also what the user should be told
    when a model has no covariance."""
    n = len(expected)
    empty = np.full(n, np.nan)
    said: list[str] = []
    axes = axes_of(purchases)
    if axes is None:
        said.append(
            f"{purchases.name}: no covariance of its parameters (a fit at a limit or an edge, "
            "or parameters saved without one), so the interval columns are empty"
        )
        return RowIntervals(level, empty, empty.copy(), None, None, None), said
    k = len(purchases.param_names)
    ups, downs = [], []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for j in range(k):
            for sign, into in ((1.0, ups), (-1.0, downs)):
                into.append(score(at_log_shift(purchases, sign * axes[:, j])))
    expected_at = Surrogate.through(
        expected, np.column_stack([u[0] for u in ups]), np.column_stack([d[0] for d in downs])
    )
    discounted_at = Surrogate.through(
        discounted, np.column_stack([u[1] for u in ups]), np.column_stack([d[1] for d in downs])
    )
    z = standard_normal(k, 0)
    lower, upper = np.full(n, np.nan), np.full(n, np.nan)

    def work(block: slice) -> None:
        found = quantiles(np.exp(expected_at.at(block, z)), level)
        lower[block], upper[block] = found

    with np.errstate(all="ignore"):
        in_parallel(work, row_blocks(n, BLOCK_ROWS))
    spend_draws = None
    if spend is not None:
        spend_axes = axes_of(spend)
        if spend_axes is None:
            said.append(
                f"{spend.name}: no covariance of its parameters (a fit at a limit or an edge, "
                "or parameters saved without one), so predicted_clv_lower and "
                "predicted_clv_upper are empty"
            )
        else:
            w = standard_normal(len(spend.param_names), 1)
            spend_draws = tuple(at_log_shift(spend, spend_axes @ draw) for draw in w)
    return RowIntervals(level, lower, upper, discounted_at, z, spend_draws), said
