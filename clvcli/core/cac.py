"""Acquisition cost against CLV, per channel and acquisition cohort.

CAC is a group's spend over the customers it acquired; CLV for the comparison is the
group's mean total CLV (margin to date plus predicted margin, less --retention-cost
per expected active month). Payback counts calendar months from the acquisition month
(month 1 is that month itself) until the cumulative margin per acquired customer
reaches CAC; where it has not, the months the predicted margin would take are shown
in brackets. Spend with no customers and customers with no spend are shown as such,
never divided by zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clvcli.core.cohorts import period_label
from clvcli.core.periods import calendar_days
from clvcli.engines.periods import aggregate, payback_sql
from clvcli.errors import InputError, UsageError
from clvcli.io.dates import month_index
from clvcli.io.readers import Transactions

if TYPE_CHECKING:
    from clvcli.core.log import EngineLog

CAC_COLUMNS = [
    "channel",
    "cohort",
    "customers",
    "spend",
    "cac",
    "mean_historical_clv",
    "mean_total_clv",
    "clv_cac_ratio",
    "payback_months",
    "verdict",
]
GROUPINGS = ("channel", "cohort", "channel,cohort")
ALL = "all"
# The cohort of prospects' acquisition costs: spent on, never bought.
NO_PURCHASE = "none"
NO_PURCHASE_MONTH = 2**40


@dataclass(frozen=True)
class CacSettings:
    """Grouping, cohort grain and calendar, margin, thresholds and horizon."""

    by: str = "channel,cohort"
    grain: str = "month"
    calendar: str = "gregorian"
    margin: float = 1.0
    healthy: float = 3.0
    thin: float = 1.0
    retention_cost: float = 0.0
    horizon_months: float = 12.0


def require_amounts(has_amount: bool, source: str) -> None:
    """Refuse CAC on a log with no amounts: CLV against cost needs money to weigh."""
    if not has_amount:
        raise InputError(
            f"{source}: no amount column, and CLV against acquisition cost needs the money "
            "customers spent",
            "name the amount column with --amount-col",
        )


def margin_note(margin: float) -> str | None:
    """The note a money verdict made at margin 1 gives: revenue is taken as margin."""
    if margin != 1.0:
        return None
    return (
        "CLV and payback treat revenue as margin (margin 1); give the gross margin with "
        "--margin 0.3, or margin = 0.3 in clv.toml"
    )


def choose_grouping(
    by: str | None, customers: pd.DataFrame, costs: pd.DataFrame
) -> tuple[str, list[str]]:
    """``--by`` as given, or by default channel and cohort when both the log and the
    costs name channels, else cohort alone, with a note saying which has none."""
    if by is not None:
        return by, []
    log_channels = "channel" in customers
    cost_channels = not costs["channel"].isna().all()
    if log_channels and cost_channels:
        return "channel,cohort", []
    if not log_channels and not cost_channels:
        which = "neither the log nor the costs name channels"
    elif not log_channels:
        which = "the log names no channels (name its column with --channel-col)"
    else:
        which = "the costs name no channels"
    return "cohort", [
        f"{which}: CAC by acquisition cohort, all customers in one channel (--by cohort)"
    ]


def channel_mismatch(customers: pd.DataFrame, costs: pd.DataFrame) -> list[str]:
    """Warnings naming the channels found on one side only: spend on a channel that
    acquired no customer in the log, customers of a channel that has no costs. Either
    way the total row blends them, so the user is told rather than left to guess."""
    if costs["channel"].isna().all():
        return []
    bought = customers[customers["orders"].to_numpy(np.int64) > 0]
    acquired = pd.Series(_channels(bought)).value_counts()
    spent = costs.groupby("channel")["spend"].sum()
    warnings = []
    idle = [name for name in spent.index if name not in acquired.index]
    if idle:
        listed = ", ".join(f"'{name}' ({spent[name]:,.2f})" for name in sorted(idle, key=str))
        warnings.append(
            f"the costs have spend on channel{'s' if len(idle) > 1 else ''} {listed} that "
            "acquired no customer in the log; the total row counts that spend"
        )
    free = [name for name in acquired.index if name not in spent.index]
    if free:
        listed = ", ".join(
            f"'{name}' ({acquired[name]:,} customer{'' if acquired[name] == 1 else 's'})"
            for name in sorted(free, key=str)
        )
        warnings.append(
            f"channel{'s' if len(free) > 1 else ''} {listed} of the log "
            f"{'have' if len(free) > 1 else 'has'} no costs; the total row counts "
            f"{'them' if len(free) > 1 else 'it'} as acquired for nothing"
        )
    return warnings


def spend_per_customer(customers: pd.DataFrame, calendar: str) -> pd.DataFrame:
    """The costs rows of a customer list: each acquisition cost in its customer's
    channel and acquisition month; prospects' costs in the ``none`` cohort."""
    cost = customers["acquisition_cost"].to_numpy(np.float64)
    known = ~np.isnan(cost)
    first = customers["first_purchase"].to_numpy(dtype="datetime64[D]")
    bought = ~np.isnat(first)
    month = np.full(len(customers), NO_PURCHASE_MONTH, dtype=np.int64)
    month[bought] = month_index(first[bought].astype(np.int64), calendar)
    return pd.DataFrame(
        {"channel": _channels(customers)[known], "month": month[known], "spend": cost[known]}
    )


