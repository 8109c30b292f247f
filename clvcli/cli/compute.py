"""`clv compute`: one row per customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, SUMMARY_HELP, RunOptions, shared_options

if TYPE_CHECKING:
    import pandas as pd

    from clvcli.core.compute import ComputeSettings
    from clvcli.engines.duckdb import SummaryPieces
    from clvcli.io.customers import CustomerList

MONEY = (
    "total_spend",
    "avg_order_value",
    "historical_clv",
    "expected_avg_spend",
    "predicted_clv",
    "total_clv",
    "acquisition_cost",
    "predicted_clv_lower",
    "predicted_clv_upper",
)

TABLE_COLUMNS = [
    "customer_id",
    "first_purchase",
    "last_purchase",
    "orders",
    "total_spend",
    "days_since_last",
    "historical_clv",
    "p_alive",
    "predicted_clv",
    "predicted_clv_lower",
    "predicted_clv_upper",
    "total_clv",
    "stage",
    "channel",
]

# On a narrow terminal, these go first.
TABLE_DROP_ORDER = [
    "channel",
    "first_purchase",
    "days_since_last",
    "historical_clv",
    "predicted_clv_lower",
    "predicted_clv_upper",
    "orders",
    "last_purchase",
    "total_spend",
    "predicted_clv",
    "p_alive",
]


@shared_options("input", "customers", "model", "interval", "stages", "output")
def compute_cmd(
    input_path: Annotated[str | None, typer.Argument(metavar="INPUT", help=INPUT_HELP)] = None,
    summary_path: Annotated[
        str | None, typer.Option("--summary", metavar="FILE", help=SUMMARY_HELP)
    ] = None,
    *,
    opts: RunOptions,
) -> None:
    """One row per customer: RFM summary, historical CLV, predicted CLV, P(alive), stage.

    Example: clv compute sales.csv --margin 0.3 -o customers.parquet
    """
    from clvcli.cli.reading import start_reading, uses_spark

    if uses_spark(opts):
        _compute_with_spark(input_path, summary_path, opts)
        return
    # BG/BB counts purchase periods, which only the transactions hold.
    periods = opts.model == "bgbb" or opts.params is not None
    # The log is read while the rest imports (or left to the engine that takes it).
    source = start_reading(input_path, opts, engine_may_read=not periods)
    from clvcli.cli.common import (
        compute_settings,
        customer_list,
        engine_pieces,
        join_customer_list,
        load_summary,
        load_transactions,
        one_source,
        record_values,
        summary_pieces,
    )
    from clvcli.cli.output import resolve_format, write_frames
    from clvcli.core.compute import (
        compute_from_table,
        compute_table_in_pieces,
        needs_transactions,
        settle_model,
        transactions_table,
    )
    from clvcli.models import import_optimizer

    one_source(input_path, summary_path)
    reporter = Reporter(opts.quiet)
    settings = compute_settings(opts)
    fmt = resolve_format(opts)
    listed = customer_list(opts)
    if summary_path is not None:
        pieces = summary_pieces(summary_path, opts, reporter)
    else:
        pieces, settings = engine_pieces(source, opts, reporter, settings)
    if pieces is not None:
        _compute_in_pieces(pieces, settings, listed, fmt, opts, reporter)
        return
    transactions = None
    if summary_path is not None:
        table = load_summary(summary_path, opts, reporter)
    else:
        if settings.saved is None and settings.model != "none":
            import_optimizer()  # for the fit, while the log is still being read
        transactions = load_transactions(source, opts, reporter)
        with reporter.progress("choosing the model"):
            settings = settle_model(transactions, settings)  # --model auto's holdout
        with reporter.progress("summarising customers"):
            # Without BG/BB the rows are done with once summed up: they go before the
            # table is built, and the models run without them.
            keep = needs_transactions(settings)
            table = transactions_table(transactions, settings, consume=not keep)
            if not keep:
                transactions = None
    if fmt != "table" and listed is None:
        # Written as it is made, a million customers at a time: the model columns of
        # everyone are never held at once, and each piece is written while the next
        # is made.
        with reporter.progress("computing customer values"):
            values = compute_table_in_pieces(table, settings, transactions)
        del transactions
        reporter.warn(values.warnings)
        record_values(opts, values)
        customers = len(table.frame)
        del table
        write_frames(values.pieces, opts, reporter, money=MONEY, what="customers", rows=customers)
        return
    with reporter.progress("computing customer values"):
        result = compute_from_table(table, settings, transactions)
    del transactions, table
    reporter.warn(result.warnings)
    record_values(opts, result)
    emit_customers(join_customer_list(result.frame, listed), opts, reporter)


def _compute_with_spark(input_path: str | None, summary_path: str | None, opts: RunOptions) -> None:
    from clvcli.cli.common import compute_settings, customer_list, one_source
    from clvcli.cli.spark import compute_with_spark

    one_source(input_path, summary_path)
    settings = compute_settings(opts)
    compute_with_spark(
        input_path, summary_path, settings, customer_list(opts), opts, Reporter(opts.quiet)
    )


def _compute_in_pieces(
    pieces: SummaryPieces,
    settings: ComputeSettings,
    listed: CustomerList | None,
    fmt: str,
    opts: RunOptions,
    reporter: Reporter,
) -> None:
    """Compute from a summary on disk (the engine's, or the --summary given, sorted),
    a million customers at a time.

    The table streams to the output, so memory holds the models' distinct rows and
    one piece, whatever the customer count. A terminal table or a customer list
    needs the whole table at once.
    """
    import pandas as pd

    from clvcli.cli.common import join_customer_list, record_values
    from clvcli.cli.output import write_frames
    from clvcli.core.compute import compute_in_pieces

    with pieces as summary:
        with reporter.progress("fitting the models"):
            values = compute_in_pieces(summary, settings)
        reporter.warn(values.warnings)
        shown = len(values.warnings)
        record_values(opts, values)
        if fmt == "table" or listed is not None:
            with reporter.progress("computing customer values"):
                frame = pd.concat(list(values.pieces), ignore_index=True)
            emit_customers(join_customer_list(frame, listed), opts, reporter)
        else:
            write_frames(
                values.pieces,
                opts,
                reporter,
                money=MONEY,
                what="customers",
                rows=summary.customers,
            )
    reporter.warn(values.warnings[shown:])


def emit_customers(frame: pd.DataFrame, opts: RunOptions, reporter: Reporter) -> None:
    """The compute table to stdout or -o, its terminal view led by value and stage."""
    from clvcli.cli.output import emit

    emit(
        frame,
        opts,
        reporter,
        money=MONEY,
        title="Customers",
        what="customers",
        table_columns=TABLE_COLUMNS,
        keep=("total_clv", "stage"),
        drop_order=TABLE_DROP_ORDER,
    )
