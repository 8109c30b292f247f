"""Calendar periods: where a purchase falls for BG/BB, and the holdout's months and years.

A year of 365.25 days put a gift made on the same date a year later into the year
before; these tests pin the calendar rule down at anniversaries, leap days, month ends
and week boundaries, and check the vectorised arithmetic against Python's own dates.
"""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import pytest

from clvcli.core.opportunities import opportunities
from clvcli.core.periods import add_months, add_periods, month_end, periods_between
from clvcli.core.validation import holdout_length
from clvcli.io import jalali
from clvcli.io.readers import Transactions

EPOCH = dt.date(1970, 1, 1)


def day(text: str) -> int:
    return (dt.date.fromisoformat(text) - EPOCH).days


def iso(number: int) -> str:
    return (EPOCH + dt.timedelta(days=int(number))).isoformat()


def between(start: str, end: str, period: str) -> int:
    return int(periods_between(day(start), day(end), period))


def reference_add_months(start: dt.date, months: int) -> dt.date:
    """The monthly anniversary by Python's calendar, clamped to the month's last day."""
    year, month = divmod(start.year * 12 + start.month - 1 + months, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(start.day, last))


def reference_between(start: dt.date, end: dt.date, months_per_period: int) -> int:
    """The largest k whose anniversary is on or before ``end``, one k at a time."""
    k = ((end.year - start.year) * 12 + end.month - start.month) // months_per_period + 1
    while reference_add_months(start, k * months_per_period) > end:
        k -= 1
    return k


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("1996-01-01", "1996-12-31", 0),
        ("1996-01-01", "1997-01-01", 1),  # 366 days: the next year
        ("1997-01-01", "1998-01-01", 1),  # 365 days: the next year too
        ("1995-01-01", "2001-01-01", 6),
        ("1995-01-01", "2000-12-31", 5),
        ("1996-03-01", "1997-02-28", 0),
        ("1996-03-01", "1997-03-01", 1),
        ("1997-01-01", "1996-12-31", -1),
    ],
)
def test_years_start_on_anniversaries(start, end, expected):
    assert between(start, end, "year") == expected


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ("1997-02-27", 0),
        ("1997-02-28", 1),  # no 29 February in 1997: the month's last day
        ("1999-02-28", 3),
        ("2000-02-28", 3),
        ("2000-02-29", 4),  # a leap year again: the anniversary is the day itself
        ("2001-02-28", 5),
    ],
)
def test_a_first_purchase_on_a_leap_day_has_its_anniversary_on_28_february(end, expected):
    assert between("1996-02-29", end, "year") == expected


@pytest.mark.parametrize(
    ("end", "expected"),
    [
        ("1995-02-27", 0),
        ("1995-02-28", 1),  # 31 January's anniversary in February is its last day
        ("1995-03-30", 1),
        ("1995-03-31", 2),
        ("1995-04-30", 3),
        ("1995-05-30", 3),
        ("1995-05-31", 4),
        ("1996-02-28", 12),
        ("1996-02-29", 13),  # a leap February: the 29th
    ],
)
def test_months_from_the_31st_start_on_the_last_day_of_shorter_months(end, expected):
    assert between("1995-01-31", end, "month") == expected


def test_months_from_the_28th_of_february_stay_on_the_28th():
    assert between("1995-02-28", "1995-03-27", "month") == 0
    assert between("1995-02-28", "1995-03-28", "month") == 1
    assert between("1995-02-28", "1995-03-31", "month") == 1


@pytest.mark.parametrize(
    ("end", "expected"),
    [("1995-01-07", 0), ("1995-01-08", 1), ("1995-01-14", 1), ("1995-01-15", 2)],
)
def test_weeks_are_seven_days(end, expected):
    assert between("1995-01-01", end, "week") == expected
    assert between("1995-01-01", end, "day") == day(end) - day("1995-01-01")


