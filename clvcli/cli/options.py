"""Options shared by the commands, defined once.

`clv compute`, `segment`, `summary` and every later command that reads transactions
take the same input, model, stage and output options. :func:`shared_options` adds
them to a command's signature (Typer reads the signature) and hands the command one
:class:`RunOptions` instead of two dozen arguments.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import time
import tomllib
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from clvcli import __version__
from clvcli.engines import DEFAULT as DEFAULT_ENGINE
from clvcli.engines import engine_names
from clvcli.errors import UsageError

DEFAULT_CONFIG = "clv.toml"
STDIN = "-"
INPUT_HELP = (
    "Transaction log: .csv/.tsv/.txt (also .gz, .zip), .parquet, .xlsx/.xls/.ods, or - for stdin."
)
SUMMARY_HELP = (
    "Start from a per-customer summary (clv summary, or its --emit-sql query's result; "
    "a file, or a folder or glob of its parts) instead of transactions; its recency and "
    "T are in --period units."
)
INPUT_PANEL = "Input"
MODEL_PANEL = "Model"
STAGE_PANEL = "Stage rules"
OUTPUT_PANEL = "Output"
RUN_PANEL = "Unattended runs"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    tsv = "tsv"
    json = "json"
    jsonl = "jsonl"
    parquet = "parquet"
    xlsx = "xlsx"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    year = "year"


# --engine's choices: the engines of the registry (clvcli/engines) and their aliases.
EngineName = StrEnum("EngineName", {name: name for name in engine_names()})  # type: ignore[misc]


class Calendar(StrEnum):
    auto = "auto"
    gregorian = "gregorian"
    jalali = "jalali"


def parse_horizon(value: Any) -> float | None:
    """Months as a number (``12``, ``6.5``, ``24m``), or ``lifetime`` (None)."""
    if value is None or isinstance(value, int | float):
        return None if value is None else float(value)
    text = str(value).strip().lower().removesuffix("m")
    if text in ("lifetime", "life", "inf"):
        return None
    try:
        months = float(text)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a number of months or 'lifetime'") from None
    if not months > 0 or months > 1200:
        raise typer.BadParameter(f"'{value}' must be between 0 and 1200 months")
    return months


def parse_fraction(value: Any) -> float:
    """``0.3`` or ``30%`` as 0.3 (margins and probabilities)."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text)
    except ValueError:
        raise typer.BadParameter(f"'{value}' is not a number or a percentage like 30%") from None


