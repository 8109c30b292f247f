"""`clv cohorts`: acquisition cohorts by months since the first purchase."""

from __future__ import annotations

from typing import Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, RunOptions, shared_options


@shared_options("input", "model", "output")
def cohorts_cmd(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            help="retention (share buying in the period), revenue or margin (cumulative, "
            "per acquired customer).",
        ),
    ] = "retention",
    cohort: Annotated[
        str, typer.Option("--cohort", help="Cohorts by month or quarter of first purchase.")
    ] = "month",
    *,
    opts: RunOptions,
) -> None:
    """Acquisition cohorts: for months since the first purchase, retention or revenue.

    Months follow --calendar: jalali gives Jalali months (1403-07).

    Example: clv cohorts sales.csv --metric revenue --cohort quarter
    """
    from clvcli.cli.reading import start_reading
    from clvcli.engines import refuse_other_engines

    refuse_other_engines(opts.engine, "clv cohorts")  # its aggregates run on DuckDB
    # The log is read while the rest imports, or left to the engine that takes it.
    source = start_reading(input_path, opts, engine_may_read=True)
    from clvcli.cli.common import check_model_options, load_transactions, parse_option_date
    from clvcli.cli.output import emit, resolve_format
    from clvcli.core.cohorts import cohort_table, log_cohort_table, partial_cells, period_columns
    from clvcli.core.log import EngineLog

    reporter = Reporter(opts.quiet)
    check_model_options(opts)
    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    resolve_format(opts)
    calendar = "jalali" if opts.calendar == "jalali" else "gregorian"
    frame = None
    if isinstance(source, EngineLog):
        with reporter.progress("building cohorts"):
            frame = log_cohort_table(
                source, metric=metric, grain=cohort, calendar=calendar, margin=opts.margin
            )
        if frame is not None:
            opts.record.setdefault("inputs", []).append(source.path)
    if frame is None:
        transactions = load_transactions(source, opts, reporter)
        with reporter.progress("building cohorts"):
            frame, warnings = cohort_table(
                transactions,
                metric=metric,
                grain=cohort,
                calendar=calendar,
                margin=opts.margin,
                as_of=as_of,
            )
        reporter.warn(transactions.warnings + warnings)
    periods = period_columns(frame)
    marks = partial_cells(frame)
    table = resolve_format(opts) == "table"
    emit(
        frame.drop(columns="partial") if table else frame,
        opts,
        reporter,
        money=() if metric == "retention" else periods,
        percent=periods if metric == "retention" else (),
        title=f"Cohorts by {cohort} of first purchase: {metric}",
        what="cohorts",
        marked={name: marks[:, i] for i, name in enumerate(periods)},
    )
    if marks.any() and table:
        unit = "quarter" if cohort == "quarter" else "month"
        reporter.warn(
            [
                f"* the {unit} of the as-of date is not over: those cells count only part "
                f"of it (the partial column says so in csv, json and parquet)"
            ],
            kind="note",
        )
