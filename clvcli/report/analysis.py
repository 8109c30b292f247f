"""Everything a report shows, gathered from the core in one pass.

:func:`build_report` runs `compute`, the funnel, the cohorts, CAC against CLV (with
costs) and the holdout validation (with a holdout) on one set of transactions and
returns a :class:`ReportData`, which the HTML, Excel and Markdown writers render. It
needs no CLI: ``build_report(read_transactions(path), ReportSettings())`` works from
Python.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clvcli import __version__
from clvcli.core.cac import CacSettings, cac_table, channel_mismatch, require_amounts
from clvcli.core.cohorts import cohort_table, log_cohort_table
from clvcli.core.compute import ComputeSettings, CustomerValues, compute_clv
from clvcli.core.fitting import fitted_report, parameter_frame, statistics_frame
from clvcli.core.funnel import funnel
from clvcli.core.retention import RetentionResult, RetentionSettings, project_retention
from clvcli.core.segments import select_customers
from clvcli.core.validation import (
    HoldoutLength,
    cumulative_purchases,
    holdout_start,
    validate_models,
)
from clvcli.errors import ModelError, UsageError
from clvcli.io.readers import Transactions
from clvcli.io.subscriptions import CohortCounts, SubscriptionLog

if TYPE_CHECKING:
    from clvcli.core.log import EngineLog

TOP_SHARE = 0.10
DEFAULT_TOP = 20
# The coverage of the intervals of predicted CLV a report shows for its top customers.
REPORT_INTERVAL = 0.9
TOP_COLUMNS = [
    "customer_id",
    "channel",
    "stage",
    "orders",
    "last_purchase",
    "total_spend",
    "p_alive",
    "predicted_clv",
    "predicted_clv_lower",
    "predicted_clv_upper",
    "total_clv",
]
Step = Callable[[str], AbstractContextManager[Any]]


@dataclass(frozen=True)
class Costs:
    """Acquisition spend rows (channel, month, spend) and the calendar of the months."""

    spend: pd.DataFrame
    calendar: str = "gregorian"


@dataclass(frozen=True)
class ReportSettings:
    """What to compute: the compute settings, and the report's own choices.

    ``holdout_days`` (days, say 182 for 26 weeks, or a :class:`HoldoutLength`) adds
    the holdout validation;
    ``cohort_calendar`` names the calendar of the cohort months.
    """

    compute: ComputeSettings = field(default_factory=ComputeSettings)
    costs: Costs | None = None
    holdout_days: float | HoldoutLength | None = None
    top: int = DEFAULT_TOP
    cohort_calendar: str = "gregorian"
    cac: CacSettings = field(default_factory=CacSettings)

    def check(self) -> ReportSettings:
        """Fail on impossible combinations before any work."""
        if self.top < 1:
            raise UsageError(f"--top {self.top} must be 1 or more")
        if self.holdout_days is not None and self.model_name == "none":
            raise UsageError(
                "--holdout checks a model, and --model none fits none",
                "choose a model: --model bgnbd, mbgnbd, pnbd, ggomnbd, bgbb, bgcnbd or mbgcnbd",
            )
        return self

    @property
    def model_name(self) -> str:
        saved = self.compute.saved
        return saved["model"] if saved is not None else self.compute.model


@dataclass(frozen=True)
class Headline:
    """The report's first figures."""

    customers: int
    revenue: float
    mean_clv: float
    total_clv: float
    top_share: float


