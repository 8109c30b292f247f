"""Jalali (Persian) calendar conversion on whole arrays.

Transaction logs repeat the same few hundred dates millions of times, so callers
convert the distinct values and map them back; this module does the arithmetic for
those values with numpy instead of one library call per row.

Leap years follow the 33-year arithmetic rule ``(25 * year + 11) % 33 < 8``, which
agrees with the official (astronomical) calendar for every year from 1178 to 1501
AP (1799 to 2123 CE), far wider than any transaction log.
"""

from __future__ import annotations

import numpy as np

# Marks "not a date" in arrays of days; far outside any calendar, unlike -1,
# which is 1969-12-31.
NOT_A_DATE = -(2**62)
FIRST_YEAR = 1178
LAST_YEAR = 1501
# 1 Farvardin 1403 fell on 2024-03-20; every other year start follows from it.
_ANCHOR_YEAR = 1403
_ANCHOR_DAY = int(np.datetime64("2024-03-20", "D").astype(np.int64))

_YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 2, dtype=np.int64)
_IS_LEAP = (25 * _YEARS + 11) % 33 < 8
_YEAR_LENGTH = np.where(_IS_LEAP, 366, 365)
_starts = np.concatenate([[0], np.cumsum(_YEAR_LENGTH)[:-1]])
# Days since 1970-01-01 of 1 Farvardin of each year in _YEARS.
_YEAR_START = _starts - _starts[_ANCHOR_YEAR - FIRST_YEAR] + _ANCHOR_DAY

# Months 1-6 have 31 days, 7-11 have 30, Esfand 29 (30 in a leap year).
_DAYS_BEFORE_MONTH = np.array([0, 0, 31, 62, 93, 124, 155, 186, 216, 246, 276, 306, 336])


def is_leap(year: np.ndarray | int) -> np.ndarray:
    """Whether each Jalali year is a leap year (Esfand has 30 days)."""
    year = np.asarray(year, dtype=np.int64)
    return (25 * year + 11) % 33 < 8


def month_length(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """Days in each Jalali month."""
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    return np.where(month <= 6, 31, np.where(month <= 11, 30, np.where(is_leap(year), 30, 29)))


def valid(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """True where (year, month, day) is a real Jalali date in the supported range."""
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    in_range = (year >= FIRST_YEAR) & (year <= LAST_YEAR) & (month >= 1) & (month <= 12)
    safe_month = np.where(in_range, month, 1)
    return in_range & (day >= 1) & (day <= month_length(year, safe_month))


def to_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 of Jalali dates; NOT_A_DATE where the date is not valid."""
    year = np.asarray(year, dtype=np.int64)
    month = np.asarray(month, dtype=np.int64)
    day = np.asarray(day, dtype=np.int64)
    ok = valid(year, month, day)
    index = np.where(ok, year - FIRST_YEAR, 0)
    days = _YEAR_START[index] + _DAYS_BEFORE_MONTH[np.where(ok, month, 1)] + day - 1
    return np.where(ok, days, NOT_A_DATE)


def from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jalali (year, month, day) of days since 1970-01-01 (Gregorian)."""
    days = np.asarray(days, dtype=np.int64)
    if days.size and (days.min() < _YEAR_START[0] or days.max() >= _YEAR_START[-1]):
        raise ValueError("date outside the supported Jalali years 1178-1501")
    index = np.searchsorted(_YEAR_START, days, side="right") - 1
    year = _YEARS[index]
    day_of_year = days - _YEAR_START[index]
    month = np.searchsorted(_DAYS_BEFORE_MONTH[1:], day_of_year, side="right")
    day = day_of_year - _DAYS_BEFORE_MONTH[month] + 1
    return year, month.astype(np.int64), day


def format_days(days: np.ndarray, sep: str = "-") -> np.ndarray:
    """Jalali ``YYYY-MM-DD`` strings for days since 1970-01-01."""
    year, month, day = from_days(days)
    return np.array(
        [f"{y:04d}{sep}{m:02d}{sep}{d:02d}" for y, m, d in zip(year, month, day, strict=True)],
        dtype=object,
    )
