"""`clv compute`: one row per customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, SUMMARY_HELP, RunOptions, shared_options

if TYPE_CHECKING:
    import pandas as pd

MONEY = (
    "total_spend",
    "avg_order_value",
    "historical_clv",
    "expected_avg_spend",
    "predicted_clv",
    "total_clv",
    "acquisition_cost",
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
    "orders",
    "last_purchase",
    "total_spend",
    "predicted_clv",
    "p_alive",
]


@shared_options("input", "customers", "model", "stages", "output")
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
    from clvcli.cli.common import (
        compute_settings,
        customer_list,
        duckdb_table,
        join_customer_list,
        load_summary,
        load_transactions,
        one_source,
        record_values,
        uses_duckdb,
    )
    from clvcli.cli.output import resolve_format
    from clvcli.core.compute import compute_clv, compute_from_table

    one_source(input_path, summary_path)
    reporter = Reporter(opts.quiet)
    settings = compute_settings(opts)
    resolve_format(opts)
    listed = customer_list(opts)
    if summary_path is not None or uses_duckdb(opts):
        if summary_path is not None:
            table = load_summary(summary_path, opts, reporter)
        else:
            table = duckdb_table(input_path, opts, reporter)
        with reporter.progress("computing customer values"):
            result = compute_from_table(table, settings)
    else:
        transactions = load_transactions(input_path, opts, reporter)
        with reporter.progress("computing customer values"):
            result = compute_clv(transactions, settings)
        del transactions  # millions of rows, not needed for writing
    reporter.warn(result.warnings)
    record_values(opts, result)
    emit_customers(join_customer_list(result.frame, listed), opts, reporter)


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