def test_add_months_lands_on_the_anniversary_or_the_months_last_day():
    starts = np.array([day("1995-01-31"), day("1996-02-29"), day("1995-08-15")])
    assert [iso(d) for d in add_months(starts, 1)] == ["1995-02-28", "1996-03-29", "1995-09-15"]
    assert [iso(d) for d in add_periods(starts, 1, "year")] == [
        "1996-01-31",
        "1997-02-28",
        "1996-08-15",
    ]
    assert [iso(d) for d in add_periods(starts, 2, "week")] == [
        "1995-02-14",
        "1996-03-14",
        "1995-08-29",
    ]
    assert iso(add_months(day("1995-03-31"), -1)) == "1995-02-28"
    assert iso(month_end(day("1996-02-10"))) == "1996-02-29"


@pytest.mark.parametrize(("period", "months"), [("month", 1), ("year", 12)])
def test_the_vectorised_count_agrees_with_pythons_calendar(period, months):
    rng = np.random.default_rng(20)
    # Before and after 1970, across leap years and every month end.
    start = rng.integers(day("1899-01-01"), day("2101-01-01"), 4000)
    end = start + rng.integers(-800, 3000, 4000)
    counted = periods_between(start, end, period)
    for s, e, k in zip(start, end, counted, strict=True):
        first, last = EPOCH + dt.timedelta(days=int(s)), EPOCH + dt.timedelta(days=int(e))
        assert k == reference_between(first, last, months), (first, last)
        assert add_periods(s, k, period) <= e < add_periods(s, k + 1, period)


def test_the_lookup_of_repeated_days_gives_what_each_day_gives():
    rng = np.random.default_rng(7)
    days = rng.integers(day("1995-01-01"), day("1995-03-01"), 5000)  # repeats: the lookup
    first = np.full(5000, day("1994-12-31"))
    pieces = [slice(i, i + 1000) for i in range(0, 5000, 1000)]  # too short for a lookup
    alone = np.concatenate([periods_between(first[p], days[p], "month") for p in pieces])
    assert periods_between(first, days, "month").tolist() == alone.tolist()


def log_of(customer: list[int], days: list[str]) -> Transactions:
    """One purchase of 1 per customer and day."""
    return Transactions(
        source="log",
        customer_ids=np.array([f"C{c}" for c in range(max(customer) + 1)], dtype=object),
        customer=np.array(customer),
        day=np.array([day(d) for d in days]),
        amount=np.ones(len(days)),
        channel=None,
        rows_read=len(days),
    )


def opportunity_rows(log: Transactions, end: int, period: str | float) -> tuple:
    found = opportunities(log, end, period)
    return found.x, found.t_x, found.n


def test_a_gift_on_each_anniversary_is_one_a_year():
    # Donor 0 gives every 1 January from 1995 (a leap year between: 366 days apart once);
    # donor 1 gives on 1 March 1996 and 28 February 1997, in one and the same year.
    log = log_of(
        [0, 0, 0, 0, 1, 1],
        ["1995-01-01", "1996-01-01", "1997-01-01", "1998-01-01", "1996-03-01", "1997-02-28"],
    )
    x, t_x, n = opportunity_rows(log, day("1998-01-01"), "year")
    assert x.tolist() == [3, 0]
    assert t_x.tolist() == [3, 0]
    assert n.tolist() == [3, 1]


def test_monthly_gifts_from_the_31st_are_one_a_month():
    days = ["1995-01-31", "1995-02-28", "1995-03-31", "1995-04-30", "1995-05-31"]
    x, t_x, n = opportunity_rows(log_of([0] * len(days), days), day("1995-06-29"), "month")
    assert (x.tolist(), t_x.tolist(), n.tolist()) == ([4], [4], [4])


def test_a_length_in_days_names_its_period():
    """Callers that pass days_per(period) get the calendar too, never 365.25 days."""
    log = log_of([0, 0], ["1995-01-01", "1996-01-01"])
    assert opportunity_rows(log, day("1996-01-01"), 365.25)[0].tolist() == [1]
    with pytest.raises(ValueError, match="not the length of a period"):
        opportunity_rows(log, day("1996-01-01"), 30.0)