@dataclass(frozen=True)
class RunOptions:
    """What the shared options said, grouped for the core's settings objects."""

    values: dict[str, Any]
    # What the run learns on the way (inputs, as-of date, models), for output metadata.
    record: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _load_config(ctx: typer.Context, param: Any, value: str | None) -> str | None:
    """Read clv.toml (or --config FILE) into the command's defaults.

    Keys are option names (``margin``, ``customer-col`` or ``customer_col``); a table
    named after a command (``[compute]``) holds defaults for that command only.
    """
    path = value or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    if path is None:
        return None
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise UsageError(f"config file {path}: no such file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"config file {path}: {exc}") from None
    names = {p.name for p in ctx.command.params if p.name}
    defaults: dict[str, Any] = {}
    for key, item in data.items():
        if isinstance(item, dict):
            if key == ctx.info_name:
                defaults.update(_known(item, names, path, strict=True))
            elif key not in COMMAND_NAMES:
                raise UsageError(f"config file {path}: unknown table [{key}]")
            continue
        defaults.update(_known({key: item}, names, path, strict=False))
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return path


def _known(items: dict[str, Any], names: set[str], path: str, *, strict: bool) -> dict[str, Any]:
    known = {}
    for key, item in items.items():
        name = key.replace("-", "_")
        if name in names and name != "config":
            known[name] = item.value if isinstance(item, Enum) else item
        elif strict or name not in ALL_OPTION_NAMES:
            raise UsageError(
                f"config file {path}: unknown key '{key}'",
                "keys are option names such as margin, period or customer-col",
            )
    return known


def _option(*decls: str, panel: str, help: str, **kwargs: Any) -> Any:
    return typer.Option(*decls, help=help, rich_help_panel=panel, **kwargs)


# name -> (annotation, default); the order is the order in --help.
INPUT_OPTIONS: dict[str, tuple[Any, Any]] = {
    "customer_col": (
        Annotated[
            str | None,
            _option(
                "--customer-col",
                panel=INPUT_PANEL,
                help="Customer id column (default: detected, e.g. customer_id, مشتری).",
            ),
        ],
        None,
    ),
    "date_col": (
        Annotated[
            str | None,
            _option(
                "--date-col",
                panel=INPUT_PANEL,
                help="Purchase date column (default: detected, e.g. order_date, تاریخ).",
            ),
        ],
        None,
    ),
    "amount_col": (
        Annotated[
            str | None,
            _option(
                "--amount-col",
                panel=INPUT_PANEL,
                help="Amount column (default: detected, e.g. amount, مبلغ).",
            ),
        ],
        None,
    ),
    "channel_col": (
        Annotated[
            str | None,
            _option(
                "--channel-col",
                panel=INPUT_PANEL,
                help="Acquisition channel column (default: detected, e.g. channel).",
            ),
        ],
        None,
    ),
    "as_of": (
        Annotated[
            str | None,
            _option(
                "--as-of",
                panel=INPUT_PANEL,
                help="End of the observation window, ISO or Jalali (default: the last date).",
            ),
        ],
        None,
    ),
    "calendar": (
        Annotated[
            Calendar,
            _option(
                "--calendar",
                panel=INPUT_PANEL,
                help="Calendar of the dates: auto detects Jalali years such as 1403.",
            ),
        ],
        Calendar.auto,
    ),
    "date_format": (
        Annotated[
            str | None,
            _option(
                "--date-format",
                panel=INPUT_PANEL,
                help="strftime form of the dates, e.g. %d/%m/%Y (default: detected).",
            ),
        ],
        None,
    ),
    "timezone": (
        Annotated[
            str | None,
            _option(
                "--timezone",
                panel=INPUT_PANEL,
                help="Zone for timestamps with an offset, e.g. Asia/Tehran (default: file's).",
            ),
        ],
        None,
    ),
    "encoding": (
        Annotated[
            str | None,
            _option(
                "--encoding",
                panel=INPUT_PANEL,
                help="Text encoding (default: UTF-8, or UTF-16 with a BOM), e.g. cp1256.",
            ),
        ],
        None,
    ),
    "delimiter": (
        Annotated[
            str | None,
            _option(
                "--delimiter",
                panel=INPUT_PANEL,
                help="Field delimiter (default: sniffed among , ; tab |).",
            ),
        ],
        None,
    ),
    "decimal": (
        Annotated[
            str | None,
            _option(
                "--decimal",
                panel=INPUT_PANEL,
                metavar="MARK",
                help="Decimal mark of amounts, , or . (default: inferred per column; "
                "a column that could be read either way is refused).",
            ),
        ],
        None,
    ),
    "sheet": (
        Annotated[
            str | None,
            _option(
                "--sheet",
                panel=INPUT_PANEL,
                metavar="NAME|NUMBER",
                help="Sheet of an .xlsx/.xls/.ods input, by name or number (default: the first).",
            ),
        ],
        None,
    ),
    "skip_invalid": (
        Annotated[
            bool,
            _option(
                "--skip-invalid",
                panel=INPUT_PANEL,
                help="Drop bad rows with one warning instead of stopping.",
            ),
        ],
        False,
    ),
    "engine": (
        Annotated[
            EngineName,
            _option(
                "--engine",
                panel=INPUT_PANEL,
                help="What runs the pass over the log: "
                + ", ".join(engine_names())
                + f" (default {DEFAULT_ENGINE}; arrow is its other name). A log the engine "
                "cannot read as it is (text dates, Persian digits, empty cells) is read by "
                "clv's reader with every input rule. spark (compute, summary, fit; "
                "--spark-master) runs the pass and the scoring on a Spark cluster "
                "(pip install 'clvcli[spark]').",
            ),
        ],
        EngineName(DEFAULT_ENGINE),
    ),
    "spark_master": (
        Annotated[
            str | None,
            _option(
                "--spark-master",
                panel=INPUT_PANEL,
                metavar="URL",
                help="With --engine spark: the cluster (spark://host:7077, yarn, sc://host "
                "for Spark Connect). Default: SPARK_REMOTE or Spark's configuration, "
                "else local[*] on this machine.",
            ),
        ],
        None,
    ),
    "config": (
        Annotated[
            str | None,
            _option(
                "--config",
                panel=INPUT_PANEL,
                help="TOML file of option defaults (default: ./clv.toml if present).",
                is_eager=True,
                callback=_load_config,
            ),
        ],
        None,
    ),
}
MODEL_OPTIONS: dict[str, tuple[Any, Any]] = {
    "model": (
        Annotated[
            str,
            _option(
                "--model",
                panel=MODEL_PANEL,
                help="Purchase model: auto (chooses among bgnbd, mbgnbd, pnbd, ggomnbd, bgcnbd "
                "and mbgcnbd by holdout error or BIC, and says which on stderr), bgnbd, "
                "mbgnbd, pnbd, ggomnbd, bgbb, bgcnbd, mbgcnbd, or none (history only).",
            ),
        ],
        "auto",
    ),
    "period": (
        Annotated[
            Period,
            _option(
                "--period",
                panel=MODEL_PANEL,
                help="Time unit of frequency, recency and T (and of the models).",
            ),
        ],
        Period.day,
    ),
    "horizon": (
        Annotated[
            str,
            _option(
                "--horizon",
                panel=MODEL_PANEL,
                help="Months of future in predicted CLV (a month is 365.25/12 days), or lifetime.",
            ),
        ],
        "12",
    ),
    "discount_rate": (
        Annotated[
            float,
            _option(
                "--discount-rate",
                panel=MODEL_PANEL,
                help="Annual discount rate, 0.10 or 10%; applied monthly.",
                parser=parse_fraction,
            ),
        ],
        0.10,
    ),
    "params": (
        Annotated[
            str | None,
            _option(
                "--params",
                panel=MODEL_PANEL,
                help="Score with parameters saved by clv fit --format json; no refitting.",
            ),
        ],
        None,
    ),
    "margin": (
        Annotated[
            float,
            _option(
                "--margin",
                panel=MODEL_PANEL,
                help="Gross margin applied to revenue, 0.3 or 30% (default: 1, revenue).",
                parser=parse_fraction,
            ),
        ],
        1.0,
    ),
}
INTERVAL_OPTIONS: dict[str, tuple[Any, Any]] = {
    "interval": (
        Annotated[
            float,
            _option(
                "--interval",
                panel=MODEL_PANEL,
                help="Add each customer's interval of expected purchases and predicted CLV "
                "at this coverage, 0.9 or 90%, from the uncertainty of the fitted parameters "
                "(default 0: none).",
                parser=parse_fraction,
            ),
        ],
        0.0,
    ),
}
STAGE_OPTIONS: dict[str, tuple[Any, Any]] = {
    "churn_days": (
        Annotated[
            int,
            _option(
                "--churn-days",
                panel=STAGE_PANEL,
                help="Churned after this many days without a purchase.",
                min=1,
            ),
        ],
        365,
    ),
    "risk_days": (
        Annotated[
            int,
            _option(
                "--risk-days",
                panel=STAGE_PANEL,
                help="At risk after this many days without a purchase.",
                min=1,
            ),
        ],
        180,
    ),
    "loyal_orders": (
        Annotated[
            int,
            _option(
                "--loyal-orders",
                panel=STAGE_PANEL,
                help="Loyal from this many purchase days...",
                min=2,
            ),
        ],
        4,
    ),
    "loyal_days": (
        Annotated[
            int,
            _option(
                "--loyal-days",
                panel=STAGE_PANEL,
                help="...and this many days since the first purchase.",
                min=0,
            ),
        ],
        180,
    ),
    "churn_p_alive": (
        Annotated[
            float,
            _option(
                "--churn-p-alive",
                panel=STAGE_PANEL,
                help="Churned below this P(alive) (with a model).",
                parser=parse_fraction,
            ),
        ],
        0.10,
    ),
    "risk_p_alive": (
        Annotated[
            float,
            _option(
                "--risk-p-alive",
                panel=STAGE_PANEL,
                help="At risk below this P(alive) (with a model).",
                parser=parse_fraction,
            ),
        ],
        0.50,
    ),
}
OUTPUT_OPTIONS: dict[str, tuple[Any, Any]] = {
    "format": (
        Annotated[
            OutputFormat | None,
            _option(
                "--format",
                panel=OUTPUT_PANEL,
                help="Output format (default: -o's extension, else table on a terminal, else csv).",
            ),
        ],
        None,
    ),
    "output": (
        Annotated[
            str | None,
            _option(
                "-o",
                "--output",
                panel=OUTPUT_PANEL,
                help="Write to this file (atomically) instead of stdout.",
            ),
        ],
        None,
    ),
    "limit": (
        Annotated[
            int,
            _option(
                "--limit",
                panel=OUTPUT_PANEL,
                help="Rows shown in a terminal table (0: all). Files and pipes get every row.",
                min=0,
            ),
        ],
        100,
    ),
    "quiet": (
        Annotated[
            bool,
            _option(
                "-q",
                "--quiet",
                panel=OUTPUT_PANEL,
                help="No warnings or progress on stderr; errors still print.",
            ),
        ],
        False,
    ),
}
RUN_OPTIONS: dict[str, tuple[Any, Any]] = {
    "lock": (
        Annotated[
            str | None,
            _option(
                "--lock",
                panel=RUN_PANEL,
                metavar="FILE",
                help="Exit at once with code 6 if another run holds this lock file "
                "(for cron; released when the run ends, even if killed).",
            ),
        ],
        None,
    ),
    "log_format": (
        Annotated[
            LogFormat,
            _option(
                "--log-format",
                panel=RUN_PANEL,
                help="Messages on stderr as text lines, or one JSON object per event "
                "(time, level, event, rows read, skipped and written).",
            ),
        ],
        LogFormat.text,
    ),
    "raw": (
        Annotated[
            bool,
            _option(
                "--raw",
                panel=RUN_PANEL,
                help="CSV/TSV text cells exactly as they are. By default a cell starting "
                "with = + - or @ gets a leading ' so spreadsheets never run it as a formula.",
            ),
        ],
        False,
    ),
    "sidecar": (
        Annotated[
            bool,
            _option(
                "--sidecar",
                panel=RUN_PANEL,
                help="With -o FILE, also write FILE.meta.json: clv version, as-of date, "
                "options, model parameters and the input's SHA-256.",
            ),
        ],
        False,
    ),
}
CUSTOMER_LIST_OPTIONS: dict[str, tuple[Any, Any]] = {
    "customers": (
        Annotated[
            str | None,
            _option(
                "--customers",
                panel=INPUT_PANEL,
                metavar="FILE",
                help="Customer list (customer_id, channel, acquisition_cost): listed "
                "customers who never bought are the potential stage.",
            ),
        ],
        None,
    ),
}
# `clv retention` reads a subscription log or a cohort table, not transactions: the
# input options that apply to it, and the money options without the purchase models'.
SUBSCRIPTION_INPUT = (
    "customer_col",
    "channel_col",
    "as_of",
    "calendar",
    "date_format",
    "timezone",
    "encoding",
    "decimal",
    "skip_invalid",
    "config",
)
GROUPS = {
    "input": INPUT_OPTIONS,
    "subscriptions": {name: INPUT_OPTIONS[name] for name in SUBSCRIPTION_INPUT},
    "money": {name: MODEL_OPTIONS[name] for name in ("margin", "discount_rate")},
    "customers": CUSTOMER_LIST_OPTIONS,
    "model": MODEL_OPTIONS,
    "interval": INTERVAL_OPTIONS,
    "stages": STAGE_OPTIONS,
    "output": {**OUTPUT_OPTIONS, **RUN_OPTIONS},
}
ALL_OPTION_NAMES = {name for group in GROUPS.values() for name in group} | {
    "calibration_end",
    "stage",
    "summary",
    "holdout",
    "by_frequency",
    "emit_sql",
    "summary_path",
    "by",
    "compare_to",
    "metric",
    "cohort",
    "costs",
    "healthy",
    "thin",
    "retention_cost",
    "dialect",
    "table",
    "lang",
    "subscriptions",
    "top",
    "per_subscriber",
    "start_col",
    "end_col",
    "price_col",
    "plan_col",
}
COMMAND_NAMES = {
    "compute",
    "segment",
    "summary",
    "formula",
    "fit",
    "validate",
    "stages",
    "cohorts",
    "cac",
    "report",
    "retention",
}


@contextlib.contextmanager
def unattended(
    opts: RunOptions, command: str, arguments: dict[str, Any] | None = None
) -> Iterator[None]:
    """The run-level options: log format, lock, and start and finish events; first,
    the check that no output or lock is a file the run reads."""
    from clvcli.cli.console import Reporter, set_log_format
    from clvcli.io.lock import run_lock

    set_log_format(opts.values.get("log_format", "text"))
    reporter = Reporter(opts.values.get("quiet", False))
    opts.record.update(command=command, options=dict(sorted(opts.values.items())))
    check_files(opts, arguments or {})
    with run_lock(opts.values.get("lock")):
        started = time.perf_counter()
        reporter.event("start", command=command, version=__version__)
        yield
        reporter.event("finish", command=command, seconds=round(time.perf_counter() - started, 3))


def check_files(opts: RunOptions, arguments: dict[str, Any]) -> None:
    """Refuse, before anything is read or the lock taken, a run whose output or lock
    is one of the files it reads (see :mod:`clvcli.io.targets`)."""
    from clvcli.io.targets import (
        check_targets,
        input_state,
        output_path,
        run_files,
        run_outputs,
    )

    if "output" in opts.values:
        opts.values["output"] = output_path(opts.values["output"])
    sources = run_files(opts.values, arguments)
    check_targets(sources, run_outputs(opts.values), opts.values.get("lock"))
    opts.record["input_state"] = input_state(sources)


def shared_options(*groups: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add the named option groups to a command; it receives them as ``opts``."""
    options: dict[str, tuple[Any, Any]] = {}
    for group in groups:
        options.update(GROUPS[group])

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)
        hints = typing.get_type_hints(func, include_extras=True)
        own = [
            p.replace(annotation=hints.get(p.name, p.annotation))
            for p in signature.parameters.values()
            if p.name != "opts"
        ]
        extra = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=ann, default=default)
            for name, (ann, default) in options.items()
        ]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in options}
            values = {k: (v.value if isinstance(v, Enum) else v) for k, v in values.items()}
            opts = RunOptions(values)
            with unattended(opts, func.__name__.removesuffix("_cmd"), kwargs):
                return func(*args, opts=opts, **kwargs)

        wrapper.__signature__ = signature.replace(parameters=own + extra)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {
            **{k: v for k, v in hints.items() if k not in ("opts", "return")},
            **{name: ann for name, (ann, _) in options.items()},
        }
        return wrapper

    return decorate
