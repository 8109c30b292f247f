"""`clv retention`: how long subscribers stay, projected, and what the base is worth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import RunOptions, shared_options

if TYPE_CHECKING:
    from clvcli.core.retention import RetentionResult

RETENTION_INPUT_HELP = (
    "Subscription log (customer_id, start, end; end empty while active; optional price, "
    "plan, channel) or cohort table (period, active): .csv/.tsv/.txt (also .gz, .zip), "
    ".parquet, .xlsx/.xls/.ods, or - for stdin."
)
PERCENT = ("survival", "fitted_survival", "retention", "fitted_retention", "p_renew")


@shared_options("subscriptions", "money", "output")
def retention_cmd(
    input_path: Annotated[str, typer.Argument(metavar="INPUT", help=RETENTION_INPUT_HELP)],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            help="sbg (shifted-beta-geometric, Fader & Hardie 2007) or bdw (beta-discrete-"
            "Weibull, Fader et al. 2018: churn may also change with each subscriber's tenure).",
        ),
    ] = "sbg",
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="Renewal period, month or year (default: year when most ended subscriptions "
            "lasted whole years, else month; said on stderr).",
        ),
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            min=1,
            max=1200,
            help="Survival shown and projected to this period (default: 24 months or 12 "
            "years, or the data's last period if later).",
        ),
    ] = None,
    cohort: Annotated[
        str,
        typer.Option(
            "--cohort",
            help="none (one pooled fit), or a fit per start month or quarter.",
        ),
    ] = "none",
    by: Annotated[str | None, typer.Option("--by", help="A fit per plan or per channel.")] = None,
    per_subscriber: Annotated[
        bool,
        typer.Option(
            "--per-subscriber",
            help="One row per active subscriber: tenure, p_renew, erl, derl and clv "
            "(price x --margin x derl); the base's total on stderr.",
        ),
    ] = False,
    start_col: Annotated[
        str | None,
        typer.Option(
            "--start-col", help="Start date column (default: detected, e.g. start, شروع)."
        ),
    ] = None,
    end_col: Annotated[
        str | None,
        typer.Option("--end-col", help="End date column (default: detected, e.g. end, پایان)."),
    ] = None,
    price_col: Annotated[
        str | None,
        typer.Option(
            "--price-col", help="Price per renewal period (default: detected, e.g. price, قیمت)."
        ),
    ] = None,
    plan_col: Annotated[
        str | None,
        typer.Option("--plan-col", help="Plan column (default: detected, e.g. plan, طرح)."),
    ] = None,
    *,
    opts: RunOptions,
) -> None:
    """Subscriptions: retention fitted and projected, and the value of the active base.

    INPUT is a subscription log, one row per subscription (end empty while it runs),
    or a cohort table (period 0, 1, 2, ... and the subscribers still active at each).
    Rows per cohort and period: active subscribers, actual and fitted survival and
    retention rate, and whether the period is projected (beyond the data).
    Overlapping subscriptions of one customer are merged into one spell, with a
    warning. --per-subscriber values each active subscriber: the discounted expected
    number of renewals to come (derl, at --discount-rate a year, per period) times price
    and --margin. --format json gives params, std_errors, log_likelihood and the rows.

    Example: clv retention subscriptions.csv --per-subscriber --margin 0.8
    """
    from clvcli.cli.common import parse_option_date
    from clvcli.cli.output import emit, resolve_format, write_json
    from clvcli.cli.reading import decimal_mark
    from clvcli.core.retention import RetentionSettings, project_retention
    from clvcli.io.subscriptions import SubscriptionReadSettings, read_retention_input

    reporter = Reporter(opts.quiet)
    settings = RetentionSettings(
        period=period,
        cohort=cohort,
        by=by,
        model=model,
        horizon=horizon,
        per_subscriber=per_subscriber,
        margin=opts.margin,
        discount_rate=opts.discount_rate,
        as_of=parse_option_date(opts.as_of, "--as-of", opts),
    ).check()
    read = SubscriptionReadSettings(
        customer_col=opts.customer_col,
        start_col=start_col,
        end_col=end_col,
        price_col=price_col,
        plan_col=plan_col,
        channel_col=opts.channel_col,
        calendar=opts.calendar,
        date_format=opts.date_format,
        timezone=opts.timezone,
        encoding=opts.encoding,
        decimal=decimal_mark(opts),
        skip_invalid=opts.skip_invalid,
    )
    fmt = resolve_format(opts)
    opts.record.setdefault("inputs", []).append(input_path)
    with reporter.progress("reading subscriptions"):
        data = read_retention_input(input_path, read)
    with reporter.progress(f"fitting {model}"):
        result = project_retention(data, settings)
    reporter.warn(result.notes, kind="note")
    reporter.warn(result.warnings)
    reporter.warn(fit_lines(result), kind="note")
    if result.as_of is not None:
        opts.record["as_of"] = result.as_of
    opts.record["models"] = {
        "retention": {"model": result.model, "period": result.period, "fits": result.fits}
    }
    if fmt == "json":
        write_json(result.document(), opts, reporter)
        return
    if result.subscribers is not None:
        emit(
            result.subscribers,
            opts,
            reporter,
            money=("price", "clv"),
            percent=("p_renew",),
            title=f"Active subscribers as of {result.as_of}: value of the base",
            what="subscribers",
        )
        return
    emit(
        result.survival,
        opts,
        reporter,
        percent=PERCENT,
        title=f"Retention by {result.period}: actual and {result.model} fitted, projected",
        what="rows",
    )


def fit_lines(result: RetentionResult) -> list[str]:
    """One line per fit (a few at most) and the base's total, for stderr."""
    lines = []
    fitted = [fit for fit in result.fits if "params" in fit]
    for fit in fitted[:3]:
        params = ", ".join(f"{k} {v:.4g}" for k, v in fit["params"].items())
        where = " ".join(str(v) for k, v in fit.items() if k in ("plan", "channel"))
        cohort = "" if fit["cohort"] == "all" else f"cohort {fit['cohort']} "
        lines.append(
            f"{result.model} {where + ' ' if where else ''}{cohort}on {fit['subscribers']:,} "
            f"subscribers: {params}; log-likelihood {fit['log_likelihood']:.2f}"
        )
    if len(fitted) > 3:
        lines.append(f"... and {len(fitted) - 3} more fits (--format json gives them all)")
    base = result.base
    if base is not None:
        total = base["total_clv"]
        value = "no price, so no value" if total is None else f"worth {total:,.2f}"
        lines.append(
            f"base: {base['active_subscribers']:,} active subscribers {value} (price x margin "
            f"{base['margin']:g} x derl at {base['discount_rate']:.0%} a year)"
        )
    return lines