def test_holdout_opportunities_follow_the_calendar():
    # First gift 1995-01-01, calibration to 2001-01-01 (6 years), holdout to 2003-01-01.
    log = log_of(
        [0, 0, 0, 1, 1], ["1995-01-01", "2002-01-01", "2003-01-01", "1995-01-01", "2001-06-01"]
    )
    found = opportunities(log, day("2001-01-01"), "year", holdout_end=day("2003-01-01"))
    assert found.holdout.tolist() == [2, 0]  # 2001-06-01 is in the calibration's sixth year
    assert found.span.tolist() == [2, 2]
    assert (found.x.tolist(), found.n.tolist()) == ([0, 0], [6, 6])


@pytest.mark.parametrize(
    ("text", "as_of", "calibration_end"),
    [
        ("1y", "2024-12-31", "2023-12-31"),  # not 365 days: 2024 has 366
        ("1y", "2025-02-28", "2024-02-29"),  # a month's end to a month's end
        ("1y", "2024-02-29", "2023-02-28"),
        ("6m", "1998-06-30", "1997-12-31"),  # 1998-01-01 to 1998-06-30: half a year
        ("6m", "1998-06-15", "1997-12-15"),
        ("1m", "1998-03-30", "1998-02-28"),
        ("18m", "1998-06-15", "1996-12-15"),
        ("0.5y", "1998-06-30", "1997-12-31"),
        ("39w", "1998-06-30", "1997-09-30"),  # the CDNOW holdout
        ("90d", "1998-06-30", "1998-04-01"),
    ],
)
def test_holdout_months_and_years_count_on_the_calendar(text, as_of, calibration_end):
    assert iso(holdout_length(text).calibration_end(day(as_of))) == calibration_end


def test_a_fraction_of_a_month_counts_in_days():
    length = holdout_length("1.5m")
    assert length.calibration_end(day("1998-06-30")) == day("1998-06-30") - round(length.days)


def test_payback_not_yet_counts_the_months_already_gone():
    """A January customer with margin 10, nothing since, CAC 100 and 10 a month
    predicted: by 15 December twelve calendar months have gone, so the 90 still
    missing take it to about month 21 (it said month 10, already past)."""
    import pandas as pd

    from clvcli.core.cac import CacSettings, cac_table
    from clvcli.io.dates import month_index
    from clvcli.io.readers import Transactions

    first = day("2024-01-10")
    customers = pd.DataFrame(
        {
            "customer_id": ["A"],
            "orders": [1],
            "first_purchase": [np.datetime64("2024-01-10")],
            "historical_clv": [10.0],
            "predicted_clv": [120.0],
            "p_alive": [1.0],
        }
    )
    log = Transactions(
        source="log",
        customer_ids=np.array(["A"], dtype=object),
        customer=np.array([0]),
        day=np.array([first]),
        amount=np.array([10.0]),
        channel=None,
        rows_read=1,
        by_customer=True,
    )
    month = int(month_index(np.array([first]), "gregorian")[0])
    costs = pd.DataFrame({"channel": [np.nan], "month": [month], "spend": [100.0]})
    table = cac_table(customers, log, costs, CacSettings(by="cohort"), day("2024-12-15"))
    assert table["payback_months"].tolist() == ["not yet (~21)", "not yet (~21)"]


def jalali_day(year: int, month: int, day_of_month: int) -> int:
    return int(jalali.to_days(year, month, day_of_month))


def test_a_gift_every_nowruz_is_one_a_jalali_year():
    # Nowruz fell on 1997-03-21 and on 2000-03-20: three Jalali years, but the Gregorian
    # anniversary (21 March 2000) was still a day ahead.
    first, later = jalali_day(1376, 1, 1), jalali_day(1379, 1, 1)
    assert iso(first) == "1997-03-21" and iso(later) == "2000-03-20"
    assert int(periods_between(first, later, "year", "jalali")) == 3
    assert int(periods_between(first, later, "year")) == 2


