"""Turning shared options into the core's settings, and reading transactions."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from clvcli.cli.console import Reporter
from clvcli.cli.options import RunOptions, parse_horizon
from clvcli.cli.reading import PendingRead, decimal_mark, read_settings
from clvcli.contract import PERIODS, CustomerTable
from clvcli.core.compute import MODELS, ComputeSettings, CustomerValues, check_margin
from clvcli.core.intervals import check_level
from clvcli.errors import UsageError
from clvcli.io.customers import CustomerList
from clvcli.io.dates import DateProblem, DateSettings, parse_date_value
from clvcli.io.metadata import digest_in_background
from clvcli.io.params import read_params, require_covariance
from clvcli.io.readers import Transactions, read_transactions
from clvcli.io.source import STDIN, load_input
from clvcli.lifecycle import StageRules

if TYPE_CHECKING:
    import pandas as pd

    from clvcli.core.compute import ValuesInPieces
    from clvcli.engines.duckdb import SummaryPieces


def parse_option_date(text: str | None, option: str, opts: RunOptions) -> int | None:
    """A date option (ISO or Jalali) as days since 1970-01-01."""
    if text is None:
        return None
    try:
        return parse_date_value(text, DateSettings(opts.calendar, None, opts.timezone))
    except DateProblem as exc:
        raise UsageError(f"{option}: {exc}", exc.hint) from None


def stage_rules(opts: RunOptions) -> StageRules:
    for name in ("churn_p_alive", "risk_p_alive"):
        value = getattr(opts, name)
        if not 0.0 <= value <= 1.0:
            raise UsageError(f"--{name.replace('_', '-')} {value} is outside 0..1")
    if opts.risk_days > opts.churn_days:
        raise UsageError(
            f"--risk-days {opts.risk_days} is longer than --churn-days {opts.churn_days}",
            "at risk comes before churned: give a shorter --risk-days",
        )
    return StageRules(
        churn_days=opts.churn_days,
        risk_days=opts.risk_days,
        loyal_orders=opts.loyal_orders,
        loyal_days=opts.loyal_days,
        churn_p_alive=opts.churn_p_alive,
        risk_p_alive=opts.risk_p_alive,
    )


def check_model_options(opts: RunOptions, allowed: tuple[str, ...] = MODELS) -> str:
    """The checks of --margin and --model shared by every command that reads them."""
    check_margin(opts.margin)
    if opts.model not in allowed:
        raise UsageError(f"--model {opts.model} is not one of: {', '.join(allowed)}", None)
    return opts.model


def load_params(path: str | None) -> dict[str, Any] | None:
    """The JSON that `clv fit --format json` wrote, checked before anything is read."""
    if path is None:
        return None
    return read_params(path, PERIODS)


def compute_settings(opts: RunOptions) -> ComputeSettings:
    check_model_options(opts)
    interval = check_level(opts.values.get("interval", 0.0))
    saved = load_params(opts.params)
    if interval and saved is not None:
        require_covariance(opts.params, saved)
    return ComputeSettings(
        as_of=parse_option_date(opts.as_of, "--as-of", opts),
        period=opts.period,
        margin=opts.margin,
        model=opts.model,
        horizon=parse_horizon(opts.horizon),
        discount_rate=opts.discount_rate,
        rules=stage_rules(opts),
        saved=saved,
        interval=interval,
    )


def load_summary(
    path: str, opts: RunOptions, reporter: Reporter, *, note: bool = True
) -> CustomerTable:
    """A per-customer summary (from clv summary or its SQL), in --period units: one
    file, or a folder or glob of the parts a warehouse or cluster wrote. ``note``: say
    when it has no amounts (a command that refuses such a summary says it instead)."""
    from clvcli.io.results import read_summary_files

    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    opts.record.setdefault("inputs", []).append(path)
    with reporter.progress("reading the summary"):
        table = read_summary_files(path, period=opts.period, as_of=as_of)
    if note and not table.has_amount:
        reporter.warn(
            [
                f"{path}: monetary_value is empty in every row: purchases are counted, money "
                "columns are empty"
            ],
            kind="note",
        )
    return table


def engine_pieces(
    source: Any,
    opts: RunOptions,
    reporter: Reporter,
    settings: ComputeSettings | None = None,
    model: str | None = None,
) -> tuple[SummaryPieces | None, ComputeSettings | None]:
    """INPUT's per-customer summary computed by its engine into a file read in pieces
    (use it in a ``with`` block), and ``settings`` with what ``--model auto`` learnt
    from the engine's holdout; (None, settings) when the reader reads INPUT. The
    summary carries the customers' litt when the model fitted (``model``, or
    ``settings``' model) needs it."""
    from clvcli.core.log import EngineLog
    from clvcli.core.summary import refund_only_warnings

    if not isinstance(source, EngineLog):
        return None, settings
    with reporter.progress("summarising customers"):
        pieces, settings = source.fitting_pieces(model, settings)
    if pieces is None:
        return None, settings
    opts.record.setdefault("inputs", []).append(source.path)
    # Said with the run's other warnings, where the reader's table says it.
    pieces.warnings = refund_only_warnings(source.path, pieces.refund_only)
    return pieces, settings