@dataclass
class ReportData:
    """The tables and figures of one report, ready to render in any format."""

    source: str
    as_of: int
    settings: ReportSettings
    period: str
    customers: pd.DataFrame
    headline: Headline
    stages: pd.DataFrame
    cohorts: pd.DataFrame
    top: pd.DataFrame
    fit: dict[str, Any] | None = None
    cac_by_channel: pd.DataFrame | None = None
    cac_by_cohort: pd.DataFrame | None = None
    validation: dict[str, Any] | None = None
    tracking: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    # What compute_clv returned: the frame of ``customers`` and the fitted models.
    values: CustomerValues | None = None
    version: str = __version__
    # False for a log with no amount column: the money parts are left out.
    has_amount: bool = True
    # With --subscriptions FILE: retention fitted and projected, the base's value.
    retention: RetentionResult | None = None

    @property
    def parameters(self) -> pd.DataFrame | None:
        """Estimates, standard errors and 95% intervals, one row per parameter."""
        return None if self.fit is None else parameter_frame(self.fit)

    @property
    def statistics(self) -> pd.DataFrame | None:
        """Log-likelihood, AIC, BIC and convergence, one row per fitted model.

        Without the fit's seconds, so that the same data gives the same report.
        """
        return None if self.fit is None else statistics_frame(self.fit).drop(columns="seconds")

    @property
    def validation_model(self) -> dict[str, Any] | None:
        if self.validation is None:
            return None
        return next(iter(self.validation["models"].values()))


def headline(frame: pd.DataFrame) -> Headline:
    """Customers, revenue, mean and total CLV, and the top decile's share of CLV."""
    values = np.sort(frame["total_clv"].to_numpy(np.float64))[::-1]
    total = float(values.sum())
    top = values[: math.ceil(len(values) * TOP_SHARE)]
    return Headline(
        customers=len(frame),
        # NaN, not 0, when no amount is known (a log with no amount column).
        revenue=float(frame["total_spend"].sum(min_count=1)),
        mean_clv=float(values.mean()) if len(values) else math.nan,
        total_clv=total,
        top_share=float(top.sum()) / total if total > 0 else math.nan,
    )


def _no_step(_: str) -> AbstractContextManager[None]:
    return contextlib.nullcontext()


def report_compute(settings: ReportSettings) -> ComputeSettings:
    """The compute settings of a report: with intervals for its top customers."""
    compute = settings.compute
    return compute if compute.interval else replace(compute, interval=REPORT_INTERVAL)


def build_report(
    transactions: Transactions,
    settings: ReportSettings,
    *,
    step: Step = _no_step,
) -> ReportData:
    """Compute every part of a report; ``step(what)`` wraps each long step (progress)."""
    settings.check()
    if settings.costs is not None:
        require_amounts(transactions.has_amount, transactions.source)
    with step("computing customer values"):
        values = compute_clv(transactions, report_compute(settings))
    with step("building cohorts"):
        cohorts, cohort_warnings = cohort_table(
            transactions,
            metric="retention",
            calendar=settings.cohort_calendar,
            margin=settings.compute.margin,
            as_of=values.as_of,
        )
    report = _assembled(
        values, cohorts, cohort_warnings, settings, transactions.source, transactions.has_amount
    )
    if settings.costs is not None:
        with step("comparing CLV with acquisition cost"):
            _add_cac(report, transactions, settings.costs, values.as_of)
    if settings.holdout_days is not None:
        with step("fitting and predicting the holdout"):
            try:
                _add_validation(report, transactions, settings.holdout_days)
            except ModelError as exc:  # the rest of the report still holds
                report.warnings.append(f"{exc.message}; the report has no holdout check")
    return report


def build_log_report(
    log: EngineLog,
    values: CustomerValues,
    settings: ReportSettings,
    *,
    step: Step = _no_step,
) -> ReportData | None:
    """:func:`build_report` for a log its engine reads as it is, from the compute
    table the engine's summary gave (``values``, computed with
    :func:`report_compute`'s settings): the cohorts and the CAC margins by month come
    from the engine too. No holdout check: its tracking curve needs the transactions.
    None when the reader is needed."""
    settings.check()
    if settings.holdout_days is not None:
        raise UsageError("a report on the engine has no holdout check", None)
    with step("building cohorts"):
        cohorts = log_cohort_table(
            log,
            metric="retention",
            calendar=settings.cohort_calendar,
            margin=settings.compute.margin,
        )
    if cohorts is None:
        return None
    report = _assembled(values, cohorts, [], settings, log.path, True)
    if settings.costs is not None:
        with step("comparing CLV with acquisition cost"):
            _add_cac(report, log, settings.costs, values.as_of)
    return report


