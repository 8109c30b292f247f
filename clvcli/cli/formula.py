"""`clv formula`: the sources' hand formulas, to check a number on paper."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from clvcli.cli.console import Reporter
from clvcli.cli.options import Period, RunOptions, parse_fraction, shared_options
from clvcli.errors import UsageError
from clvcli.formulas import PERIODS_PER_YEAR, historical_clv, simple_clv

formula_app = typer.Typer(
    help="The hand formulas of CLV: simple (spend x years) and historical (spend x margin).",
    no_args_is_help=True,
)


def parse_money(value: Any) -> float:
    """``400000``, ``400,000.00``, ``400.000,00`` or ``۴۰۰٬۰۰۰`` as a number; a lone
    ``400,000`` could be 400 with three decimals, and is refused."""
    if isinstance(value, int | float):
        return float(value)
    import pyarrow as pa

    from clvcli.io.amounts import AmountProblem, parse_amounts

    cell = pa.array([str(value)], type=pa.string())
    try:
        amounts, bad = parse_amounts(cell)
    except AmountProblem:
        # One value such as 400,000: a thousands group, or three decimals?
        as_point, as_comma = (parse_amounts(cell, mark)[0][0] for mark in (".", ","))
        raise typer.BadParameter(
            f"'{value}' could be {as_point:g} or {as_comma:g}; write it without the "
            "separator, or with its decimals"
        ) from None
    if bad[0]:
        raise typer.BadParameter(f"'{value}' is not an amount")
    return float(amounts[0])


@formula_app.command("simple")
@shared_options("output")
def simple_cmd(
    spend: Annotated[
        float,
        typer.Option("--spend", help="Money a customer spends per --per.", parser=parse_money),
    ],
    years: Annotated[float, typer.Option("--years", help="Length of the relationship in years.")],
    per: Annotated[
        Period, typer.Option("--per", help="The period --spend is given for.")
    ] = Period.month,
    *,
    opts: RunOptions,
) -> None:
    """Simple CLV = spend per year x years of relationship.

    Example: clv formula simple --spend 400000 --per month --years 30   (144,000,000)
    """
    import pandas as pd

    from clvcli.cli.output import emit

    if spend < 0 or years < 0:
        raise UsageError("--spend and --years must not be negative")
    value = simple_clv(spend, per.value, years)
    frame = pd.DataFrame(
        {
            "spend": [spend],
            "per": [per.value],
            "annual_spend": [spend * PERIODS_PER_YEAR[per.value]],
            "years": [years],
            "clv": [value],
        }
    )
    emit(
        frame,
        opts,
        Reporter(opts.quiet),
        money=("spend", "annual_spend", "clv"),
        title="Simple CLV",
    )


@formula_app.command("historical")
@shared_options("output")
def historical_cmd(
    total: Annotated[
        float,
        typer.Option(
            "--total", help="Sum of all of the customer's transactions.", parser=parse_money
        ),
    ],
    margin: Annotated[
        float,
        typer.Option("--margin", help="Average gross margin, 0.3 or 30%.", parser=parse_fraction),
    ] = 1.0,
    *,
    opts: RunOptions,
) -> None:
    """Historical CLV = sum of transactions x average gross margin.

    Example: clv formula historical --total 1000000 --margin 0.3   (300,000)
    """
    import pandas as pd

    from clvcli.cli.output import emit

    if not 0 <= margin <= 1:
        raise UsageError(f"--margin {margin} is outside 0..1", "give it as 0.3 or 30%")
    frame = pd.DataFrame(
        {"total": [total], "margin": [margin], "clv": [historical_clv(total, margin)]}
    )
    emit(frame, opts, Reporter(opts.quiet), money=("total", "clv"), title="Historical CLV")
