"""`clv compute`: one row per customer with historical and predicted CLV and stage.

Historical CLV and the day rules of the lifecycle need no model. With a purchase model
(by default the one ``--model auto`` chooses, see :mod:`clvcli.core.choice`) and
Gamma-Gamma spend, the predictive columns are filled and the P(alive) rules join the
stage rules. When the purchase model cannot be fitted (nobody bought twice, a fit that
does not converge, parameters the data cannot pin down) the predictive columns stay
empty with a warning, the stages use the day rules, and the rest of the table is still
produced: the run succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache, partial
from typing import Any, Protocol

import numpy as np
import pandas as pd

from clvcli.contract import (
    COMPUTE_COLUMNS,
    INTERVAL_COLUMNS,
    MODEL_COLUMNS,
    CustomerTable,
    days_per,
)
from clvcli.core.choice import (
    AUTO,
    ModelChoice,
    Scores,
    old_one_time_buyers,
    pick,
    scores_of_rows,
    scores_of_transactions,
)
from clvcli.core.opportunities import opportunities
from clvcli.core.summary import customer_table, litt_of
from clvcli.core.value import (
    RowValues,
    ValueSettings,
    fit_purchase_rows,
    fit_spend_rows,
    row_values,
    weighted_correlation,
    with_intervals,
)
from clvcli.errors import InputError, ModelError, TooLittleDataError, UsageError
from clvcli.io.readers import Transactions
from clvcli.io.writers import CHUNK_ROWS
from clvcli.lifecycle import StageRules, assign_stages
from clvcli.models import PURCHASE_MODELS, DistinctRows, Fitter, GammaGammaFitter
from clvcli.models.gamma_gamma import spend_rows_and_correlation
from clvcli.parallel import row_blocks

MODELS = (AUTO, "none", *PURCHASE_MODELS)


@dataclass(frozen=True)
class ComputeSettings:
    """Everything `compute` needs besides the transactions.

    ``saved`` holds parameters written by `clv fit --format json`; when given, the
    models are not refitted and its model and period win. ``interval`` (0.9, say)
    adds the INTERVAL_COLUMNS (see :mod:`clvcli.core.intervals`). ``auto_scores``: what
    :func:`settle_model` learnt of the candidates of ``--model auto`` from the log.
    """

    as_of: int | None = None
    period: str = "day"
    margin: float = 1.0
    model: str = AUTO
    horizon: float | None = 12.0
    discount_rate: float = 0.10
    rules: StageRules = field(default_factory=StageRules)
    saved: dict[str, Any] | None = None
    auto_scores: Scores | None = None
    # --interval: the coverage of the per-customer intervals, 0 for none.
    interval: float = 0.0


@dataclass
class CustomerValues:
    """The compute table, the fitted models and what the run should tell the user."""

    frame: pd.DataFrame
    as_of: int
    warnings: list[str]
    purchase_model: Fitter | None = None
    spend_model: GammaGammaFitter | None = None
    choice: ModelChoice | None = None  # how --model auto chose the purchase model


def check_margin(margin: float) -> float:
    if not 0.0 <= margin <= 1.0 or np.isnan(margin):
        raise UsageError(
            f"--margin {margin} is outside 0..1", "give the gross margin as 0.3 or 30%"
        )
    return margin


def compute_clv(transactions: Transactions, settings: ComputeSettings) -> CustomerValues:
    """Summary columns, historical CLV, model columns and the stage of every customer."""
    settings = settle_model(transactions, settings)
    table = transactions_table(transactions, settings)
    return compute_from_table(table, settings, transactions)


def settle_model(transactions: Transactions, settings: ComputeSettings) -> ComputeSettings:
    """For ``--model auto``, the candidates scored on the log (a holdout needs the
    transactions), before a caller lets the rows go; other settings as they are.

    The choice itself is made with the customer table (:func:`choose`), which says
    whether the log has one-time buyers older than the churn cut-off.
    """
    if settings.model != AUTO or settings.saved is not None or settings.auto_scores:
        return settings
    scores = scores_of_transactions(
        transactions,
        period=settings.period,
        as_of=settings.as_of,
        churn_days=settings.rules.churn_days,
    )
    return replace(settings, auto_scores=scores)


def choose(
    settings: ComputeSettings, period: str, old_buyers: int, rows: Callable[[], DistinctRows]
) -> ModelChoice:
    """The model ``--model auto`` uses for customers of whom ``old_buyers`` are one-time
    buyers older than the churn cut-off (see :mod:`clvcli.core.choice`); ``rows``
    gives their distinct histories, scored when the log was not (a summary)."""
    churn_days = settings.rules.churn_days
    scores = settings.auto_scores
    if scores is None:
        scores = scores_of_rows(
            rows(),
            period=period,
            churn_days=churn_days,
            why="a per-customer summary (--summary, --engine spark) holds no holdout",
        )
    return pick(scores, old_buyers, churn_days)


def transactions_table(
    transactions: Transactions, settings: ComputeSettings, *, consume: bool = False
) -> CustomerTable:
    """The per-customer summary compute starts from, with the reading's warnings.

    With it, only BG/BB still needs the transactions (:func:`needs_transactions`):
    a caller done with them passes ``consume`` and their rows are dropped as soon as
    they are summed up (see :func:`customer_table`).
    """
    period = settings.saved["period"] if settings.saved is not None else settings.period
    reading_warnings = list(transactions.warnings)
    table = customer_table(transactions, as_of=settings.as_of, period=period, consume=consume)
    table.warnings = reading_warnings + table.warnings
    return table


def needs_transactions(settings: ComputeSettings) -> bool:
    """Whether the model counts purchase periods, which only the transactions hold."""
    model = settings.saved.get("model") if settings.saved is not None else settings.model
    return model == "bgbb"


def compute_from_table(
    table: CustomerTable,
    settings: ComputeSettings,
    transactions: Transactions | None = None,
    models: Models | None = None,
) -> CustomerValues:
    """The compute table from a per-customer summary (with or without its transactions).

    BG/BB needs the transactions (it counts purchase periods); the other models need
    only the summary. ``models``, when given, are used as they are (fitted on a
    whole summary of which ``table`` is a piece) instead of fitted on ``table``.
    """
    values = table_values(table, settings, transactions, models)
    values.result.frame = values.piece(slice(0, len(table.frame)), last=True)
    return values.result


def compute_table_in_pieces(
    table: CustomerTable,
    settings: ComputeSettings,
    transactions: Transactions | None = None,
    rows: int = CHUNK_ROWS,
) -> ValuesInPieces:
    """:func:`compute_from_table`, its table made ``rows`` customers at a time.

    The models fit and score the distinct histories once; each piece only spreads
    those values to its customers and assigns their stages. A writer can write one
    piece while the next is made, and the model columns of all customers are never
    held at once. The pieces end to end are the table compute_from_table gives.
    """
    values = table_values(table, settings, transactions)
    result = values.result
    count = len(table.frame)
    blocks = row_blocks(count, rows) or [slice(0, 0)]  # an empty table is one piece
    pieces = (values.piece(block, last=block.stop >= count) for block in blocks)
    return ValuesInPieces(
        pieces,
        result.as_of,
        result.warnings,
        result.purchase_model,
        result.spend_model,
        result.choice,
    )


@dataclass
class TableValues:
    """A summary with its models fitted and its distinct histories scored, from which
    the compute table is made a slice of customers at a time (:meth:`piece`)."""

    table: CustomerTable
    settings: ComputeSettings
    rows: RowValues | None  # the scored distinct histories; None: no model columns
    result: CustomerValues

    def piece(self, customers: slice, *, last: bool = False) -> pd.DataFrame:
        """The compute table's rows of ``customers``. With ``last``, no piece follows:
        the distinct rows' values go before the stages are made."""
        frame = self.table.frame.iloc[customers]
        settings = self.settings
        historical = frame["total_spend"].to_numpy()
        if settings.margin != 1.0:  # at the default margin the column is total_spend itself
            historical = historical * settings.margin
        interval_columns = INTERVAL_COLUMNS if settings.interval > 0 else []
        if self.rows is None:
            values = {
                column: np.full(len(frame), np.nan) for column in MODEL_COLUMNS + interval_columns
            }
        else:
            scores = self.rows.customers(
                customers, frame["frequency"].to_numpy(), frame["monetary_value"].to_numpy()
            )
            values = {column: getattr(scores, column) for column in MODEL_COLUMNS}
            for column in interval_columns:
                values[column] = (
                    np.full(len(frame), np.nan)
                    if scores.intervals is None
                    else scores.intervals[column]
                )
            del scores
        if last:
            self.rows = None
        predicted = values["predicted_clv"]
        # Whole days in place (the end of a run holds every column: no spare copies).
        days_since_first = frame["first_purchase"].to_numpy(dtype="datetime64[s]").view(np.int64)
        days_since_first = days_since_first // 86_400
        np.subtract(self.table.as_of, days_since_first, out=days_since_first)
        stage = assign_stages(
            frame["orders"].to_numpy(),
            frame["days_since_last"].to_numpy(),
            days_since_first,
            None if self.result.purchase_model is None else values["p_alive"],
            settings.rules,
        )
        del days_since_first
        added = {
            "historical_clv": historical,
            **values,
            "total_clv": _plus_known(historical, predicted),
            "stage": stage.array,
        }
        names = COMPUTE_COLUMNS + interval_columns + (["channel"] if "channel" in frame else [])
        # One frame of the columns as they are: assigning each to the table would copy
        # it, tens of megabytes a column at millions of customers.
        return pd.DataFrame(
            {name: added[name] if name in added else frame[name] for name in names},
            index=frame.index,
            copy=False,
        )


