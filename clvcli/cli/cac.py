"""`clv cac`: acquisition cost against CLV per channel and acquisition cohort."""

from __future__ import annotations

from typing import Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, RunOptions, parse_fraction, shared_options


@shared_options("input", "model", "stages", "output")
def cac_cmd(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    costs: Annotated[
        str,
        typer.Option(
            "--costs",
            metavar="FILE",
            help="Spend per month (2024-03, 1403-07 or a date) and optionally channel.",
        ),
    ],
    by: Annotated[
        str, typer.Option("--by", help="channel, cohort or channel,cohort.")
    ] = "channel,cohort",
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

    Example: clv cac sales.csv --costs spend.csv --by channel --margin 0.3
    """
    from clvcli.cli.common import compute_settings, load_transactions
    from clvcli.cli.output import emit, resolve_format
    from clvcli.core.cac import CacSettings, cac_table
    from clvcli.core.compute import compute_clv
    from clvcli.errors import UsageError
    from clvcli.io.costs import read_costs

    if cohort not in ("month", "quarter"):
        raise UsageError(f"--cohort {cohort} is not one of: month, quarter")
    if not 0 <= thin <= healthy:
        raise UsageError("--thin must be between 0 and --healthy")
    reporter = Reporter(opts.quiet)
    settings = compute_settings(opts)
    resolve_format(opts)
    spend, calendar = read_costs(costs)
    transactions = load_transactions(input_path, opts, reporter)
    with reporter.progress("computing customer values"):
        values = compute_clv(transactions, settings)
    reporter.warn(values.warnings)
    horizon = settings.horizon if settings.horizon is not None else 12.0
    table = cac_table(
        values.frame,
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
