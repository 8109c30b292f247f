"""`clv validate`: calibration and holdout, per model, with error metrics."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, SUMMARY_HELP, RunOptions, shared_options
from clvcli.contract import PURCHASE_MODEL_NAMES

VALIDATE_MODELS = ("auto", *PURCHASE_MODEL_NAMES, "all")


@shared_options("input", "model", "output")
def validate_cmd(
    input_path: Annotated[str | None, typer.Argument(metavar="INPUT", help=INPUT_HELP)] = None,
    summary_path: Annotated[
        str | None,
        typer.Option(
            "--summary",
            metavar="FILE",
            help=SUMMARY_HELP
            + " It must hold the holdout columns (clv summary --calibration-end).",
        ),
    ] = None,
    holdout: Annotated[
        str | None,
        typer.Option("--holdout", help="Length of the holdout at the end: 39w, 6m, 90d, 1y."),
    ] = None,
    calibration_end: Annotated[
        str | None,
        typer.Option(
            "--calibration-end", help="End of the calibration period (instead of --holdout)."
        ),
    ] = None,
    by_frequency: Annotated[
        bool,
        typer.Option(
            "--by-frequency",
            help="Mean predicted against mean actual by calibration frequency, per model.",
        ),
    ] = False,
    *,
    opts: RunOptions,
) -> None:
    """Fit on a calibration period, predict the holdout and compare, per model.

    --model auto (the default) compares bgnbd, mbgnbd, pnbd, ggomnbd, bgcnbd and
    mbgcnbd, the models auto chooses among; --model all adds bgbb. The best is the one
    with the smallest per-customer error (MAE).

    Example: clv validate sales.csv --holdout 39w --period week --model all
    """
    from clvcli.cli.reading import start_reading, uses_spark

    if uses_spark(opts):
        from clvcli.engines import refuse_other_engines

        refuse_other_engines(opts.engine, "clv validate")
    # The log is read while the rest imports, or left to its engine when it takes it
    # as it is; BG/BB (bgbb, all) counts purchase periods, which only the transactions hold.
    periods = opts.model in ("bgbb", "all")
    engine_may_read = summary_path is None and not periods
    source = start_reading(input_path, opts, engine_may_read=engine_may_read)
    from clvcli.cli.common import check_model_options, load_transactions, parse_option_date
    from clvcli.cli.output import resolve_format
    from clvcli.core.log import EngineLog
    from clvcli.core.validation import (
        holdout_length,
        holdout_start,
        holdout_start_before,
        models_named,
        validate_models,
        validate_table,
    )
    from clvcli.errors import UsageError

    reporter = Reporter(opts.quiet)
    model = check_model_options(opts, allowed=VALIDATE_MODELS)
    models = models_named(model)
    if summary_path is not None:
        from clvcli.cli.common import load_summary, one_source

        one_source(input_path, summary_path)
        fmt = resolve_format(opts)
        table = load_summary(summary_path, opts, reporter)
        with reporter.progress("fitting and predicting the holdout"):
            report, warnings = validate_table(table, models, table.as_of)
        reporter.warn(warnings)
        _show(report, fmt, opts, reporter, by_frequency)
        return
    if input_path is None:
        raise UsageError("give a transaction log as INPUT or a calibration summary with --summary")
    if (holdout is None) == (calibration_end is None):
        raise UsageError("give the holdout as --holdout 39w (or 6m) or as --calibration-end DATE")
    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    end = parse_option_date(calibration_end, "--calibration-end", opts)
    span = holdout_length(holdout) if holdout is not None else None
    fmt = resolve_format(opts)
    if isinstance(source, EngineLog):
        given = end
        with reporter.progress("summarising customers"):
            found = source.holdout_table(
                lambda last: given if given is not None else holdout_start_before(last, span)
            )
        if found is not None:
            table, end = found
            opts.record.setdefault("inputs", []).append(source.path)
            with reporter.progress("fitting and predicting the holdout"):
                report, warnings = validate_table(table, models, end)
            reporter.warn(warnings)
            _show(report, fmt, opts, reporter, by_frequency)
            return
    transactions = load_transactions(source, opts, reporter)
    if end is None:
        end = holdout_start(transactions, span, as_of)
    with reporter.progress("fitting and predicting the holdout"):
        report, warnings = validate_models(
            transactions, models, period=opts.period, calibration_end=end, as_of=as_of
        )
    reporter.warn(warnings)
    _show(report, fmt, opts, reporter, by_frequency)


def _show(
    report: dict[str, Any], fmt: str, opts: RunOptions, reporter: Reporter, by_frequency: bool
):
    from clvcli.cli.output import emit, write_json
    from clvcli.core.validation import BGBB_NOTE, frequency_frame, summary_frame

    if "bgbb" in report["models"] and len(report["models"]) > 1:
        reporter.warn([BGBB_NOTE], kind="note")
    if fmt == "json":
        write_json(report, opts, reporter)
        return
    if by_frequency:
        emit(
            frequency_frame(report),
            opts,
            reporter,
            title="Holdout purchases by calibration frequency",
        )
        return
    emit(
        summary_frame(report),
        opts,
        reporter,
        title=(
            f"Holdout {report['calibration_end']} to {report['holdout_end']}, "
            f"{report['customers']:,} customers; best: {report['best']}"
        ),
        what="models",
    )
    if fmt == "table":
        emit(
            frequency_frame(report),
            opts,
            reporter,
            title="Mean holdout purchases by calibration frequency",
        )
