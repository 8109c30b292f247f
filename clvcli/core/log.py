"""The log a command reads, as an engine holds it or as the reader reads it.

The commands ask here, never ``if engine == ...``: :func:`engine_log` says whether
the chosen engine takes the log as it is (a cheap look at the files), and the
summary, the summary file and ``--model auto``'s holdout then come from the engine.
When it does not, or when the rows show the reader is needed (:class:`NotClean`),
the reader reads the log and the core works on its transactions.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from clvcli.engines import Engine, LogRequest, NotClean, engine_named
from clvcli.errors import ClvError

if TYPE_CHECKING:
    from clvcli.contract import CustomerTable
    from clvcli.core.compute import ComputeSettings
    from clvcli.engines.duckdb import SummaryPieces
    from clvcli.io.readers import ReadSettings


@dataclass(frozen=True)
class EngineLog:
    """A log the engine reads as it is."""

    engine: Engine
    handle: Any
    request: LogRequest

    @property
    def path(self) -> str:
        return self.request.path

    def at(self, as_of: int) -> EngineLog:
        """The same log summarised as of another day (days since 1970-01-01)."""
        return replace(self, request=replace(self.request, as_of=as_of))

    def summary_pieces(self, wants_litt: Callable[[], bool] | None = None) -> SummaryPieces | None:
        """The per-customer summary on disk (with litt when ``wants_litt()`` says so,
        see :class:`LogRequest`); None when the reader is needed."""
        try:
            request = replace(self.request, wants_litt=wants_litt)
            return self.engine.summary_pieces(self.handle, request)
        except NotClean:
            return None

    def span(self) -> tuple[int, int]:
        """The log's first and last day (days since 1970-01-01); :class:`NotClean`
        when a CSV log's rows need the reader."""
        return self.engine.span(self.handle)

    def aggregate(
        self, sql: str, calendar: dict[str, Any], **relations: dict[str, Any]
    ) -> dict[str, Any]:
        """A query of :mod:`clvcli.engines.periods` run by the engine over the log's
        transactions, ``calendar`` and ``relations`` (a ``customer`` column of theirs
        holds ids as the summary writes them); :class:`NotClean` when the reader is
        needed."""
        return self.engine.aggregate(self.handle, sql, {"calendar": calendar, **relations})

    def holdout_table(
        self, calibration_end: Callable[[int], int]
    ) -> tuple[CustomerTable, int] | None:
        """The calibration summary with holdout columns up to the log's last day, of
        every customer who bought by the calibration end (``calibration_end(last
        day)``), as the reader's :func:`clvcli.core.summary.calibration_table` gives
        it, and that end; None when the reader is needed."""
        from clvcli.core.summary import check_calibration_end
        from clvcli.core.validation import engine_holdout_table

        period = self.request.period
        try:
            first, last = self.span()
            end = calibration_end(last)
            check_calibration_end(first, end, last)
            columns = self.engine.holdout_table(
                self.handle, calibration_end=end, as_of=last, period=period
            )
        except NotClean:
            return None
        table = engine_holdout_table(
            columns, source=self.path, calibration_end=end, as_of=last, period=period
        )
        return table, end

    def fitting_pieces(
        self, model: str | None, settings: ComputeSettings | None
    ) -> tuple[SummaryPieces | None, ComputeSettings | None]:
        """The summary on disk for a run that fits ``model`` (``settings``' model when
        given), with the customers' litt only when the fit needs it, and ``settings``
        with what ``--model auto`` learnt of the engine's holdout sample; (None,
        ``settings``) when the reader is needed.

        The sample is scored once the engine knows it reads the log itself, before
        the summary: the choice it leads to says whether the summary needs litt.
        """
        from clvcli.core.compute import needs_purchase_days

        settled = settings
        asked = False

        def wants_litt() -> bool:
            nonlocal settled, asked
            asked = True
            if settings is None:
                return model is not None and needs_purchase_days(model)
            settled = self.settle_model(settings)
            return needs_purchase_days(settled.model, settled)

        pieces = self.summary_pieces(wants_litt)
        if pieces is None:
            return None, settings
        if settings is not None and not asked:
            settled = self.settle_model(settings)
        return pieces, settled

    def settle_model(self, settings: ComputeSettings) -> ComputeSettings:
        """:func:`clvcli.core.compute.settle_model` on the engine's holdout sample."""
        from clvcli.core.choice import AUTO, scores_of_sample

        if settings.model != AUTO or settings.saved is not None or settings.auto_scores:
            return settings
        first, last = self.span()

        def sample(per_sample: int, calibration_end: int, as_of: int) -> Any:
            return self.engine.sample_table(
                self.handle,
                per_sample=per_sample,
                calibration_end=calibration_end,
                as_of=as_of,
                period=settings.period,
            )

        scores = scores_of_sample(
            sample,
            first=first,
            last=last,
            period=settings.period,
            as_of=settings.as_of,
            churn_days=settings.rules.churn_days,
        )
        return replace(settings, auto_scores=scores)


def engine_log(
    path: str | None,
    read: ReadSettings,
    *,
    engine: str | None,
    period: str,
    as_of: int | None,
) -> EngineLog | None:
    """The log at ``path`` if the engine named (None: the default) reads it as it
    is; None sends it to the reader."""
    chosen = engine_named(engine)
    if path is None:
        return None
    request = LogRequest(path, read, period, as_of)
    handle = chosen.direct(request)
    return None if handle is None else EngineLog(chosen, handle, request)


def summary_file_pieces(
    path: str, *, engine: str | None, period: str, as_of: int | None
) -> SummaryPieces | None:
    """A Parquet summary (file, folder or glob) checked and sorted by the engine into
    a file read in pieces; None for a summary in another format (the reader's)."""
    from clvcli.io.source import input_files, is_many

    try:
        files = input_files(path) if is_many(path) else [path]
    except ClvError:  # the reader says what is wrong with the path
        return None
    if not files or not all(
        os.path.isfile(f) and f.lower().endswith((".parquet", ".pq")) for f in files
    ):
        return None
    return engine_named(engine).summary_file_pieces(path, period=period, as_of=as_of)
