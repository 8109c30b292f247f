"""INPUT read on a second thread while the command imports the rest of clv.

A data command imports pandas, scipy and the models, about 0.7 s of Python, before
it needs the log; reading and parsing the log is Arrow, numpy and DuckDB work that lets
go of the GIL. Started first, the two run side by side, which takes a quarter of a
second off a million-row compute. This module imports only what reading needs.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from clvcli.cli.options import RunOptions
from clvcli.errors import UsageError
from clvcli.io.amounts import DECIMAL_MARKS
from clvcli.io.dates import DateProblem, DateSettings
from clvcli.io.readers import ReadSettings, Transactions, read_transactions
from clvcli.io.source import STDIN

if TYPE_CHECKING:
    from clvcli.core.log import EngineLog


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


def uses_spark(opts: RunOptions) -> bool:
    """Whether Spark runs the pass over the log (compute, summary and fit; see
    clvcli.engines.spark); an --engine that is not one is a usage error."""
    from clvcli.engines import canonical_name

    return canonical_name(opts.engine) == "spark"


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


def start_reading(
    input_path: str | None, opts: RunOptions, *, engine_may_read: bool = False
) -> PendingRead | EngineLog | str | None:
    """INPUT being read, for ``load_transactions``; the log as the engine holds it
    when the engine reads it as it is (and ``engine_may_read``: the command needs
    only what engines give); the path itself when there is nothing to read ahead:
    no INPUT, or stdin (read where its bytes can be digested).

    A command that needs the transactions themselves runs on the default engine
    only, and refuses another in one line.
    """
    from clvcli.core.log import engine_log
    from clvcli.engines import refuse_other_engines

    if not engine_may_read:
        refuse_other_engines(opts.engine, "this command with these options")
    direct = engine_log(
        input_path if engine_may_read else None,
        read_settings(opts),
        engine=opts.engine,
        period=opts.values.get("period", "day"),
        as_of=_as_of(opts),
    )
    if direct is not None:
        return direct
    if input_path is None or input_path == STDIN:
        return input_path
    return PendingRead(input_path, read_settings(opts))


def _as_of(opts: RunOptions) -> int | None:
    from clvcli.io.dates import parse_date_value

    if opts.values.get("as_of") is None:
        return None
    try:
        return parse_date_value(opts.as_of, DateSettings(opts.calendar, None, opts.timezone))
    except DateProblem as exc:
        raise UsageError(f"--as-of: {exc}", exc.hint) from None
