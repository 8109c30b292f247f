"""`clv fit`: fit one model and report it in the form `--params` reads back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from clvcli.contract import CustomerTable
from clvcli.core.compute import (
    SummaryInPieces,
    grouped_history,
    grouped_spend,
    model_history,
)
from clvcli.core.summary import customer_table, litt_of
from clvcli.core.value import (
    fit_purchase_model,
    fit_purchase_rows,
    fit_spend_model,
    fit_spend_rows,
)
from clvcli.errors import InputError, ModelError, UsageError
from clvcli.io.readers import Transactions
from clvcli.models import PURCHASE_MODELS, Fitter, GammaGammaFitter

SPEND_MODEL = "gamma-gamma"
# `clv fit --model all`: every purchase model, then the spend model once.
ALL_MODELS = "all"


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
    keep = not consume or model in ("bgbb", ALL_MODELS)
    reading_warnings = list(transactions.warnings)
    table = customer_table(transactions, as_of=as_of, period=period, consume=not keep)
    table.warnings = reading_warnings + table.warnings
    return fit_report_from_table(table, model, transactions if keep else None)


def fit_report_from_pieces(
    summary: SummaryInPieces, model: str
) -> tuple[dict[str, Any], list[str]]:
    """:func:`fit_report` for a summary too large to hold: the models fit on its distinct
    rows (grouped where the summary lives), the report is the one the table gives; the
    summary's own warnings first, as the table's come first."""
    report, warnings = _report_of_pieces(summary, model)
    return report, list(summary.warnings) + warnings


def _report_of_pieces(summary: SummaryInPieces, model: str) -> tuple[dict[str, Any], list[str]]:
    if model == "bgbb":
        raise UsageError("--model bgbb needs the transaction log, not a summary")
    head = {
        "model": model,
        "period": summary.period,
        "as_of": str(np.datetime64(summary.as_of, "D")),
    }
    if model == ALL_MODELS:
        return _all_models(
            head,
            lambda name: fit_purchase_rows(name, grouped_history(summary)),
            lambda: fit_spend_rows(*grouped_spend(summary)),
            bgbb="bgbb: needs the transaction log, not a summary",
        )
    if model == SPEND_MODEL:
        spend, warnings = fit_spend_rows(*grouped_spend(summary))
        return {**head, **spend.summary()}, warnings
    fitted = fit_purchase_rows(model, grouped_history(summary))
    report, spend_warnings = _with_spend(
        {**head, **fitted.summary()}, lambda: fit_spend_rows(*grouped_spend(summary))
    )
    return report, fitted.warnings_ + spend_warnings


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
    if model == ALL_MODELS:
        report, model_warnings = _all_models(
            head,
            lambda name: fit_purchase_model(
                name, *model_history(name, transactions, table), litt=litt_of(frame)
            ),
            lambda: fit_spend_model(frequency, monetary),
            bgbb=None if transactions is not None else "bgbb: needs the transaction log",
        )
        return report, warnings + model_warnings
    if model == SPEND_MODEL:
        if not table.has_amount:
            raise InputError(
                "--model gamma-gamma fits spend per purchase, and the log has no amount column",
                "name the amount column with --amount-col, or fit a purchase model",
            )
        spend, spend_warnings = fit_spend_model(frequency, monetary)
        return {**head, **spend.summary()}, warnings + spend_warnings
    fitted = fit_purchase_model(
        model, *model_history(model, transactions, table), litt=litt_of(frame)
    )
    if not table.has_amount:  # purchases only: no spend to fit
        return {**head, **fitted.summary()}, warnings
    report, spend_warnings = _with_spend(
        {**head, **fitted.summary()}, lambda: fit_spend_model(frequency, monetary)
    )
    return report, warnings + fitted.warnings_ + spend_warnings


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


def _all_models(
    head: dict[str, Any],
    fit_purchases: Callable[[str], Fitter],
    fit_spend: Callable[[], tuple[GammaGammaFitter, list[str]]],
    *,
    bgbb: str | None,
) -> tuple[dict[str, Any], list[str]]:
    """Every purchase model's fit and the spend model's, side by side: ``models`` holds
    each one's usual report (without ``spend_model``, which comes once, last). A model
    that cannot be fitted gets ``error`` (and ``hint``) in its place, and the others
    still come out; ``bgbb``, when given, is why BG/BB cannot be fitted here."""
    models: dict[str, Any] = {}
    warnings: list[str] = []
    for name in PURCHASE_MODELS:
        if name == "bgbb" and bgbb is not None:
            models[name] = {"model": name, "error": bgbb}
            warnings.append(bgbb)
            continue
        try:
            fitted = fit_purchases(name)
        except ModelError as exc:
            models[name] = _failed(name, exc)
            warnings.append(f"{exc.message} (the other models are fitted)")
            continue
        models[name] = {**head, "model": name, **fitted.summary()}
        warnings += fitted.warnings_
    try:
        spend, spend_warnings = fit_spend()
    except ModelError as exc:
        models[SPEND_MODEL] = _failed(SPEND_MODEL, exc)
        warnings.append(f"{exc.message} (the other models are fitted)")
    else:
        models[SPEND_MODEL] = {**head, "model": SPEND_MODEL, **spend.summary()}
        warnings += spend_warnings
    if not any("params" in part for part in models.values()):
        raise ModelError(
            "no model could be fitted: "
            + "; ".join(part["error"] for part in models.values() if "error" in part),
            "more history, another --period, or a look at the data",
        )
    return {**head, "models": models}, warnings


def _failed(name: str, error: ModelError) -> dict[str, Any]:
    """A model's place in `--model all` when it cannot be fitted."""
    failure = {"model": name, "error": error.message}
    if error.hint:
        failure["hint"] = error.hint
    return failure


def comparison_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per model of `clv fit --model all`: parameters, fit statistics,
    convergence, warnings, or the error that stopped it."""
    rows = []
    for name, part in report["models"].items():
        params = part.get("params") or {}
        rows.append(
            {
                "model": name,
                "params": ", ".join(f"{k} {v:.6g}" for k, v in params.items()) if params else "",
                "log_likelihood": part.get("log_likelihood"),
                "aic": part.get("aic"),
                "bic": part.get("bic"),
                "converged": part.get("converged", False),
                "warnings": "; ".join(part.get("warnings") or [])
                if "error" not in part
                else f"error: {part['error']}",
            }
        )
    return pd.DataFrame(rows)


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


def correlation_frames(report: dict[str, Any]) -> list[tuple[str, pd.DataFrame]]:
    """Each fitted model's correlation matrix of the estimates (a row per parameter),
    by model name; a model whose fit has none (at a limit) is left out."""
    frames = []
    for part in (report, report.get("spend_model")):
        if not part or not part.get("correlation"):
            continue
        names = list(part["params"])
        matrix = part["correlation"]
        frames.append(
            (
                part["model"],
                pd.DataFrame([{"parameter": a, **{b: matrix[a][b] for b in names}} for a in names]),
            )
        )
    return frames


def statistics_frame(report: dict[str, Any]) -> pd.DataFrame:
    """One row per fitted model: log-likelihood, AIC, BIC, customers, convergence."""
    keys = ("log_likelihood", "aic", "bic", "n_customers", "converged", "iterations", "seconds")
    parts = [p for p in (report, report.get("spend_model")) if p]
    return pd.DataFrame([{"model": p["model"], **{k: p[k] for k in keys}} for p in parts])