def table_values(
    table: CustomerTable,
    settings: ComputeSettings,
    transactions: Transactions | None = None,
    models: Models | None = None,
) -> TableValues:
    """The models of a summary fitted (or ``models`` taken as they are) and its
    distinct histories scored: everything of the compute table but its rows."""
    model = chosen_model(settings, table.period, summary_only=transactions is None)
    value_settings = ValueSettings(
        table.period, settings.horizon, settings.discount_rate, settings.margin
    )
    value_settings.check()
    result = CustomerValues(table.frame, table.as_of, list(table.warnings))
    grouped: list[DistinctRows] = []
    if model == AUTO:
        result.choice = table_choice(table, settings, grouped)
        model = result.choice.model
        if result.choice.warning:
            result.warnings.append(result.choice.warning)
    rows = None
    if model != "none":
        rows = _predict(
            transactions, table, model, settings, value_settings, result, models, grouped
        )
    return TableValues(table, settings, rows, result)


def table_choice(
    table: CustomerTable, settings: ComputeSettings, grouped: list[DistinctRows] | None = None
) -> ModelChoice:
    """The model ``--model auto`` uses for the customers of ``table``. When the log was
    not scored (:func:`settle_model`), their distinct histories are, and are left in
    ``grouped`` for the fit."""
    frame = table.frame
    grouped = [] if grouped is None else grouped

    def history() -> DistinctRows:
        grouped.append(
            DistinctRows.of(
                frame["frequency"].to_numpy(),
                frame["recency"].to_numpy(np.float64),
                frame["T"].to_numpy(np.float64),
            ).with_litt(litt_of(frame))
        )
        return grouped[0]

    old = old_one_time_buyers(
        frame["frequency"].to_numpy(),
        frame["days_since_last"].to_numpy(),
        settings.rules.churn_days,
    )
    return choose(settings, table.period, old, history)


