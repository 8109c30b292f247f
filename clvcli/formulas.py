"""The hand formulas businesses use, as the sources state them.

Simple CLV = spend per year x years of relationship; historical CLV = total spend
x average gross margin. Kept separate from the models so a user can check a number
on paper.
"""

from __future__ import annotations

# Calendar counts the sources use: 400,000 a month is 4,800,000 a year.
PERIODS_PER_YEAR = {"day": 365, "week": 52, "month": 12, "year": 1}


def simple_clv(spend: float, per: str, years: float) -> float:
    """Money spent per period x periods per year x years.

    >>> simple_clv(400_000, "month", 30)
    144000000.0
    """
    return float(spend) * PERIODS_PER_YEAR[per] * float(years)


def historical_clv(total: float, margin: float) -> float:
    """Sum of a customer's transactions x average gross margin.

    >>> historical_clv(1_000_000, 0.3)
    300000.0
    """
    return float(total) * float(margin)
