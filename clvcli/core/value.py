"""Predicted CLV with honest time units.

A month is 365.25 / 12 days whatever time unit the model was fitted in, so a 12-month
horizon means the same money for a model in days, weeks or months. Predicted CLV sums
month by month: expected purchases in the month x expected spend x margin, discounted
at the monthly rate equivalent to the annual one, (1 + d)^(1/12) - 1. The lifetime
value uses the papers' closed form where there is one (Pareto/NBD's DET, BG/BB's
DERT, with the same annual rate as a continuous or per-opportunity one) and otherwise
the same monthly sum run for a century, by which time a positive discount rate has
made the rest negligible.

Predictions run on the distinct (x, t_x, T) rows and are mapped back to customers, so
scoring millions of customers costs what scoring their few distinct histories costs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from clvcli.contract import DAYS_PER_MONTH, INTERVAL_COLUMNS, days_per
from clvcli.core.intervals import RowIntervals, coarse_grid, row_intervals
from clvcli.errors import ModelError, TooLittleDataError, UsageError
from clvcli.models import PURCHASE_MODELS, DistinctRows, Fitter, GammaGammaFitter
from clvcli.models.gamma_gamma import (
    CORRELATION_WARNING,
    spend_frequency_correlation,
    spend_rows,
)
from clvcli.parallel import in_blocks

LIFETIME_MONTHS = 1200
# Months whose expected purchases a block of rows holds at once while scoring.
MONTHS_AT_ONCE = 12
MIN_CUSTOMERS = 10
MIN_REPEAT_BUYERS = 5


@dataclass(frozen=True)
class ValueSettings:
    """Horizon (months, None for lifetime), annual discount rate, margin, time unit."""

    period: str = "day"
    horizon: float | None = 12.0
    discount_rate: float = 0.10
    margin: float = 1.0

    def check(self) -> ValueSettings:
        if self.horizon is not None and not self.horizon > 0:
            raise UsageError(f"--horizon {self.horizon} must be a positive number of months")
        if not -1 < self.discount_rate < 10:
            raise UsageError(f"--discount-rate {self.discount_rate} is not an annual rate")
        if self.horizon is None and self.discount_rate <= 0:
            raise UsageError(
                "--horizon lifetime needs a positive --discount-rate",
                "without discounting, the whole future of a customer has no finite value",
            )
        return self


@dataclass
class Scores:
    """Model columns per customer, plus what the user should be told."""

    expected_purchases: np.ndarray
    p_alive: np.ndarray
    expected_avg_spend: np.ndarray
    predicted_clv: np.ndarray
    warnings: list[str] = field(default_factory=list)
    # With --interval: INTERVAL_COLUMNS by name.
    intervals: dict[str, np.ndarray] | None = None


def monthly_discount_rate(annual: float) -> float:
    """The monthly rate that compounds to ``annual`` over twelve months."""
    return (1 + annual) ** (1 / 12) - 1


def month_grid(horizon: float | None) -> np.ndarray:
    """Month ends to evaluate at: every month for a horizon; coarser far ahead for lifetime."""
    if horizon is not None:
        whole = np.arange(1, int(np.floor(horizon)) + 1, dtype=np.float64)
        return whole if whole.size and whole[-1] == horizon else np.append(whole, horizon)
    return np.concatenate(
        [np.arange(1, 37.0), np.arange(39, 121.0, 3), np.arange(132, LIFETIME_MONTHS + 1.0, 12)]
    )


def fit_purchase_model(
    name: str,
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    rows: DistinctRows | None = None,
    litt: np.ndarray | None = None,
) -> Fitter:
    """Fit a purchase model, refusing data that cannot identify it.

    ``rows``, ``DistinctRows.of(x, t_x, T)`` when the caller has them already: grouping
    millions of customers costs as much as the fit, and :func:`score` needs the same.
    ``litt``, the customers' sums of log inter-purchase times, for the models that
    choose a regularity k by them (given with ``rows`` only if they lack it).
    """
    if rows is None:
        rows = DistinctRows.of(x, t_x, T)
    return fit_purchase_rows(name, rows.with_litt(litt))


def fit_purchase_rows(name: str, rows: DistinctRows) -> Fitter:
    """:func:`fit_purchase_model` on customers already grouped into distinct rows."""
    customers = rows.customers
    repeaters = int(rows.weight[rows.columns[0] > 0].sum())
    if customers < MIN_CUSTOMERS or repeaters < MIN_REPEAT_BUYERS:
        raise TooLittleDataError(
            f"{name}: too little data to fit: {customers} customers, {repeaters} with a repeat "
            "purchase",
            f"the model needs at least {MIN_CUSTOMERS} customers and {MIN_REPEAT_BUYERS} repeat "
            "buyers; a longer history or --model none helps",
        )
    return PURCHASE_MODELS[name]().fit_rows(rows)


def fit_spend_model(
    frequency: np.ndarray, monetary_value: np.ndarray
) -> tuple[GammaGammaFitter, list[str]]:
    """Fit Gamma-Gamma on repeat buyers; warn when spend follows frequency."""
    rows = spend_rows(frequency, monetary_value)
    return fit_spend_rows(rows, spend_frequency_correlation(frequency, monetary_value))


def fit_spend_rows(rows: DistinctRows, correlation: float) -> tuple[GammaGammaFitter, list[str]]:
    """:func:`fit_spend_model` on the distinct (frequency, spend) rows of repeat buyers.

    ``correlation`` is that of frequency and spend among them, for the warning.
    """
    if rows.customers < MIN_CUSTOMERS:
        raise TooLittleDataError(
            f"gamma-gamma: too little data to fit: {rows.customers} repeat buyers with spend",
            f"the spend model needs at least {MIN_CUSTOMERS} repeat buyers",
        )
    warnings = []
    if abs(correlation) > CORRELATION_WARNING:
        warnings.append(
            f"gamma-gamma: spend and frequency are correlated ({correlation:+.2f} among repeat "
            "buyers); the model assumes they are independent, so expected spend may be biased"
        )
    spend = GammaGammaFitter().fit_rows(rows)
    warnings += spend.warnings_
    q = spend.fitted()["q"]
    if not q > 1:
        raise ModelError(
            f"gamma-gamma: the fitted spend has no finite mean (q = {q:.3g}, at most 1), so "
            "the expected spend of a customer without repeat purchases would be infinite",
            "spend this spread out does not suit the Gamma-Gamma model",
        )
    return spend, warnings


def weighted_correlation(x: np.ndarray, y: np.ndarray, weight: np.ndarray) -> float:
    """Pearson correlation of rows that stand for ``weight`` customers each.

    The correlation of the customers themselves, for data grouped into distinct rows;
    0 when fewer than three customers or either column does not vary.
    """
    total = float(weight.sum())
    if total < 3:
        return 0.0
    dx = x - np.dot(weight, x) / total
    dy = y - np.dot(weight, y) / total
    sxx, syy = np.dot(weight, dx * dx), np.dot(weight, dy * dy)
    if sxx <= 0 or syy <= 0:
        return 0.0
    return float(np.dot(weight, dx * dy) / np.sqrt(sxx * syy))


def score(
    purchases: Fitter,
    spend: GammaGammaFitter | None,
    history: tuple[np.ndarray, np.ndarray, np.ndarray],
    frequency: np.ndarray,
    monetary_value: np.ndarray,
    settings: ValueSettings,
    rows: DistinctRows | None = None,
) -> Scores:
    """Expected purchases over the horizon, P(alive), expected spend and predicted CLV.

    Overflow in the special functions of extreme histories is caught by the checks on
    the results, not shown to the user as numpy's warnings. ``rows`` are
    ``DistinctRows.of(*history)`` when the caller has them already (from the fit).
    """
    return score_rows(
        purchases,
        spend,
        DistinctRows.of(*history) if rows is None else rows,
        frequency,
        monetary_value,
        settings,
    )


def score_rows(
    purchases: Fitter,
    spend: GammaGammaFitter | None,
    rows: DistinctRows,
    frequency: np.ndarray,
    monetary_value: np.ndarray,
    settings: ValueSettings,
) -> Scores:
    """:func:`score` of the customers that ``rows`` group, for a caller who has let
    their history go (three columns of millions of customers)."""
    values = row_values(purchases, spend, rows, settings)
    return values.customers(slice(0, len(values.inverse)), frequency, monetary_value)


@dataclass(frozen=True)
class RowValues:
    """What the models give each distinct row, before it is spread to the customers.

    The expensive part of scoring runs once per distinct row; :meth:`customers`
    spreads it to any consecutive slice of the customers, so a table of millions can
    be made and written a slice at a time. Of the rows only the customers' map to
    them is kept: their columns and the fit's caches go.
    """

    inverse: np.ndarray  # each customer's distinct row
    expected: np.ndarray  # expected purchases over the horizon
    alive: np.ndarray  # P(alive), within 0..1
    discounted: np.ndarray  # discounted expected purchases
    spend: GammaGammaFitter | None
    margin: float
    # Distinct rows the purchase model gave no finite value: a model that cannot score
    # some customers is not used for any (see clvcli.core.compute).
    unscored: int = 0
    intervals: RowIntervals | None = None

    def customers(
        self, customers: slice, frequency: np.ndarray, monetary_value: np.ndarray
    ) -> Scores:
        """The scores of ``customers`` (a slice of the rows' customers), whose
        frequency and mean spend are given for that slice only.

        They are filled block by block (:func:`in_blocks`), each value as it would be
        over all customers at once.
        """
        with np.errstate(all="ignore"):
            inverse = self.inverse[customers]
            frequency = np.asarray(frequency)  # counts: made floats block by block
            monetary_value = np.asarray(monetary_value, dtype=np.float64)
            n = len(inverse)
            expected, p_alive, spend_per_purchase, predicted = (np.empty(n) for _ in range(4))

            def fill(block: slice) -> None:
                at = inverse[block]
                expected[block] = self.expected.take(at)
                p_alive[block] = self.alive.take(at)
                if self.spend is None:
                    spend_per_purchase[block] = np.nan
                else:
                    spend_per_purchase[block] = self.spend.expected_spend(
                        frequency[block], monetary_value[block]
                    )
                predicted[block] = (
                    self.discounted.take(at) * spend_per_purchase[block] * self.margin
                )

            in_blocks(fill, n)
        return Scores(
            expected_purchases=expected,
            p_alive=p_alive,
            expected_avg_spend=spend_per_purchase,
            predicted_clv=predicted,
            intervals=None
            if self.intervals is None
            else self._intervals(inverse, frequency, monetary_value),
        )

    def _intervals(
        self, inverse: np.ndarray, frequency: np.ndarray, monetary_value: np.ndarray
    ) -> dict[str, np.ndarray]:
        """The interval columns of customers whose rows are ``inverse``."""
        found = self.intervals
        assert found is not None
        clv_lower, clv_upper = (
            found.clv(inverse, frequency, monetary_value, self.margin)
            if self.spend is not None
            else (np.full(len(inverse), np.nan), np.full(len(inverse), np.nan))
        )
        values = (
            found.expected_lower.take(inverse),
            found.expected_upper.take(inverse),
            clv_lower,
            clv_upper,
        )
        return dict(zip(INTERVAL_COLUMNS, values, strict=True))


def row_values(
    purchases: Fitter,
    spend: GammaGammaFitter | None,
    rows: DistinctRows,
    settings: ValueSettings,
    months: np.ndarray | None = None,
) -> RowValues:
    """The models' values of each of ``rows`` over the horizon ``settings`` give
    (summed month by month, or over the month ends ``months`` when given)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        settings.check()
        x, t_x, T = rows.columns
        units_per_month = DAYS_PER_MONTH / days_per(settings.period)
        months = month_grid(settings.horizon) if months is None else months
        discount = _discount_factors(months, settings.discount_rate)
        alive = np.asarray(purchases.p_alive(x, t_x, T))
        if settings.horizon is None and hasattr(purchases, "discounted_expected_purchases"):
            expected, discounted = _closed_form(purchases, rows, alive, settings, units_per_month)
        else:
            ends = months * units_per_month
            sums = _monthly_sums_in_blocks(purchases, rows, alive, ends, discount)
            if sums is None:
                sums = _monthly_sums(
                    lambda t: purchases.expected_purchases_of_rows(t, rows, alive),
                    len(x),
                    ends,
                    discount,
                )
            discounted, expected = sums
        # Guarded once per distinct row, not once per customer: the same values gathered.
        unscored = ~(np.isfinite(expected) & np.isfinite(alive) & np.isfinite(discounted))
        return RowValues(
            inverse=rows.inverse,
            expected=_finite(expected),
            alive=np.clip(_finite(alive), 0.0, 1.0),
            discounted=_finite(discounted),
            spend=spend,
            margin=settings.margin,
            unscored=int(unscored.sum()),
        )


def with_intervals(
    values: RowValues,
    purchases: Fitter,
    spend: GammaGammaFitter | None,
    rows: DistinctRows,
    settings: ValueSettings,
    level: float,
) -> tuple[RowValues, list[str]]:
    """``values`` (of ``rows``) with their ``level`` intervals (see
    :mod:`clvcli.core.intervals`), and the warnings of a model without a covariance."""

    months = coarse_grid(month_grid(settings.horizon))

    def score(model: Fitter) -> tuple[np.ndarray, np.ndarray]:
        found = row_values(model, None, rows, settings, months)
        return found.expected, found.discounted

    intervals, said = row_intervals(
        purchases, spend, rows, values.expected, values.discounted, score, level
    )
    return replace(values, intervals=intervals), said


def _discount_factors(months: np.ndarray, annual_rate: float) -> np.ndarray:
    """The discount of each step of the month grid, taken at the step's middle."""
    monthly = monthly_discount_rate(annual_rate)
    previous_months = np.concatenate([[0.0], months[:-1]])
    # For monthly steps the middle discounts at the month's end.
    return (1 + monthly) ** -((previous_months + months) / 2 + 0.5)


def _monthly_sums(
    expected: Callable[[float], np.ndarray],
    n: int,
    ends: np.ndarray,
    discount: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Discounted expected purchases summed month by month, and those by the last month.

    ``expected(t)`` gives the expected purchases of the ``n`` rows by ``t`` (in the
    model's time unit); ``ends`` are the month ends in that unit.
    """
    cumulative_before = np.zeros(n)
    discounted = np.zeros(n)
    for end, factor in zip(ends, discount, strict=True):
        cumulative = np.asarray(expected(end))
        discounted += factor * np.maximum(cumulative - cumulative_before, 0.0)
        cumulative_before = cumulative
    return discounted, cumulative_before


def _monthly_sums_in_blocks(
    purchases: Fitter,
    rows: DistinctRows,
    alive: np.ndarray,
    ends: np.ndarray,
    discount: np.ndarray,
) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`_monthly_sums` of the rows, a block of rows and a few months at a time
    (:func:`in_blocks`), so that the months' arrays stay in the cache instead of being
    as long as the rows; each row's sums are added in the same order, bit for bit.

    None for models that give expected purchases only for all rows at once.
    """
    n = len(alive)
    discounted, cumulative = np.zeros(n), np.zeros(n)
    for start in range(0, len(ends), MONTHS_AT_ONCE):
        group = slice(start, start + MONTHS_AT_ONCE)
        by_month = [purchases.expected_purchases_by_block(t, rows, alive) for t in ends[group]]
        if any(month is None for month in by_month):
            return None
        in_blocks(_add_months(by_month, discount[group], discounted, cumulative), n)
    return discounted, cumulative


def _add_months(
    by_month: list, factors: np.ndarray, discounted: np.ndarray, cumulative: np.ndarray
) -> Callable[[slice], None]:
    """The work of one block for :func:`_monthly_sums_in_blocks`: the months' discounted
    growth added to ``discounted``, and ``cumulative`` moved to the last month."""

    def work(block: slice) -> None:
        total, before = discounted[block], cumulative[block]
        for month, factor in zip(by_month, factors, strict=True):
            expected = np.asarray(month(block))
            total += factor * np.maximum(expected - before, 0.0)
            before = expected
        cumulative[block] = before

    return work


def _closed_form(
    purchases: Fitter,
    rows: DistinctRows,
    alive: np.ndarray,
    settings: ValueSettings,
    units_per_month: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Lifetime value from DET or DERT: the century's expected purchases of each row,
    and its discounted expected purchases."""
    x, t_x, T = rows.columns
    per_month = np.log1p(monthly_discount_rate(settings.discount_rate))
    if purchases.name == "bgbb":
        rate = np.expm1(per_month / units_per_month)  # per opportunity
    else:
        rate = per_month / units_per_month  # continuous, per model time unit
    discounted = np.asarray(purchases.discounted_expected_purchases(rate, x, t_x, T, p_alive=alive))
    failed = ~np.isfinite(discounted)
    if failed.any():
        # scipy's 2F1 fails for BG/BB's DERT when an opportunity's discount is small (a
        # day), its U for Pareto/NBD's DET when s is large (the models give NaN where
        # they cannot vouch for the value): those rows take the century of monthly sums
        # the other models use.
        months = month_grid(None)
        discounted = discounted.copy()
        rest, rest_alive = (x[failed], t_x[failed], T[failed]), alive[failed]
        discounted[failed] = _monthly_sums(
            lambda t: purchases.expected_purchases(t, *rest, p_alive=rest_alive),
            len(rest_alive),
            months * units_per_month,
            _discount_factors(months, settings.discount_rate),
        )[0]
    century = np.asarray(
        purchases.expected_purchases(LIFETIME_MONTHS * units_per_month, x, t_x, T, p_alive=alive)
    )
    return century, discounted


def _finite(values: np.ndarray) -> np.ndarray:
    """Guard the outputs: a numerical failure shows as an empty cell, never inf."""
    values = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(values), values, np.nan)
