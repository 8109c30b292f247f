"""The DuckDB engine, clv's default: the per-customer summary computed by DuckDB.

DuckDB takes a typed Parquet log as it is (:func:`parquet_log` says when the reader
would read it the same way) and runs the one pass over the transactions with the
query of :mod:`clvcli.engines.sql`, multi-threaded and spilling to disk past memory.
Any other log is the reader's (clvcli.io), which knows every input rule.

Memory stays bounded: DuckDB works within CLV_DUCKDB_MEMORY and spills to a
temporary folder, and the summary it writes is read back a million customers at a
time (:class:`SummaryPieces`), so the models hold only its distinct rows.

"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from clvcli.contract import LITT_COLUMN, CustomerTable, days_per
from clvcli.core.money import EXACT_UNITS, SCALES, TOLERANCE
from clvcli.engines.sql import summary_sql
from clvcli.errors import InputError, UsageError
from clvcli.io.columns import choose_columns
from clvcli.io.customer_order import DUCKDB_MEMORY
from clvcli.io.names import shown, without_surrogates
from clvcli.io.results import (
    SUMMARY_REQUIRED,
    check_summary_names,
    summary_columns,
    summary_table,
)
from clvcli.io.scratch import ScratchFolder
from clvcli.io.source import STDIN, input_files, is_many
from clvcli.io.writers import CHUNK_ROWS
from clvcli.shown import quote_value


@dataclass
class SummaryPieces:
    """A summary DuckDB computed, held in memory or in a temporary Parquet file, to be
    read piece by piece.

    A log of up to :data:`IN_MEMORY_ROWS` transactions keeps its summary in memory
    as Arrow (``table``, 80 bytes a customer); past that the summary may outgrow
    memory, so it stays on disk (``file``). Either way the models fit on its
    distinct rows (:meth:`history`, :meth:`spend`: grouped by DuckDB, with how many
    customers share each row) and :meth:`tables` gives it back in pieces of a
    million customers, in customer id order. Use it in a ``with`` block, which
    removes the file. ``litt``: whether the summary has the customers' litt, which
    :meth:`history` then sums per row.
    """

    source: str
    period: str
    as_of: int
    customers: int
    file: str | None = None
    folder: ScratchFolder | None = None
    piece_rows: int = CHUNK_ROWS
    litt: bool = False
    table: pa.Table | None = None
    # Customers whose rows net to refunds only, left out of the summary.
    refund_only: int = 0
    # What the reader would have said of the same log, for the run to say with its own.
    warnings: list[str] = field(default_factory=list)

    def history(self) -> tuple[np.ndarray, ...]:
        """Distinct (frequency, recency, T) rows and how many customers share each;
        then the sum of their litt per row, when the summary has it."""
        litt = f", sum({LITT_COLUMN}) AS {LITT_COLUMN}" if self.litt else ""
        return self._grouped('frequency, recency, "T"', "TRUE", litt)

    def spend(self) -> tuple[np.ndarray, ...]:
        """Distinct (frequency, monetary_value) rows of repeat buyers who spent, counted."""
        return self._grouped("frequency, monetary_value", "frequency > 0 AND monetary_value > 0")

    def _grouped(self, columns: str, where: str, sums: str = "") -> tuple[np.ndarray, ...]:
        """The distinct rows of ``columns`` and how many share each (then ``sums``).

        In the order of their first customer, as the default engine groups the whole
        table: the models then sum the same terms in the same order and fit the same
        parameters, to the last digit.
        """
        with duckdb_session(self.source) as connection:
            if self.table is not None:
                numbered = self.table.append_column(
                    "file_row_number", pa.array(np.arange(self.table.num_rows))
                )
                connection.register("clv_summary", numbered)
                written = "clv_summary"
            else:
                written = f"read_parquet({sql_text(str(self.file))}, file_row_number = true)"
            result = connection.execute(
                f"SELECT {columns}, count(*) AS customers{sums} FROM {written} WHERE {where} "
                "GROUP BY ALL ORDER BY min(file_row_number)"
            ).fetchnumpy()
        return tuple(np.asarray(values, dtype=np.float64) for values in result.values())

    def tables(self) -> Iterator[CustomerTable]:
        """The summary's customers, ``piece_rows`` at a time, in customer id order."""
        first_row = 0
        for batch in self._batches():
            columns = summary_columns(batch.schema, [batch], self.source)
            yield summary_table(
                columns, self.source, period=self.period, as_of=self.as_of, first_row=first_row
            )
            first_row += batch.num_rows

    def _batches(self) -> Iterator[pa.RecordBatch]:
        if self.table is None:
            yield from pq.ParquetFile(str(self.file)).iter_batches(batch_size=self.piece_rows)
            return
        for start in range(0, self.table.num_rows, self.piece_rows):
            yield self.table.slice(start, self.piece_rows).combine_chunks().to_batches()[0]

    def __enter__(self) -> SummaryPieces:
        return self

    def __exit__(self, *exc: object) -> None:
        self.table = None
        if self.folder is not None:
            self.folder.cleanup()


