"""`clv stages`: the lifecycle funnel, and its movements since an earlier date."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, RunOptions, shared_options

if TYPE_CHECKING:
    import pandas as pd


@shared_options("input", "customers", "model", "stages", "output")
def stages_cmd(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    by: Annotated[str | None, typer.Option("--by", help="Split the funnel: channel.")] = None,
    compare_to: Annotated[
        str | None,
        typer.Option(
            "--compare-to",
            help="An earlier as-of date: show the stage-to-stage movements since then.",
        ),
    ] = None,
    *,
    opts: RunOptions,
) -> None:
    """The lifecycle funnel: customers, share, revenue and CLV per stage, in order.

    With --compare-to DATE, a transition matrix instead: customers by their stage at
    DATE (rows, with new arrivals first) and now (columns).

    Example: clv stages sales.csv --compare-to 2024-06-30
    """
    from dataclasses import replace

    from clvcli.cli.common import (
        compute_settings,
        customer_list,
        customers_of,
        join_customer_list,
        load_transactions,
        log_customers,
        log_source,
        parse_option_date,
        record_values,
    )
    from clvcli.cli.output import emit, resolve_format
    from clvcli.core.compute import compute_clv
    from clvcli.core.funnel import FUNNEL_READS, funnel, transitions
    from clvcli.core.log import EngineLog
    from clvcli.errors import UsageError

    if by not in (None, "channel"):
        raise UsageError(f"--by {by} is not supported", "use --by channel")
    reporter = Reporter(opts.quiet)
    settings = compute_settings(opts)
    earlier_day = parse_option_date(compare_to, "--compare-to", opts)
    resolve_format(opts)
    listed = customer_list(opts)
    if earlier_day is None:
        wanted = (*FUNNEL_READS, by)

        def columns(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[[c for c in frame.columns if c in wanted]]

        keep = columns if listed is None else (lambda frame: frame)
        frame = log_customers(input_path, opts, reporter, settings, keep, "clv stages")
        frame = join_customer_list(frame, listed)
        if by is not None and by not in frame:
            raise UsageError("--by channel needs a channel column", "name it with --channel-col")
        emit(
            funnel(frame, by),
            opts,
            reporter,
            money=("revenue", "mean_clv", "total_clv"),
            percent=("share",),
            title="Lifecycle funnel",
            what="stages",
        )
        return
    source = log_source(input_path, opts, settings, "clv stages")
    if isinstance(source, EngineLog):
        # The engine summarises the log as of each date: of each piece, the ids and
        # stages alone are kept (the whole table with a customer list, joined after).
        keep = _ids_and_stages if listed is None else (lambda frame: frame)
        now_frame, now = customers_of(source, opts, reporter, settings, keep)
        reporter.warn(now.warnings)
        record_values(opts, now)
        if earlier_day >= now.as_of:
            raise UsageError("--compare-to must be before the as-of date")
        inputs = list(opts.record.get("inputs", []))  # the same log, recorded once
        then_settings = replace(settings, as_of=earlier_day)
        then_frame, then = customers_of(source.at(earlier_day), opts, reporter, then_settings, keep)
        opts.record["inputs"] = inputs
    else:
        transactions = load_transactions(source, opts, reporter)
        with reporter.progress("computing stages"):
            now = compute_clv(transactions, settings)
        reporter.warn(now.warnings)
        record_values(opts, now)
        now_frame = now.frame
        if earlier_day >= now.as_of:
            raise UsageError("--compare-to must be before the as-of date")
        with reporter.progress("computing stages at the earlier date"):
            then = compute_clv(transactions, replace(settings, as_of=earlier_day))
        then_frame = then.frame
    if then.choice is not None:  # chosen as clv stages --as-of DATE would choose
        reporter.warn([f"at {compare_to}, {then.choice.note()}"], kind="note")
    emit(
        transitions(join_customer_list(then_frame, listed), join_customer_list(now_frame, listed)),
        opts,
        reporter,
        title=f"Stage movements from {compare_to} to the as-of date",
        what="stages",
    )


def _ids_and_stages(frame: pd.DataFrame) -> pd.DataFrame:
    """What the movements between two dates read of a compute table."""
    return frame[["customer_id", "stage"]]
