"""`clv retention`'s work: from a subscription log or a cohort table to fitted and
projected retention, and to what each active subscriber and the whole base is worth.

A spell's lifetime is counted in whole renewal periods of the calendar its dates are
written in (months or years, Gregorian or Jalali): a subscription started on the 15th
renews on the 15th of each month. One that ended paid for every period it began: it
ended at the end of period T, where T = 1 + the renewals made before its end (a
cancellation on a renewal date is no renewal). One still running on the as-of date has
renewed as many times as renewal dates have come by then (the as-of date included).
The models and their conventions are those of :mod:`clvcli.retention`.

Cohorts group spells by the month or quarter they started in (``none``: one pooled
fit, the default, which uses every subscriber for one curve); ``by`` splits them by
plan or channel too. Each group gets its own fit; a group too small to fit keeps its
actual survival, with a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from clvcli.contract import DAYS_PER_YEAR
from clvcli.core.cohorts import period_label
from clvcli.errors import ModelError, TooLittleDataError, UsageError
from clvcli.io import jalali
from clvcli.io.dates import days_to_iso, month_index
from clvcli.io.subscriptions import ACTIVE, CohortCounts, SubscriptionLog
from clvcli.retention import RETENTION_MODELS, Lifetimes, RetentionModel

UNITS = ("month", "year")
COHORTS = ("none", "month", "quarter")
BY = ("plan", "channel")
POOLED = "all"
# Default --horizon: periods of survival shown and projected (never fewer than the data's).
DEFAULT_HORIZON = {"month": 24, "year": 12}
# A log is taken as yearly when at least this share of its ended spells lasted a whole
# number of years, give or take _YEAR_SLACK days.
_YEARLY_SHARE = 0.5
_YEAR_SLACK = 10.0
SURVIVAL_COLUMNS = [
    "cohort",
    "period",
    "active",
    "survival",
    "fitted_survival",
    "retention",
    "fitted_retention",
    "projected",
]
SUBSCRIBER_COLUMNS = [
    "customer_id",
    "cohort",
    "start",
    "tenure",
    "price",
    "p_renew",
    "erl",
    "derl",
    "clv",
]


@dataclass(frozen=True)
class RetentionSettings:
    """What `clv retention` was asked for (None: chosen from the data)."""

    period: str | None = None
    cohort: str = "none"
    by: str | None = None
    model: str = "sbg"
    horizon: int | None = None
    per_subscriber: bool = False
    margin: float = 1.0
    discount_rate: float = 0.10
    as_of: int | None = None

    def check(self) -> RetentionSettings:
        if self.period is not None and self.period not in UNITS:
            raise UsageError(f"--period {self.period} is not one of: {', '.join(UNITS)}")
        if self.cohort not in COHORTS:
            raise UsageError(f"--cohort {self.cohort} is not one of: {', '.join(COHORTS)}")
        if self.by is not None and self.by not in BY:
            raise UsageError(f"--by {self.by} is not one of: {', '.join(BY)}")
        if self.model not in RETENTION_MODELS:
            raise UsageError(
                f"--model {self.model} is not one of: {', '.join(RETENTION_MODELS)}",
                "sbg (shifted-beta-geometric) or bdw (beta-discrete-Weibull)",
            )
        if self.horizon is not None and not 1 <= self.horizon <= 1200:
            raise UsageError(f"--horizon {self.horizon} must be between 1 and 1200 periods")
        if not (math.isfinite(self.margin) and 0 < self.margin <= 1):
            raise UsageError(f"--margin {self.margin} must be above 0 and at most 1")
        if not (math.isfinite(self.discount_rate) and 0 <= self.discount_rate < 10):
            raise UsageError(f"--discount-rate {self.discount_rate} must be 0 or more (0.10: 10%)")
        return self


@dataclass
class RetentionResult:
    """Survival rows per group and period, each group's fit, and (asked for) the
    active subscribers' values and the base's total."""

    survival: pd.DataFrame
    fits: list[dict[str, Any]]
    period: str
    model: str
    as_of: str | None
    subscribers: pd.DataFrame | None = None
    base: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        """The result as one JSON object: with one fit, its ``params``,
        ``std_errors`` and ``log_likelihood`` at the top too."""
        out: dict[str, Any] = {"model": self.model, "period": self.period, "as_of": self.as_of}
        if len(self.fits) == 1 and "params" in self.fits[0]:
            fit = self.fits[0]
            for key in ("params", "std_errors", "log_likelihood", "aic", "bic", "converged"):
                out[key] = fit[key]
            out["subscribers"] = fit["subscribers"]
        out["fits"] = self.fits
        out["survival"] = _records(self.survival)
        if self.subscribers is not None:
            out["base"] = self.base
            out["active_subscribers"] = _records(self.subscribers)
        return out


def project_retention(
    data: SubscriptionLog | CohortCounts, settings: RetentionSettings
) -> RetentionResult:
    """Fit, project and (asked for) value: the one entry of `clv retention`."""
    settings.check()
    if isinstance(data, CohortCounts):
        return _from_cohort_table(data, settings)
    return _from_log(data, settings)


# -- a cohort table --------------------------------------------------------------------
def _from_cohort_table(data: CohortCounts, settings: RetentionSettings) -> RetentionResult:
    if settings.by is not None:
        raise UsageError(
            f"--by {settings.by} needs a subscription log: {data.source} is a cohort table"
        )
    if settings.per_subscriber:
        raise UsageError(
            f"--per-subscriber needs a subscription log: {data.source} is a cohort table",
            "a cohort table counts subscribers, it does not name them",
        )
    notes = []
    period = settings.period or data.unit
    if period is None:
        period = "month"
        notes.append(
            f"{data.source}: the period column does not say months or years: read as months "
            "(--period year says otherwise)"
        )
    lifetimes = Lifetimes.from_survivors(data.active)
    horizon = settings.horizon or max(DEFAULT_HORIZON[period], lifetimes.horizon)
    warnings = list(data.warnings)
    rows, fit = _group_rows({}, POOLED, lifetimes, settings.model, horizon, warnings, alone=True)
    fit.pop("_model")
    frame = pd.DataFrame(rows, columns=SURVIVAL_COLUMNS)
    return RetentionResult(
        _typed(frame), [fit], period, settings.model, None, warnings=warnings, notes=notes
    )


# -- a subscription log ----------------------------------------------------------------
def _from_log(log: SubscriptionLog, settings: RetentionSettings) -> RetentionResult:
    if settings.by is not None and getattr(log, settings.by) is None:
        raise UsageError(
            f"--by {settings.by}: {log.source} has no {settings.by} column",
            f"name it with --{settings.by}-col",
        )
    warnings = list(log.warnings)
    notes = list(log.notes)
    ended = log.end != ACTIVE
    last_day = int(max(log.start.max(), log.end[ended].max() if ended.any() else log.start.max()))
    as_of = last_day if settings.as_of is None else settings.as_of
    later = log.start > as_of
    if later.all():
        raise UsageError(
            f"--as-of {_iso(as_of)} is before every subscription of {log.source} starts"
        )
    if later.any():
        count = int(later.sum())
        what = "subscription starts" if count == 1 else "subscriptions start"
        warnings.append(f"{count} {what} after the as-of date {_iso(as_of)}: left out")
    keep = ~later
    period = settings.period
    if period is None:
        period, why = infer_period(log.start[keep], log.end[keep], as_of)
        notes.append(f"renewal period: {period} ({why}; --period says otherwise)")
    churned = keep & (log.end <= as_of)
    periods = np.zeros(log.num_spells, dtype=np.int64)
    whole, exact = whole_periods(log.start, np.minimum(log.end, as_of), period, log.calendar)
    periods[churned] = np.maximum(1, whole[churned] + ~exact[churned])
    periods[keep & ~churned] = whole[keep & ~churned]
    labels = cohort_labels(log.start, settings.cohort, log.calendar)
    spells = pd.DataFrame(
        {
            "group": getattr(log, settings.by) if settings.by else POOLED,
            "cohort": labels,
            "periods": periods,
            "churned": churned,
        }
    )[keep]
    horizon_default = settings.horizon
    rows: list[list[Any]] = []
    fits: list[dict[str, Any]] = []
    models: dict[tuple[str, str], RetentionModel | None] = {}
    grouped = spells.groupby(["group", "cohort"], sort=True)
    alone = grouped.ngroups == 1
    for (group, cohort), part in grouped:
        lifetimes = Lifetimes.from_durations(part["periods"].to_numpy(), part["churned"].to_numpy())
        horizon = horizon_default or max(DEFAULT_HORIZON[period], lifetimes.horizon)
        keys = {settings.by: group} if settings.by else {}
        group_rows, fit = _group_rows(
            keys, cohort, lifetimes, settings.model, horizon, warnings, alone=alone
        )
        rows += [[group, *row] for row in group_rows]
        fits.append(fit)
        models[(group, cohort)] = fit.pop("_model", None)
    if all(model is None for model in models.values()):
        raise ModelError(
            f"no group has enough data to fit ({len(models)} groups; the first: "
            f"{fits[0]['error']})",
            "pool the cohorts with --cohort none, or leave out --by",
        )
    frame = pd.DataFrame(rows, columns=["group", *SURVIVAL_COLUMNS])
    frame = (
        frame.rename(columns={"group": settings.by}) if settings.by else frame.drop(columns="group")
    )
    result = RetentionResult(
        _typed(frame),
        fits,
        period,
        settings.model,
        _iso(as_of),
        warnings=warnings,
        notes=notes,
    )
    if settings.per_subscriber:
        active = keep & ~churned
        _value_subscribers(result, log, active, periods, labels, models, settings)
    return result


def _group_rows(
    keys: dict[str, Any],
    cohort: str,
    lifetimes: Lifetimes,
    model_name: str,
    horizon: int,
    warnings: list[str],
    *,
    alone: bool,
) -> tuple[list[list[Any]], dict[str, Any]]:
    """The survival rows of one group (t = 0..horizon) and its fit's summary; the
    fitted model rides along under ``_model``."""
    where = ", ".join([*(f"{k} {v}" for k, v in keys.items()), f"cohort {cohort}"])
    fit: dict[str, Any] = {
        **keys,
        "cohort": cohort,
        "subscribers": lifetimes.subscribers,
        "churned": lifetimes.churned_subscribers,
        "periods_observed": lifetimes.horizon,
    }
    model: RetentionModel | None = RETENTION_MODELS[model_name]()
    try:
        assert model is not None
        model.fit(lifetimes)
    except TooLittleDataError as exc:
        if alone:
            raise
        warnings.append(f"{where}: not fitted: {exc.message}")
        fit["error"] = exc.message
        model = None
    if model is not None:
        summary = model.summary()
        warnings.extend(f"{where}: {w}" if not alone else w for w in summary.pop("warnings"))
        summary.pop("model")
        summary.pop("n")
        summary["std_errors"] = summary.pop("standard_errors")  # as clv fit names them
        fit.update(summary)
    fit["_model"] = model
    top = max(horizon, lifetimes.horizon)
    t = np.arange(top + 1)
    observed = lifetimes.horizon
    actual = np.full(top + 1, np.nan)
    actual[: observed + 1] = lifetimes.observed_survival()
    retention = np.full(top + 1, np.nan)
    retention[1 : observed + 1] = lifetimes.observed_retention()
    active = _active_counts(lifetimes, top)
    fitted = np.full(top + 1, np.nan)
    fitted_retention = np.full(top + 1, np.nan)
    if model is not None:
        fitted = model.survival(t)
        fitted_retention[1:] = model.retention_rate(t[1:])
    rows = [
        [
            cohort,
            int(i),
            active[i] if i <= observed else None,
            actual[i],
            fitted[i],
            retention[i],
            fitted_retention[i],
            bool(i > observed),
        ]
        for i in t
    ]
    return rows, fit


def _active_counts(lifetimes: Lifetimes, top: int) -> np.ndarray:
    """Subscribers seen still subscribed at each time t = 0..top: those who left after
    t renewals or more, and those active with t renewals or more."""
    n = max(top, lifetimes.horizon) + 2
    periods, count = lifetimes.periods, lifetimes.count
    churned = lifetimes.churned
    left = np.bincount(periods[churned], count[churned], minlength=n)  # T = t
    on = np.bincount(periods[~churned], count[~churned], minlength=n)  # n = t
    left_after = np.cumsum(left[::-1])[::-1]  # T >= t
    active_from = np.cumsum(on[::-1])[::-1]  # n >= t
    out = np.empty(top + 1, dtype=np.int64)
    out[:] = (left_after[1 : top + 2] + active_from[: top + 1]).astype(np.int64)
    return out


def _value_subscribers(
    result: RetentionResult,
    log: SubscriptionLog,
    active: np.ndarray,
    periods: np.ndarray,
    labels: np.ndarray,
    models: dict[tuple[str, str], RetentionModel | None],
    settings: RetentionSettings,
) -> None:
    """Each active subscriber's tenure, renewal probability, ERL, DERL and CLV, and the
    base's total (price x margin x DERL, discounted at the period's rate)."""
    rate = period_rate(settings.discount_rate, result.period)
    rows = np.flatnonzero(active)
    group = getattr(log, settings.by)[rows] if settings.by else np.full(len(rows), POOLED)
    tenure = periods[rows]
    p_renew = np.full(len(rows), np.nan)
    erl = np.full(len(rows), np.nan)
    derl = np.full(len(rows), np.nan)
    endless = discounted_endless = False
    for key, model in models.items():
        if model is None:
            continue
        mine = (group == key[0]) & (labels[rows] == key[1])
        if not mine.any():
            continue
        p_renew[mine] = model.renewal_probability(tenure[mine])
        with np.errstate(all="ignore"):
            e = model.expected_residual_lifetime(tenure[mine], 0.0)
            d = model.expected_residual_lifetime(tenure[mine], rate)
        endless |= bool(np.isinf(e).any())
        discounted_endless |= bool(np.isinf(d).any())
        erl[mine] = np.where(np.isfinite(e), e, np.nan)
        derl[mine] = np.where(np.isfinite(d), d, np.nan)
    price = log.price[rows] if log.price is not None else np.full(len(rows), np.nan)
    clv = price * settings.margin * derl
    frame = pd.DataFrame(
        {
            "customer_id": log.customer_id[rows],
            "cohort": labels[rows],
            "start": days_to_iso(log.start[rows]),
            "tenure": tenure,
            "price": price,
            "p_renew": p_renew,
            "erl": erl,
            "derl": derl,
            "clv": clv,
        }
    )
    for column in ("channel", "plan"):
        values = getattr(log, column)
        if values is not None:
            frame.insert(1, column, values[rows])
    result.subscribers = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    if endless:
        result.notes.append(
            "erl is empty: without a discount the expected number of renewals has no end "
            "for this fit (alpha <= 1: a tail of subscribers who almost never leave); derl, "
            "discounted, is finite"
        )
    if discounted_endless:
        result.warnings.append(
            "with --discount-rate 0 the expected lifetime of these subscribers has no end "
            "(alpha <= 1): derl and clv are left empty; give a discount rate above 0"
        )
    if log.price is None:
        result.notes.append(f"{log.source} has no price column: clv is empty")
    priced = np.isfinite(clv)
    result.base = {
        "active_subscribers": len(rows),
        "priced_subscribers": int(priced.sum()),
        "expected_payments": float(np.nansum(derl)) if np.isfinite(derl).any() else None,
        "total_clv": float(clv[priced].sum()) if priced.any() else None,
        "mean_clv": float(clv[priced].mean()) if priced.any() else None,
        "margin": settings.margin,
        "discount_rate": settings.discount_rate,
        "discount_rate_per_period": rate,
    }


# -- periods, cohorts ------------------------------------------------------------------
def period_rate(annual: float, period: str) -> float:
    """The discount rate per renewal period of an annual rate (compounded)."""
    return annual if period == "year" else (1.0 + annual) ** (1.0 / 12.0) - 1.0


def whole_periods(
    start: np.ndarray, end: np.ndarray, period: str, calendar: str = "gregorian"
) -> tuple[np.ndarray, np.ndarray]:
    """Renewal dates from ``start`` up to ``end`` (included), and whether ``end`` is
    one: the k of start + k periods <= end < start + (k + 1) periods.

    A renewal date falls on the start's day of the month, or the month's last day
    when the month is shorter (a start on 31 January renews on 28 or 29 February).

    >>> day = lambda text: np.array([np.datetime64(text, "D").astype(np.int64)])
    >>> whole_periods(day("2024-01-15"), day("2024-04-15"), "month")
    (array([3]), array([ True]))
    >>> whole_periods(day("2024-01-31"), day("2024-02-29"), "month")
    (array([1]), array([ True]))
    """
    ys, ms, ds = _ymd(start, calendar)
    ye, me, de = _ymd(end, calendar)
    if period == "month":
        k = (ye * 12 + me) - (ys * 12 + ms)
        renewal_day = np.minimum(ds, _month_length(ye, me, calendar))
        before = de < renewal_day
        exact = de == renewal_day
    else:
        k = ye - ys
        renewal_day = np.minimum(ds, _month_length(ye, ms, calendar))
        before = (me < ms) | ((me == ms) & (de < renewal_day))
        exact = (me == ms) & (de == renewal_day)
    return np.maximum(k - before, 0).astype(np.int64), exact & (k > 0) | (start == end)


def _ymd(days: np.ndarray, calendar: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    days = np.asarray(days, dtype=np.int64)
    if calendar == "jalali":
        year, month, day = jalali.from_days(days)
        return year.astype(np.int64), month.astype(np.int64), day.astype(np.int64)
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    index = months.astype(np.int64)
    return (
        index // 12 + 1970,
        index % 12 + 1,
        (dates - months.astype("datetime64[D]")).astype(np.int64) + 1,
    )


def _month_length(year: np.ndarray, month: np.ndarray, calendar: str) -> np.ndarray:
    if calendar == "jalali":
        return jalali.month_length(year, month).astype(np.int64)
    first = ((year - 1970) * 12 + month - 1).astype("datetime64[M]")
    return ((first + 1).astype("datetime64[D]") - first.astype("datetime64[D]")).astype(np.int64)


def infer_period(start: np.ndarray, end: np.ndarray, as_of: int) -> tuple[str, str]:
    """``year`` when most ended subscriptions lasted whole years, else ``month``; and
    why, in words."""
    ended = end <= as_of
    if not ended.any():
        return "month", "no subscription has ended yet, so the log cannot tell"
    days = (end[ended] - start[ended]).astype(np.float64)
    years = np.round(days / DAYS_PER_YEAR)
    whole = (years >= 1) & (np.abs(days - years * DAYS_PER_YEAR) <= _YEAR_SLACK)
    share = float(whole.mean())
    if share >= _YEARLY_SHARE:
        return "year", f"{share:.0%} of the ended subscriptions lasted whole years"
    return "month", f"only {share:.0%} of the ended subscriptions lasted whole years"


def cohort_labels(start: np.ndarray, grain: str, calendar: str) -> np.ndarray:
    """Each spell's cohort: ``2024-03``, ``2024-Q1`` (Jalali alike), or ``all``."""
    if grain == "none":
        return np.full(len(start), POOLED, dtype=object)
    size = 3 if grain == "quarter" else 1
    index = month_index(start, calendar) // size * size
    unique, inverse = np.unique(index, return_inverse=True)
    return period_label(unique, grain).astype(object)[inverse]


# -- output helpers --------------------------------------------------------------------
def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    frame["period"] = frame["period"].astype(np.int64)
    frame["active"] = frame["active"].astype("Int64")
    frame["projected"] = frame["projected"].astype(bool)
    return frame


def _iso(day: int) -> str:
    return str(days_to_iso(np.array([day]))[0])


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain values for JSON: NaN and NA as None."""
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        out.append({k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})
    return out