def summary_file_pieces(path: str, *, period: str, as_of: int | None) -> SummaryPieces:
    """A summary in Parquet (a file, or a folder or glob of parts) sorted by DuckDB
    into a temporary file, to be read piece by piece.

    For summaries larger than memory, as a warehouse writes for tens of millions of
    customers. DuckDB checks every row in one pass (an error names the part and row
    the default engine names) and sorts the rows by customer id; the models then fit
    on its distinct rows and the table is computed a million customers at a time.
    """
    files = input_files(path) if is_many(path) else [path]
    if not all(os.path.isfile(f) for f in files):
        raise InputError(f"{path}: no such file", None)
    if not all(f.lower().endswith((".parquet", ".pq")) for f in files):
        raise UsageError(
            "--engine duckdb reads a summary from Parquet files",
            "give the summary as Parquet, or leave out --engine duckdb",
        )
    names = _same_columns(files, path)
    folder = ScratchFolder("summary")
    try:
        file = os.path.join(folder.name, "summary.parquet")
        with duckdb_session(path) as connection:
            listed = ", ".join(sql_file(f) for f in files)
            reader = f"read_parquet([{listed}], filename = true, file_row_number = true)"
            _check_summary_rows(connection, reader, names, files)
            kept = [n for n in names if n in _SUMMARY_KEPT]
            selected = ", ".join(
                'CAST("customer_id" AS VARCHAR) AS customer_id' if n == "customer_id" else _name(n)
                for n in kept
            )
            connection.execute(
                f"COPY (SELECT {selected} FROM {reader} ORDER BY 1) TO {sql_text(file)} "
                f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {CHUNK_ROWS})"
            )
            written = f"read_parquet({sql_text(file)})"
            twice = connection.execute(
                f"SELECT customer_id FROM {written} GROUP BY 1 HAVING count(*) > 1 "
                "ORDER BY 1 LIMIT 1"
            ).fetchone()
            if twice is not None:
                raise InputError(
                    f"{path}: customer {quote_value(twice[0])} has more than one row; a "
                    "summary has one per customer",
                    "give each customer's summary once (are two parts of it the same?)",
                )
            latest = "NULL"  # the as-of date the summary implies, as the default engine
            if "first_purchase" in names:
                unit = days_per(period)
                latest = (
                    f'max(CAST(first_purchase AS DATE) + CAST(round("T" * {unit!r}) AS INTEGER))'
                )
            customers, end = connection.execute(
                f"SELECT count(*), {latest} FROM {written}"
            ).fetchone()
    except BaseException:
        folder.cleanup()
        raise
    if as_of is None and end is None:
        folder.cleanup()
        raise UsageError(
            f"{path}: this summary has no first_purchase column, so give its --as-of", None
        )
    end_day = int(np.datetime64(end, "D").astype(np.int64)) if as_of is None else as_of
    return SummaryPieces(path, period, end_day, int(customers), file, folder)


# The columns of a summary that the table is built from (see io/results.py).
_SUMMARY_KEPT = (*SUMMARY_REQUIRED, "orders", "total_spend", "first_purchase", "channel")


def _same_columns(files: list[str], path: str) -> list[str]:
    """The columns of every part (read from the footers), which must be the same."""
    try:
        schemas = [pq.read_schema(f).names for f in files]
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: is not a readable Parquet summary ({exc})", None) from None
    if any(set(names) != set(schemas[0]) for names in schemas):
        raise InputError(
            f"{path}: the summary's files do not all have the same columns",
            "give parts of one summary, written by one query",
        )
    check_summary_names(schemas[0], path)
    return schemas[0]


# What the default engine trims from an id (Python's and Arrow's whitespace), as a
# class of RE2, whose \\s holds only five of these characters.
_WHITESPACE = "\\t-\\r\\x{1c}-\\x{1f} \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}" + (
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
)


def _check_summary_rows(connection: Any, reader: str, names: list[str], files: list[str]) -> None:
    """The first row a model could not use, named as the default engine names it: part
    by part in order, the columns in the order it checks them, the first row."""
    number = {n: f"TRY_CAST({_name(n)} AS DOUBLE)" for n in SUMMARY_REQUIRED[1:]}
    frequency, recency, T, monetary = number.values()
    checks = {
        "customer_id": "customer_id IS NULL OR "
        f"regexp_full_match(CAST(customer_id AS VARCHAR), '[{_WHITESPACE}]*')",
        "frequency": f"{frequency} IS NULL OR NOT isfinite({frequency}) OR {frequency} < 0 "
        f"OR {frequency} % 1 <> 0",
        "recency": f"{recency} IS NULL OR NOT isfinite({recency}) OR {recency} < 0",
        "T": f"{T} IS NULL OR NOT isfinite({T}) OR coalesce({recency} > {T} + 1e-6, false)",
        "monetary_value": f"{monetary} IS NULL OR NOT isfinite({monetary}) OR {monetary} < 0",
    }
    if "first_purchase" in names:
        checks["first_purchase"] = "first_purchase IS NULL"
    parts = ", ".join(
        f"min(file_row_number) FILTER (WHERE {rule}), count(*) FILTER (WHERE {rule})"
        for rule in checks.values()
    )
    found = {
        row[0]: row[1:]
        for row in connection.execute(
            f"SELECT filename, {parts} FROM {reader} GROUP BY filename"
        ).fetchall()
    }
    for file in files:
        result = next((v for k, v in found.items() if os.path.samefile(k, file)), None)
        if result is None:
            continue
        for index, column in enumerate(checks):
            row, count = result[2 * index], result[2 * index + 1]
            if count:
                if column == "first_purchase":
                    raise InputError(
                        f"{file}: row {row + 1}, column 'first_purchase': no date "
                        f"({count} such rows)",
                        "every customer in a summary has the date of their first purchase",
                    )
                raise InputError(
                    f"{file}: row {row + 1}, column '{column}': a value a summary cannot hold "
                    f"({count} such rows)",
                    "frequency is a whole number >= 0, 0 <= recency <= T, monetary_value >= 0",
                )


