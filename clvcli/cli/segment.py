"""`clv segment`: the customers of some stages, or counts and value per stage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clvcli.cli.compute import emit_customers
from clvcli.cli.console import Reporter
from clvcli.cli.options import STDIN, RunOptions, shared_options
from clvcli.errors import UsageError
from clvcli.lifecycle import parse_stages

if TYPE_CHECKING:
    import pandas as pd

# The columns `--summary` reads of the table (see clvcli.core.segments.stage_summary).
_SUMMARY_READS = ("stage", "total_spend", "historical_clv", "total_clv", "channel")


@shared_options("input", "customers", "model", "stages", "output")
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
    min_clv: Annotated[
        float | None, typer.Option("--min-clv", help="Only customers with total_clv >= this.")
    ] = None,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Only customers acquired through this channel.")
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", help="The N customers of highest total_clv.", min=1)
    ] = None,
    sort: Annotated[
        str | None,
        typer.Option(
            "--sort",
            help="Sort by this column: numbers high to low, text and dates A to Z.",
        ),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="With --summary, split by: channel.")
    ] = None,
    *,
    opts: RunOptions,
) -> None:
    """The customers of some lifecycle stages, or a summary per stage.

    Example: clv segment sales.csv --stage loyal --channel instagram --min-clv 5000000
    """
    if stage is None and not summary and min_clv is None and top is None and channel is None:
        raise UsageError(
            "say which customers: --stage loyal (or loyal,repeat), --min-clv, --top, "
            "--channel, or --summary"
        )
    if by not in (None, "channel"):
        raise UsageError(f"--by {by} is not supported", "use --by channel")
    try:
        stages = parse_stages(stage) if stage is not None else None
    except ValueError as exc:
        raise UsageError(f"--stage: {exc}") from None
    from clvcli.cli.common import (
        compute_settings,
        customer_list,
        join_customer_list,
        load_transactions,
        log_customers,
        record_values,
    )
    from clvcli.cli.output import emit, resolve_format
    from clvcli.core.compute import compute_clv, compute_from_table
    from clvcli.core.segments import filter_stages, select_customers, stage_summary
    from clvcli.engines import refuse_other_engines
    from clvcli.io.results import (
        is_customer_values,
        is_summary,
        read_customer_values,
        read_summary,
        read_summary_files,
    )
    from clvcli.io.source import input_files, is_many, load_input, peek_header, plain_header

    reporter = Reporter(opts.quiet)
    settings = compute_settings(opts)
    resolve_format(opts)
    listed = customer_list(opts)
    if channel is not None:  # typed as the log's labels are read: ك is ک
        from clvcli.io.text import normalise_id

        channel = normalise_id(channel)

    def chosen(frame: pd.DataFrame) -> pd.DataFrame:
        """The customers asked for, in id order (--top and --sort come last), and with
        --summary only the columns it reads."""
        if stages is not None:
            frame = filter_stages(frame, stages)
        frame = select_customers(frame, min_clv=min_clv, channel=channel)
        if summary:
            wanted = (*_SUMMARY_READS, by, sort)
            frame = frame[[c for c in frame.columns if c in wanted]]
        return frame

    header = plain_header(input_path)
    # Whether the pieces were cut down as they came (then not again below).
    cut = False
    if header is not None and not is_customer_values(header) and not is_summary(header):
        # A log as it is: its engine computes the table piece by piece, each cut to
        # the customers asked for (all of them with a customer list, joined first).
        cut = listed is None
        keep = chosen if cut else (lambda frame: frame)
        frame = log_customers(input_path, opts, reporter, settings, keep, "clv segment")
    else:
        refuse_other_engines(opts.engine, "clv segment")
        if is_many(input_path):
            # A folder or glob of parts: a summary's parts, or a partitioned log.
            first = load_input(input_files(input_path)[0])
            loaded, header = input_path, peek_header(first, encoding=opts.encoding)
            del first
            if is_customer_values(header):
                header = []  # compute's own output comes as one file
        else:
            loaded = load_input(input_path)
            header = peek_header(loaded, encoding=opts.encoding)
        if is_customer_values(header):
            frame = read_customer_values(loaded)
        elif is_summary(header):
            opts.record.setdefault("inputs", []).append(input_path)
            table = (
                read_summary_files(input_path, period=opts.period, as_of=settings.as_of)
                if is_many(input_path)
                else read_summary(loaded, period=opts.period, as_of=settings.as_of)
            )
            result = compute_from_table(table, settings)
            reporter.warn(result.warnings)
            record_values(opts, result)
            frame = result.frame
        else:
            transactions = load_transactions(loaded, opts, reporter)
            result = compute_clv(transactions, settings)
            reporter.warn(result.warnings)
            record_values(opts, result)
            frame = result.frame
    if not cut:
        frame = chosen(join_customer_list(frame, listed))
    frame = select_customers(frame, top=top, sort=sort)
    if summary:
        if by is not None and "channel" not in frame:
            raise UsageError("--by channel needs a channel column", "name it with --channel-col")
        table = stage_summary(frame, by)
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
