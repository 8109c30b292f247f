"""`clv summary`: the RFM summary the models use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, RunOptions, shared_options
from clvcli.errors import UsageError

if TYPE_CHECKING:
    from clvcli.engines.duckdb import SummaryPieces


@shared_options("input", "model", "output")
def summary_cmd(
    input_path: Annotated[
        str | None, typer.Argument(metavar="[INPUT]", help=INPUT_HELP + " Not with --emit-sql.")
    ] = None,
    emit_sql: Annotated[
        bool,
        typer.Option(
            "--emit-sql",
            help="Print SQL that computes this summary inside a warehouse (see --dialect).",
        ),
    ] = False,
    dialect: Annotated[
        str,
        typer.Option(
            "--dialect", help="SQL dialect: duckdb, postgres, spark, bigquery, snowflake, trino."
        ),
    ] = "duckdb",
    table: Annotated[
        str | None, typer.Option("--table", help="Table of transactions, for --emit-sql.")
    ] = None,
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

    With --emit-sql, prints a query computing the same columns from a warehouse table
    (--table, and --customer-col/--date-col/--amount-col for its column names).

    Example: clv summary sales.csv --period week --calibration-end 2024-06-30
    """
    if emit_sql:
        _emit_sql(opts, dialect, table, input_path, Reporter(opts.quiet))
        return
    if input_path is None:
        raise UsageError("give an INPUT file (or - for stdin), or --emit-sql --table NAME")
    from clvcli.cli.reading import start_reading, uses_spark

    if uses_spark(opts):
        if calibration_end is not None:
            raise UsageError("--calibration-end needs the default engine")
        from clvcli.cli.output import resolve_format
        from clvcli.cli.spark import summary_with_spark

        resolve_format(opts)
        summary_with_spark(input_path, opts, Reporter(opts.quiet))
        return

    # The log is read while the rest imports (or left to the engine that takes it);
    # the holdout columns of --calibration-end come from the reader's transactions.
    source = start_reading(input_path, opts, engine_may_read=calibration_end is None)
    from clvcli.cli.common import (
        check_model_options,
        engine_pieces,
        load_transactions,
        parse_option_date,
    )
    from clvcli.cli.output import emit, resolve_format
    from clvcli.contract import HOLDOUT_COLUMNS, SUMMARY_COLUMNS, SUMMARY_EXTRA
    from clvcli.core.compute import MODELS
    from clvcli.core.summary import calibration_table, customer_table

    reporter = Reporter(opts.quiet)
    check_model_options(opts, allowed=(*MODELS, "gamma-gamma"))
    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    end = parse_option_date(calibration_end, "--calibration-end", opts)
    resolve_format(opts)
    pieces, _ = engine_pieces(source, opts, reporter)
    if pieces is not None:
        _summary_in_pieces(pieces, opts, reporter)
        return
    transactions = load_transactions(source, opts, reporter)
    with reporter.progress("summarising customers"):
        if end is None:
            table = customer_table(transactions, as_of=as_of, period=opts.period)
            columns = SUMMARY_COLUMNS + SUMMARY_EXTRA
        else:
            table = calibration_table(
                transactions, calibration_end=end, as_of=as_of, period=opts.period
            )
            columns = SUMMARY_COLUMNS + SUMMARY_EXTRA + HOLDOUT_COLUMNS
    reporter.warn(transactions.warnings + table.warnings)
    emit(
        table.frame[columns],
        opts,
        reporter,
        money=("monetary_value", "total_spend", "monetary_value_holdout"),
        title="RFM summary",
        what="customers",
    )


def _summary_in_pieces(pieces: SummaryPieces, opts: RunOptions, reporter: Reporter) -> None:
    """The engine's summary, streamed a million customers at a time (whole for a
    terminal)."""
    import pandas as pd

    from clvcli.cli.output import emit, resolve_format, write_frames
    from clvcli.contract import SUMMARY_COLUMNS, SUMMARY_EXTRA

    columns = SUMMARY_COLUMNS + SUMMARY_EXTRA
    money = ("monetary_value", "total_spend")
    reporter.warn(pieces.warnings)
    with pieces as summary:
        pieces = (table.frame[columns] for table in summary.tables())
        if resolve_format(opts) != "table":
            write_frames(
                pieces, opts, reporter, money=money, what="customers", rows=summary.customers
            )
            return
        frame = pd.concat(list(pieces), ignore_index=True)
    emit(frame, opts, reporter, money=money, title="RFM summary", what="customers")


def _emit_sql(
    opts: RunOptions, dialect: str, table: str | None, input_path: str | None, reporter: Reporter
) -> None:
    from clvcli.cli.common import parse_option_date
    from clvcli.cli.output import write_document
    from clvcli.engines.sql import emitted_sql
    from clvcli.errors import UsageError

    if table is None:
        raise UsageError("--emit-sql needs --table NAME (the warehouse table of transactions)")
    if input_path is not None:
        raise UsageError("--emit-sql reads no INPUT; name the warehouse table with --table")
    import numpy as np

    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    sql = emitted_sql(
        dialect=dialect,
        table=table,
        customer_col=opts.customer_col or "customer_id",
        date_col=opts.date_col or "date",
        amount_col=opts.amount_col or "amount",
        period=opts.period,
        as_of=None if as_of is None else str(np.datetime64(as_of, "D")),
    )
    write_document(sql.encode("utf-8"), "sql", opts, reporter)
