"""The report's tables and figures as display text, shared by HTML and Markdown.

Each table is a :class:`TextTable` of strings already formatted for the language
(thousands separators, Persian digits, translated stages and verdicts); the HTML
and Markdown writers only escape and arrange them. ``KINDS`` says how each column
is formatted, here and as number formats in Excel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clvcli.core.validation import HOLDOUT_METRICS, summary_frame
from clvcli.report.analysis import REPORT_INTERVAL, ReportData
from clvcli.report.labels import Labels

# Column -> how it is shown: int, money, percent, ratio, fixed1..3, sig (4
# significant digits), date, word (translated), label (cohorts, frequencies), text.
KINDS: dict[str, str] = {
    "customer_id": "text",
    "channel": "label",
    "cohort": "label",
    "stage": "word",
    "verdict": "word",
    "payback_months": "word",
    "converged": "word",
    "model": "text",
    "parameter": "text",
    "frequency": "label",
    "orders": "int",
    "customers": "int",
    "n_customers": "int",
    "iterations": "int",
    "days_since_last": "int",
    "share": "percent",
    "total_spend": "money",
    "avg_order_value": "money",
    "revenue": "money",
    "mean_clv": "money",
    "total_clv": "money",
    "historical_clv": "money",
    "predicted_clv": "money",
    "predicted_clv_lower": "money",
    "predicted_clv_upper": "money",
    "expected_purchases_lower": "fixed2",
    "expected_purchases_upper": "fixed2",
    "expected_avg_spend": "money",
    "spend": "money",
    "cac": "money",
    "mean_historical_clv": "money",
    "mean_total_clv": "money",
    "clv_cac_ratio": "ratio",
    "p_alive": "fixed2",
    "expected_purchases": "fixed2",
    "recency": "fixed2",
    "T": "fixed2",
    "estimate": "sig",
    "std_error": "sig",
    "ci_lower": "sig",
    "ci_upper": "sig",
    "log_likelihood": "fixed2",
    "aic": "fixed2",
    "bic": "fixed2",
    "mean_predicted": "fixed3",
    "mean_actual": "fixed3",
    "predicted_holdout_purchases": "fixed1",
    "actual_holdout_purchases": "fixed1",
    "error_pct": "fixed2",
    "mae": "fixed3",
    "rmse": "fixed3",
    "msle": "fixed3",
    "bias": "fixed3",
    "rel_mae": "fixed3",
    "correlation": "fixed3",
    "first_purchase": "date",
    "last_purchase": "date",
    "period": "int",
    "active": "int",
    "survival": "percent",
    "fitted_survival": "percent",
    "retention": "percent",
    "fitted_retention": "percent",
    "projected": "word",
}
TEXT_KINDS = ("text", "word", "label")
STAGE_COLUMNS = ["stage", "customers", "share", "revenue", "mean_clv", "total_clv"]
CAC_COLUMNS = [
    "customers",
    "spend",
    "cac",
    "mean_total_clv",
    "clv_cac_ratio",
    "payback_months",
    "verdict",
]
PARAMETER_COLUMNS = ["model", "parameter", "estimate", "std_error", "ci_lower", "ci_upper"]
STATISTIC_COLUMNS = ["model", "log_likelihood", "aic", "bic", "n_customers", "converged"]
FREQUENCY_COLUMNS = ["frequency", "customers", "mean_actual", "mean_predicted"]
LABEL_WORDS = ("total", "all", "unknown", "none")
RETENTION_COLUMNS = [
    "period",
    "active",
    "survival",
    "fitted_survival",
    "retention",
    "fitted_retention",
    "projected",
]


@dataclass(frozen=True)
class TextTable:
    """A table of display strings; ``numeric`` marks the columns aligned as numbers."""

    key: str
    caption: str
    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]


def money_decimals(data: ReportData) -> int:
    """No decimals when every amount is whole (toman, rial), else cents."""
    spend = data.customers["total_spend"].to_numpy(np.float64)
    return 0 if bool(np.all(np.isnan(spend) | (spend % 1 == 0))) else 2


def cell(value: Any, kind: str, labels: Labels, money: int = 2) -> str:
    """One value as display text."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return ""
    if kind == "date":
        return labels.date(np.datetime64(value, "D"))
    if kind == "word":
        return labels.word(str(value))
    if kind == "label":
        text = str(value)
        return labels.word(text) if text in LABEL_WORDS else labels.digits(text)
    if kind == "text":
        return str(value)
    number = float(value)
    if kind == "int":
        return labels.number(number, 0)
    if kind == "money":
        return labels.number(number, money)
    if kind == "percent":
        return labels.percent(number)
    if kind == "ratio":
        return labels.number(number, 2)
    if kind.startswith("fixed"):
        return labels.number(number, int(kind[-1]))
    if kind == "sig":
        return labels.number(number, significant_decimals(number))
    return str(value)