def log_customers(
    input_path: str,
    opts: RunOptions,
    reporter: Reporter,
    settings: ComputeSettings,
    keep: Callable[[pd.DataFrame], pd.DataFrame],
    what: str,
) -> pd.DataFrame:
    """The compute table of the log at ``input_path`` with only what ``keep`` leaves
    of it (rows and columns), its warnings said and its models recorded: see
    :func:`customers_of`."""
    source = log_source(input_path, opts, settings, what)
    frame, values = customers_of(source, opts, reporter, settings, keep)
    reporter.warn(values.warnings)
    record_values(opts, values)
    return frame


def log_source(input_path: str, opts: RunOptions, settings: ComputeSettings, what: str) -> Any:
    """INPUT as :func:`customers_of` takes it: the log as its engine holds it, or being
    read by the reader. Spark (``what`` the command) is refused: its runs score
    customers on the cluster, for compute alone."""
    from clvcli.cli.reading import start_reading, uses_spark
    from clvcli.engines import refuse_other_engines

    if uses_spark(opts):
        refuse_other_engines(opts.engine, what)
    # BG/BB (or saved parameters, maybe BG/BB's) counts purchase periods, which only
    # the transactions hold.
    periods = settings.model == "bgbb" or settings.saved is not None
    return start_reading(input_path, opts, engine_may_read=not periods)


def customers_of(
    source: Any,
    opts: RunOptions,
    reporter: Reporter,
    settings: ComputeSettings,
    keep: Callable[[pd.DataFrame], pd.DataFrame],
) -> tuple[pd.DataFrame, CustomerValues | ValuesInPieces]:
    """The compute table of a log (:func:`log_source`'s), cut down by ``keep``, and
    the run's values (warnings, models, as-of date) for the caller to say and record.

    When the engine takes the log as it is, the table is computed a million
    customers at a time and each piece is cut down as it comes, so a large log's
    run holds the customers asked for, not all of them; otherwise the reader reads
    the log and ``keep`` cuts the whole table."""
    import pandas as pd

    from clvcli.core.compute import compute_clv, compute_in_pieces

    pieces, settings = engine_pieces(source, opts, reporter, settings)
    if pieces is None:
        transactions = load_transactions(source, opts, reporter)
        with reporter.progress("computing customer values"):
            result = compute_clv(transactions, settings)
        del transactions
        return keep(result.frame), result
    with pieces as summary, reporter.progress("computing customer values"):
        values = compute_in_pieces(summary, settings)
        kept = [keep(piece) for piece in values.pieces]
    return pd.concat(kept, ignore_index=True), values


def log_pieces(
    input_path: str | None,
    summary_path: str | None,
    source: Any,
    opts: RunOptions,
    reporter: Reporter,
    settings: ComputeSettings | None = None,
    model: str | None = None,
) -> tuple[Any, ComputeSettings | None]:
    """The per-customer summary an engine keeps, read in pieces (Spark's, DuckDB's, or a
    Parquet --summary sorted; use it in a ``with`` block), and ``settings`` with what
    ``--model auto`` learnt of it; (None, settings) when the reader's rows are needed."""
    from clvcli.cli.reading import uses_spark

    if uses_spark(opts):
        from clvcli.cli.spark import check_spark_input, spark_pieces
        from clvcli.core.compute import needs_purchase_days

        path = check_spark_input(input_path, summary_path, opts)
        litt = needs_purchase_days(model or "none", settings)
        return spark_pieces(path, opts, reporter, litt=litt), settings
    if summary_path is not None:
        return summary_pieces(summary_path, opts, reporter), settings
    return engine_pieces(source, opts, reporter, settings, model)


def summary_pieces(path: str, opts: RunOptions, reporter: Reporter) -> SummaryPieces | None:
    """A Parquet summary (file, folder or glob) sorted by the engine into a file read
    in pieces; None for another format, which :func:`load_summary` reads. Use it in a
    ``with`` block."""
    from clvcli.core.log import summary_file_pieces

    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    with reporter.progress("reading the summary"):
        pieces = summary_file_pieces(path, engine=opts.engine, period=opts.period, as_of=as_of)
    if pieces is not None:
        opts.record.setdefault("inputs", []).append(path)
    return pieces


