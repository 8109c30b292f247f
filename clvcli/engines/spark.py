"""The Spark engine: clv's one pass over the transactions, run on a Spark cluster.

For logs past one machine. What runs where:

- the per-customer summary runs on the executors, as the Spark SQL that
  `clv summary --emit-sql --dialect spark` prints (refunds netted per customer and
  day, a day with no positive net not a purchase, several transactions a day one
  purchase), kept by Spark (memory, then disk) for the steps below;
- the models fit on the driver, on the summary's *distinct* (frequency, recency, T)
  and (frequency, monetary_value) rows with how many customers share each: a few
  hundred thousand rows, whatever the customer count;
- every customer is scored on the executors, Arrow batch by Arrow batch
  (``mapInArrow``) with the fitted parameters, by the same code the default engine
  scores a piece with, and the table is written as Parquet parts by the executors
  (or brought back to the driver for a file or stdout).

pyspark is an optional dependency, imported only when ``--engine spark`` runs.
On a cluster the executors need clvcli installed in their Python, as any Python
function run by Spark does.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from clvcli.contract import (
    COMPUTE_COLUMNS,
    LITT_COLUMN,
    SUMMARY_COLUMNS,
    SUMMARY_EXTRA,
    CustomerTable,
    days_per,
)
from clvcli.errors import InputError, OutputError, UsageError

if TYPE_CHECKING:
    from clvcli.core.compute import ComputeSettings, ValuesInPieces

MISSING = "--engine spark needs pyspark: pip install 'clvcli[spark]'"
TABLE_PREFIX = "table:"

# Spark's own types of the compute table's columns, in the contract's order.
_COMPUTE_TYPES = {
    "customer_id": "string",
    "first_purchase": "date",
    "last_purchase": "date",
    "orders": "bigint",
    "days_since_last": "bigint",
    "frequency": "bigint",
    "stage": "string",
}
COMPUTE_SCHEMA = ", ".join(
    f"`{name}` {_COMPUTE_TYPES.get(name, 'double')}" for name in COMPUTE_COLUMNS
)
_ARROW_TYPES = {"string": pa.string(), "date": pa.date32(), "bigint": pa.int64()}
_ARROW_SCHEMA = pa.schema(
    [
        (name, _ARROW_TYPES.get(_COMPUTE_TYPES.get(name, ""), pa.float64()))
        for name in COMPUTE_COLUMNS
    ]
)

# Spark's and log4j's chatter off (a run prints clv's own lines only); an error
# still reaches clv, which reports it in one line.
# (Spark puts its default profile back when the root logger has no appender.)
_QUIET_LOG4J = """status = off
rootLogger.level = off
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %m%n
logger.repl.name = org.apache.spark.repl.Main
logger.repl.level = off
logger.submit.name = org.apache.spark.deploy.SparkSubmit
logger.submit.level = off
logger.gateway.name = org.apache.spark.api.python.PythonGatewayServer
logger.gateway.level = off
"""


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> Any:
    """The Spark session clv runs on: ``master`` (``local[*]``, ``spark://host:7077``,
    ``yarn``, ``sc://host`` for Spark Connect), else SPARK_REMOTE or the master of the
    Spark configuration, else local mode on every core. ``conf``: more settings."""
    pyspark_sql = _pyspark()
    remote = "SPARK_REMOTE" in os.environ or (master or "").startswith("sc://")
    if not remote and not os.environ.get("JAVA_HOME") and shutil.which("java") is None:
        raise UsageError(
            "--engine spark needs a Java runtime (17 or later): no java found",
            "install one (apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
        )
    local = master is None or master.startswith("local")
    if local and "SPARK_REMOTE" not in os.environ:
        # Local workers run this Python (its packages), not the first python3 on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = pyspark_sql.SparkSession.builder.appName("clv")
    if master is not None:
        builder = builder.remote(master) if master.startswith("sc://") else builder.master(master)
    settings = {
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",  # a value that cannot be read is an error
    }
    if "SPARK_CONF_DIR" not in os.environ:  # the user's own logging wins
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j.configurationFile=file:{_log4j()}"
    settings.update(conf or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    with spark_errors("Spark"):
        return builder.getOrCreate()


def _pyspark() -> Any:
    """pyspark.sql, or the one-line usage error that says how to install it."""
    try:
        import pyspark.sql
        from pyspark.logger import PySparkLogger
    except ImportError:
        raise UsageError(MISSING) from None
    # pandas 3 warnings of pyspark's own pandas API, which clv does not use.
    warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL + 1)
    return pyspark.sql


def _log4j() -> str:
    path = os.path.join(tempfile.gettempdir(), "clv-spark-log4j2-v3.properties")
    if not os.path.exists(path):
        with open(path + f".{os.getpid()}", "w") as handle:
            handle.write(_QUIET_LOG4J)
        os.replace(path + f".{os.getpid()}", path)
    return path


@contextmanager
def spark_errors(source: str) -> Iterator[None]:
    """Spark's and the executors' errors as one line of clv (exit 3), no Java trace."""
    try:
        yield
    except Exception as exc:
        if isinstance(exc, InputError | UsageError | OutputError):
            raise
        if not _from_spark(exc):
            raise
        raise InputError(
            f"{source}: Spark could not run it ({_one_line(exc)})",
            "check the paths, the file format and the column names",
        ) from None


def _from_spark(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("pyspark", "py4j")) or "Java" in type(exc).__name__


def _one_line(exc: BaseException) -> str:
    """The message of a Spark error in one line: a worker's Python error is the last
    line of its traceback; Spark's own, its first line without the SQLSTATE."""
    text = _java_message(exc) or str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if "Traceback (most recent call last)" in text:
        line = lines[-1]
        line = re.sub(r"^clvcli\.errors\.\w+: ", "", line)
    else:
        line = lines[0]
    return re.sub(r"\s*SQLSTATE: \w+\s*$", "", line)


def _java_message(exc: BaseException) -> str | None:
    """The message of the innermost cause of a Java error (py4j's own message names
    only the call that failed), or None for an error that is not one."""
    error = getattr(exc, "java_exception", None)
    message = None
    try:
        while error is not None:
            message = error.getMessage() or message
            error = error.getCause()
    except Exception:  # the JVM has gone: the Python message will do
        return message
    return message


# Reading -------------------------------------------------------------------------


def _kind(path: str) -> str:
    """parquet or csv, from the path's name (a local folder: from its files)."""
    lower = path.lower().rstrip("/")
    if lower.endswith((".csv", ".csv.gz", ".tsv", ".txt")):
        return "csv"
    if os.path.isdir(path):
        from clvcli.io.parts import folder_parts

        parts = folder_parts(path)
        if parts and all(p.lower().endswith((".csv", ".csv.gz", ".tsv", ".txt")) for p in parts):
            return "csv"
    return "parquet"


def read_transactions(spark: Any, source: str) -> Any:
    """The transactions as a Spark DataFrame: Parquet or CSV paths (a file, a folder
    of parts, a glob, any URL Spark reads) or ``table:NAME`` of Spark's catalogue.
    CSV cells stay text, so ids keep their zeros and the summary reads each date and
    amount itself."""
    with spark_errors(source):
        if source.startswith(TABLE_PREFIX):
            return spark.table(source[len(TABLE_PREFIX) :])
        if _kind(source) == "csv":
            delimiter = "\t" if source.lower().rstrip("/").endswith(".tsv") else ","
            return spark.read.csv(source, header=True, sep=delimiter, inferSchema=False)
        return spark.read.parquet(source)


@dataclass(frozen=True)
class Columns:
    customer: str
    date: str
    amount: str


def choose(frame: Any, source: str, given: dict[str, str | None]) -> Columns:
    """The customer, date and amount columns, chosen as the other engines choose them."""
    from clvcli.io.columns import choose_columns

    header = list(frame.columns)
    choice = choose_columns(header, source, given)
    if choice.amount is None:
        raise InputError(
            f"{source}: no amount column found, and --engine spark sums amounts",
            "name the amount column with --amount-col",
        )
    if choice.quantity is not None:
        raise UsageError(
            f"{source}: the amount is {header[choice.quantity]!r} x {header[choice.amount]!r}, "
            "which --engine spark does not compute",
            "give an amount column with --amount-col",
        )
    return Columns(header[choice.customer], header[choice.date], header[choice.amount])


def _check_cells(frame: Any, columns: Columns, source: str, as_of: int | None) -> list[str]:
    """Rows with an empty id, date or amount are refused, as the default engine
    refuses them, not dropped without a word; so are Jalali dates written as ISO
    ones (1403-01-05), which Spark would read as the Gregorian year 1403."""
    from pyspark.sql import functions as F

    checks = []
    for name in (columns.customer, columns.date, columns.amount):
        cell = F.col(f"`{name}`")
        empty = cell.isNull() | (F.trim(cell.cast("string")) == "")
        checks.append(F.sum(empty.cast("long")).alias(name))
    day = F.col(f"`{columns.date}`").cast("date")
    checks.append(F.min(day).alias("__clv_first_day__"))
    end = None if as_of is None else F.lit(str(np.datetime64(as_of, "D"))).cast("date")
    if end is not None:
        checks.append(F.sum((day > end).cast("long")).alias("__clv_later__"))
    with spark_errors(source):
        counts = frame.agg(*checks).first()
    for name in (columns.customer, columns.date, columns.amount):
        count = counts[name] or 0
        if count:
            raise InputError(
                f"{source}: {count} rows with an empty '{name}'",
                "every transaction has a customer, a date and an amount",
            )
    first = counts["__clv_first_day__"]
    if first is not None and first.year < EARLIEST_YEAR:
        raise InputError(
            f"{source}: column '{columns.date}' has the date {first.isoformat()}, a Jalali "
            "date read as Gregorian?",
            "--engine spark reads Gregorian ISO dates; the default engine reads Jalali ones",
        )
    if as_of is None or first is None:
        return []
    iso = str(np.datetime64(as_of, "D"))
    if as_of < int(np.datetime64(first, "D").astype(np.int64)):
        raise UsageError(
            f"--as-of {iso} is before the first transaction ({first.isoformat()})",
            "give a date inside the data",
        )
    later = counts["__clv_later__"] or 0
    return [f"{source}: ignored {later} transactions after --as-of {iso}"] if later else []


# Earlier dates in a log are taken for Jalali ones (years 13xx-14xx) written as ISO.
EARLIEST_YEAR = 1800


# The summary --------------------------------------------------------------------


def summary_frame(
    spark: Any,
    source: str,
    given: dict[str, str | None],
    *,
    period: str,
    as_of: int | None,
    with_litt: bool = False,
) -> tuple[Any, list[str]]:
    """The per-customer summary as a Spark DataFrame (SUMMARY_COLUMNS, SUMMARY_EXTRA,
    and litt when ``with_litt``), in customer id order, computed on the executors by
    the emitted Spark SQL; and what the default engine would warn of (transactions
    after --as-of)."""
    from clvcli.engines.sql import emitted_sql

    transactions = read_transactions(spark, source)
    columns = choose(transactions, source, given)
    warned = _check_cells(transactions, columns, source, as_of)
    view = f"clv_transactions_{uuid.uuid4().hex}"
    transactions.createOrReplaceTempView(view)
    sql = emitted_sql(
        dialect="spark",
        table=view,
        customer_col=columns.customer,
        date_col=columns.date,
        amount_col=columns.amount,
        period=period,
        as_of=None if as_of is None else str(np.datetime64(as_of, "D")),
        with_litt=with_litt,
    )
    with spark_errors(source):
        return spark.sql(sql.strip().removesuffix(";")), warned


@dataclass
class SparkSummary:
    """A summary Spark holds (memory, then disk), for the fit at the driver.

    Implements the summary-in-pieces of :mod:`clvcli.core.compute`: :meth:`history`
    and :meth:`spend` are the distinct rows the models fit on, grouped by Spark, in
    the order of their first customer (as the other engines group them, so the fits
    sum the same terms in the same order); :meth:`tables` brings the summary back.
    ``litt``: whether the frame has the customers' litt, which :meth:`history` sums
    per row.
    """

    frame: Any
    source: str
    period: str
    as_of: int
    customers: int
    warnings: list[str] = field(default_factory=list)
    litt: bool = False

    def history(self) -> tuple[np.ndarray, ...]:
        return self._grouped(["frequency", "recency", "T"], None, litt=self.litt)

    def spend(self) -> tuple[np.ndarray, ...]:
        from pyspark.sql import functions as F

        repeat = (F.col("frequency") > 0) & (F.col("monetary_value") > 0)
        return self._grouped(["frequency", "monetary_value"], repeat)

    def _grouped(
        self, columns: list[str], where: Any, *, litt: bool = False
    ) -> tuple[np.ndarray, ...]:
        from pyspark.sql import functions as F

        frame = self.frame if where is None else self.frame.where(where)
        # Exact sums, as the summary's (see clvcli.engines.sql.EXACT_SUM): the same
        # bits whatever order the executors add the rows in.
        exact = F.sum(F.col(LITT_COLUMN).cast("decimal(38,9)")).cast("double")
        sums = [exact.alias(LITT_COLUMN)] if litt else []
        grouped = frame.groupBy(*columns).agg(
            F.count(F.lit(1)).alias("customers"), *sums, F.min("customer_id").alias("first")
        )
        with spark_errors(self.source):
            table = grouped.orderBy("first").drop("first").toArrow()
        return tuple(
            table.column(i).to_numpy().astype(np.float64) for i in range(table.num_columns)
        )

    def arrow(self) -> pa.Table:
        """The whole summary at the driver, in customer id order."""
        with spark_errors(self.source):
            return self.frame.toArrow()

    def tables(self) -> Iterator[CustomerTable]:
        from clvcli.io.results import summary_columns, summary_table

        table = self.arrow()
        for batch in table.to_batches():
            columns = summary_columns(batch.schema, [batch], self.source)
            yield summary_table(columns, self.source, period=self.period, as_of=self.as_of)

    def close(self) -> None:
        self.frame.unpersist()

    def __enter__(self) -> SparkSummary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def spark_summary_frame(
    spark: Any,
    source: str,
    given: dict[str, str | None],
    *,
    period: str,
    as_of: int | None,
    with_litt: bool = False,
) -> SparkSummary:
    """The summary computed once and kept by Spark, with its customer count and as-of
    date (the last date in the data unless given), and the customers' litt when
    ``with_litt``. Use it in a ``with`` block."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    frame, warned = summary_frame(
        spark, source, given, period=period, as_of=as_of, with_litt=with_litt
    )
    frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
    unit = days_per(period)
    end = F.date_add(F.col("first_purchase"), F.round(F.col("T") * unit).cast("int"))
    with spark_errors(source):
        row = frame.agg(F.count(F.lit(1)).alias("n"), F.max(end).alias("end")).first()
    if not row["n"]:
        frame.unpersist()
        raise InputError(f"{source}: no purchases (every day's net amount is zero or negative)")
    last = int(np.datetime64(row["end"], "D").astype(np.int64)) if as_of is None else as_of
    return SparkSummary(frame, source, period, last, int(row["n"]), warned, with_litt)


def spark_summary(
    source: str,
    given: dict[str, str | None] | None = None,
    *,
    as_of: int | None = None,
    period: str = "day",
    master: str | None = None,
    spark: Any = None,
) -> pa.Table:
    """The per-customer summary of ``source`` computed on Spark, at the driver as an
    Arrow table: SUMMARY_COLUMNS then SUMMARY_EXTRA, in customer id order, the same
    columns and values as the default engine's summary (its warnings are those of
    :func:`spark_summary_frame`)."""
    spark = spark or spark_session(master)
    with spark_summary_frame(spark, source, given or {}, period=period, as_of=as_of) as summary:
        return summary.arrow().select(SUMMARY_COLUMNS + SUMMARY_EXTRA)


# Fitting and scoring ---------------------------------------------------------------


@dataclass
class SparkValues:
    """The compute table as a Spark DataFrame scored on the executors, and the fit."""

    frame: Any
    values: ValuesInPieces
    customers: int


def spark_compute(summary: SparkSummary, settings: ComputeSettings) -> SparkValues:
    """The models fitted at the driver on the summary's distinct rows, and a DataFrame
    that scores every customer on the executors with them (lazy: nothing is scored
    until it is written or collected)."""
    from clvcli.core.compute import Models, chosen_model, compute_in_pieces

    chosen_model(settings, summary.period, summary_only=True)  # bgbb refused first
    values = compute_in_pieces(summary, settings)  # fits only: its pieces are not read
    if values.purchase_model is not None:
        # Each batch is scaled over its own customers: the whole summary's distinct
        # rows would travel to every task and be scored again in each.
        values.purchase_model.scale_over(None)
    model = values.choice.model if values.choice is not None else settings.model
    if values.purchase_model is None:
        model = "none"
    scoring = replace(settings, model=model, auto_scores=None)
    models = Models(values.purchase_model, values.spend_model)
    score = partial(
        _score_batches,
        settings=scoring,
        models=models,
        period=summary.period,
        as_of=summary.as_of,
        source=summary.source,
    )
    frame = summary.frame.mapInArrow(score, COMPUTE_SCHEMA)
    return SparkValues(frame, values, summary.customers)


def _score_batches(
    batches: Iterator[pa.RecordBatch],
    *,
    settings: ComputeSettings,
    models: Any,
    period: str,
    as_of: int,
    source: str,
) -> Iterator[pa.RecordBatch]:
    """On an executor: each batch of the summary made into the compute table's rows by
    the default engine's own code, with the models fitted at the driver."""
    from clvcli.core.compute import compute_from_table
    from clvcli.io.results import summary_columns, summary_table

    for batch in batches:
        if batch.num_rows == 0:
            continue
        columns = summary_columns(batch.schema, [batch], source)
        table = summary_table(columns, source, period=period, as_of=as_of)
        frame = compute_from_table(table, settings, models=models).frame
        yield compute_batch(frame)