def significant_decimals(value: float, digits: int = 4) -> int:
    """Decimals that show ``digits`` significant digits (none for large numbers)."""
    if value == 0 or not math.isfinite(value):
        return 0
    return int(min(8, max(0, digits - 1 - math.floor(math.log10(abs(value))))))


def text_table(
    key: str, caption: str, frame: pd.DataFrame, columns: list[str], labels: Labels, money: int
) -> TextTable:
    columns = [c for c in columns if c in frame.columns]
    kinds = [KINDS.get(c, "text") for c in columns]
    rows = [
        [cell(v, kind, labels, money) for v, kind in zip(values, kinds, strict=True)]
        for values in frame[columns].itertuples(index=False, name=None)
    ]
    return TextTable(
        key,
        caption,
        [labels.column(c) for c in columns],
        rows,
        [kind not in TEXT_KINDS for kind in kinds],
    )


def headline_items(data: ReportData, labels: Labels) -> list[tuple[str, str]]:
    figures = data.headline
    money = money_decimals(data)
    items = [(labels["customers"], labels.number(figures.customers))]
    if not data.has_amount:  # no money: the figures would be empty
        return [*items, (labels["revenue"], labels["no_amounts"])]
    return [
        *items,
        (labels["revenue"], labels.number(figures.revenue, money)),
        (labels["mean_clv"], labels.number(figures.mean_clv, money)),
        (labels["total_clv"], labels.number(figures.total_clv, money)),
        (labels["top_share"], labels.percent(figures.top_share)),
    ]


def settings_items(data: ReportData, labels: Labels) -> list[tuple[str, str]]:
    compute = data.settings.compute
    horizon = (
        labels["lifetime"]
        if compute.horizon is None
        else labels["horizon_months"].format(
            months=labels.number(compute.horizon, _whole(compute.horizon))
        )
    )
    model = data.settings.model_name
    return [
        (labels["source"], data.source),
        (labels["as_of"], labels.date(data.as_of)),
        (labels["model_name"], labels["none_model"] if model == "none" else model),
        (labels["period"], labels.word(data.period)),
        (labels["margin"], labels.percent(compute.margin)),
        (labels["horizon"], horizon),
        (labels["discount_rate"], labels.percent(compute.discount_rate)),
        (labels["version"], labels.digits(data.version)),
    ]


def _whole(value: float) -> int:
    return 0 if float(value).is_integer() else 1


