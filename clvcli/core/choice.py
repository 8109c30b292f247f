"""`--model auto`: which purchase model a run uses, and why.

No one purchase model suits every shop, and the one that used to be the default,
BG/NBD, holds every one-time buyer alive (P(alive) = 1 whatever their age), so a
customer gone for years looked as alive as one who bought yesterday. ``auto`` fits
each candidate and picks one by this rule:

1. A candidate that gives P(alive) >= 0.99 to a one-time buyer older than the churn
   cut-off (``--churn-days``) is left out when the data has such buyers. The model is
   asked about the youngest of them, a one-time buyer just past the cut-off, whose
   P(alive) is the highest of them all.
2. When the log spans at least :data:`MIN_SPAN_DAYS` (52 weeks), the last third of
   it is held out: each candidate is fitted on the first two thirds and predicts each
   customer's purchases in the rest; the lowest per-customer mean absolute error
   (MAE) wins. A model that extends another (:data:`EXTENDS`) must beat it by
   :data:`EXTENSION_GAIN` (0.2 %) to win: near the simpler model's case it only wins
   by noise. That is the question a user asks of a model: how far off is it for a
   customer.
3. Otherwise (a shorter log, or a per-customer summary, which holds no holdout) the
   lowest BIC of a fit on the whole period wins.

The choice stays cheap: it runs on an even sample of the customers (every k-th
customer of the log, at most :data:`SAMPLE_CUSTOMERS`; or every k-th distinct
history of a summary), and only the chosen model is then fitted on everyone.

Adding a model to the candidates is one line in :data:`CANDIDATES`. BG/BB is not a
candidate: it models discrete opportunities (one purchase or none per period), for
data such as yearly donations, and its holdout counts purchase periods rather than
purchases, so its error is not comparable with the others'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clvcli.contract import days_per
from clvcli.core.summary import calibration_table, customer_table, litt_of, resolve_as_of
from clvcli.core.value import fit_purchase_rows
from clvcli.errors import ClvError, ModelError
from clvcli.io.readers import Transactions
from clvcli.models import PURCHASE_MODELS, DistinctRows, Fitter

AUTO = "auto"
# The purchase models auto chooses among, in the order they are tried and listed.
CANDIDATES: tuple[str, ...] = (
    "bgnbd",
    "mbgnbd",
    "pnbd",
    "ggomnbd",
    "bgcnbd",
    "mbgcnbd",
)
# P(alive) at or above this for a one-time buyer past the churn cut-off rules a
# candidate out.
ALIVE_LIMIT = 0.99
# A log spanning at least this many days is long enough for a holdout of a third
# of it (17 weeks or more).
MIN_SPAN_DAYS = 52 * 7
HOLDOUT_SHARE = 1 / 3
# Customers of the log the choice runs on; distinct histories of a summary.
SAMPLE_CUSTOMERS = 20_000
SAMPLE_ROWS = 10_000
# A candidate that extends another (and is that one at a limit of its parameters)
# must score this much better than it to be chosen.
EXTENDS = {"ggomnbd": "pnbd", "bgcnbd": "bgnbd", "mbgcnbd": "mbgnbd"}
EXTENSION_GAIN = 0.002
HOLDOUT_RULE = "holdout_mae"
BIC_RULE = "bic"


@dataclass(frozen=True)
class CandidateScore:
    """One candidate's score (holdout MAE or BIC; None when it could not be fitted)
    and its P(alive) for a one-time buyer just past the churn cut-off."""

    model: str
    score: float | None
    alive_past_cutoff: float | None = None
    failure: str | None = None


@dataclass(frozen=True)
class Scores:
    """What the choice learns of each candidate before it looks at the customers."""

    rule: str
    candidates: tuple[CandidateScore, ...]
    customers: int  # customers the fits ran on
    holdout_days: float | None = None
    why_not_holdout: str | None = None


@dataclass(frozen=True)
class ModelChoice:
    """The model auto chose, the scores it chose by, and the candidates left out."""

    model: str
    scores: Scores
    left_out: dict[str, str] = field(default_factory=dict)
    warning: str | None = None

    def note(self) -> str:
        """One line for stderr: the model, the rule, the runners-up."""
        scores = self.scores
        scored = {c.model: c.score for c in scores.candidates if c.score is not None}
        if self.model not in scored:
            return (
                f"model auto chose {self.model}: no candidate could be fitted on a sample of "
                f"{scores.customers:,} customers; {self.model} is tried on every customer"
            )
        others = ", ".join(
            f"{name} {_shown(value, scores.rule)}"
            for name, value in scored.items()
            if name != self.model and name not in self.left_out
        )
        versus = f" vs {others}" if others else ""
        best = _shown(scored[self.model], scores.rule)
        if scores.rule == HOLDOUT_RULE:
            weeks = (scores.holdout_days or 0) / 7
            text = (
                f"lowest holdout MAE ({best}{versus}) on a {weeks:.0f}-week holdout of "
                f"{scores.customers:,} customers"
            )
        else:
            text = f"lowest BIC ({best}{versus}) on {scores.customers:,} customers"
            if scores.why_not_holdout:
                text += f"; {scores.why_not_holdout}"
        left = "; ".join(f"{name} left out: {why}" for name, why in self.left_out.items())
        return f"model auto chose {self.model}: {text}" + (f"; {left}" if left else "")

    def record(self) -> dict[str, Any]:
        """The choice for the output's metadata (rounded, so that it is the same on
        every machine)."""
        return {
            "rule": self.scores.rule,
            "scores": {
                c.model: None if c.score is None else float(f"{c.score:.6g}")
                for c in self.scores.candidates
            },
            "left_out": dict(self.left_out),
            "holdout_days": self.scores.holdout_days,
            "customers": self.scores.customers,
        }


def same_to_digits(value: float | None) -> float:
    """``value`` to ten significant digits, so that rounding noise makes no winner."""
    return float(f"{value:.10g}") if value is not None else float("inf")


def _shown(value: float, rule: str) -> str:
    return f"{value:.3f}" if rule == HOLDOUT_RULE else f"{value:,.1f}"


def old_one_time_buyers(
    frequency: np.ndarray, days_since_last: np.ndarray, churn_days: float
) -> int:
    """One-time buyers whose purchase is older than the churn cut-off."""
    frequency = np.asarray(frequency)
    return int(np.count_nonzero((frequency == 0) & (np.asarray(days_since_last) > churn_days)))


def alive_past_cutoff(model: Fitter, churn_days: float, period: str) -> float:
    """P(alive) of a one-time buyer whose purchase was ``churn_days`` ago."""
    T = np.array([churn_days / days_per(period)])
    with np.errstate(all="ignore"):
        return float(np.asarray(model.p_alive(np.zeros(1), np.zeros(1), T))[0])


def pick(scores: Scores, old_buyers: int, churn_days: float) -> ModelChoice:
    """The candidate with the best score among those that may be used.

    ``old_buyers`` counts the one-time buyers older than ``churn_days``: when there
    are some, a candidate that holds them alive is left out.
    """
    left_out: dict[str, str] = {}
    usable = []
    for candidate in scores.candidates:
        if candidate.score is None:
            left_out[candidate.model] = f"could not be fitted ({candidate.failure})"
            continue
        alive = candidate.alive_past_cutoff
        if old_buyers and alive is not None and alive >= ALIVE_LIMIT:
            left_out[candidate.model] = (
                f"it gives P(alive) {alive:.2f} to the {old_buyers:,} one-time buyers "
                f"older than {churn_days:g} days"
            )
            continue
        usable.append(candidate)
    scored = [c for c in scores.candidates if c.score is not None]
    if not scored:
        return ModelChoice(scores.candidates[0].model, scores, {})
    warning = None
    if not usable:
        # Every candidate holds them alive: the best of them, said out loud.
        usable = scored
        warning = (
            f"every candidate model gives P(alive) >= {ALIVE_LIMIT} to one-time buyers older "
            f"than {churn_days:g} days; the day rules still call them churned"
        )
        scored_names = {c.model for c in scored}
        left_out = {name: why for name, why in left_out.items() if name not in scored_names}
    if scores.rule == HOLDOUT_RULE:  # BIC charges for the extra parameters itself
        usable = _without_idle_extensions(usable)
    # Scores equal to ten digits are a tie, which the candidate listed first wins: a
    # model at its simpler case (BG/CNBD-k at k = 1 is BG/NBD) differs in rounding only.
    best = min(usable, key=lambda c: (same_to_digits(c.score), CANDIDATES.index(c.model)))
    return ModelChoice(best.model, scores, left_out, warning)


def _without_idle_extensions(usable: list[CandidateScore]) -> list[CandidateScore]:
    """The candidates less those that extend another one here (see :data:`EXTENDS`)
    without scoring at least :data:`EXTENSION_GAIN` better than it: a fit near the
    simpler model's case (GGompertz near Pareto/NBD) wins by noise, and costs more
    (GGompertz's quadrature takes minutes on millions of customers)."""
    scores = {c.model: c.score for c in usable}
    kept = []
    for candidate in usable:
        simpler = scores.get(EXTENDS.get(candidate.model, ""))
        idle = simpler is not None and candidate.score is not None
        if not (idle and candidate.score > simpler * (1 - EXTENSION_GAIN)):
            kept.append(candidate)
    return kept


def scores_of_rows(rows: DistinctRows, *, period: str, churn_days: float, why: str) -> Scores:
    """BIC of each candidate on an even sample of a summary's distinct histories.

    ``why`` says why no holdout (for the note): a summary holds none, say.
    """
    step = -(-len(rows.weight) // SAMPLE_ROWS)
    sample = rows.every(step) if step > 1 else rows
    return Scores(BIC_RULE, _bic(sample, period, churn_days), sample.customers, None, why)


def scores_of_transactions(
    transactions: Transactions, *, period: str, as_of: int | None, churn_days: float
) -> Scores:
    """Holdout MAE of each candidate when the log is long enough, BIC otherwise, on
    an even sample of the log's customers."""
    if transactions.num_rows == 0:
        return Scores(BIC_RULE, tuple(CandidateScore(m, None) for m in CANDIDATES), 0)
    last = int(transactions.day.max()) if as_of is None else as_of
    first = int(transactions.day.min())
    customers = len(transactions.customer_ids)
    step = -(-customers // SAMPLE_CUSTOMERS)
    sample = transactions
    if step > 1:
        chosen = np.zeros(customers, dtype=bool)
        chosen[::step] = True  # every step-th customer; a lookup, not a division per row
        sample = transactions.select(chosen[transactions.customer])
    span = last - first
    if span >= MIN_SPAN_DAYS:
        holdout = float(round(span * HOLDOUT_SHARE))
        scores = _holdout_scores(sample, period, last, holdout, churn_days)
        if scores is not None:
            return scores
        why = "the holdout could not be fitted"
    else:
        why = f"the log spans {span / 7:.0f} weeks, under the {MIN_SPAN_DAYS // 7} a holdout needs"
    try:
        frame = customer_table(sample, as_of=last, period=period).frame
    except ClvError as exc:  # the run itself says what is wrong with the log
        return Scores(
            BIC_RULE, tuple(CandidateScore(m, None, failure=exc.message) for m in CANDIDATES), 0
        )
    rows = DistinctRows.of(
        frame["frequency"].to_numpy(np.float64),
        frame["recency"].to_numpy(np.float64),
        frame["T"].to_numpy(np.float64),
    ).with_litt(litt_of(frame))
    return Scores(BIC_RULE, _bic(rows, period, churn_days), rows.customers, None, why)


def _bic(rows: DistinctRows, period: str, churn_days: float) -> tuple[CandidateScore, ...]:
    found = []
    for name, model, failure in _fitted_candidates(rows):
        if model is None:
            found.append(CandidateScore(name, None, failure=failure))
            continue
        found.append(CandidateScore(name, model.bic_, alive_past_cutoff(model, churn_days, period)))
    return tuple(found)


def _fitted_candidates(rows: DistinctRows) -> Iterator[tuple[str, Fitter | None, str | None]]:
    """Each candidate fitted on ``rows``: the model, or None and why it failed. The
    models that choose a regularity k by the purchase days are no candidates where
    the rows do not have them (a per-customer summary)."""
    for name in CANDIDATES:
        if rows.litt is None and PURCHASE_MODELS[name].needs_purchase_days:
            continue
        try:
            yield name, fit_purchase_rows(name, rows), None
        except ModelError as exc:
            yield name, None, exc.message


def _holdout_scores(
    sample: Transactions, period: str, as_of: int, holdout_days: float, churn_days: float
) -> Scores | None:
    """Each candidate fitted on the sample's first two thirds, scored by the MAE of its
    predicted purchases in the last third; None when no candidate could be fitted."""
    try:
        sample, as_of, _ = resolve_as_of(sample, as_of)
        table = calibration_table(
            sample, calibration_end=int(as_of - holdout_days), as_of=as_of, period=period
        ).frame
    except ClvError:  # a sample with no purchases in calibration, say: BIC decides
        return None
    rows = DistinctRows.of(
        table["frequency"].to_numpy(np.float64),
        table["recency"].to_numpy(np.float64),
        table["T"].to_numpy(np.float64),
    ).with_litt(litt_of(table))
    actual = table["frequency_holdout"].to_numpy(np.float64)
    span = float(table["duration_holdout"].iloc[0]) if len(table) else 0.0
    return _holdout_scored(rows, actual, span, period, holdout_days, churn_days)


def _holdout_scored(
    rows: DistinctRows,
    actual: np.ndarray,
    span: float,
    period: str,
    holdout_days: float,
    churn_days: float,
) -> Scores | None:
    """Each candidate fitted on the calibration ``rows``, scored by the MAE of its
    predicted purchases in ``span`` periods against the ``actual`` ones."""
    found = []
    for name, model, failure in _fitted_candidates(rows):
        if model is None:
            found.append(CandidateScore(name, None, failure=failure))
            continue
        with np.errstate(all="ignore"):
            alive = np.asarray(model.p_alive(*rows.columns), np.float64)
            # Of the rows, weighted by their customers: a model may scale its
            # predictions to the cohort's sum (BG/CNBD-k).
            predicted = np.asarray(model.expected_purchases_of_rows(span, rows, alive))
        error = float(np.mean(np.abs(predicted[rows.inverse] - actual)))
        if not np.isfinite(error):
            found.append(CandidateScore(name, None, failure="its predictions are not finite"))
            continue
        found.append(CandidateScore(name, error, alive_past_cutoff(model, churn_days, period)))
    if all(c.score is None for c in found):
        return None
    return Scores(HOLDOUT_RULE, tuple(found), rows.customers, holdout_days)


def scores_of_sample(
    sample: Callable[[int, int, int], dict[str, np.ndarray]],
    *,
    first: int,
    last: int,
    period: str,
    as_of: int | None,
    churn_days: float,
) -> Scores:
    """:func:`scores_of_transactions` for a log an engine holds: ``sample(per_sample,
    calibration_end, as_of)`` gives every k-th customer's calibration columns
    (frequency, recency, T, and litt if it can) and purchases after it
    (frequency_holdout), as the
    transactions would, k being the customers over ``per_sample`` rounded up. The
    same sample, holdout and candidates, so the same choice.
    """
    last = last if as_of is None else as_of
    span = last - first
    if span >= MIN_SPAN_DAYS:
        holdout = float(round(span * HOLDOUT_SHARE))
        end = int(last - holdout)
        table = sample(SAMPLE_CUSTOMERS, end, last) if first <= end < last else {}
        scores = None
        if len(table.get("frequency", ())):
            rows = DistinctRows.of(table["frequency"], table["recency"], table["T"])
            rows = rows.with_litt(table.get("litt"))
            duration = (last - end) / days_per(period)
            scores = _holdout_scored(
                rows, table["frequency_holdout"], duration, period, holdout, churn_days
            )
        if scores is not None:
            return scores
        why = "the holdout could not be fitted"
    else:
        why = f"the log spans {span / 7:.0f} weeks, under the {MIN_SPAN_DAYS // 7} a holdout needs"
    table = sample(SAMPLE_CUSTOMERS, last, last)
    if not len(table["frequency"]):
        failure = "no purchases (every day's net amount is zero or negative)"
        return Scores(
            BIC_RULE, tuple(CandidateScore(m, None, failure=failure) for m in CANDIDATES), 0
        )
    rows = DistinctRows.of(table["frequency"], table["recency"], table["T"])
    rows = rows.with_litt(table.get("litt"))
    return Scores(BIC_RULE, _bic(rows, period, churn_days), rows.customers, None, why)
