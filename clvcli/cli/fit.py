"""`clv fit`: one model's parameters, errors, intervals and fit statistics."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import INPUT_HELP, SUMMARY_HELP, RunOptions, shared_options
from clvcli.contract import PURCHASE_MODEL_NAMES

FIT_MODELS = ("auto", *PURCHASE_MODEL_NAMES, "gamma-gamma", "all")


@shared_options("input", "model", "output")
def fit_cmd(
    input_path: Annotated[str | None, typer.Argument(metavar="INPUT", help=INPUT_HELP)] = None,
    summary_path: Annotated[
        str | None, typer.Option("--summary", metavar="FILE", help=SUMMARY_HELP)
    ] = None,
    *,
    opts: RunOptions,
) -> None:
    """Fit a model: parameters with standard errors and 95% intervals, log-likelihood, AIC, BIC.

    --model takes auto (the default: the model clv compute would choose), bgnbd, mbgnbd,
    pnbd, ggomnbd, bgbb, bgcnbd, mbgcnbd or gamma-gamma (spend), or all: every model
    side by side, one row each (JSON: each model's fit under "models"). The JSON output
    of one model (--format json, or -o FILE.json) scores new data with clv compute
    --params FILE. A fit that runs off to a limit (customers who do not differ in some
    respect) is reported at that limit, with a warning that says so.

    Example: clv fit sales.csv --model pnbd --period week -o params.json
    """
    from clvcli.cli.reading import start_reading, uses_spark

    # The log is read while the rest imports (or left to the engine that takes it);
    # BG/BB counts purchase periods, which only the transactions hold.
    source = (
        input_path
        if uses_spark(opts)
        else start_reading(input_path, opts, engine_may_read=opts.model not in ("bgbb", "all"))
    )
    from clvcli.cli.common import (
        check_model_options,
        load_summary,
        load_transactions,
        log_pieces,
        one_source,
        parse_option_date,
    )
    from clvcli.cli.output import resolve_format
    from clvcli.core.fitting import fit_report, fit_report_from_pieces, fit_report_from_table

    one_source(input_path, summary_path)
    reporter = Reporter(opts.quiet)
    model = check_model_options(opts, allowed=FIT_MODELS)
    as_of = parse_option_date(opts.as_of, "--as-of", opts)
    fmt = resolve_format(opts)
    if model == "auto":
        from clvcli.cli.fit_auto import fit_auto

        report, warnings = fit_auto(input_path, summary_path, source, as_of, opts, reporter)
    elif (
        pieces := log_pieces(input_path, summary_path, source, opts, reporter, model=model)[0]
    ) is not None:
        # The summary stays in the engine's file or with Spark: the fit needs only its
        # distinct rows.
        with pieces as summary, reporter.progress(f"fitting {model}"):
            report, warnings = fit_report_from_pieces(summary, model)
    elif summary_path is not None:
        table = load_summary(summary_path, opts, reporter)
        with reporter.progress(f"fitting {model}"):
            report, warnings = fit_report_from_table(table, model)
    else:
        transactions = load_transactions(source, opts, reporter)
        with reporter.progress(f"fitting {model}"):
            report, warnings = fit_report(
                transactions, model, period=opts.period, as_of=as_of, consume=True
            )
    reporter.warn(warnings)
    _record_fit(opts, report)
    _emit_report(report, fmt, opts, reporter)


def _record_fit(opts: RunOptions, report: dict[str, Any]) -> None:
    """The as-of date and the fitted models, for --sidecar, as compute records them."""
    import numpy as np

    from clvcli.cli.common import warn_of_a_future_as_of

    opts.record["as_of"] = report["as_of"]
    warn_of_a_future_as_of(opts, int(np.datetime64(report["as_of"], "D").astype("int64")))
    if "models" in report:
        opts.record["models"] = {
            name: {"model": name, "params": part["params"]}
            for name, part in report["models"].items()
            if "params" in part
        }
        return
    role = "spend" if report["model"] == "gamma-gamma" else "purchases"
    models = {role: {"model": report["model"], "params": report["params"]}}
    if report.get("chosen_by"):
        models[role]["chosen_by"] = report["chosen_by"]
    if report.get("spend_model"):
        spend = report["spend_model"]
        models["spend"] = {"model": spend["model"], "params": spend["params"]}
    opts.record["models"] = models


def _emit_report(report: dict[str, Any], fmt: str, opts: RunOptions, reporter: Reporter) -> None:
    from clvcli.cli.output import emit, write_json
    from clvcli.core.fitting import (
        comparison_frame,
        correlation_frames,
        parameter_frame,
        statistics_frame,
    )

    if fmt == "json":
        write_json(report, opts, reporter, full_precision=True)
        return
    if "models" in report:
        fitted = [p for p in report["models"].values() if "n_customers" in p]
        customers = f" on {fitted[0]['n_customers']:,} customers" if fitted else ""
        title = f"every model fitted{customers}, {report['period']}s, as of {report['as_of']}"
        frame = comparison_frame(report)
        if fmt == "table":  # a parameter a line; the warnings are on stderr above
            frame["params"] = frame["params"].str.replace(", ", "\n")
            frame["warnings"] = [_in_short(part) for part in report["models"].values()]
        keep = ("model", "params", "log_likelihood", "aic", "bic", "converged", "warnings")
        emit(frame, opts, reporter, title=title, what="models", keep=keep)
        return
    title = (
        f"{report['model']} fitted on {report['n_customers']:,} customers, "
        f"{report['period']}s, as of {report['as_of']}"
    )
    # On a narrow terminal the estimates stay, their errors and intervals go first.
    keep = ("parameter", "estimate")
    emit(parameter_frame(report), opts, reporter, title=title, what="parameters", keep=keep)
    if fmt == "table":
        for model, frame in correlation_frames(report):
            emit(frame, opts, reporter, title=f"{model}: correlation")
        emit(statistics_frame(report), opts, reporter, title="Fit")


def _in_short(part: dict[str, Any]) -> str:
    """A model's warnings (or error) in a table cell: they are printed in full above."""
    if "error" in part:
        return "failed, see above"
    count = len(part.get("warnings") or [])
    return f"{count} above" if count else ""