def compute_batch(frame: Any) -> pa.RecordBatch:
    """A piece of the compute table as the Arrow batch of COMPUTE_SCHEMA: dates as
    dates, NaN as null (an empty cell, as the default engine writes it)."""
    arrays = []
    for column in _ARROW_SCHEMA:
        values = frame[column.name]
        if column.type == pa.date32():
            arrays.append(pa.array(values.to_numpy(dtype="datetime64[D]"), type=pa.date32()))
        elif column.type == pa.string():
            arrays.append(pa.array(np.asarray(values, dtype=object), type=pa.string()))
        else:
            numbers = values.to_numpy(dtype=np.float64 if column.type == pa.float64() else None)
            arrays.append(pa.array(numbers, type=column.type, from_pandas=True))
    return pa.RecordBatch.from_arrays(arrays, schema=_ARROW_SCHEMA)


def is_parts_target(path: str | None) -> bool:
    """Whether ``-o`` names a folder of Parquet parts: ends in /, or is a folder."""
    return path is not None and (path.endswith("/") or os.path.isdir(path))


def write_parts(frame: Any, path: str, source: str) -> None:
    """The executors write the table as Parquet parts into the folder ``path``.

    A folder that Spark wrote before (its _SUCCESS marker) is replaced; any other
    folder that is not empty is refused, so that no one's files are deleted.
    """
    mode = "errorifexists"
    if os.path.isdir(path):
        names = [n for n in os.listdir(path) if not n.startswith(".")]
        if "_SUCCESS" in names or not names:
            mode = "overwrite"
        else:
            raise OutputError(
                f"cannot write {path}: the folder holds other files",
                "give a new or empty folder (or one clv wrote before)",
            )
    try:
        with spark_errors(source):
            frame.write.mode(mode).parquet(path)
    except InputError as exc:
        raise OutputError(exc.message.replace(f"{source}: ", f"cannot write {path}: ", 1)) from None
