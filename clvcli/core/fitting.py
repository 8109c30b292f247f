"""`clv fit`: fit one model and report it in the form `--params` reads back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from clvcli.core.compute import (
    SummaryInPieces,
    grouped_history,
    grouped_spend,
    model_history,
)
from clvcli.core.summary import CustomerTable, customer_table
from clvcli.core.value import (
    fit_purchase_model,
    fit_purchase_rows,
    fit_spend_model,
    fit_spend_rows,
)
from clvcli.errors import InputError, ModelError, UsageError
from clvcli.io.readers import Transactions
from clvcli.memory import hand_back_free_memory
from clvcli.models import Fitter, GammaGammaFitter

SPEND_MODEL = "gamma-gamma"


def fit_report(
    transactions: Transactions,
    model: str,
    *,
    period: str,
    as_of: int | None = None,
    consume: bool = False,
) -> tuple[dict[str, Any], list[str]]:
    """The fit of ``model`` as the contract's JSON object, and warnings.

    A purchase model's report carries the Gamma-Gamma fit under ``spend_model`` when
    one is possible, so that `clv compute --params` can score without refitting.
    A caller done with ``transactions`` passes ``consume``: unless the model counts
    purchase periods (BG/BB), their rows are dropped once summed up, and the models
    fit without them beside (at ten million rows, 330 MB less).
    """
    keep = not consume or model == "bgbb"
    reading_warnings = list(transactions.warnings)
    table = customer_table(transactions, as_of=as_of, period=period, consume=not keep)
    table.warnings = reading_warnings + table.warnings
    if not keep:
        hand_back_free_memory()  # the rows, before the models group the customers
    return fit_report_from_table(table, model, transactions if keep else None)


def fit_report_from_pieces(
    summary: SummaryInPieces, model: str
) -> tuple[dict[str, Any], list[str]]:
    """:func:`fit_report` for a summary too large to hold: the models fit on its distinct
    rows (grouped where the summary lives), the report is the one the table gives."""
    if model == "bgbb":
        raise UsageError("--model bgbb needs the transaction log, not a summary")
    head = {
        "model": model,
        "period": summary.period,
        "as_of": str(np.datetime64(summary.as_of, "D")),
    }
    if model == SPEND_MODEL:
        spend, warnings = fit_spend_rows(*grouped_spend(summary))
        return {**head, **spend.summary()}, warnings
    fitted = fit_purchase_rows(model, grouped_history(summary))
    return _with_spend(
        {**head, **fitted.summary()}, lambda: fit_spend_rows(*grouped_spend(summary))
    )


def fit_report_from_table(
    table: CustomerTable, model: str, transactions: Transactions | None = None
) -> tuple[dict[str, Any], list[str]]:
    """:func:`fit_report` for a per-customer summary (BG/BB needs the transactions)."""
    period = table.period
    frame = table.frame
    frequency = frame["frequency"].to_numpy(np.float64)
    monetary = frame["monetary_value"].to_numpy(np.float64)
    warnings = list(table.warnings)
    head = {
        "model": model,
        "period": period,
        "as_of": str(np.datetime64(table.as_of, "D")),
    }
    if model == SPEND_MODEL:
        if not table.has_amount:
            raise InputError(
                "--model gamma-gamma fits spend per purchase, and the log has no amount column",
                "name the amount column with --amount-col, or fit a purchase model",
            )
        spend, spend_warnings = fit_spend_model(frequency, monetary)
        return {**head, **spend.summary()}, warnings + spend_warnings
    fitted = fit_purchase_model(model, *model_history(model, transactions, table))
    if not table.has_amount:  # purchases only: no spend to fit
        return {**head, **fitted.summary()}, warnings
    report, spend_warnings = _with_spend(
        {**head, **fitted.summary()}, lambda: fit_spend_model(frequency, monetary)
    )
    return report, warnings + spend_warnings


def _with_spend(
    report: dict[str, Any], fit_spend: Callable[[], tuple[GammaGammaFitter, list[str]]]
) -> tuple[dict[str, Any], list[str]]:
    """A purchase model's report with the Gamma-Gamma fit, when one is possible."""
    try:
        spend, warnings = fit_spend()
    except ModelError as exc:
        return report, [
            f"{exc.message}; the file has no spend model, so it predicts purchases only"
        ]
    report["spend_model"] = {"model": SPEND_MODEL, **spend.summary()}
    return report, warnings


def fitted_report(
    purchases: Fitter, spend: Fitter | None, *, period: str, as_of: int
) -> dict[str, Any]:
    """The report of :func:`fit_report` for models already fitted (as by compute_clv)."""
    report = {
        "model": purchases.name,
        "period": period,
        "as_of": str(np.datetime64(as_of, "D")),
        **purchases.summary(),
    }
    if spend is not None:
        report["spend_model"] = {"model": SPEND_MODEL, **spend.summary()}
    return report


def parameter_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per parameter: estimate, standard error, 95% interval."""
    rows = []
    for part in (report, report.get("spend_model")):
        if not part:
            continue
        for name, value in part["params"].items():
            rows.append(
                {
                    "model": part["model"],
                    "parameter": name,
                    "estimate": value,
                    "std_error": part["std_errors"].get(name),
                    "ci_lower": part["ci_lower"].get(name),
                    "ci_upper": part["ci_upper"].get(name),
                }
            )
    return pd.DataFrame(rows)


def statistics_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per fitted model: log-likelihood, AIC, BIC, customers, convergence."""
    keys = ("log_likelihood", "aic", "bic", "n_customers", "converged", "iterations", "seconds")
    parts = [p for p in (report, report.get("spend_model")) if p]
    return pd.DataFrame([{"model": p["model"], **{k: p[k] for k in keys}} for p in parts])
