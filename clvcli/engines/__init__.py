"""The engines that run the one pass over the transactions that grows with the log.

Every command asks this seam for what it needs of the log (the per-customer summary,
its holdout columns for ``--model auto`` and ``clv validate``, the monthly cells of
cohorts, a summary file too large to hold), whichever engine runs it: DuckDB on this
machine by default, Spark on a cluster. An engine is one entry of :data:`ENGINES`;
``--engine`` offers their names, and ``arrow``, which scripts may name from older
releases, is the default's other name.

The reader (clvcli.io) keeps what only it can do: sniffing messy text, Jalali dates,
Persian digits, decimal marks, refusing bad rows by their row numbers, normalising
ids. An engine takes a file as it is only when the reader would read it the same way,
and says :class:`NotClean` otherwise: the reader then reads it, and every engine
gives the answer of the one set of input rules.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from clvcli.errors import UsageError

if TYPE_CHECKING:
    from clvcli.engines.duckdb import SummaryPieces
    from clvcli.io.readers import ReadSettings


class NotClean(Exception):
    """A file the engine cannot read with certainty as it is (empty cells, dates that
    are not ISO, amounts that are not plain numbers, ids that need normalising): the
    reader, which knows every input rule, takes it instead. Never shown to users."""


@dataclass(frozen=True)
class LogRequest:
    """What a command asks of a transaction log: where it is, how to read it, and
    the summary's period and as-of day (days since 1970-01-01, None: the last).

    ``wants_litt`` says whether the summary should carry each customer's litt (the
    BG/CNBD-k fits need it, see :func:`clvcli.engines.sql.summary_sql`); an engine asks
    it once, when it knows it reads the log itself, for the answer may take a look at
    the log (``--model auto``'s holdout sample). None: no litt.
    """

    path: str
    read: ReadSettings
    period: str
    as_of: int | None = None
    wants_litt: Callable[[], bool] | None = None


class Engine(Protocol):
    """The questions every engine answers about a transaction log.

    ``direct`` is asked before anything is read, and must be cheap (a file's footer,
    never its rows): None sends the log to the reader. The rest may raise
    :class:`NotClean` when the rows themselves show the reader is needed.
    """

    name: str

    def direct(self, request: LogRequest) -> Any | None:
        """A handle on the log when this engine may read it as it is, else None."""
        ...

    def summary_pieces(self, handle: Any, request: LogRequest) -> SummaryPieces:
        """The per-customer summary of the log ``direct`` accepted, on disk, with the
        customers' litt when ``request.wants_litt`` says so."""
        ...

    def span(self, handle: Any) -> tuple[int, int]:
        """The log's first and last day."""
        ...

    def sample_table(
        self, handle: Any, *, per_sample: int, calibration_end: int, as_of: int, period: str
    ) -> dict[str, Any]:
        """Every k-th customer (in id order, k: the customers over ``per_sample``
        rounded up) up to ``calibration_end`` (frequency, recency, T) and their
        purchase days after it up to ``as_of`` (frequency_holdout), and the litt of
        their purchase days up to ``calibration_end`` (litt): the holdout ``--model
        auto`` scores its candidates on."""
        ...

    def holdout_table(
        self, handle: Any, *, calibration_end: int, as_of: int, period: str
    ) -> dict[str, Any]:
        """:meth:`sample_table`'s columns for every customer who bought by
        ``calibration_end``, in id order, and ``refund_only``: how many customers
        had only refunds by then (``clv validate``)."""
        ...

    def aggregate(self, handle: Any, sql: str, relations: dict[str, Any]) -> dict[str, Any]:
        """A query of :mod:`clvcli.engines.periods` over the log as the relation
        ``transactions`` (customer, day as days since 1970-01-01, amount) and the
        ``relations`` given (columns by name), as numpy columns."""
        ...

    def summary_file_pieces(self, path: str, *, period: str, as_of: int | None) -> SummaryPieces:
        """A per-customer summary in Parquet, checked and sorted, on disk."""
        ...


# Each engine by name, as the module and class that define it: imported only when
# chosen, so that `clv --help` loads none of them. Spark has no class here: it runs
# the commands that take it whole, on the cluster (clvcli.cli.spark), and the rest
# refuse it before they ask this seam.
_KNOWN: dict[str, tuple[str, str | None]] = {
    "duckdb": ("clvcli.engines.duckdb", "DuckDBEngine"),
    "spark": ("clvcli.engines.spark", None),
}
DEFAULT = "duckdb"
# Other names of engines, kept for the scripts that use them.
ALIASES = {"arrow": DEFAULT}


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def engine_names() -> tuple[str, ...]:
    """The names ``--engine`` accepts: every engine shipped, then the aliases."""
    return (*(name for name, (module, _) in _KNOWN.items() if _installed(module)), *ALIASES)


ENGINES: dict[str, Callable[[], Engine]] = {
    name: (lambda module=module, cls=cls: getattr(importlib.import_module(module), cls)())
    for name, (module, cls) in _KNOWN.items()
    if cls is not None
}


def canonical_name(name: str | None) -> str:
    """The engine ``--engine`` names (None: the default), by its own name; a usage
    error for a name that is none of them."""
    name = ALIASES.get(name or DEFAULT, name or DEFAULT)
    if name not in engine_names():
        raise UsageError(f"--engine {name} is not one of: {', '.join(engine_names())}", None)
    return name


def engine_named(name: str | None) -> Engine:
    """The engine ``--engine`` names (None: the default); a usage error else, and for
    an engine that answers no questions of this seam (Spark)."""
    chosen = canonical_name(name)
    if chosen not in ENGINES:
        refuse_other_engines(chosen, "this command with these options")
    return ENGINES[chosen]()


def refuse_other_engines(name: str | None, what: str) -> None:
    """For a command (``what``: "clv segment", or "with these options") that reads
    the log with the reader alone: a usage error in one line for any engine but the
    default."""
    if canonical_name(name) != DEFAULT:  # an unknown name is its own error
        raise UsageError(
            f"--engine {name}: clv runs {what} on the default engine only",
            f"leave out --engine {name}",
        )
