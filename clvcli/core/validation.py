"""`clv validate`: fit on a calibration period, predict the holdout, compare.

The classic check of Fader, Hardie and Lee: fit on the calibration period, predict
each customer's purchases in the holdout, and compare with what they did: in total
(% error, bias), per customer (MAE, RMSE, MSLE, relative MAE, correlation), as mean
predicted against mean actual by calibration frequency (0, 1, ..., 7+), and by decile
of the prediction. The best model is the one with the smallest per-customer error
(MAE): a model can get the total right while it is wrong for every customer, a few
heavy buyers' misses cancelling the many light buyers'.

BG/BB counts purchase periods (a period with a purchase is one, whatever the
purchases in it), so its actual holdout total is the periods with a purchase, fewer
than the purchases the other models count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clvcli.contract import (
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    LITT_COLUMN,
    CustomerTable,
    days_per,
)
from clvcli.core.choice import AUTO, CANDIDATES, same_to_digits
from clvcli.core.occasions import Occasions, purchase_occasions
from clvcli.core.opportunities import opportunities
from clvcli.core.periods import add_months, month_end, periods_between
from clvcli.core.summary import (
    calibration_table,
    litt_of,
    refund_only_warnings,
    resolve_as_of,
)
from clvcli.core.value import fit_purchase_model
from clvcli.errors import InputError, ModelError, UsageError
from clvcli.io.readers import Transactions
from clvcli.models import PURCHASE_MODELS
from clvcli.models.base import DistinctRows, Fitter

TOP_FREQUENCY = 7
HOLDOUT_METRICS = (
    "predicted_holdout_purchases",
    "actual_holdout_purchases",
    "error_pct",
    "mae",
    "rmse",
    "msle",
    "bias",
    "rel_mae",
    "correlation",
)
DECILES = 10
# Models that count purchase periods rather than purchases.
PERIOD_MODELS = ("bgbb",)
BGBB_NOTE = (
    "bgbb counts purchase periods (a period with several purchases is one), not "
    "purchases, so its actual holdout total is smaller than the other models' and its "
    "errors are not comparable with theirs: best is chosen among the others"
)


@dataclass(frozen=True)
class Holdout:
    """Calibration end and the end of the holdout, as days since 1970-01-01."""

    calibration_end: int
    end: int


@dataclass(frozen=True)
class HoldoutLength:
    """A holdout as the user gave it: ``number`` days, weeks, months or years (``unit``
    one of d, w, m, y)."""

    number: float
    unit: str

    @property
    def days(self) -> float:
        """The length in days, a month being 365.25 / 12 of them."""
        unit_days = {"d": 1.0, "w": 7.0, "m": DAYS_PER_MONTH, "y": DAYS_PER_YEAR}[self.unit]
        return self.number * unit_days

    def calibration_end(self, as_of: int, calendar: str = "gregorian") -> int:
        """The last day of calibration before a holdout that ends on ``as_of``.

        Whole months and years count on the calendar: calibration ends on the same
        day of the month that many months before ``as_of`` (the month's last day when
        it is shorter), or on that month's last day when ``as_of`` is a month's last
        day. So ``1y`` before 2024-12-31 leaves the holdout 2024-01-01 to 2024-12-31
        (one yearly opportunity for BG/BB) and ``6m`` before 1998-06-30 leaves
        1998-01-01 to 1998-06-30. Days, weeks and fractions of a month count in days.
        """
        months = self.number * {"m": 1, "y": 12}.get(self.unit, 0)
        if months == 0 or months != int(months):
            return int(as_of - round(self.days))
        end = int(add_months(as_of, -int(months), calendar))
        if abs(end - (as_of - self.days)) > 31:  # beyond the Jalali table's years
            return int(as_of - round(self.days))
        if month_end(as_of, calendar) == as_of:
            end = int(month_end(end, calendar))
        return end


def holdout_length(text: str) -> HoldoutLength:
    """``39w``, ``6m``, ``90d`` or ``1y`` as a :class:`HoldoutLength`."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*", text.lower())
    if not found:
        raise UsageError(f"--holdout '{text}' is not a length", "write it as 39w, 6m, 90d or 1y")
    return HoldoutLength(float(found.group(1)), found.group(2))


def holdout_days(text: str) -> float:
    """``39w``, ``6m``, ``90d`` or ``1y`` as days (a month is 365.25 / 12 days)."""
    return holdout_length(text).days


