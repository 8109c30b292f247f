"""Time units of the models, in one place.

The field's most reported trap is mixing model time units with calendar months,
so every conversion goes through these constants.
"""

from __future__ import annotations

import numpy as np

from clvcli.errors import InputError
from clvcli.io import jalali

# Calendar periods: BG/BB's opportunities and the holdout's months and years.
#
# A discrete model counts opportunities, and a gift made on the same date each year
# must fall in consecutive years; 365.25 days would put one made 365 days later into
# the year before. So whole periods are counted on the calendar: period k of a
# customer starts k days (day), 7k days (week), k monthly anniversaries (month) or k
# anniversaries (year) after the first purchase. An anniversary on a day its month
# lacks (the 31st, or 29 February) falls on that month's last day: a first purchase
# on 31 January has its monthly anniversaries on 28 (or 29) February, 31 March,
# 30 April; one on 29 February 1996 its yearly ones on 28 February 1997 to 1999 and
# on 29 February 2000. In the Jalali calendar months and years are Jalali ones (a
# gift every Nowruz is one a year though Nowruz falls on 20 or 21 March).

CALENDARS = ("gregorian", "jalali")
CALENDAR_MONTHS = {"month": 1, "year": 12}
FIXED_DAYS = {"day": 1, "week": 7}


def _month_and_day(
    days: np.ndarray, calendar: str = "gregorian"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A month number, day of the month (0-based), and whether it is the month's last
    day, of day numbers."""
    code = _civil_code(days, calendar)
    return code >> 6, (code >> 1) & 31, (code & 1).astype(bool)


def _civil_code(days: np.ndarray, calendar: str) -> np.ndarray:
    """``month * 64 + day * 2 + last`` of :func:`_month_and_day`, in one array."""
    days = np.asarray(days, dtype=np.int64)
    if days.size > 1024:
        low, high = int(days.min()), int(days.max())
        if high - low + 1 < days.size:
            # Dates repeat in a log: convert each distinct day once and look them up.
            return _civil_code(np.arange(low, high + 1), calendar)[days - low]
    if calendar == "jalali":
        try:
            year, month, day = jalali.from_days(days)
        except ValueError as exc:
            raise InputError(
                f"cannot count Jalali months of dates outside the calendar's table: {exc}",
                "give --calendar gregorian to count Gregorian months and years",
            ) from None
        month = year * 12 + month - 1
        day = day - 1
    elif calendar == "gregorian":
        month = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
        day = days - _month_start(month, calendar)
    else:
        raise ValueError(f"unknown calendar '{calendar}'")
    return month * 64 + day * 2 + (days + 1 == _month_start(month + 1, calendar))


def _month_start(month: np.ndarray, calendar: str) -> np.ndarray:
    """Day number of the first day of months numbered as :func:`_month_and_day` does
    (Gregorian: since 1970-01; Jalali: year * 12 + month - 1)."""
    month = np.asarray(month, dtype=np.int64)
    if calendar == "jalali":
        year, index = np.divmod(month, 12)
        return jalali.to_days(year, index + 1, np.ones_like(index))
    return month.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def add_months(
    days: np.ndarray, months: np.ndarray | int, calendar: str = "gregorian"
) -> np.ndarray:
    """The monthly anniversary ``months`` after (or before) each day, on the month's
    last day when the month is too short for it."""
    month, day, _ = _month_and_day(days, calendar)
    target = month + np.asarray(months, dtype=np.int64)
    start = _month_start(target, calendar)
    length = _month_start(target + 1, calendar) - start
    return start + np.minimum(day, length - 1)


def month_end(days: np.ndarray | int, calendar: str = "gregorian") -> np.ndarray:
    """The last day of each day's month."""
    month, _, _ = _month_and_day(days, calendar)
    return _month_start(month + 1, calendar) - 1


def add_periods(
    days: np.ndarray, count: np.ndarray | int, period: str, calendar: str = "gregorian"
) -> np.ndarray:
    """The day ``count`` calendar periods after each day: the start of period ``count``
    of a customer whose first purchase is that day."""
    count = np.asarray(count, dtype=np.int64)
    if period in FIXED_DAYS:
        return np.asarray(days, dtype=np.int64) + count * FIXED_DAYS[period]
    return add_months(days, count * CALENDAR_MONTHS[period], calendar)


def periods_between(
    start: np.ndarray, end: np.ndarray, period: str, calendar: str = "gregorian"
) -> np.ndarray:
    """Whole calendar periods from ``start`` to ``end``: the index of the period of a
    customer whose first purchase is ``start`` in which ``end`` falls (negative before
    ``start``). The arrays broadcast against each other."""
    start = np.asarray(start, dtype=np.int64)
    end = np.asarray(end, dtype=np.int64)
    if period in FIXED_DAYS:
        return np.floor_divide(end - start, FIXED_DAYS[period])
    step = CALENDAR_MONTHS[period]
    start, end = _civil_code(start, calendar), _civil_code(end, calendar)
    # The anniversary in the end's month is on the start's day of the month, or on
    # the month's last day when the month is shorter: it is still ahead of the end
    # when the end comes before that day and is not its month's last day.
    ahead = ((start & 62) > (end & 62)) & ((end & 1) == 0)
    return np.floor_divide((end >> 6) - (start >> 6) - ahead, step)


def calendar_days(first: int, last: int, calendar: str = "gregorian") -> dict[str, np.ndarray]:
    """Every day from ``first`` to ``last`` with its month (months since year 0, as
    :func:`clvcli.io.dates.month_index` counts them), day of the month (0-based) and
    whether it is the month's last day: the small relation the engines join the
    transactions to, so that their queries count calendar months, Jalali ones alike,
    without knowing a calendar."""
    day = np.arange(first, last + 1, dtype=np.int64)
    code = _civil_code(day, calendar)
    month = (code >> 6) + (1970 * 12 if calendar == "gregorian" else 0)
    return {"day": day, "month": month, "mday": (code >> 1) & 31, "last": (code & 1).astype(bool)}