def pieces_choice(
    summary: SummaryInPieces, settings: ComputeSettings, rows: DistinctRows | None = None
) -> ModelChoice:
    """:func:`table_choice` for a summary read in pieces (``rows``: its distinct
    histories, when the caller has them)."""
    rows = grouped_history(summary) if rows is None else rows
    x, _, T = rows.columns
    # For a one-time buyer T is the days since their purchase, in --period units.
    old = (x == 0) & (np.rint(T * days_per(summary.period)) > settings.rules.churn_days)
    return choose(settings, summary.period, int(rows.weight[old].sum()), lambda: rows)


def _plus_known(historical: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Historical plus predicted CLV, where a prediction is missing the historical."""
    total = np.where(np.isnan(predicted), 0.0, predicted)
    total += historical
    return total


def chosen_model(settings: ComputeSettings, period: str, *, summary_only: bool) -> str:
    """The purchase model a run uses, checked against the data it has."""
    check_margin(settings.margin)
    model = settings.model
    if settings.saved is not None:
        model = settings.saved["model"]
        if settings.saved["period"] != period:
            raise UsageError(
                f"the parameters were fitted with --period {settings.saved['period']}, "
                f"the summary is in {period}s",
                f"pass --period {settings.saved['period']}",
            )
    if model not in MODELS:
        raise UsageError(f"--model {model} is not a purchase model", "use " + ", ".join(MODELS))
    if model == "bgbb" and summary_only:
        raise UsageError(
            "--model bgbb counts purchase periods, which a summary does not hold",
            "give the transaction log, or another --model",
        )
    return model


@dataclass
class Models:
    """The fitted (or loaded) models of a run and what fitting them had to say.

    ``purchases`` is None when the data could not identify the purchase model; then
    the model columns stay empty. ``spend`` is None when only the spend model failed.
    """

    purchases: Fitter | None
    spend: GammaGammaFitter | None
    warnings: list[str] = field(default_factory=list)


def fitted_models(
    model: str,
    settings: ComputeSettings,
    history_rows: Callable[[], DistinctRows],
    spend_rows: Callable[[], tuple[DistinctRows, float]],
    *,
    with_spend: bool = True,
) -> Models:
    """The models from saved parameters, or fitted on distinct rows of the customers.

    ``history_rows`` gives the purchase model's (x, t_x, T) rows; ``spend_rows`` the
    repeat buyers' (frequency, spend) rows with the correlation of the two. Without
    ``with_spend`` (a log with no amounts) there is no spend model, saved or fitted.
    """
    if settings.saved is not None:
        purchases, spend = load_models(settings.saved)
        if not with_spend:
            return Models(purchases, None)
        if spend is not None and not spend.fitted()["q"] > 1:
            # As a fit refuses it: one-time buyers would get no expected spend while
            # repeat buyers got one, a column half empty for a reason no row shows.
            q = spend.fitted()["q"]
            return Models(
                purchases,
                None,
                [
                    f"gamma-gamma: the saved spend model has no finite mean (q = {q:.3g}, at "
                    "most 1); expected spend and predicted CLV left empty"
                ],
            )
        return Models(purchases, spend)
    # The spend model first: its rows are let go before the purchase model's rows are
    # grouped, so that the two never take memory at once.
    spend, warnings, spend_failure = None, [], None
    try:
        if with_spend:
            spend, warnings = fit_spend_rows(*spend_rows())
    except (TooLittleDataError, ModelError) as exc:
        spend_failure = exc.message
    try:
        purchases = fit_purchase_rows(model, history_rows())
    except ModelError as exc:
        # Too little data, no convergence, parameters the data cannot pin down: the
        # rest of the table (historical columns, day-rule stages) is still right.
        return Models(None, None, [model_failure(model, exc)])
    if spend_failure is not None:
        return Models(
            purchases, None, [f"{spend_failure}; expected spend and predicted CLV left empty"]
        )
    return Models(purchases, spend, purchases.warnings_ + warnings)


def model_failure(model: str, error: ModelError) -> str:
    """The warning of a run whose purchase model could not be fitted."""
    why = error.message.removeprefix(f"{model}: ")
    return f"could not fit {model}: {why}; predicted columns are empty, stages use the day rules"


def model_history(
    model: str, transactions: Transactions | None, table: CustomerTable
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The (x, t_x, T) a model reads for the customers of ``table``, in its order.

    BG/BB reads discrete opportunities (x, t_x, n) instead of continuous time. The
    counts x come as the table holds them (integers, as a rule): the models group the
    rows as floats one column at a time, so no float copy of millions of counts is
    held while they do.
    """
    frame = table.frame
    if model != "bgbb":
        return (
            frame["frequency"].to_numpy(),
            frame["recency"].to_numpy(np.float64),
            frame["T"].to_numpy(np.float64),
        )
    if transactions is None or table.codes is None:
        raise UsageError("--model bgbb needs the transaction log, not a summary")
    found = opportunities(transactions, table.as_of, table.period, transactions.calendar)
    x, t_x, n = (values[table.codes].astype(np.float64) for values in (found.x, found.t_x, found.n))
    return x, t_x, n


def load_models(saved: dict[str, Any]) -> tuple[Fitter, GammaGammaFitter | None]:
    """Models from the parameters `clv fit --format json` wrote."""
    name = saved.get("model")
    if name not in PURCHASE_MODELS:
        raise UsageError(f"the parameters file is for model '{name}', not a purchase model")
    purchases = PURCHASE_MODELS[name]().set_params(saved["params"])
    if saved.get("covariance") is not None:
        purchases.set_covariance(saved["covariance"])
    spend_saved = saved.get("spend_model")
    spend = None
    if spend_saved:
        spend = GammaGammaFitter().set_params(spend_saved["params"])
        if spend_saved.get("covariance") is not None:
            spend.set_covariance(spend_saved["covariance"])
    return purchases, spend


def _predict(
    transactions: Transactions | None,
    table: CustomerTable,
    model: str,
    settings: ComputeSettings,
    value_settings: ValueSettings,
    result: CustomerValues,
    models: Models | None,
    grouped: list[DistinctRows],
) -> RowValues | None:
    """The models' values of the distinct histories, or None when the data could not
    identify the model. ``grouped`` holds the histories when --model auto grouped them
    already (it chooses among continuous-time models, which read the same columns)."""
    frame = table.frame

    def history_rows() -> DistinctRows:
        # Grouped once, for the fit and the scores; history's float copies go with it.
        if not grouped:
            rows = DistinctRows.of(*model_history(model, transactions, table))
            grouped.append(rows.with_litt(litt_of(frame)))
        return grouped[0]

    if models is None:
        # The frame's own counts and spend, not float copies of them.
        frequency = frame["frequency"].to_numpy()
        monetary = frame["monetary_value"].to_numpy(np.float64)
        models = fitted_models(
            model,
            settings,
            history_rows,
            lambda: spend_rows_and_correlation(frequency, monetary),
            with_spend=table.has_amount,
        )
        result.warnings.extend(models.warnings)
    result.purchase_model = models.purchases
    result.spend_model = models.spend
    if models.purchases is None:
        return None
    values = row_values(models.purchases, models.spend, history_rows(), value_settings)
    if settings.saved is not None:
        _check_saved_scores(values)
    if values.unscored:
        # Numbers for some customers and blanks for others would rank the blanks last
        # for no reason a row shows: the model is used for everyone or for no one.
        why = f"its predictions are not finite for {values.unscored:,} distinct histories"
        result.warnings.append(model_failure(model, ModelError(why)))
        result.purchase_model = result.spend_model = None
        return None
    if settings.interval > 0:
        values, said = with_intervals(
            values,
            models.purchases,
            models.spend,
            history_rows(),
            value_settings,
            settings.interval,
        )
        result.warnings.extend(w for w in said if w not in result.warnings)
    return values


def _check_saved_scores(values: RowValues) -> None:
    """Saved parameters that give no number for a customer are not a fit of any
    data: refused, rather than a table of empty model columns with exit 0."""
    finite = np.isfinite(values.expected) & np.isfinite(values.alive)
    finite &= np.isfinite(values.discounted)
    if not finite.all():
        raise InputError(
            f"the parameters of --params give no finite expected purchases for "
            f"{int((~finite).sum()):,} of {len(finite):,} distinct customer histories",
            "they are not what a fit gives; fit again with clv fit --format json -o FILE",
        )


class SummaryInPieces(Protocol):
    """A per-customer summary too large to hold, read a piece at a time.

    ``history()`` gives the distinct (frequency, recency, T) rows and how many
    customers share each, then the sum of their litt per row when the summary has
    it (see :func:`needs_purchase_days`); ``spend()`` the distinct (frequency,
    monetary_value) rows of repeat buyers with a positive spend, and their counts.
    """

    period: str
    as_of: int
    customers: int
    # What the reader would have said of the log summed up (customers left out, say).
    warnings: list[str]

    def history(self) -> tuple[np.ndarray, ...]: ...

    def spend(self) -> tuple[np.ndarray, ...]: ...

    def tables(self) -> Iterator[CustomerTable]: ...


@dataclass
class ValuesInPieces:
    """The compute table of a summary in pieces: models fitted, rows still to come.

    ``pieces`` yields the table a million customers at a time, in customer id order;
    ``warnings`` gains what the pieces have to say as they are computed.
    """

    pieces: Iterator[pd.DataFrame]
    as_of: int
    warnings: list[str]
    purchase_model: Fitter | None = None
    spend_model: GammaGammaFitter | None = None
    choice: ModelChoice | None = None


def compute_in_pieces(summary: SummaryInPieces, settings: ComputeSettings) -> ValuesInPieces:
    """:func:`compute_from_table` for a summary read in pieces, with one fit for all.

    The models fit once on the distinct rows of all customers, so every piece gets
    the parameters the whole table would have given.
    """
    model = chosen_model(settings, summary.period, summary_only=True)
    ValueSettings(summary.period, settings.horizon, settings.discount_rate).check()
    models = Models(None, None)
    choice = None
    history = cache(partial(grouped_history, summary))
    if model == AUTO:
        choice = pieces_choice(summary, settings, history())
        model = choice.model
        settings = replace(settings, model=model)
    if model != "none":
        models = fitted_models(model, settings, history, lambda: grouped_spend(summary))
        if models.purchases is not None and models.purchases.scales_over_cohort:
            # Scaled over the whole summary's customers, not each piece's.
            models.purchases.scale_over(history())
    warnings = list(summary.warnings) + list(models.warnings)
    values = ValuesInPieces(
        iter(()), summary.as_of, warnings, models.purchases, models.spend, choice
    )
    if choice is not None and choice.warning:
        values.warnings.append(choice.warning)
    if model != "none" and models.purchases is None:
        settings = replace(settings, model="none")  # as the whole table would: no models
    values.pieces = _pieces(summary, settings, models, values.warnings)
    return values


def grouped_history(summary: SummaryInPieces) -> DistinctRows:
    """The summary's distinct (x, t_x, T) rows, weighted by their customers, with
    their litt when the summary has it."""
    x, t_x, T, count, *litt = summary.history()
    return DistinctRows((x, t_x, T), count, np.zeros(0, dtype=np.int64), *litt)


def needs_purchase_days(model: str, settings: ComputeSettings | None = None) -> bool:
    """Whether a run fitting ``model`` (``settings``' for compute and ``fit --model
    auto``: its --params, or auto's choice) needs each customer's litt, which an
    engine then computes with the summary (it costs a sort of the purchase days).

    For ``--model auto`` the choice is made once the summary says whether it has
    one-time buyers past the churn cut-off; the holdout's scores give the model for
    either answer, so litt is asked for only when one of the two needs it.
    """
    if settings is not None:
        if settings.saved is not None:
            return False
        model = settings.model
        if model == AUTO:
            scores = settings.auto_scores
            if scores is None:
                return True  # the summary's own rows are scored, CNBD-k among them
            churn_days = settings.rules.churn_days
            return any(needs_purchase_days(pick(scores, old, churn_days).model) for old in (0, 1))
    if model == "all":
        return any(fitter.needs_purchase_days for fitter in PURCHASE_MODELS.values())
    fitter = PURCHASE_MODELS.get(model)
    return fitter is not None and fitter.needs_purchase_days


def grouped_spend(summary: SummaryInPieces) -> tuple[DistinctRows, float]:
    """The repeat buyers' distinct (x, m) rows, weighted, and their correlation."""
    frequency, monetary, count = summary.spend()
    rows = DistinctRows((frequency, monetary), count, np.zeros(0, dtype=np.int64))
    return rows, weighted_correlation(frequency, monetary, count)


def _pieces(
    summary: SummaryInPieces, settings: ComputeSettings, models: Models, warnings: list[str]
) -> Iterator[pd.DataFrame]:
    for table in summary.tables():
        piece = compute_from_table(table, settings, models=models)
        warnings.extend(w for w in piece.warnings if w not in warnings)
        yield piece.frame
