"""`clv report`: one HTML, Excel or Markdown report of a shop's customer value."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, RunOptions, shared_options
from clvcli.errors import UsageError

if TYPE_CHECKING:
    from clvcli.io.subscriptions import CohortCounts, SubscriptionLog

LANGS = ("en", "fa")
FORMAT_HINT = "name the file .html, .xlsx or .md"


@shared_options("input", "model", "stages", "output")
def report_cmd(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help=INPUT_HELP)],
    costs: Annotated[
        str | None,
        typer.Option(
            "--costs",
            metavar="FILE",
            help="Spend per month (and channel): adds CLV against CAC, as in clv cac.",
        ),
    ] = None,
    holdout: Annotated[
        str | None,
        typer.Option(
            "--holdout",
            help="Check the model on a holdout at the end (39w, 6m, 90d, 1y), as in clv validate.",
        ),
    ] = None,
    subscriptions: Annotated[
        str | None,
        typer.Option(
            "--subscriptions",
            metavar="FILE",
            help="Subscription log (customer_id, start, end) or cohort table (period, "
            "active): adds a retention section, as in clv retention (sBG, pooled).",
        ),
    ] = None,
    lang: Annotated[
        str,
        typer.Option(
            "--lang", help="en, or fa: Persian, right to left, Jalali dates, Persian digits."
        ),
    ] = "en",
    top: Annotated[
        int, typer.Option("--top", min=1, help="Customers in the top customers table.")
    ] = 20,
    *,
    opts: RunOptions,
) -> None:
    """A report file: headline figures, CLV distribution, funnel, cohorts, model fit.

    The format comes from -o's extension: .html (one self-contained page with
    charts), .xlsx (a sheet per table) or .md (headline figures and main tables).
    --subscriptions FILE adds subscription retention: the survival curve, actual
    against projected, and the value of the active subscribers.

    Example: clv report sales.csv --costs spend.csv --holdout 26w -o report.html
    """
    from dataclasses import replace

    from clvcli.cli.reading import start_reading

    # The log is read while the rest imports, or left to the engine that takes it as it
    # is. The holdout's tracking curve, BG/BB and saved parameters (maybe BG/BB's) need
    # the transactions themselves.
    periods = opts.model == "bgbb" or opts.params is not None
    engine_may_read = holdout is None and not periods
    source = start_reading(input_path, opts, engine_may_read=engine_may_read)
    from clvcli.cli.common import compute_settings, load_transactions, record_values
    from clvcli.cli.reading import decimal_mark
    from clvcli.core.validation import holdout_length
    from clvcli.io.costs import read_costs
    from clvcli.io.metadata import metadata_json, run_metadata
    from clvcli.io.writers import check_writable, output_group
    from clvcli.report.analysis import Costs, ReportSettings, add_retention, build_report
    from clvcli.report.labels import labels_for
    from clvcli.report.render import render_report
    from clvcli.report.xlsx import SHEET_ROWS

    fmt = output_format(opts)
    if lang not in LANGS:
        raise UsageError(f"--lang {lang} is not one of: {', '.join(LANGS)}")
    reporter = Reporter(opts.quiet)
    settings = ReportSettings(
        compute=compute_settings(opts),
        holdout_days=holdout_length(holdout) if holdout is not None else None,
        top=top,
        cohort_calendar="jalali" if lang == "fa" or opts.calendar == "jalali" else "gregorian",
    ).check()
    check_writable(opts.output)
    if opts.values.get("sidecar"):
        check_writable(opts.output + ".meta.json")
    if costs is not None:
        spend, calendar = read_costs(costs, decimal_mark(opts))
        settings = replace(settings, costs=Costs(spend, calendar))
    held = None
    if subscriptions is not None:
        held = read_subscriptions(subscriptions, opts)
    data = _engine_report(source, settings, opts, reporter)
    if data is None:
        # With costs, a log with no amounts is refused (CAC needs money): no note first.
        transactions = load_transactions(source, opts, reporter, note=costs is None)
        data = build_report(transactions, settings, step=reporter.progress)
    if held is not None:
        with reporter.progress("fitting retention"):
            add_retention(data, held)
    reporter.warn(data.warnings)
    if costs is not None:
        from clvcli.core.cac import margin_note

        reporter.warn([note for note in [margin_note(opts.margin)] if note], kind="note")
    if fmt == "xlsx" and len(data.customers) > SHEET_ROWS:
        reporter.warn(
            [
                f"a sheet holds {SHEET_ROWS:,} rows: the customers sheet has the most valuable "
                f"{SHEET_ROWS:,} of {len(data.customers):,} customers (clv compute gives all)"
            ]
        )
    record_values(opts, data.values)
    with reporter.progress(f"writing the {fmt} report"), output_group() as group:
        group.write(opts.output, render_report(data, labels_for(lang), fmt))
        if opts.values.get("sidecar"):
            sidecar = metadata_json(run_metadata(opts.record)).encode("utf-8")
            group.write(opts.output + ".meta.json", sidecar)
    reporter.event("written", format=fmt, path=opts.output)


def _engine_report(source: Any, settings: Any, opts: RunOptions, reporter: Reporter) -> Any:
    """The report of a log its engine reads as it is: the compute table from the
    engine's summary, a million customers at a time, and the cohorts and CAC margins
    from the engine; None when the reader reads the log."""
    from clvcli.cli.common import engine_pieces
    from clvcli.core.compute import CustomerValues, compute_in_pieces
    from clvcli.core.log import EngineLog
    from clvcli.report.analysis import build_log_report, report_compute

    if not isinstance(source, EngineLog):
        return None
    pieces, compute = engine_pieces(source, opts, reporter, report_compute(settings))
    if pieces is None:
        return None
    import pandas as pd

    with pieces as summary, reporter.progress("computing customer values"):
        found = compute_in_pieces(summary, compute)
        frame = pd.concat(list(found.pieces), ignore_index=True)
    values = CustomerValues(
        frame, found.as_of, found.warnings, found.purchase_model, found.spend_model, found.choice
    )
    return build_log_report(source, values, settings, step=reporter.progress)


def read_subscriptions(path: str, opts: RunOptions) -> SubscriptionLog | CohortCounts:
    """The --subscriptions file, read with the run's calendar, dates and decimal mark."""
    from clvcli.cli.reading import decimal_mark
    from clvcli.io.subscriptions import SubscriptionReadSettings, read_retention_input

    opts.record.setdefault("inputs", []).append(path)
    settings = SubscriptionReadSettings(
        calendar=opts.calendar,
        date_format=opts.date_format,
        timezone=opts.timezone,
        encoding=opts.encoding,
        decimal=decimal_mark(opts),
        skip_invalid=opts.skip_invalid,
    )
    return read_retention_input(path, settings)


def output_format(opts: RunOptions) -> str:
    """html, xlsx or md, from -o's extension; a usage error otherwise."""
    from clvcli.report.render import report_format

    if not opts.output:
        raise UsageError("clv report writes a file: give -o FILE", "e.g. -o report.html")
    if opts.format is not None:
        raise UsageError("clv report takes its format from -o's extension", FORMAT_HINT)
    fmt = report_format(opts.output)
    if fmt is None:
        raise UsageError(
            f"cannot tell the report format of '{opts.output}' from its extension", FORMAT_HINT
        )
    return fmt
