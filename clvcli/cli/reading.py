"""INPUT read on a second thread while the command imports the rest of clv.

A data command imports pandas, scipy and the models, about 0.7 s of Python, before
it needs the log; reading and parsing the log is Arrow, numpy and DuckDB work that lets
go of the GIL. Started first, the two run side by side, which takes a quarter of a
second off a million-row compute. This module imports only what reading needs.
"""

from __future__ import annotations

import threading

from clvcli.cli.options import RunOptions
from clvcli.errors import UsageError
from clvcli.io.amounts import DECIMAL_MARKS
from clvcli.io.dates import DateProblem, DateSettings
from clvcli.io.readers import ReadSettings, Transactions, read_transactions
from clvcli.io.source import STDIN


def read_settings(opts: RunOptions) -> ReadSettings:
    if opts.delimiter is not None and len(opts.delimiter.replace("\\t", "\t")) != 1:
        raise UsageError(f"--delimiter must be one character, not '{opts.delimiter}'")
    decimal = decimal_mark(opts)
    dates = DateSettings(opts.calendar, opts.date_format, opts.timezone)
    try:
        dates.zone()
    except DateProblem as exc:
        raise UsageError(f"--timezone: {exc}", exc.hint) from None
    return ReadSettings(
        customer_col=opts.customer_col,
        date_col=opts.date_col,
        amount_col=opts.amount_col,
        channel_col=opts.channel_col,
        calendar=opts.calendar,
        date_format=opts.date_format,
        timezone=opts.timezone,
        encoding=opts.encoding,
        delimiter=opts.delimiter.replace("\\t", "\t") if opts.delimiter else None,
        skip_invalid=opts.skip_invalid,
        decimal=decimal,
        sheet=opts.values.get("sheet"),
    )


def decimal_mark(opts: RunOptions) -> str | None:
    """The --decimal mark of every amount the run reads, None to infer it per column."""
    decimal = opts.values.get("decimal")
    if decimal is not None and decimal not in DECIMAL_MARKS:
        raise UsageError(f"--decimal must be ',' or '.', not '{decimal}'")
    return decimal


ENGINES = ("arrow", "duckdb", "spark")
# The commands that run on Spark; the others refuse --engine spark in one line.
SPARK_COMMANDS = ("compute", "summary", "fit")


def uses_duckdb(opts: RunOptions) -> bool:
    if uses_spark(opts):
        raise UsageError(
            f"--engine spark runs {', '.join(SPARK_COMMANDS)}, not this command",
            "leave out --engine spark here",
        )
    return opts.engine == "duckdb"


def uses_spark(opts: RunOptions) -> bool:
    """Whether Spark runs the pass over the log (see clvcli.engines.spark)."""
    if opts.engine not in ENGINES:
        raise UsageError(f"--engine {opts.engine} is not one of: {', '.join(ENGINES)}")
    return opts.engine == "spark"


class PendingRead:
    """A log being read on a daemon thread; :meth:`result` waits for it.

    Daemon, so that a usage error found meanwhile ends the run at once. An error of
    the read is raised again by :meth:`result`, on the command's thread, where the
    CLI turns it into its exit code.
    """

    def __init__(self, path: str, settings: ReadSettings) -> None:
        self.path = path
        self._settings = settings
        self._done = threading.Event()
        self._transactions: Transactions | None = None
        self._error: BaseException | None = None
        threading.Thread(target=self._read, name="clv-read", daemon=True).start()

    def _read(self) -> None:
        try:
            self._transactions = read_transactions(self.path, self._settings)
        except BaseException as error:  # handed to the command's thread
            self._error = error
        finally:
            self._done.set()

    def result(self) -> Transactions:
        """The transactions, handed over once: the command frees millions of rows
        before its models run, and a reference kept here would hold them."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        transactions, self._transactions = self._transactions, None
        if transactions is None:
            raise RuntimeError("the read-ahead transactions were already taken")
        return transactions


def start_reading(input_path: str | None, opts: RunOptions) -> PendingRead | str | None:
    """INPUT being read, for ``load_transactions``; the path itself when there is
    nothing to read ahead: no INPUT, stdin (read where its bytes can be digested),
    or a log that DuckDB summarises instead."""
    if input_path is None or input_path == STDIN or uses_duckdb(opts):
        return input_path
    return PendingRead(input_path, read_settings(opts))