def tables(data: ReportData, labels: Labels) -> dict[str, list[TextTable]]:
    """The tables of each section, by section key."""
    money = money_decimals(data)
    found: dict[str, list[TextTable]] = {
        "stages": [
            text_table(
                "stages",
                labels["stages_note"],
                data.stages,
                STAGE_COLUMNS if data.has_amount else STAGE_COLUMNS[:3],
                labels,
                money,
            )
        ],
        "cac": [],
        "model": [],
        "validation": [],
        "top": [
            text_table(
                "top",
                top_note(data, labels),
                data.top,
                # Without a model the predicted columns are empty: leave them out.
                [c for c in data.top.columns if data.top[c].notna().any()],
                labels,
                money,
            )
        ],
    }
    for key, table, first in (
        ("cac_channel", data.cac_by_channel, "channel"),
        ("cac_cohort", data.cac_by_cohort, "cohort"),
    ):
        if table is not None:
            found["cac"].append(
                text_table(key, labels[key], table, [first, *CAC_COLUMNS], labels, money)
            )
    if data.fit is not None:
        found["model"].append(
            text_table(
                "parameters",
                labels["parameters"],
                data.parameters,
                PARAMETER_COLUMNS,
                labels,
                money,
            )
        )
    if data.fit is not None and data.settings.compute.saved is None:
        found["model"].append(
            text_table(
                "statistics",
                labels["fit_statistics"],
                data.statistics,
                STATISTIC_COLUMNS,
                labels,
                money,
            )
        )
    if data.retention is not None:
        found["retention"] = retention_tables(data, labels, money)
    model = data.validation_model
    if model is not None:
        found["validation"].append(
            text_table(
                "validation",
                labels["validation_table"],
                summary_frame(data.validation),
                list(HOLDOUT_METRICS),
                labels,
                money,
            )
        )
        found["validation"].append(
            text_table(
                "by_frequency",
                labels["frequency_title"],
                pd.DataFrame(model["by_frequency"]),
                FREQUENCY_COLUMNS,
                labels,
                money,
            )
        )
    return found


def top_note(data: ReportData, labels: Labels) -> str:
    """What the top customers table holds, with a word on its intervals if it has them."""
    note = labels["top_note" if data.has_amount else "top_note_purchases"].format(
        count=labels.number(len(data.top))
    )
    if "predicted_clv_lower" in data.top and data.top["predicted_clv_lower"].notna().any():
        level = data.settings.compute.interval or REPORT_INTERVAL
        note += " " + labels["interval_note"].format(level=labels.percent(level, 0))
    return note


def validation_note(data: ReportData, labels: Labels) -> str | None:
    if data.validation is None:
        return None
    report = data.validation
    return labels["validation_note"].format(
        model=data.settings.model_name,
        calibration_end=labels.date(np.datetime64(report["calibration_end"], "D")),
        holdout_end=labels.date(np.datetime64(report["holdout_end"], "D")),
        customers=labels.number(report["customers"]),
    )


def model_note(data: ReportData, labels: Labels) -> str | None:
    if data.fit is None:
        return labels["model_none"]
    if data.settings.compute.saved is not None:
        return labels["model_saved"]
    return None


def retention_tables(data: ReportData, labels: Labels, money: int) -> list[TextTable]:
    """The subscription curve, period by period, and the fit's parameters."""
    result = data.retention
    assert result is not None
    curve = result.survival.astype({"active": np.float64})
    out = [
        text_table("retention", labels["retention_table"], curve, RETENTION_COLUMNS, labels, money)
    ]
    fit = result.fits[0]
    if "params" in fit:
        rows = pd.DataFrame(
            {
                "model": result.model,
                "parameter": list(fit["params"]),
                "estimate": list(fit["params"].values()),
                "std_error": [fit["std_errors"][name] for name in fit["params"]],
            }
        ).astype({"std_error": np.float64})
        out.append(
            text_table(
                "retention_parameters",
                labels["parameters"],
                rows,
                PARAMETER_COLUMNS[:4],
                labels,
                money,
            )
        )
    return out


def retention_note(data: ReportData, labels: Labels) -> str | None:
    """What the curve is and, from a subscription log, what the active base is worth."""
    result = data.retention
    if result is None:
        return None
    fit = result.fits[0]
    period = labels.word(result.period)
    note = labels["retention_note"].format(
        model=result.model, subscribers=labels.number(fit["subscribers"]), period=period
    )
    base = result.base
    if base is not None and base["total_clv"] is not None:
        note += " " + labels["retention_value"].format(
            active=labels.number(base["active_subscribers"]),
            value=labels.number(base["total_clv"], 0),
            period=period,
        )
    return note