def test_jalali_months_start_on_the_same_day_of_each_jalali_month():
    first = jalali_day(1375, 1, 1)
    firsts = [jalali_day(1375, m, 1) for m in range(1, 13)]
    assert periods_between(first, np.array(firsts), "month", "jalali").tolist() == list(range(12))
    # Gregorian months from 20 March put 1 Esfand (19 February 1997) with 1 Bahman.
    assert periods_between(first, np.array(firsts), "month")[-2:].tolist() == [10, 10]


def test_jalali_anniversaries_on_days_a_month_lacks_fall_on_its_last_day():
    # 31 Shahrivar: Mehr has 30 days. 30 Esfand 1375 (a leap year): 1376 has 29.
    assert add_months(jalali_day(1375, 6, 31), 1, "jalali") == jalali_day(1375, 7, 30)
    assert add_periods(jalali_day(1375, 12, 30), 1, "year", "jalali") == jalali_day(1376, 12, 29)
    assert between_jalali((1375, 12, 30), (1376, 12, 28)) == 0
    assert between_jalali((1375, 12, 30), (1376, 12, 29)) == 1
    assert month_end(jalali_day(1376, 12, 5), "jalali") == jalali_day(1376, 12, 29)


def between_jalali(start: tuple[int, int, int], end: tuple[int, int, int]) -> int:
    return int(periods_between(jalali_day(*start), jalali_day(*end), "year", "jalali"))


def test_jalali_counts_agree_one_by_one_with_the_lookup():
    rng = np.random.default_rng(11)
    start = rng.integers(day("1990-01-01"), day("2030-01-01"), 3000)
    end = start + rng.integers(-400, 2000, 3000)
    counted = periods_between(start, end, "month", "jalali")
    for s, e, k in zip(start, end, counted, strict=True):
        assert add_periods(s, k, "month", "jalali") <= e < add_periods(s, k + 1, "month", "jalali")


@pytest.mark.parametrize(
    ("text", "as_of", "calibration_end"),
    [
        ("1y", (1403, 12, 30), (1402, 12, 29)),  # Esfand's last day to Esfand's last day
        ("6m", (1403, 6, 31), (1402, 12, 29)),
        ("1m", (1403, 7, 15), (1403, 6, 15)),
    ],
)
def test_jalali_holdout_months(text, as_of, calibration_end):
    end = holdout_length(text).calibration_end(jalali_day(*as_of), "jalali")
    assert end == jalali_day(*calibration_end)


@pytest.mark.parametrize(
    ("log", "calendar", "expected"),
    [
        ("A,1403/01/01,5\nA,1403/02/01,5\n", "auto", "jalali"),
        ("A,۱۴۰۳-۰۱-۰۱,5\n", "auto", "jalali"),
        ("A,2024-03-20,5\nB,2024-04-20,5\n", "auto", "gregorian"),
        ("A,05/01/2024,5\nA,25/12/2024,5\n", "auto", "gregorian"),  # day first, by the column
        ("A,1403-01-01,5\n", "jalali", "jalali"),
        ("A,1403/01/01,5\n", "gregorian", "gregorian"),
    ],
)
def test_the_log_knows_the_calendar_its_dates_are_written_in(write, log, calendar, expected):
    from clvcli.io.readers import ReadSettings, read_transactions

    path = write("log.csv", "customer,date,amount\n" + log)
    transactions = read_transactions(str(path), ReadSettings(calendar=calendar))
    assert transactions.calendar == expected
    assert transactions.select(transactions.day >= 0).calendar == expected


def test_jalali_months_of_dates_outside_its_table_are_refused():
    from clvcli.errors import InputError

    with pytest.raises(InputError, match="outside the calendar's table"):
        periods_between(day("1700-01-01"), day("2000-01-01"), "month", "jalali")


def test_a_holdout_of_centuries_in_jalali_years_counts_in_days():
    as_of = jalali_day(1403, 12, 30)
    length = holdout_length("500y")
    assert length.calibration_end(as_of, "jalali") == as_of - round(length.days)