def cac_table(
    customers: pd.DataFrame,
    transactions: Transactions | EngineLog | None,
    costs: pd.DataFrame,
    settings: CacSettings,
    as_of: int,
) -> pd.DataFrame:
    """One row per group with the contract's columns, and a total row last.

    ``customers`` may hold prospects (no purchase): they are not acquired, so they
    count in no group. Without ``transactions`` (from a summary) payback is empty;
    a log its engine reads as it is gives the margins by month from its engine.
    """
    if settings.by not in GROUPINGS:
        raise UsageError(f"--by {settings.by} is not one of: {', '.join(GROUPINGS)}")
    size = 3 if settings.grain == "quarter" else 1
    customers = customers[customers["orders"].to_numpy(np.int64) > 0]
    first_day = customers["first_purchase"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    acquired_month = month_index(first_day, settings.calendar)
    frame = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy(),
            "channel": _channels(customers),
            "cohort": acquired_month // size,
            "acquired_month": acquired_month,
            # Calendar months from acquisition to the as-of date (1: the same month).
            "elapsed": month_index(np.array([as_of]), settings.calendar)[0] - acquired_month + 1,
            "historical": customers["historical_clv"].to_numpy(np.float64),
            "total": _total_clv(customers, settings),
            "monthly_predicted": _monthly_predicted(customers, settings),
        }
    )
    spend = costs.assign(cohort=costs["month"] // size)
    if spend["channel"].isna().all():
        spend["channel"] = ALL
    keys = _keys(settings.by)
    if "channel" in keys and (spend["channel"] == ALL).all():
        raise UsageError("--by channel needs a channel column in the costs file")
    frame["group"] = frame.groupby(keys, sort=True).ngroup()
    margin_by_month = (
        None if transactions is None else _margin_by_month(frame, transactions, settings, as_of)
    )
    groups = frame.groupby(keys, sort=True)
    summary = groups.agg(
        customers=("customer_id", "size"),
        mean_historical_clv=("historical", "mean"),
        mean_total_clv=("total", "mean"),
    )
    paid = spend.groupby(keys, sort=True)["spend"].sum()
    table = summary.join(paid, how="outer").reset_index()
    table["customers"] = table["customers"].fillna(0).astype(np.int64)
    rows = [_row(table.iloc[i], keys, frame, margin_by_month, settings) for i in range(len(table))]
    total = pd.Series(
        {
            "customers": len(frame),
            "mean_historical_clv": frame["historical"].mean(),
            "mean_total_clv": frame["total"].mean(),
            "spend": float(spend["spend"].sum()),
        }
    )
    rows.append(_row(total, [], frame, margin_by_month, settings, label="total"))
    result = pd.DataFrame(rows, columns=CAC_COLUMNS)
    for column in ("channel", "cohort"):
        if column in keys:
            labels = result[column]
            if column == "cohort":
                numeric = pd.to_numeric(labels, errors="coerce")
                dated = numeric.notna() & (numeric < NO_PURCHASE_MONTH // size)
                months = np.where(dated, numeric, 0).astype(np.int64) * size
                text = period_label(months, settings.grain)
                labels = np.where(dated, text, np.where(numeric.notna(), NO_PURCHASE, labels))
            result[column] = labels
    return result


def _keys(by: str) -> list[str]:
    return by.split(",")


def _channels(customers: pd.DataFrame) -> np.ndarray:
    if "channel" in customers:
        return customers["channel"].fillna("unknown").to_numpy(dtype=object)
    return np.full(len(customers), "unknown", dtype=object)


def _total_clv(customers: pd.DataFrame, settings: CacSettings) -> np.ndarray:
    predicted = customers["predicted_clv"].to_numpy(np.float64)
    alive = customers["p_alive"].to_numpy(np.float64)
    keep = predicted - settings.retention_cost * settings.horizon_months * np.nan_to_num(alive)
    keep = np.where(np.isnan(predicted), 0.0, keep)
    return customers["historical_clv"].to_numpy(np.float64) + keep


def _monthly_predicted(customers: pd.DataFrame, settings: CacSettings) -> np.ndarray:
    predicted = np.nan_to_num(customers["predicted_clv"].to_numpy(np.float64))
    alive = np.nan_to_num(customers["p_alive"].to_numpy(np.float64))
    return predicted / settings.horizon_months - settings.retention_cost * alive


def _margin_by_month(
    frame: pd.DataFrame, log: Transactions | EngineLog, settings: CacSettings, as_of: int
) -> pd.DataFrame:
    """Each group's net margin by month since acquisition (1 = the acquisition month).

    The rows may repeat a group and month (an engine adds a large log up a range of
    customers at a time): their margins add up."""
    customer = frame["customer_id"].to_numpy(dtype=object)
    sql = payback_sql(as_of=as_of, margin=settings.margin)
    if isinstance(log, Transactions):
        first = int(log.day.min())
        customer = np.searchsorted(np.asarray(log.customer_ids, dtype=object), customer)
    else:
        first = log.span()[0]
    members = {
        "customer": customer,
        "grp": frame["group"].to_numpy(np.int64),
        "acquired": frame["acquired_month"].to_numpy(np.int64),
    }
    days = calendar_days(min(first, as_of), as_of, settings.calendar)
    if isinstance(log, Transactions):
        return pd.DataFrame(aggregate(sql, log, days, members=members))
    return pd.DataFrame(log.aggregate(sql, days, members=members))


def _row(
    group: pd.Series,
    keys: list[str],
    frame: pd.DataFrame,
    margin_by_month: pd.DataFrame | None,
    settings: CacSettings,
    label: str | None = None,
) -> dict:
    members = np.ones(len(frame), dtype=bool)
    for key in keys:
        members &= (frame[key] == group[key]).to_numpy()
    customers = int(members.sum())
    spend = group.get("spend")
    spend = float(spend) if spend is not None and pd.notna(spend) else np.nan
    cac = spend / customers if customers and not np.isnan(spend) else np.nan
    mean_total = float(group["mean_total_clv"]) if customers else np.nan
    ratio = mean_total / cac if cac and not np.isnan(cac) else np.nan
    row = {
        "channel": label or (group["channel"] if "channel" in keys else ALL),
        "cohort": label or (str(group["cohort"]) if "cohort" in keys else ALL),
        "customers": customers,
        "spend": spend,
        "cac": cac,
        "mean_historical_clv": float(group["mean_historical_clv"]) if customers else np.nan,
        "mean_total_clv": mean_total,
        "clv_cac_ratio": ratio,
        "payback_months": _payback(members, cac, frame, margin_by_month),
        "verdict": _verdict(customers, spend, ratio, settings),
    }
    return row


def _payback(
    members: np.ndarray, cac: float, frame: pd.DataFrame, margin_by_month: pd.DataFrame | None
) -> str:
    customers = int(members.sum())
    if not customers or np.isnan(cac) or margin_by_month is None:
        return ""
    if cac <= 0:
        return "1"
    groups = np.zeros(int(frame["group"].max()) + 1, dtype=bool)
    groups[frame["group"].to_numpy()[members]] = True
    mine = margin_by_month[groups[margin_by_month["grp"].to_numpy()]]
    # Months the oldest member has been observed, not only those with margin: a cohort
    # that has bought nothing for months has not paid back in those months either.
    span = max(int(frame["elapsed"].to_numpy()[members].max()), 1)
    per_month = np.bincount(mine["offset_"].to_numpy(), weights=mine["margin"], minlength=span + 1)
    cumulative = np.cumsum(per_month[1:]) / customers
    reached = np.flatnonzero(cumulative >= cac - 1e-9)
    if len(reached):
        return str(int(reached[0]) + 1)
    monthly = float(frame["monthly_predicted"].to_numpy()[members].mean())
    if monthly > 0:
        needed = int(np.ceil((cac - cumulative[-1]) / monthly))
        return f"not yet (~{span + needed})"
    return "not yet"


def _verdict(customers: int, spend: float, ratio: float, settings: CacSettings) -> str:
    if customers == 0:
        return "no customers"
    if np.isnan(spend):
        return "no spend"
    if np.isnan(ratio):
        return "no spend" if spend == 0 else ""
    if ratio >= settings.healthy:
        return "healthy"
    if ratio >= settings.thin:
        return "thin"
    return "losing"