def _assembled(
    values: CustomerValues,
    cohorts: pd.DataFrame,
    cohort_warnings: list[str],
    settings: ReportSettings,
    source: str,
    has_amount: bool,
) -> ReportData:
    """The report of a compute table and its cohorts, before CAC and validation."""
    compute = report_compute(settings)
    if values.choice is not None:
        # The report names, and checks on the holdout, the model --model auto chose.
        compute = replace(compute, model=values.choice.model)
        settings = replace(settings, compute=compute)
    frame = values.frame
    warnings = list(values.warnings)
    fit = None
    if values.purchase_model is not None:
        fit = fitted_report(
            values.purchase_model,
            values.spend_model,
            period=_period(compute),
            as_of=values.as_of,
        )
    warnings.extend(w for w in cohort_warnings if w not in warnings)
    if has_amount:
        top = select_customers(frame, top=settings.top)
    else:  # no money to rank by: those expected to buy the most (or who bought most)
        rank = "expected_purchases" if frame["expected_purchases"].notna().any() else "orders"
        top = frame.sort_values(rank, ascending=False, kind="stable").head(settings.top)
    return ReportData(
        source=source,
        as_of=values.as_of,
        settings=settings,
        period=_period(compute),
        customers=frame,
        headline=headline(frame),
        stages=funnel(frame),
        cohorts=cohorts,
        top=top[[c for c in TOP_COLUMNS if c in top]],
        fit=fit,
        warnings=warnings,
        values=values,
        has_amount=has_amount,
    )


def _period(compute: ComputeSettings) -> str:
    return compute.saved["period"] if compute.saved is not None else compute.period


def _add_cac(
    report: ReportData, transactions: Transactions | EngineLog, costs: Costs, as_of: int
) -> None:
    """CAC against CLV per channel (when the costs name channels) and per month cohort."""
    horizon = report.settings.compute.horizon
    cac = replace(
        report.settings.cac,
        grain="month",
        calendar=costs.calendar,
        margin=report.settings.compute.margin,
        horizon_months=horizon if horizon is not None else 12.0,
    )
    if not costs.spend["channel"].isna().all():
        report.warnings.extend(channel_mismatch(report.customers, costs.spend))
        report.cac_by_channel = cac_table(
            report.customers, transactions, costs.spend, replace(cac, by="channel"), as_of
        )
    report.cac_by_cohort = cac_table(
        report.customers, transactions, costs.spend, replace(cac, by="cohort"), as_of
    )


def _add_validation(
    report: ReportData, transactions: Transactions, span_days: float | HoldoutLength
) -> None:
    model = report.settings.model_name
    as_of = report.as_of
    end = holdout_start(transactions, span_days, as_of)
    # Its warnings repeat, for the calibration part, what compute said of the whole.
    validation, _ = validate_models(
        transactions, [model], period=report.period, calibration_end=end, as_of=as_of
    )
    report.validation = validation
    report.tracking = cumulative_purchases(
        transactions,
        model,
        validation["models"][model]["params"],
        period=report.period,
        calibration_end=end,
        as_of=as_of,
    )


def add_retention(report: ReportData, subscriptions: SubscriptionLog | CohortCounts) -> None:
    """The retention section: one pooled sBG fit of the subscriptions, its curve
    projected, and (from a subscription log) the active base valued at the report's
    margin and discount rate. A fit that fails leaves a warning, not a failed report."""
    compute = report.settings.compute
    settings = RetentionSettings(
        per_subscriber=isinstance(subscriptions, SubscriptionLog),
        margin=compute.margin,
        discount_rate=compute.discount_rate,
    )
    try:
        result = project_retention(subscriptions, settings)
    except ModelError as exc:
        report.warnings.append(f"{exc.message}; the report has no retention section")
        return
    report.warnings.extend(result.warnings)
    report.retention = result
