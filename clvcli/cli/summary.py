"""`clv summary`: the RFM summary the models use."""

from __future__ import annotations

from typing import Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, RunOptions, shared_options


@shared_options("input", "model", "output")
def summary_cmd(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    calibration_end: Annotated[
        str | None,
        typer.Option(
            "--calibration-end",
            help="End of the calibration period; adds holdout columns for the rest.",
        ),
    ] = None,
    *,
    opts: RunOptions,
) -> None:
    """The RFM summary per customer: frequency, recency, T, monetary_value.

    Field convention: frequency counts repeat purchase days; recency and T are in
    --period units; monetary_value is the mean of the repeat purchases.

    Example: clv summary sales.csv --period week --calibration-end 2024-06-30
    """
    from clvcli.cli.common import check_model_options, load_transactions, parse_option_date
    from clvcli.cli.output import emit, resolve_format
    from clvcli.core.compute import MODELS
    from clvcli.core.summary import (
        HOLDOUT_COLUMNS,
        SUMMARY_COLUMNS,
        calibration_table,
        customer_table,
    )

    reporter = Reporter(opts.quiet)
    check_model_options(opts, allowed=(*MODELS, "gamma-gamma"))
    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    end = parse_option_date(calibration_end, "--calibration-end", opts)
    resolve_format(opts)
    transactions = load_transactions(input_path, opts, reporter)
    with reporter.progress("summarising customers"):
        if end is None:
            table = customer_table(transactions, as_of=as_of, period=opts.period)
            columns = SUMMARY_COLUMNS
        else:
            table = calibration_table(
                transactions, calibration_end=end, as_of=as_of, period=opts.period
            )
            columns = SUMMARY_COLUMNS + HOLDOUT_COLUMNS
    reporter.warn(transactions.warnings + table.warnings)
    emit(
        table.frame[columns],
        opts,
        reporter,
        money=("monetary_value", "monetary_value_holdout"),
        title="RFM summary",
        what="customers",
    )