def holdout_start(
    transactions: Transactions, span: float | HoldoutLength, as_of: int | None = None
) -> int:
    """The calibration end that leaves ``span`` (days, or a length) of holdout before the
    as-of date."""
    last = as_of if as_of is not None else int(transactions.day.max())
    return holdout_start_before(last, span, transactions.calendar)


def holdout_start_before(
    last: int, span: float | HoldoutLength, calendar: str = "gregorian"
) -> int:
    """The calibration end that leaves ``span`` (days, or a length) of holdout up to
    ``last`` (days since 1970-01-01)."""
    if isinstance(span, HoldoutLength):
        return span.calibration_end(last, calendar)
    return int(last - round(span))


def validate_models(
    transactions: Transactions,
    models: list[str],
    *,
    period: str,
    calibration_end: int,
    as_of: int | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """Per model: holdout totals, error metrics and the table by calibration frequency."""
    table = calibration_table(
        transactions, calibration_end=calibration_end, as_of=as_of, period=period
    )
    table.warnings = transactions.warnings + table.warnings
    return validate_table(table, models, calibration_end, transactions)


def engine_holdout_table(
    columns: dict[str, np.ndarray],
    *,
    source: str,
    calibration_end: int,
    as_of: int,
    period: str,
) -> CustomerTable:
    """The calibration summary with holdout columns that :func:`calibration_table`
    gives, from an engine's columns for every customer (see
    :meth:`clvcli.engines.Engine.holdout_table`), with the reader's warnings."""
    refund_only = int(columns["refund_only"][0])
    if not len(columns["frequency"]):
        raise InputError(
            f"{source}: no purchases (every day's net amount is zero or negative)",
            "amounts of purchases must be positive; negative amounts are refunds",
        )
    frame = pd.DataFrame(
        {
            "frequency": columns["frequency"].astype(np.int64),
            "recency": columns["recency"],
            "T": columns["T"],
            LITT_COLUMN: columns["litt"],
            "frequency_holdout": columns["frequency_holdout"].astype(np.int64),
            "duration_holdout": (as_of - calibration_end) / days_per(period),
        },
        copy=False,  # tens of millions of customers: no second copy in pandas' blocks
    )
    return CustomerTable(frame, as_of, period, refund_only_warnings(source, refund_only))


def validate_table(
    table: CustomerTable,
    models: list[str],
    calibration_end: int,
    transactions: Transactions | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """:func:`validate_models` on a calibration summary with holdout columns."""
    missing = [c for c in ("frequency_holdout", "duration_holdout") if c not in table.frame]
    if missing:
        raise UsageError(
            "the summary has no holdout columns (" + ", ".join(missing) + ")",
            "write it with clv summary --calibration-end DATE",
        )
    warnings = list(table.warnings)
    if transactions is None and "bgbb" in models:
        models = [m for m in models if m != "bgbb"]
        if not models:
            raise UsageError("--model bgbb needs the transaction log, not a summary")
        warnings.append("bgbb counts purchase periods, which a summary does not hold: left out")
    regular = [m for m in models if PURCHASE_MODELS[m].needs_purchase_days]
    if litt_of(table.frame) is None and regular and len(regular) < len(models):
        models = [m for m in models if m not in regular]
        warnings.append(
            f"{' and '.join(regular)} choose their k by the purchase days, which a summary "
            "does not hold: left out"
        )
    frame = table.frame
    period = table.period
    holdout_days = float(frame["duration_holdout"].iloc[0]) * days_per(period) if len(frame) else 0
    report: dict[str, Any] = {
        "period": period,
        "calibration_end": str(np.datetime64(calibration_end, "D")),
        "holdout_end": str(np.datetime64(calibration_end + round(holdout_days), "D")),
        "customers": len(frame),
        "models": {},
    }
    frequency = frame["frequency"].to_numpy(np.int64)
    grouped: list[DistinctRows] = []
    for name in models:
        try:
            if name in PERIOD_MODELS:
                history, actual, span = _opportunities(transactions, table, calibration_end)
                model = fit_purchase_model(name, *history)
                predicted = np.asarray(model.expected_purchases(span, *history), dtype=np.float64)
            else:
                if not grouped:  # once for every model: millions of customers, a few rows
                    grouped.append(_calibration_rows(table))
                actual = frame["frequency_holdout"].to_numpy(np.float64)
                model, predicted = _predicted(name, grouped[0], _holdout_span(table))
        except ModelError as exc:
            if len(models) == 1:
                raise
            warnings.append(f"{exc.message}; left out of the comparison")
            continue
        report["models"][name] = holdout_metrics(predicted, actual, frequency)
        report["models"][name]["params"] = model.fitted()
        report["models"][name]["log_likelihood"] = model.log_likelihood_
    if not report["models"]:
        raise ModelError("no model could be fitted on the calibration period", None)
    report["best"] = best_model(report["models"])
    return report, warnings


def best_model(metrics: dict[str, dict[str, Any]]) -> str:
    """The model with the smallest per-customer error (MAE); the first listed on a tie
    (equal to ten digits).

    BG/BB's errors are in purchase periods, not purchases: beside the models that
    count purchases it is not comparable, so it is the best only on its own.
    """
    comparable = [name for name in metrics if name not in PERIOD_MODELS] or list(metrics)
    return min(comparable, key=lambda name: same_to_digits(metrics[name]["mae"]))


def cumulative_purchases(
    transactions: Transactions,
    model: str,
    params: dict[str, float],
    *,
    period: str,
    calibration_end: int,
    as_of: int | None = None,
    step_days: int = 7,
) -> pd.DataFrame:
    """Cumulative repeat purchases of the calibration customers, actual and predicted.

    The tracking plot of Fader, Hardie and Lee: every ``step_days`` from the first
    purchase to the as-of date, the repeat purchases made so far by the customers
    acquired by ``calibration_end``, and what the model fitted on calibration expects
    of them, the sum over customers of E[X(t)] for a new customer at their age t (in
    opportunities for BG/BB).
    """
    transactions, as_of, _ = resolve_as_of(transactions, as_of)
    occasions = purchase_occasions(transactions)
    never = np.iinfo(np.int64).max
    first = np.full(len(transactions.customer_ids), never)
    np.minimum.at(first, occasions.customer, occasions.day)
    acquired = first <= calibration_end
    calendar = transactions.calendar
    by_period = period if model == "bgbb" else None
    repeat_days = _repeat_days(occasions, first, acquired, by_period, calendar)
    firsts, counts = np.unique(first[acquired], return_counts=True)
    grid = np.arange(int(firsts.min()), as_of + 1, step_days) if len(firsts) else np.array([])
    if len(grid) and grid[-1] != as_of:
        grid = np.append(grid, as_of)
    if model == "bgbb":  # opportunities begun after the first, on the calendar
        age = periods_between(firsts[None, :], grid[:, None], period, calendar)
        age = np.maximum(age, 0)
    else:
        age = np.maximum(grid[:, None] - firsts[None, :], 0) / days_per(period)
    fitted = PURCHASE_MODELS[model]().set_params(params)
    expected = np.asarray(fitted.expected_purchases_new(age.ravel()), dtype=np.float64)
    predicted = (expected.reshape(age.shape) * counts[None, :]).sum(axis=1)
    return pd.DataFrame(
        {
            "date": grid.astype("datetime64[D]"),
            "actual": np.searchsorted(repeat_days, grid, side="right").astype(np.int64),
            "predicted": predicted,
            "holdout": grid > calibration_end,
        }
    )


def _repeat_days(
    occasions: Occasions,
    first: np.ndarray,
    acquired: np.ndarray,
    period: str | None,
    calendar: str = "gregorian",
) -> np.ndarray:
    """Sorted days of the acquired customers' repeat purchases.

    With a ``period`` (BG/BB), a repeat is an opportunity after the first with a
    purchase, dated by its first purchase day.
    """
    owner = occasions.customer
    repeat = acquired[owner] & (occasions.day > first[owner])
    owner, day = owner[repeat], occasions.day[repeat]
    if period is not None:
        index = periods_between(first[owner], day, period, calendar)
        later = index >= 1
        owner, day, index = owner[later], day[later], index[later]
        # Occasions run by customer then day, so each opportunity's first is its earliest.
        _, earliest = np.unique(owner * (int(index.max(initial=0)) + 1) + index, return_index=True)
        day = day[earliest]
    return np.sort(day)


def _calibration_rows(table: CustomerTable) -> DistinctRows:
    """The calibration customers' distinct (frequency, recency, T) rows, with litt."""
    frame = table.frame
    rows = DistinctRows.of(
        frame["frequency"].to_numpy(np.float64),
        frame["recency"].to_numpy(np.float64),
        frame["T"].to_numpy(np.float64),
    )
    return rows.with_litt(litt_of(frame))


def _holdout_span(table: CustomerTable) -> float:
    return float(table.frame["duration_holdout"].iloc[0])


def _predicted(name: str, rows: DistinctRows, span: float) -> tuple[Fitter, np.ndarray]:
    """The model fitted on the calibration rows and each customer's predicted holdout
    purchases, computed once per distinct row."""
    model = fit_purchase_model(name, *rows.columns, rows=rows)
    with np.errstate(all="ignore"):
        alive = np.asarray(model.p_alive(*rows.columns), np.float64)
        per_row = np.asarray(model.expected_purchases_of_rows(span, rows, alive), np.float64)
    return model, per_row[rows.inverse]


def _opportunities(transactions, table, calibration_end):
    """BG/BB's calibration history, holdout count and span, in purchase periods."""
    period, calendar = table.period, transactions.calendar
    found = opportunities(transactions, calibration_end, period, calendar, holdout_end=table.as_of)
    x, t_x, n, count, span = (
        values[table.codes].astype(float)
        for values in (found.x, found.t_x, found.n, found.holdout, found.span)
    )
    return (x, t_x, n), count, span


def holdout_metrics(
    predicted: np.ndarray, actual: np.ndarray, frequency: np.ndarray
) -> dict[str, Any]:
    """Every metric of one model's holdout predictions against what customers did.

    ``bias`` = total predicted / total actual - 1; ``rel_mae`` = sum |error| / total
    actual; ``msle`` = mean of (log(1 + actual) - log(1 + predicted))^2, which weighs
    a miss of 1 against 0 purchases more than one of 11 against 10. ``by_frequency``
    groups customers by calibration frequency, ``deciles`` by the prediction.
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    total_predicted = float(predicted.sum())
    total_actual = float(actual.sum())
    error = predicted - actual
    spread = np.std(predicted) > 0 and np.std(actual) > 0
    correlation = float(np.corrcoef(predicted, actual)[0, 1]) if spread else None
    absolute = float(np.abs(error).sum())
    groups = np.minimum(frequency, TOP_FREQUENCY)
    rows = []
    for group in range(TOP_FREQUENCY + 1):
        members = groups == group
        count = int(members.sum())
        rows.append(
            {
                "frequency": f"{TOP_FREQUENCY}+" if group == TOP_FREQUENCY else str(group),
                "customers": count,
                "mean_predicted": float(predicted[members].mean()) if count else None,
                "mean_actual": float(actual[members].mean()) if count else None,
            }
        )
    return {
        "predicted_holdout_purchases": total_predicted,
        "actual_holdout_purchases": total_actual,
        "error_pct": (
            100 * (total_predicted - total_actual) / total_actual if total_actual else None
        ),
        "mae": absolute / len(error) if len(error) else None,
        "rmse": float(np.sqrt((error**2).mean())) if len(error) else None,
        "msle": float(((np.log1p(actual) - np.log1p(predicted)) ** 2).mean())
        if len(error)
        else None,
        "bias": total_predicted / total_actual - 1 if total_actual else None,
        "rel_mae": absolute / total_actual if total_actual else None,
        "correlation": correlation,
        "by_frequency": rows,
        "deciles": deciles(predicted, actual),
    }


def deciles(predicted: np.ndarray, actual: np.ndarray) -> list[dict[str, Any]]:
    """Customers ranked by prediction, highest first, in ten groups as equal as can
    be (ties kept in customer order): mean predicted and mean actual of each."""
    order = np.argsort(-predicted, kind="stable")
    rows = []
    for number, members in enumerate(np.array_split(order, DECILES), start=1):
        count = len(members)
        rows.append(
            {
                "decile": number,
                "customers": count,
                "mean_predicted": float(predicted[members].mean()) if count else None,
                "mean_actual": float(actual[members].mean()) if count else None,
            }
        )
    return rows


def all_models() -> list[str]:
    return list(PURCHASE_MODELS)


def models_named(option: str) -> list[str]:
    """The models --model names: all of them, auto's candidates, or one."""
    if option == "all":
        return all_models()
    if option == AUTO:
        return list(CANDIDATES)
    return [option]


def summary_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per model: holdout totals, error metrics and the log-likelihood."""
    keys = (*HOLDOUT_METRICS, "log_likelihood")
    return pd.DataFrame(
        [{"model": name, **{k: m[k] for k in keys}} for name, m in report["models"].items()]
    )


def frequency_frame(report: dict[str, Any]) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases by calibration frequency, per model."""
    return pd.DataFrame(
        [
            {"model": name, **row}
            for name, metrics in report["models"].items()
            for row in metrics["by_frequency"]
        ]
    )
