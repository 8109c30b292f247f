"""`clv segment`: the customers of some stages, or counts and value per stage."""

from __future__ import annotations

from typing import Annotated

import typer

from clvcli.cli.compute import emit_customers
from clvcli.cli.console import Reporter
from clvcli.cli.options import STDIN, RunOptions, shared_options
from clvcli.errors import UsageError
from clvcli.lifecycle import parse_stages


@shared_options("input", "model", "stages", "output")
def segment_cmd(
    input_path: Annotated[
        str,
        typer.Argument(
            metavar="[INPUT]",
            help="Transaction log or the output of clv compute; - or nothing reads stdin.",
        ),
    ] = STDIN,
    stage: Annotated[
        str | None,
        typer.Option(
            "--stage",
            help="Stages to list, comma-separated: new, repeat, loyal, at_risk, churned.",
        ),
    ] = None,
    summary: Annotated[
        bool, typer.Option("--summary", help="Counts, share, revenue and mean CLV per stage.")
    ] = False,
    *,
    opts: RunOptions,
) -> None:
    """The customers of some lifecycle stages, or a summary per stage.

    Example: clv compute sales.csv | clv segment --stage loyal,repeat
    """
    if stage is None and not summary:
        raise UsageError("say which customers: --stage loyal (or loyal,repeat) or --summary")
    try:
        stages = parse_stages(stage) if stage is not None else None
    except ValueError as exc:
        raise UsageError(f"--stage: {exc}") from None
    from clvcli.cli.common import compute_settings, load_transactions
    from clvcli.cli.output import emit, resolve_format
    from clvcli.core.compute import compute_clv, compute_from_table
    from clvcli.core.segments import filter_stages, stage_summary
    from clvcli.io.results import is_customer_values, is_summary, read_customer_values, read_summary
    from clvcli.io.source import is_many, load_input, peek_header

    reporter = Reporter(opts.quiet)
    settings = compute_settings(opts)
    resolve_format(opts)
    if is_many(input_path):
        loaded, header = input_path, []
    else:
        loaded = load_input(input_path)
        header = peek_header(loaded, encoding=opts.encoding)
    if is_customer_values(header):
        frame = read_customer_values(loaded)
    elif is_summary(header):
        table = read_summary(loaded, period=opts.period, as_of=settings.as_of)
        result = compute_from_table(table, settings)
        reporter.warn(result.warnings)
        frame = result.frame
    else:
        transactions = load_transactions(loaded, opts, reporter)
        result = compute_clv(transactions, settings)
        reporter.warn(result.warnings)
        frame = result.frame
    if stages is not None:
        frame = filter_stages(frame, stages)
    if summary:
        table = stage_summary(frame)
        emit(
            table,
            opts,
            reporter,
            money=("revenue", "mean_historical_clv", "mean_total_clv"),
            percent=("share",),
            title="Customers by stage",
            what="stages",
        )
        return
    emit_customers(frame, opts, reporter)
