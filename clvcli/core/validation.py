"""`clv validate`: fit on a calibration period, predict the holdout, compare.

The classic check of Fader, Hardie and Lee: fit on the calibration period, predict
each customer's purchases in the holdout, and compare with what they did: in total
(% error), per customer (MAE, RMSE, correlation), and as mean predicted against mean
actual by calibration frequency (0, 1, ..., 7+).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from clvcli.core.occasions import purchase_occasions
from clvcli.core.opportunities import holdout_opportunities, opportunity_rows
from clvcli.core.periods import DAYS_PER_MONTH, days_per
from clvcli.core.summary import CustomerTable, calibration_table
from clvcli.core.value import fit_purchase_model
from clvcli.errors import ModelError, UsageError
from clvcli.io.readers import Transactions
from clvcli.models import PURCHASE_MODELS

TOP_FREQUENCY = 7


@dataclass(frozen=True)
class Holdout:
    """Calibration end and the end of the holdout, as days since 1970-01-01."""

    calibration_end: int
    end: int


def holdout_days(text: str) -> float:
    """``39w``, ``6m``, ``90d`` or ``1y`` as days (a month is 365.25 / 12 days)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*", text.lower())
    if not found:
        raise UsageError(f"--holdout '{text}' is not a length", "write it as 39w, 6m, 90d or 1y")
    number, unit = float(found.group(1)), found.group(2)
    return number * {"d": 1.0, "w": 7.0, "m": DAYS_PER_MONTH, "y": 365.25}[unit]


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
    for name in models:
        try:
            history, actual, span = _holdout_inputs(name, transactions, table, calibration_end)
            model = fit_purchase_model(name, *history)
            predicted = np.asarray(model.expected_purchases(span, *history), dtype=np.float64)
        except ModelError as exc:
            if len(models) == 1:
                raise
            warnings.append(f"{exc.message}; left out of the comparison")
            continue
        report["models"][name] = _metrics(predicted, actual, frequency)
        report["models"][name]["params"] = model.fitted()
        report["models"][name]["log_likelihood"] = model.log_likelihood_
    if not report["models"]:
        raise ModelError("no model could be fitted on the calibration period", None)
    report["best"] = min(report["models"], key=lambda n: abs(report["models"][n]["error_pct"]))
    return report, warnings


def _holdout_inputs(name, transactions, table, calibration_end):
    frame = table.frame
    if name != "bgbb":
        history = (
            frame["frequency"].to_numpy(np.float64),
            frame["recency"].to_numpy(np.float64),
            frame["T"].to_numpy(np.float64),
        )
        actual = frame["frequency_holdout"].to_numpy(np.float64)
        return history, actual, float(frame["duration_holdout"].iloc[0])
    unit = days_per(table.period)
    codes = table.codes
    first_day = np.zeros(len(transactions.customer_ids), dtype=np.int64)
    first_day[codes] = frame["first_purchase"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    occasions = purchase_occasions(transactions)
    x, t_x, n = opportunity_rows(occasions, first_day, calibration_end, unit)
    count, span = holdout_opportunities(occasions, first_day, calibration_end, table.as_of, unit)
    history = (x[codes].astype(float), t_x[codes].astype(float), n[codes].astype(float))
    return history, count[codes].astype(float), span[codes].astype(float)


def _metrics(predicted: np.ndarray, actual: np.ndarray, frequency: np.ndarray) -> dict[str, Any]:
    total_predicted = float(predicted.sum())
    total_actual = float(actual.sum())
    error = predicted - actual
    spread = np.std(predicted) > 0 and np.std(actual) > 0
    correlation = float(np.corrcoef(predicted, actual)[0, 1]) if spread else None
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
        "mae": float(np.abs(error).mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "correlation": correlation,
        "by_frequency": rows,
    }


def all_models() -> list[str]:
    return list(PURCHASE_MODELS)
