"""`clv cac`: acquisition cost against CLV per channel and acquisition cohort."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import (
    INPUT_HELP,
    SUMMARY_HELP,
    RunOptions,
    parse_fraction,
    shared_options,
)


@shared_options("input", "customers", "model", "stages", "output")
def cac_cmd(
    input_path: Annotated[str | None, typer.Argument(metavar="INPUT", help=INPUT_HELP)] = None,
    costs: Annotated[
        str | None,
        typer.Option(
            "--costs",
            metavar="FILE",
            help="Spend per month (2024-03, 1403-07 or a date) and optionally channel. "
            "Or give acquisition_cost per customer in --customers FILE.",
        ),
    ] = None,
    summary_path: Annotated[
        str | None, typer.Option("--summary", metavar="FILE", help=SUMMARY_HELP)
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="channel, cohort or channel,cohort (default: channel,cohort; cohort when "
            "the log or the costs name no channels).",
        ),
    ] = None,
    cohort: Annotated[
        str, typer.Option("--cohort", help="Acquisition cohorts by month or quarter.")
    ] = "month",
    healthy: Annotated[
        float, typer.Option("--healthy", help="CLV:CAC from which a group is healthy.")
    ] = 3.0,
    thin: Annotated[
        float, typer.Option("--thin", help="CLV:CAC from which a group is thin (below: losing).")
    ] = 1.0,
    retention_cost: Annotated[
        float,
        typer.Option(
            "--retention-cost",
            help="Cost of keeping an active customer per month, taken off predicted CLV.",
            parser=parse_fraction,
        ),
    ] = 0.0,
    *,
    opts: RunOptions,
) -> None:
    """Acquisition cost against CLV: CAC, CLV:CAC, payback months and a verdict per group.

    Spend comes from --costs (per month and channel) or from the acquisition_cost
    column of --customers (per customer). A per-customer summary (--summary FILE)
    gives everything but payback, which needs the month-by-month margin.

    Example: clv cac sales.csv --costs spend.csv --by channel --margin 0.3
    """
    from clvcli.cli.reading import start_reading
    from clvcli.engines import refuse_other_engines

    refuse_other_engines(opts.engine, "clv cac")  # its aggregates run on DuckDB
    # The log is read while the rest imports, or left to the engine that takes it as it
    # is; BG/BB (or saved parameters, maybe BG/BB's) counts purchase periods, which
    # only the transactions hold.
    periods = opts.model == "bgbb" or opts.params is not None
    source = start_reading(input_path, opts, engine_may_read=summary_path is None and not periods)
    from clvcli.cli.common import (
        compute_settings,
        customer_list,
        join_customer_list,
        load_summary,
        one_source,
        record_values,
    )
    from clvcli.cli.output import emit, resolve_format
    from clvcli.cli.reading import decimal_mark
    from clvcli.core.cac import (
        CacSettings,
        cac_table,
        channel_mismatch,
        choose_grouping,
        margin_note,
        require_amounts,
        spend_per_customer,
    )
    from clvcli.core.compute import compute_from_table
    from clvcli.errors import UsageError
    from clvcli.io.costs import read_costs

    one_source(input_path, summary_path)
    if cohort not in ("month", "quarter"):
        raise UsageError(f"--cohort {cohort} is not one of: month, quarter")
    if not 0 <= thin <= healthy:
        raise UsageError("--thin must be between 0 and --healthy")
    reporter = Reporter(opts.quiet)
    settings = compute_settings(opts)
    resolve_format(opts)
    listed = customer_list(opts)
    per_customer = listed is not None and listed.acquisition_cost is not None
    if costs is None and not per_customer:
        raise UsageError(
            "clv cac needs what acquiring customers cost",
            "give --costs FILE (spend per month), or --customers FILE with acquisition_cost",
        )
    if costs is not None and per_customer:
        raise UsageError(
            f"both --costs and the acquisition_cost column of {listed.name} give spend",
            "keep one of them, so no spend is counted twice",
        )
    if costs is not None:
        spend, calendar = read_costs(costs, decimal_mark(opts))
    else:
        calendar = "jalali" if opts.calendar == "jalali" else "gregorian"
    transactions = frame = None
    if summary_path is not None:
        table = load_summary(summary_path, opts, reporter, note=False)
        require_amounts(table.has_amount, summary_path)
        with reporter.progress("computing customer values"):
            values = compute_from_table(table, settings)
        values.warnings.append("payback months need the transaction log, not a summary")
    else:
        frame, values, transactions = _customer_values(source, opts, reporter, settings)
    reporter.warn(values.warnings)
    record_values(opts, values)
    customers = join_customer_list(values.frame if frame is None else frame, listed)
    if per_customer:
        spend = spend_per_customer(customers, calendar)
    by, notes = choose_grouping(by, customers, spend)
    reporter.warn(notes, kind="note")
    if "channel" in by:
        reporter.warn(channel_mismatch(customers, spend))
    reporter.warn([note for note in [margin_note(opts.margin)] if note], kind="note")
    horizon = settings.horizon if settings.horizon is not None else 12.0
    table = cac_table(
        customers,
        transactions,
        spend,
        CacSettings(
            by=by,
            grain=cohort,
            calendar=calendar,
            margin=opts.margin,
            healthy=healthy,
            thin=thin,
            retention_cost=retention_cost,
            horizon_months=horizon,
        ),
        values.as_of,
    )
    emit(
        table,
        opts,
        reporter,
        money=("spend", "cac", "mean_historical_clv", "mean_total_clv"),
        title="Acquisition cost against CLV",
        what="groups",
        keep=("cac", "clv_cac_ratio", "payback_months", "verdict"),
        drop_order=["mean_historical_clv", "spend", "cohort", "customers", "mean_total_clv"],
    )


def _customer_values(source: Any, opts: RunOptions, reporter: Reporter, settings: Any):
    """The compute table of INPUT, its run's values, and what gives the margins by
    month: the log as its engine holds it (the table computed a million customers at
    a time), or the reader's transactions. (The table is None when it is the
    values' own.)"""
    from clvcli.cli.common import engine_pieces, load_transactions
    from clvcli.core.cac import require_amounts
    from clvcli.core.compute import compute_clv, compute_in_pieces

    pieces, settings = engine_pieces(source, opts, reporter, settings)
    if pieces is not None:
        import pandas as pd

        with pieces as summary, reporter.progress("computing customer values"):
            values = compute_in_pieces(summary, settings)
            frame = pd.concat(list(values.pieces), ignore_index=True)
        return frame, values, source
    transactions = load_transactions(source, opts, reporter, note=False)
    require_amounts(transactions.has_amount, transactions.source)
    with reporter.progress("computing customer values"):
        values = compute_clv(transactions, settings)
    return None, values, transactions
