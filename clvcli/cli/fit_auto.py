"""`clv fit --model auto`: the model clv compute would choose, fitted and reported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clvcli.cli.console import Reporter
from clvcli.cli.options import RunOptions

if TYPE_CHECKING:
    pass


def fit_auto(
    input_path: str | None,
    summary_path: str | None,
    source: Any,
    as_of: int | None,
    opts: RunOptions,
    reporter: Reporter,
) -> tuple[dict[str, Any], list[str]]:
    """Choose as compute does (holdout MAE on the log, BIC on a summary; see
    :mod:`clvcli.core.choice`), say which on stderr, and fit the chosen model.

    The report carries the choice under ``chosen_by``.
    """
    from clvcli.cli.common import load_summary, load_transactions, log_pieces
    from clvcli.core.compute import (
        ComputeSettings,
        grouped_history,
        pieces_choice,
        settle_model,
        table_choice,
        transactions_table,
    )
    from clvcli.core.fitting import fit_report_from_pieces, fit_report_from_table

    settings = ComputeSettings(as_of=as_of, period=opts.period)
    pieces, settings = log_pieces(input_path, summary_path, source, opts, reporter, settings)
    if pieces is not None:
        with pieces as summary, reporter.progress("choosing and fitting the model"):
            choice = pieces_choice(summary, settings, grouped_history(summary))
            report, warnings = fit_report_from_pieces(summary, choice.model)
    else:
        if summary_path is not None:
            table = load_summary(summary_path, opts, reporter)
        else:
            transactions = load_transactions(source, opts, reporter)
            with reporter.progress("choosing the model"):
                settings = settle_model(transactions, settings)
                table = transactions_table(transactions, settings, consume=True)
            del transactions
        with reporter.progress("choosing and fitting the model"):
            choice = table_choice(table, settings)
            report, warnings = fit_report_from_table(table, choice.model)
    report["chosen_by"] = choice.record()
    reporter.warn([choice.note()], kind="note")
    if choice.warning:
        warnings.append(choice.warning)
    return report, warnings