def one_source(input_path: str | None, summary_path: str | None) -> None:
    """Exactly one of INPUT and --summary FILE."""
    if (input_path is None) == (summary_path is None):
        raise UsageError(
            "give a transaction log as INPUT or a per-customer summary with --summary FILE",
            "not both, and not neither",
        )


def record_values(opts: RunOptions, values: CustomerValues | ValuesInPieces) -> None:
    """The as-of date and fitted models of a run, for its output's metadata; and, when
    --model auto chose the purchase model, one note saying which and why."""
    opts.record["as_of"] = str(np.datetime64(values.as_of, "D"))
    warn_of_a_future_as_of(opts, values.as_of)
    models = {}
    for role, model in (("purchases", values.purchase_model), ("spend", values.spend_model)):
        if model is not None:
            models[role] = {"model": model.name, "params": model.fitted()}
    choice = values.choice
    if choice is not None:
        models.setdefault("purchases", {"model": choice.model})["chosen_by"] = choice.record()
        Reporter(opts.quiet).warn([choice.note()], kind="note")
    opts.record["models"] = models


def warn_of_a_future_as_of(opts: RunOptions, as_of: int) -> None:
    """One warning when the as-of date the log implied (its last day) is after today:
    one mistyped year (2099 for 2024) would measure every customer at it, all of them
    churned, and nothing else would say why."""
    import datetime as dt

    if opts.values.get("as_of") is not None:
        return
    tomorrow = (dt.datetime.now(dt.UTC).date() - dt.date(1970, 1, 1)).days + 1
    if as_of > tomorrow:
        Reporter(opts.quiet).warn(
            [
                f"the log's last day, {np.datetime64(as_of, 'D')}, is after today, and "
                "every customer is measured at it: is a date mistyped? (--as-of DATE "
                "measures at that date instead)"
            ]
        )


def customer_list(opts: RunOptions) -> CustomerList | None:
    """The --customers file, read once per run."""
    if opts.values.get("customers") is None:
        return None
    from clvcli.io.customers import read_customer_list

    opts.record.setdefault("inputs", []).append(opts.customers)
    return read_customer_list(opts.customers, decimal_mark(opts))


def join_customer_list(frame: pd.DataFrame, listed: CustomerList | None) -> pd.DataFrame:
    """The listed prospects (stage potential), channels and costs joined to the table."""
    if listed is None:
        return frame
    from clvcli.core.prospects import with_customer_list

    return with_customer_list(frame, listed)


def _keeps_metadata(opts: RunOptions) -> bool:
    """Whether the output will record the inputs' digests (Parquet, or --sidecar)."""
    if opts.values.get("sidecar"):
        return True
    if opts.format or not opts.output:
        return opts.format == "parquet"
    return opts.output.lower().endswith((".parquet", ".pq"))


def load_transactions(
    source: Any,
    opts: RunOptions,
    reporter: Reporter,
    *,
    note: bool = True,
) -> Transactions:
    """The log's transactions, read here or by :func:`~clvcli.cli.reading.start_reading`.

    ``note``: say once when the log has no amount column (a command that refuses such
    a log says it in its error instead).
    """
    from clvcli.core.log import EngineLog

    if isinstance(source, EngineLog):  # the engine found the reader was needed after all
        source = source.path
    pending = source if isinstance(source, PendingRead) else None
    if pending is not None:
        source = pending.path
    elif source == STDIN:
        source = load_input(STDIN)  # read once, so its bytes can be digested too
    opts.record.setdefault("inputs", []).append(source)
    with reporter.progress("reading transactions"):
        if pending is not None:
            transactions = pending.result()
        else:
            transactions = read_transactions(source, read_settings(opts))
    reporter.warn(transactions.notes, kind="note")
    if _keeps_metadata(opts):
        digest_in_background(source)  # for the output's metadata, while the run goes on
    reporter.event(
        "read",
        rows_read=transactions.rows_read,
        rows_skipped=transactions.rows_skipped,
        customers=len(transactions.customer_ids),
    )
    if note and not transactions.has_amount:
        reporter.warn([no_amount_note(transactions.source)], kind="note")
    return transactions


def no_amount_note(source: str) -> str:
    """The one note a run on a log of purchase days alone gives."""
    return f"{source} has no amount column: purchases are counted, money columns are empty"
