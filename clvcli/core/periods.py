"""Time units of the models, in one place.

The field's most reported trap is mixing model time units with calendar months,
so every conversion goes through these constants.
"""

from __future__ import annotations

PERIODS = ("day", "week", "month", "year")
DAYS_PER_YEAR = 365.25
DAYS_PER_MONTH = DAYS_PER_YEAR / 12
DAYS_PER_PERIOD: dict[str, float] = {
    "day": 1.0,
    "week": 7.0,
    "month": DAYS_PER_MONTH,
    "year": DAYS_PER_YEAR,
}


def days_per(period: str) -> float:
    """Days in one model time unit; raises KeyError for an unknown unit."""
    return DAYS_PER_PERIOD[period]
