"""--engine spark for compute, summary and fit: options in, clvcli.engines.spark, out.

The summary and the scores are made on the cluster; the driver holds the distinct
rows the models fit on, and the table only when it is written to one file or shown.
``-o DIR/`` (a trailing slash, or a folder) has the executors write Parquet parts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clvcli.cli.console import Reporter
from clvcli.cli.options import RunOptions
from clvcli.errors import UsageError
from clvcli.io.source import STDIN

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

    from clvcli.core.compute import ComputeSettings
    from clvcli.engines.spark import SparkSummary
    from clvcli.io.customers import CustomerList


def check_spark_input(
    input_path: str | None, summary_path: str | None, opts: RunOptions | None = None
) -> str:
    """The log Spark reads: a path or URL Spark opens itself, or table:NAME."""
    if opts is not None:
        _check_reading_options(opts)
    if summary_path is not None:
        raise UsageError(
            "--engine spark reads a transaction log, not --summary",
            "leave out --engine spark, or give the log as INPUT",
        )
    if input_path is None or input_path == STDIN:
        raise UsageError(
            "--engine spark reads files, folders or table:NAME, not stdin",
            "give the log's path (s3://bucket/tx/, hdfs://..., a local folder)",
        )
    return input_path


def _check_reading_options(opts: RunOptions) -> None:
    """Spark reads clean logs as they are: the options that tell the default engine
    how to read messy ones are refused in one line rather than ignored."""
    calendar = getattr(opts.calendar, "value", opts.calendar)
    given = {
        "--channel-col": opts.channel_col is not None,
        "--calendar": calendar not in (None, "auto", "gregorian"),
        "--date-format": opts.date_format is not None,
        "--timezone": opts.timezone is not None,
        "--delimiter": opts.delimiter not in (None, ","),
        "--encoding": opts.encoding not in (None, "utf-8", "utf8"),
        "--decimal": opts.values.get("decimal") not in (None, "."),
        "--sheet": opts.values.get("sheet") is not None,
        "--skip-invalid": bool(opts.skip_invalid),
    }
    for option, used in given.items():
        if used:
            raise UsageError(
                f"--engine spark reads ISO dates and plain numbers as they are: not {option}",
                f"leave out {option}, or use the default engine",
            )


def spark_pieces(
    input_path: str,
    opts: RunOptions,
    reporter: Reporter,
    period: str | None = None,
    *,
    litt: bool = False,
) -> SparkSummary:
    """INPUT's summary computed and kept by Spark, for the fit; use it in a ``with``.
    ``period``: the model time unit, when not --period (saved parameters'); ``litt``:
    with the customers' litt, for a fit of BG/CNBD-k or MBG/CNBD-k."""
    from clvcli.cli.common import parse_option_date
    from clvcli.cli.reading import read_settings
    from clvcli.engines.spark import spark_session, spark_summary_frame

    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    given = read_settings(opts).given_columns()
    _record_input(opts, input_path)
    with reporter.progress("starting Spark"):
        spark = spark_session(opts.spark_master)
    with reporter.progress("summarising customers on Spark"):
        return spark_summary_frame(
            spark, input_path, given, period=period or opts.period, as_of=as_of, with_litt=litt
        )


def summary_with_spark(input_path: str, opts: RunOptions, reporter: Reporter) -> None:
    """`clv summary --engine spark`: the summary at the driver, written as usual."""
    from clvcli.cli.output import emit
    from clvcli.contract import SUMMARY_COLUMNS, SUMMARY_EXTRA

    path = check_spark_input(input_path, None, opts)
    with spark_pieces(path, opts, reporter) as summary:
        reporter.warn(summary.warnings)
        with reporter.progress("bringing the summary back from Spark"):
            frame = to_frame(summary.arrow().select(SUMMARY_COLUMNS + SUMMARY_EXTRA))
    emit(
        frame,
        opts,
        reporter,
        money=("monetary_value", "total_spend"),
        title="RFM summary",
        what="customers",
    )


def compute_with_spark(
    input_path: str | None,
    summary_path: str | None,
    settings: ComputeSettings,
    listed: CustomerList | None,
    opts: RunOptions,
    reporter: Reporter,
) -> None:
    """`clv compute --engine spark`: summary and scores on the executors, the fit at
    the driver; Parquet parts written by the executors for ``-o DIR/``."""
    from dataclasses import replace

    from clvcli.cli.common import record_values
    from clvcli.cli.output import resolve_format, write_frames
    from clvcli.core.compute import chosen_model, needs_purchase_days
    from clvcli.engines.spark import is_parts_target, spark_compute, write_parts

    path = check_spark_input(input_path, summary_path, opts)
    parts = is_parts_target(opts.output)
    if parts:
        if opts.format not in (None, "parquet"):
            raise UsageError("-o DIR/ gets Parquet parts", "leave out --format, or -o FILE")
        if listed is not None:
            raise UsageError(
                "--customers needs the table in one file", "give -o FILE, not a folder"
            )
        fmt = "parquet"
    else:
        fmt = resolve_format(opts)
    if settings.saved is not None:
        settings = replace(settings, period=settings.saved["period"])
    chosen_model(settings, settings.period, summary_only=True)  # bgbb: before any work
    litt = needs_purchase_days(settings.model, settings)
    with spark_pieces(path, opts, reporter, settings.period, litt=litt) as summary:
        with reporter.progress("fitting the models"):
            result = spark_compute(summary, settings)
        reporter.warn(result.values.warnings)  # the summary's first
        record_values(opts, result.values)
        if parts:
            with reporter.progress(f"scoring and writing {result.customers:,} customers on Spark"):
                write_parts(result.frame, opts.output, path)
            reporter.event("written", rows=result.customers, format=fmt, path=opts.output)
            return
        with reporter.progress(f"scoring {result.customers:,} customers on Spark"):
            frame = to_frame(_collected(result.frame, path))
    from clvcli.cli.common import join_customer_list
    from clvcli.cli.compute import MONEY, emit_customers

    if fmt == "table" or listed is not None:
        emit_customers(join_customer_list(frame, listed), opts, reporter)
        return
    write_frames([frame], opts, reporter, money=MONEY, what="customers", rows=len(frame))


def _record_input(opts: RunOptions, path: str) -> None:
    """INPUT for the output's metadata: a local file is digested, a URL or table
    named; a URL's glob is not listed here (only Spark can)."""
    from clvcli.io.names import is_pattern

    if "://" not in path or not is_pattern(path):
        opts.record.setdefault("inputs", []).append(path)


def _collected(frame: Any, source: str) -> pa.Table:
    from clvcli.engines.spark import spark_errors

    with spark_errors(source):
        return frame.toArrow()


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table from Spark as the frames the writers take (dates as datetimes)."""
    frame = table.to_pandas(date_as_object=False)
    for column in ("first_purchase", "last_purchase"):
        if column in frame:
            frame[column] = frame[column].astype("datetime64[s]")
    return frame