def _name(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


@contextmanager
def duckdb_session(path: str) -> Iterator[Any]:
    """A DuckDB connection with bounded memory; its errors become clear input errors."""
    try:
        import duckdb
    except ImportError:
        raise UsageError(
            "--engine duckdb needs the duckdb package",
            "pip install duckdb, or use the default engine",
        ) from None
    try:
        with ScratchFolder("duckdb") as spill:
            connection = duckdb.connect()
            try:
                _configure(connection, spill)
                yield connection
            finally:
                connection.close()
    except duckdb.Error as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Out of Memory" in first_line:
            raise InputError(
                f"{path}: DuckDB ran out of its memory limit of {DUCKDB_MEMORY} ({first_line})",
                "set CLV_DUCKDB_MEMORY higher (say 4GB), or use the default engine",
            ) from None
        raise InputError(
            f"{path}: DuckDB could not read it ({first_line})",
            "the duckdb engine reads ISO dates and plain numbers; use the default engine",
        ) from None


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_file(path: str) -> str:
    """A SQL literal DuckDB reads as exactly this one file.

    DuckDB expands glob characters in every path it is given, so ``sales[1].csv``
    would read ``sales1.csv``: each is put in a class of its own (``[[]``), which
    matches only itself. DuckDB takes names as UTF-8, so a name that is not is
    refused rather than mangled.
    """
    if without_surrogates(path) != path:
        raise UsageError(
            f"{shown(path)}: --engine duckdb cannot open a file whose name is not UTF-8",
            "rename the file, or use the default engine (--engine arrow)",
        )
    return sql_text(_GLOB_CHARACTERS.sub(r"[\g<0>]", path))


_GLOB_CHARACTERS = re.compile(r"[\[\]*?]")


def _configure(connection: Any, spill: str) -> None:
    connection.execute("SET enable_progress_bar = false")
    # Bounded memory: DuckDB spills its hash tables and sort runs to disk past this,
    # instead of taking most of the machine's memory as it does by default. The
    # spill folder is a fresh temporary one, so spilling works from any working
    # folder (DuckDB's default is .tmp in it, which may be read-only).
    connection.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")
    connection.execute(f"SET temp_directory = {sql_text(spill)}")
    connection.execute("SET preserve_insertion_order = false")


@dataclass(frozen=True)
class ParquetLog:
    """A Parquet log (a file, or a folder or glob of parts) DuckDB reads as it is: the
    reader would read its three columns the same way, row for row."""

    path: str
    files: tuple[str, ...]
    customer: str
    date: str
    amount: str
    integer_ids: bool
    rows: int = 0
    # Ids checked in normal form already (a CSV log's, while DuckDB typed it).
    checked_ids: bool = False
    # Amounts of a floating type, which may hold NaN or infinities the footers do
    # not count (the reader refuses them).
    float_amounts: bool = False

    def reader(self) -> str:
        return "read_parquet([" + ", ".join(sql_file(f) for f in self.files) + "])"


# The earliest first day taken as it is: a DATE column of years before 1700 is a
# Jalali log stored as Gregorian dates, which the reader reads as Jalali.
_EARLIEST_DAY = np.datetime64("1700-01-01")


# The text ids DuckDB groups as they are, as a condition on {c}: in normal form
# (ASCII, no blank at either end, so nothing to normalise) and not a whole number
# written as a float, which the reader reads as the number (17850.0 is 17850).
ID_RULE = (
    "strlen({c}) = length({c}) AND ascii({c}) > 32 AND ascii(right({c}, 1)) > 32 "
    "AND NOT contains({c}, '.0')"
)

# Logs of at least this many transactions go to DuckDB as they are (see direct_rows).
DIRECT_ROWS = 25_000_000
# A log of up to this many transactions keeps its summary in memory (at most as many
# customers, 80 bytes each); a larger one writes it to a temporary file.
IN_MEMORY_ROWS = 20_000_000
# Transactions per range of customer ids whose summary DuckDB computes at a time (see
# _summary_by_ranges): its aggregates do not spill enough for more within 1 GB.
RANGE_ROWS = 20_000_000
# Ids the ranges' bounds are read from: those whose hash falls in one bucket of this many.
_BOUND_BUCKETS = 1000


def utf8_name(path: str) -> bool:
    """Whether DuckDB can be given ``path``: it takes file names as UTF-8, and a name
    of other bytes (``caf\\xe9.parquet``) is the reader's to open."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def direct_rows() -> int:
    """The fewest transactions DuckDB takes as they are (``CLV_DIRECT_ROWS``).

    Below this the reader is faster and small enough. Measured side by side on this
    project's 2-core machine (floor, DuckDB's path, the reader's, alternating), the
    reader took 3.3-3.7 s against 5.0-5.4 s on a 1M Parquet log, 10.7-11.3 s (1.0 GB)
    against 15.0-16.3 s (1.2-1.3 GB) on 10M Parquet and 13.4-15.4 s against 21.1-22.7
    s on 10M CSV: DuckDB's one query runs in 5 s of it, but its ordered, refund-netting
    summary spills under the memory limit, and the CSV is typed in a pass of its own.
    Past it, where the reader would hold gigabytes (about 0.1 GB a million
    transactions), DuckDB's bounded memory is what counts."""
    value = os.environ.get("CLV_DIRECT_ROWS", "")
    try:
        return max(int(value), 0) if value else DIRECT_ROWS
    except ValueError:
        raise UsageError(
            f"CLV_DIRECT_ROWS must be a whole number of transactions, not '{value}'", None
        ) from None


def parquet_log(path: str, read: Any) -> ParquetLog | None:
    """The log at ``path`` if DuckDB may read it as it is, from the files' footers
    alone; None sends it to the reader.

    Only typed Parquet qualifies: text or integer ids, DATE or zone-less TIMESTAMP
    dates, numeric amounts, no empty cell in any of the three (the footers count
    them), no option that changes how a log is read, and no column the reader would
    use beyond the three (a channel, an order number, a quantity). Whether the text
    ids are in normal form is checked on the rows, later (see :func:`_checked_rows`).
    """
    if not plain_reading(path, read):
        return None
    files = log_files(path, (".parquet", ".pq"))
    if files is None:
        return None
    try:
        schemas = [pq.read_schema(f) for f in files]
        header = schemas[0].names
    except (pa.ArrowException, OSError):
        return None
    positions = three_columns(header, path, read)
    if positions is None:
        return None
    names = (header[positions[0]], header[positions[1]], header[positions[2]])
    if any(schema.names != header for schema in schemas[1:]):
        return None
    # Parts that type a column differently (integer amounts in one, doubles in the
    # next; integer ids beside text ids) are the reader's: DuckDB would read every
    # part with the first one's types.
    types = [tuple(schema.field(n).type for n in names) for schema in schemas]
    if any(typed != types[0] for typed in types[1:]):
        return None
    if not all(_typed(schema, names) for schema in schemas):
        return None
    try:
        rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        if not all(_filled_and_modern(f, names) for f in files):
            return None
    except (pa.ArrowException, OSError):
        return None
    integer_ids = pa.types.is_integer(schemas[0].field(names[0]).type)
    float_amounts = pa.types.is_floating(schemas[0].field(names[2]).type)
    return ParquetLog(path, tuple(files), *names, integer_ids, rows, float_amounts=float_amounts)


def log_files(path: str, suffixes: tuple[str, ...]) -> list[str] | None:
    """The files of a log (one file, or a folder or glob of parts) when every one is
    a regular file named with one of ``suffixes`` and in UTF-8; None otherwise."""
    try:
        files = input_files(path) if is_many(path) else [path]
    except InputError:
        return None
    if not files or not all(
        os.path.isfile(f) and f.lower().endswith(suffixes) and utf8_name(f) for f in files
    ):
        return None
    return files


def plain_reading(path: str, read: Any) -> bool:
    """Whether ``read`` asks nothing of the reader beyond finding the three columns
    (no calendar, date format, zone, sheet or channel of its own, no rows to skip),
    and ``path`` is not stdin."""
    if path == STDIN or read.calendar not in ("auto", "gregorian") or read.skip_invalid:
        return False
    return not (read.date_format or read.timezone or read.sheet or read.channel_col)


def three_columns(header: list[str], path: str, read: Any) -> tuple[int, int, int] | None:
    """The positions of the customer, date and amount columns when they are all the
    reader would use of ``header`` (no channel, order number or quantity beside
    them, no column chosen by its values' shape); None otherwise."""
    try:
        choice = choose_columns(header, path, read.given_columns())
    except (InputError, UsageError):
        return None
    if choice.amount is None or choice.channel is not None or choice.quantity is not None:
        return None
    if choice.order is not None or choice.customer_by_shape or choice.note:
        return None
    return choice.customer, choice.date, choice.amount


def _typed(schema: pa.Schema, names: tuple[str, str, str]) -> bool:
    customer, date, amount = (schema.field(n).type for n in names)
    ids = pa.types.is_string(customer) or pa.types.is_large_string(customer)
    ids = ids or pa.types.is_integer(customer)
    dates = pa.types.is_date(date) or (pa.types.is_timestamp(date) and date.tz is None)
    amounts = pa.types.is_floating(amount) or pa.types.is_integer(amount)
    return ids and dates and (amounts or pa.types.is_decimal(amount))


def _filled_and_modern(file: str, names: tuple[str, str, str]) -> bool:
    """Whether every row group's statistics say the three columns have no empty
    cell and no date before 1700 (a group without statistics says nothing)."""
    metadata = pq.ParquetFile(file).metadata
    index = {metadata.schema.column(i).name: i for i in range(metadata.num_columns)}
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        for name in names:
            if name not in index:
                return False
            stats = row_group.column(index[name]).statistics
            if stats is None or not stats.has_null_count or stats.null_count:
                return False
            if name == names[1]:
                if not stats.has_min_max:
                    return False
                if np.datetime64(stats.min, "D") < _EARLIEST_DAY:
                    return False
    return True


@dataclass(frozen=True)
class CheckedRows:
    """What a pass over a clean log's rows learnt: the units its amounts are whole
    numbers of (``scale`` per 1 of money, see :mod:`clvcli.core.money`), or None."""

    scale: float | None = None


def _checked_rows(connection: Any, log: ParquetLog, *, money: bool = True) -> CheckedRows | None:
    """What the rows say, or None when they need the reader: every text id in
    normal form, none empty and none a whole number written as a float (``17850.0``,
    which the reader reads as 17850), and every floating amount a finite number.
    Integer ids group as they are.

    With ``money``, the same pass learns the coarsest scale of
    :data:`clvcli.core.money.SCALES` whose units every amount is a whole number of
    (within the reader's relative tolerance, and under 2**53 units in all): the
    summary then adds whole units, as the reader does, and the two give the same bits.
    """
    checks = []
    if not (log.integer_ids or log.checked_ids):
        checks.append(f"{ID_RULE.format(c=_name(log.customer))}")
    if log.float_amounts:
        checks.append(f"isfinite({_name(log.amount)})")
    if not (checks or money):
        return CheckedRows()
    clean = f"bool_and({' AND '.join(checks)})" if checks else "true"
    amount = f"CAST({_name(log.amount)} AS DOUBLE)"
    asked = ""
    if money:
        whole = [
            f"bool_and(abs({amount} * {scale!r} - round({amount} * {scale!r})) "
            f"<= abs({amount} * {scale!r}) * {TOLERANCE!r})"
            for scale in SCALES
        ]
        asked = f", {', '.join(whole)}, sum(abs({amount}))"
    rows = connection.execute(f"SELECT {clean}{asked} FROM {log.reader()}").fetchall()
    if not (rows and rows[0][0]):
        return None
    if not money:
        return CheckedRows()
    *holds, total = rows[0][1:]
    for scale, whole_units in zip(SCALES, holds, strict=True):
        if whole_units and total is not None and total * scale < EXACT_UNITS:
            return CheckedRows(scale)
    return CheckedRows()


def _id_text(log: ParquetLog) -> str:
    """The log's ids as the summary orders them: as text (integer ids too, so that
    10 comes before 9, as in every other summary)."""
    customer = _name(log.customer)
    return f"CAST({customer} AS VARCHAR)" if log.integer_ids else customer


def _log_query(
    log: ParquetLog,
    *,
    period: str,
    as_of: int | None,
    litt: bool = False,
    source: str = "",
    scale: float | None = None,
) -> str:
    """The summary query of ``log`` (or of ``source``, a FROM expression over it);
    ``scale``: its amounts are whole units of 1 / scale (see :func:`_checked_rows`)."""
    return summary_sql(
        table="source",
        customer_col=log.customer,
        date_col=log.date,
        amount_col=log.amount,
        period=period,
        as_of=None if as_of is None else str(np.datetime64(as_of, "D")),
        source=source or log.reader(),
        normalise_ids=False,
        with_litt=litt,
        total="FSUM",
        scale=scale,
        split_spend=scale is None,
    )


def log_pieces(
    log: ParquetLog,
    *,
    period: str,
    as_of: int | None,
    wants_litt: Callable[[], bool] | None = None,
) -> SummaryPieces:
    """The summary of a log :func:`parquet_log` accepted, computed by DuckDB (in
    memory, or into a temporary file past :data:`IN_MEMORY_ROWS`); :class:`NotClean`
    when its ids need the reader's normalising. ``wants_litt``, asked once the ids
    are known clean, says whether the summary carries the customers' litt (a sort of
    their purchase days more)."""
    from clvcli.engines import NotClean

    with duckdb_session(log.path) as connection:
        checked = _checked_rows(connection, log)
        if checked is None:
            raise NotClean(log.path)
    # Asked with no DuckDB session open: its threads would contend with the fits.
    litt = wants_litt is not None and wants_litt()
    with duckdb_session(log.path) as connection:
        # The last day from the footers: the query then reads its daily sums once,
        # not a second time for their latest day.
        last = log_span(log)[1] if as_of is None else as_of
        refund_only = _refund_only(connection, log, last)
        if log.rows > IN_MEMORY_ROWS:
            pieces = _summary_by_ranges(connection, log, period, last, litt, checked.scale)
            pieces.refund_only = refund_only
            return pieces
        query = _log_query(log, period=period, as_of=last, litt=litt, scale=checked.scale)
        table = connection.sql(query).to_arrow_table()
    if not table.num_rows:
        raise _no_purchases(log.path)
    return SummaryPieces(
        log.path, period, last, table.num_rows, litt=litt, table=table, refund_only=refund_only
    )


def _summary_by_ranges(
    connection: Any, log: ParquetLog, period: str, as_of: int, litt: bool, scale: float | None
) -> SummaryPieces:
    """The summary of a large log in a temporary Parquet file, read in pieces.

    DuckDB 2.0 runs out of memory aggregating 100M transactions (38M customers) at
    once, within 1 GB and within 2.5 GB alike: its per-day and per-customer
    aggregates do not spill enough. So the customers are cut into ranges of ids of
    about :data:`RANGE_ROWS` transactions each (bounds from an even sample of the
    ids), and each range's summary, sorted, is appended to the file in turn: the
    file is in customer id order, as one query would write it, whatever the bounds.
    Each range costs a read of the log (whose filter on the ids is cheap).
    """
    folder = ScratchFolder("summary")
    try:
        file = os.path.join(folder.name, "summary.parquet")
        writer = None
        try:
            for source in _range_sources(connection, log):
                query = _log_query(
                    log, period=period, as_of=as_of, litt=litt, source=source, scale=scale
                )
                batches = connection.sql(query).to_arrow_reader(CHUNK_ROWS)
                if writer is None:
                    writer = pq.ParquetWriter(file, batches.schema, compression="zstd")
                for batch in batches:
                    writer.write_batch(batch, row_group_size=CHUNK_ROWS)
        finally:
            if writer is not None:
                writer.close()
        customers = pq.ParquetFile(file).metadata.num_rows
        if not customers:
            raise _no_purchases(log.path)
    except BaseException:
        folder.cleanup()
        raise
    return SummaryPieces(log.path, period, as_of, int(customers), file, folder, litt=litt)


def _id_bounds(connection: Any, log: ParquetLog, parts: int) -> list[Any]:
    """Ids (as text) that cut the log's customers into ``parts`` ranges of about equal
    numbers of transactions, in the summary's order of the ids: the quantiles of the
    ids of an even sample of the customers (those whose hash falls in one bucket),
    each id counted once per transaction."""
    shares = ", ".join(f"{i / parts!r}" for i in range(1, parts))
    found = connection.execute(
        f"SELECT quantile_disc({_id_text(log)}, [{shares}]) FROM {log.reader()} "
        f"WHERE hash({_name(log.customer)}) % {_BOUND_BUCKETS} = 0"
    ).fetchall()[0]
    bounds = found[0] or []
    return sorted(set(b for b in bounds if b is not None))


def _no_purchases(path: str) -> InputError:
    return InputError(
        f"{path}: no purchases (every day's net amount is zero or negative)",
        "amounts of purchases must be positive; negative amounts are refunds",
    )


def log_span(log: ParquetLog) -> tuple[int, int]:
    """The first and last day of the log, from the files' footers (checked complete
    by :func:`parquet_log`): no pass over the rows."""
    days = []
    for file in log.files:
        metadata = pq.ParquetFile(file).metadata
        column = next(
            i for i in range(metadata.num_columns) if metadata.schema.column(i).name == log.date
        )
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(column).statistics
            if metadata.row_group(group).num_rows:
                days += [np.datetime64(stats.min, "D"), np.datetime64(stats.max, "D")]
    return int(min(days).astype(np.int64)), int(max(days).astype(np.int64))


def sample_table(
    log: ParquetLog, *, per_sample: int, calibration_end: int, as_of: int, period: str
) -> dict[str, np.ndarray]:
    """An even sample of the customers summarised up to ``calibration_end``, with their
    purchase days after it up to ``as_of``: the holdout ``--model auto`` scores its
    candidates on, with the litt of their purchase days up to ``calibration_end``.

    Every customer when there are at most about ``per_sample`` of them (so a small log
    is scored as the reader scores it); otherwise those whose id hashes into one of k
    buckets, k the customers over ``per_sample``: the sample is then picked while the
    rows are read, with no sort of every id (which cost 3 to 5 s at 10M rows).
    """
    with duckdb_session(log.path) as connection:
        step = _sample_step(connection, log, per_sample)
        chosen = f" WHERE hash({_name(log.customer)}) % {step} = 0" if step > 1 else ""
        source = f"(SELECT * FROM {log.reader()}{chosen})"
        query = _holdout_query(log, source, calibration_end, as_of, period)
        found = connection.execute(query).fetchnumpy()
    return {name: np.asarray(values, dtype=np.float64) for name, values in found.items()}


def holdout_table(
    log: ParquetLog, *, calibration_end: int, as_of: int, period: str
) -> dict[str, np.ndarray]:
    """:func:`sample_table`'s columns for every customer who bought by
    ``calibration_end`` (``clv validate``), in customer id order, and under
    ``refund_only`` how many customers had only refunds by then (the reader's
    warning); :class:`NotClean` when the rows need the reader.

    A log past :data:`IN_MEMORY_ROWS` is summarised a range of ids at a time, as
    :func:`_summary_by_ranges` does; the columns come back as numbers, eight bytes
    a customer each."""
    from clvcli.engines import NotClean

    with duckdb_session(log.path) as connection:
        if _checked_rows(connection, log, money=False) is None:
            raise NotClean(log.path)
        pieces = [
            connection.execute(
                _holdout_query(log, source, calibration_end, as_of, period)
            ).fetchnumpy()
            for source in _range_sources(connection, log)
        ]
        refund_only = _refund_only(connection, log, calibration_end)
    found = {}
    for name in list(pieces[0]):  # a column at a time, each range's let go once joined
        found[name] = np.concatenate([np.asarray(p.pop(name), dtype=np.float64) for p in pieces])
    found["refund_only"] = np.array([refund_only])
    return found


def aggregate_log(
    log: ParquetLog, sql: str, relations: dict[str, dict[str, np.ndarray]]
) -> dict[str, np.ndarray]:
    """A query of :mod:`clvcli.engines.periods` run over the log's files as the
    relation ``transactions`` (customer, day, amount), as the reader's arrays would
    be (:func:`clvcli.engines.periods.aggregate`), with ``relations`` (columns by
    name; a ``customer`` column of theirs holds ids as the summary writes them, text);
    :class:`NotClean` when the rows need the reader.

    Past :data:`IN_MEMORY_ROWS` the query runs once per range of customer ids (its
    per-customer aggregates run out of memory on 100M transactions at once) and the
    rows of every range come back one after the other: a caller whose rows are sums
    over customers adds up those that share their keys.
    """
    from clvcli.engines import NotClean

    customer, day = _name(log.customer), _name(log.date)
    found: list[dict[str, np.ndarray]] = []
    with duckdb_session(log.path) as connection:
        if _checked_rows(connection, log, money=False) is None:
            raise NotClean(log.path)
        for name, columns in relations.items():
            table = pa.table({k: np.asarray(v) for k, v in columns.items()})
            if "customer" in columns:  # the summary's text ids, in the log's own type
                ids = pa.array(np.asarray(columns["customer"], dtype=object), pa.string())
                ids = ids.cast(pa.int64()) if log.integer_ids else ids
                table = table.set_column(table.column_names.index("customer"), "customer", ids)
            connection.register(name, table)
        for source in _range_sources(connection, log):
            connection.execute(
                f"CREATE OR REPLACE TEMP VIEW transactions AS SELECT {customer} AS customer, "
                f"date_diff('day', DATE '1970-01-01', CAST({day} AS DATE)) AS day, "
                f"CAST({_name(log.amount)} AS DOUBLE) AS amount FROM {source}"
            )
            found.append(connection.execute(sql).fetchnumpy())
    return {name: np.concatenate([np.asarray(f[name]) for f in found]) for name in found[0]}


def _holdout_query(
    log: ParquetLog, source: str, calibration_end: int, as_of: int, period: str
) -> str:
    """Each customer of ``source`` (a FROM expression over the log) who bought by
    ``calibration_end``: frequency, recency and T then, the purchase days after it up
    to ``as_of`` and the litt of those before, in id order."""
    unit = float(days_per(period))
    customer, day = _name(log.customer), _name(log.date)
    amount = f"CAST({_name(log.amount)} AS DOUBLE)"
    end, cut = (f"DATE '{np.datetime64(d, 'D')}'" for d in (as_of, calibration_end))
    return f"""
WITH daily AS (
  SELECT {customer} AS customer_id, CAST({day} AS DATE) AS day, FSUM({amount}) AS net,
    MAX(CASE WHEN {amount} < 0 THEN 1 ELSE 0 END) AS refunded
  FROM {source} GROUP BY 1, 2
),
purchases AS (
  SELECT customer_id, day FROM daily
  WHERE day <= {end} AND (net > 0.000001 OR (refunded = 0 AND net > -0.000001))
),
gaps AS (
  SELECT customer_id, day,
    date_diff('day', lag(day) OVER (PARTITION BY customer_id ORDER BY day), day) AS gap
  FROM purchases
),
customers AS (
  SELECT customer_id,
    min(day) FILTER (WHERE day <= {cut}) AS first_day,
    max(day) FILTER (WHERE day <= {cut}) AS last_day,
    count(*) FILTER (WHERE day <= {cut}) AS orders,
    count(*) FILTER (WHERE day > {cut}) AS later,
    coalesce(fsum(ln(gap / {unit!r})) FILTER (WHERE day <= {cut} AND gap IS NOT NULL), 0)
      AS litt
  FROM gaps GROUP BY customer_id
  HAVING count(*) FILTER (WHERE day <= {cut}) > 0
)
SELECT CAST(orders - 1 AS DOUBLE) AS frequency,
  date_diff('day', first_day, last_day) / {unit!r} AS recency,
  date_diff('day', first_day, {cut}) / {unit!r} AS "T",
  CAST(later AS DOUBLE) AS frequency_holdout,
  litt
FROM customers ORDER BY CAST(customer_id AS VARCHAR)
"""


def _range_sources(connection: Any, log: ParquetLog) -> Iterator[str]:
    """FROM expressions that cut the log into ranges of customer ids of about
    :data:`RANGE_ROWS` transactions each, in id order (the whole log when it is no
    larger than :data:`IN_MEMORY_ROWS`)."""
    if log.rows <= IN_MEMORY_ROWS:
        yield log.reader()
        return
    parts = -(-log.rows // RANGE_ROWS)
    bounds = _id_bounds(connection, log, parts) if parts > 1 else []
    customer = _id_text(log)
    edges = [None, *(sql_text(b) for b in bounds), None]
    for low, high in pairwise(edges):
        kept = [f"{customer} >= {low}"] * (low is not None)
        kept += [f"{customer} < {high}"] * (high is not None)
        where = f" WHERE {' AND '.join(kept)}" if kept else ""
        yield f"(SELECT * FROM {log.reader()}{where})"


def _refund_only(connection: Any, log: ParquetLog, up_to: int) -> int:
    """How many customers have rows by ``up_to`` but no purchase day: none unless the
    footers show a negative amount, which a log without refunds costs no pass."""
    if not _may_refund(log):
        return 0
    customer, day = _name(log.customer), _name(log.date)
    amount = f"CAST({_name(log.amount)} AS DOUBLE)"
    cut = f"DATE '{np.datetime64(up_to, 'D')}'"
    return int(
        connection.execute(
            f"""
SELECT count(*) FROM (
  SELECT customer_id FROM (
    SELECT {customer} AS customer_id, FSUM({amount}) AS net,
      MAX(CASE WHEN {amount} < 0 THEN 1 ELSE 0 END) AS refunded
    FROM {log.reader()} WHERE CAST({day} AS DATE) <= {cut} GROUP BY {customer}, CAST({day} AS DATE)
  ) GROUP BY customer_id
  HAVING NOT bool_or(net > 0.000001 OR (refunded = 0 AND net > -0.000001))
)"""
        ).fetchall()[0][0]
    )


def _may_refund(log: ParquetLog) -> bool:
    """Whether a row group's statistics allow a negative amount (or say nothing)."""
    for file in log.files:
        metadata = pq.ParquetFile(file).metadata
        names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
        column = names.index(log.amount)
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(column).statistics
            if stats is None or not stats.has_min_max or stats.min < 0:
                return True
    return False


def _sample_step(connection: Any, log: ParquetLog, per_sample: int) -> int:
    """k for :func:`sample_table`: the customers over ``per_sample``, rounded up, from
    an estimate of their number (exact when it is near ``per_sample``)."""
    if log.rows <= per_sample:
        return 1
    customer = _name(log.customer)
    estimate = connection.execute(
        f"SELECT approx_count_distinct({customer}) FROM {log.reader()}"
    ).fetchall()[0][0]
    if estimate <= 2 * per_sample:
        estimate = connection.execute(
            f"SELECT count(DISTINCT {customer}) FROM {log.reader()}"
        ).fetchall()[0][0]
    return max(-(-int(estimate) // per_sample), 1)


class DuckDBEngine:
    """The default engine: DuckDB runs the pass over a typed Parquet log, or a plain
    CSV log (see :mod:`clvcli.engines.csv_log`), as it is; any other log is read by
    the reader, which knows every input rule."""

    name = "duckdb"

    def direct(self, request: Any) -> Any | None:
        from clvcli.engines.csv_log import csv_log

        if request.as_of is not None:
            # The reader says what --as-of leaves out (transactions after it, a date
            # before the first), which the summary's query would drop without a word.
            return None
        log = parquet_log(request.path, request.read) or csv_log(request.path, request.read)
        return log if log is not None and log.rows >= direct_rows() else None

    def summary_pieces(self, handle: Any, request: Any) -> SummaryPieces:
        return log_pieces(
            _parquet(handle),
            period=request.period,
            as_of=request.as_of,
            wants_litt=request.wants_litt,
        )

    def span(self, handle: Any) -> tuple[int, int]:
        return log_span(_parquet(handle))

    def sample_table(
        self, handle: Any, *, per_sample: int, calibration_end: int, as_of: int, period: str
    ) -> dict[str, np.ndarray]:
        return sample_table(
            _parquet(handle),
            per_sample=per_sample,
            calibration_end=calibration_end,
            as_of=as_of,
            period=period,
        )

    def holdout_table(
        self, handle: Any, *, calibration_end: int, as_of: int, period: str
    ) -> dict[str, np.ndarray]:
        return holdout_table(
            _parquet(handle), calibration_end=calibration_end, as_of=as_of, period=period
        )

    def aggregate(self, handle: Any, sql: str, relations: dict[str, Any]) -> dict[str, np.ndarray]:
        return aggregate_log(_parquet(handle), sql, relations)

    def summary_file_pieces(self, path: str, *, period: str, as_of: int | None) -> SummaryPieces:
        return summary_file_pieces(path, period=period, as_of=as_of)


def _parquet(handle: Any) -> ParquetLog:
    """The Parquet log behind a handle: a CSV log's typed file (read on first use,
    :class:`NotClean` when a row needs the reader), or the log itself."""
    return handle if isinstance(handle, ParquetLog) else handle.typed()
