"""The DuckDB engine: the per-customer summary computed by DuckDB from the files.

For logs too large for memory or too slow to hash in one thread, `--engine duckdb`
hands the one pass over the transactions to DuckDB (multi-threaded, spilling to
disk past memory) with the same SQL `clv summary --emit-sql` prints, and the models
work on the summary it returns. DuckDB reads ISO dates and plain numbers: Persian
digits and Jalali dates need the default engine.
"""

from __future__ import annotations

import os

import numpy as np

from clvcli.core.sql import summary_sql
from clvcli.core.summary import CustomerTable
from clvcli.errors import InputError, UsageError
from clvcli.io.columns import choose_columns
from clvcli.io.customer_order import DUCKDB_MEMORY
from clvcli.io.results import summary_from_arrow
from clvcli.io.source import STDIN, input_files, is_many, load_input, peek_header


def duckdb_summary(
    path: str, given: dict[str, str | None], *, period: str, as_of: int | None
) -> CustomerTable:
    """The summary of a file, folder or glob, computed by DuckDB."""
    try:
        import duckdb
    except ImportError:
        raise UsageError(
            "--engine duckdb needs the duckdb package",
            "pip install duckdb, or use the default engine",
        ) from None
    if path == STDIN:
        raise UsageError("--engine duckdb reads files, not stdin")
    files = input_files(path) if is_many(path) else [path]
    if not os.path.exists(files[0]):
        raise InputError(f"{path}: no such file")
    header = peek_header(load_input(files[0]))
    choice = choose_columns(header, path, given)
    kind = "parquet" if all(f.lower().endswith((".parquet", ".pq")) for f in files) else "csv"
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    reader = (
        f"read_parquet([{listed}])"
        if kind == "parquet"
        else f"read_csv([{listed}], header = true, union_by_name = true)"
    )
    sql = summary_sql(
        dialect="duckdb",
        table="source",
        customer_col=header[choice.customer],
        date_col=header[choice.date],
        amount_col=header[choice.amount],
        period=period,
        as_of=None if as_of is None else str(np.datetime64(as_of, "D")),
        source=reader,
    )
    try:
        connection = duckdb.connect()
        connection.execute("SET enable_progress_bar = false")
        # Bounded memory: DuckDB spills its hash tables to disk past this, instead of
        # taking most of the machine's memory as it does by default.
        connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
        connection.execute("SET preserve_insertion_order = false")
        relation = connection.sql(sql)
        # The method's name changed across DuckDB releases.
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        result = fetch()
    except duckdb.Error as exc:
        raise InputError(
            f"{path}: DuckDB could not read it ({str(exc).splitlines()[0]})",
            "the duckdb engine reads ISO dates and plain numbers; use the default engine",
        ) from None
    if result.num_rows == 0:
        raise InputError(f"{path}: no purchases", None)
    return summary_from_arrow(result, path, period=period, as_of=as_of)
