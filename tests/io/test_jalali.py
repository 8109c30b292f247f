"""clvcli.io.jalali against two independent references, jdatetime and persiantools.

Every day from 1900-01-01 to 2100-12-31 is converted on our side in one vectorised
call and compared with the reference libraries day by day, in both directions.
"""

from __future__ import annotations

import datetime as dt

import jdatetime
import numpy as np
import pytest
from persiantools.jdatetime import JalaliDate

from clvcli.io import jalali
from clvcli.io.jalali import NOT_A_DATE

FIRST = dt.date(1900, 1, 1)
LAST = dt.date(2100, 12, 31)
EPOCH = dt.date(1970, 1, 1)


def day_number(date: dt.date) -> int:
    return (date - EPOCH).days


ALL_DAYS = np.arange(day_number(FIRST), day_number(LAST) + 1, dtype=np.int64)


def _gregorian(days: np.ndarray) -> list[dt.date]:
    return [EPOCH + dt.timedelta(days=int(d)) for d in days]


@pytest.fixture(scope="module")
def jdatetime_triples() -> np.ndarray:
    rows = []
    for date in _gregorian(ALL_DAYS):
        j = jdatetime.date.fromgregorian(date=date)
        rows.append((j.year, j.month, j.day))
    return np.array(rows, dtype=np.int64)


@pytest.fixture(scope="module")
def persiantools_triples() -> np.ndarray:
    rows = []
    for date in _gregorian(ALL_DAYS):
        j = JalaliDate(date)
        rows.append((j.year, j.month, j.day))
    return np.array(rows, dtype=np.int64)


def _first_mismatch(days: np.ndarray, ours: np.ndarray, theirs: np.ndarray) -> str:
    row = int(np.flatnonzero((ours != theirs).any(axis=1))[0])
    return f"{_gregorian(days[row : row + 1])[0]}: ours {ours[row]}, reference {theirs[row]}"


def test_range_covers_two_centuries():
    assert len(ALL_DAYS) == 73414
    assert ALL_DAYS[0] == -25567
    assert ALL_DAYS[-1] == 47846


@pytest.mark.parametrize("reference", ["jdatetime_triples", "persiantools_triples"])
def test_from_days_matches_reference_every_day(reference, request):
    theirs = request.getfixturevalue(reference)
    year, month, day = jalali.from_days(ALL_DAYS)
    ours = np.column_stack([year, month, day])
    assert ours.dtype == np.int64
    assert ours.shape == theirs.shape
    assert (ours == theirs).all(), _first_mismatch(ALL_DAYS, ours, theirs)


@pytest.mark.parametrize("reference", ["jdatetime_triples", "persiantools_triples"])
def test_to_days_matches_reference_every_day(reference, request):
    theirs = request.getfixturevalue(reference)
    days = jalali.to_days(theirs[:, 0], theirs[:, 1], theirs[:, 2])
    assert days.dtype == np.int64
    mismatch = np.flatnonzero(days != ALL_DAYS)
    assert mismatch.size == 0, (
        f"{theirs[mismatch[0]]} -> {days[mismatch[0]]}, expected {ALL_DAYS[mismatch[0]]}"
    )


def test_references_agree_with_each_other(jdatetime_triples, persiantools_triples):
    # Guards the test itself: if the references disagreed, neither comparison means much.
    assert (jdatetime_triples == persiantools_triples).all()


def test_to_days_of_every_valid_jalali_date_matches_jdatetime():
    """The other direction: enumerate Jalali dates (not Gregorian days) and convert."""
    years, months, days, expected = [], [], [], []
    for year in range(1279, 1480):
        for month in range(1, 13):
            length = 31 if month <= 6 else 30 if month <= 11 else 29
            if month == 12 and jdatetime.date(year, 1, 1).isleap():
                length = 30
            for day in range(1, length + 1):
                years.append(year)
                months.append(month)
                days.append(day)
                expected.append(day_number(jdatetime.date(year, month, day).togregorian()))
    ours = jalali.to_days(np.array(years), np.array(months), np.array(days))
    assert (ours == np.array(expected)).all()


@pytest.mark.parametrize(
    ("jalali_date", "gregorian"),
    [
        ((1348, 10, 11), dt.date(1970, 1, 1)),
        ((1403, 1, 1), dt.date(2024, 3, 20)),
        ((1403, 7, 19), dt.date(2024, 10, 10)),
        ((1403, 12, 30), dt.date(2025, 3, 20)),
        ((1404, 1, 1), dt.date(2025, 3, 21)),
        ((1399, 12, 30), dt.date(2021, 3, 20)),
        ((1278, 10, 11), dt.date(1900, 1, 1)),
        ((1479, 10, 10), dt.date(2100, 12, 31)),
    ],
)
def test_known_dates(jalali_date, gregorian):
    year, month, day = jalali_date
    assert int(jalali.to_days(year, month, day)) == day_number(gregorian)
    back = jalali.from_days(np.array([day_number(gregorian)]))
    assert tuple(int(part[0]) for part in back) == jalali_date


@pytest.mark.parametrize("year", [1370, 1375, 1379, 1383, 1387, 1391, 1395, 1399, 1403, 1408])
def test_leap_years(year):
    assert bool(jalali.is_leap(year)) is True
    assert int(jalali.month_length(year, 12)) == 30
    assert int(jalali.to_days(year, 12, 30)) + 1 == int(jalali.to_days(year + 1, 1, 1))


@pytest.mark.parametrize("year", [1400, 1401, 1402, 1404, 1405, 1406, 1407, 1409])
def test_common_years(year):
    assert bool(jalali.is_leap(year)) is False
    assert int(jalali.month_length(year, 12)) == 29
    assert int(jalali.to_days(year, 12, 29)) + 1 == int(jalali.to_days(year + 1, 1, 1))


def test_is_leap_matches_both_references_for_every_year():
    years = np.arange(1279, 1481)
    ours = jalali.is_leap(years)
    by_jdatetime = np.array([jdatetime.date(int(y), 1, 1).isleap() for y in years])
    by_persiantools = np.array([JalaliDate.is_leap(int(y)) for y in years])
    assert (ours == by_jdatetime).all()
    assert (ours == by_persiantools).all()


def test_month_lengths_of_a_leap_and_a_common_year():
    months = np.arange(1, 13)
    common = [31] * 6 + [30] * 5 + [29]
    leap = [31] * 6 + [30] * 5 + [30]
    assert jalali.month_length(np.full(12, 1402), months).tolist() == common
    assert jalali.month_length(np.full(12, 1403), months).tolist() == leap


@pytest.mark.parametrize(
    ("year", "month", "day"),
    [
        (1403, 13, 1),  # month 13
        (1403, 0, 10),  # month 0
        (1403, 7, 31),  # Mehr has 30 days
        (1403, 11, 31),  # Bahman has 30 days
        (1403, 1, 32),  # Farvardin has 31 days
        (1402, 12, 30),  # Esfand 30 in a common year
        (1404, 12, 30),  # Esfand 30 in a common year
        (1403, 12, 31),  # Esfand never has 31 days
        (1403, 5, 0),  # day 0
        (1403, 5, -1),  # negative day
    ],
)
def test_invalid_dates_give_minus_one(year, month, day):
    assert bool(jalali.valid(year, month, day)) is False
    assert int(jalali.to_days(year, month, day)) == NOT_A_DATE


def test_invalid_dates_are_minus_one_only_where_invalid_in_an_array():
    year = np.array([1403, 1403, 1402, 1403, 1403])
    month = np.array([7, 13, 12, 7, 12])
    day = np.array([19, 1, 30, 31, 30])
    expected = [
        day_number(dt.date(2024, 10, 10)),
        NOT_A_DATE,
        NOT_A_DATE,
        NOT_A_DATE,
        day_number(dt.date(2025, 3, 20)),
    ]
    assert jalali.to_days(year, month, day).tolist() == expected


def test_years_outside_supported_range_give_minus_one():
    assert jalali.to_days(np.array([1177, 1502]), np.array([1, 1]), np.array([1, 1])).tolist() == [
        NOT_A_DATE,
        NOT_A_DATE,
    ]


def test_from_days_outside_supported_range_raises():
    with pytest.raises(ValueError, match="outside the supported Jalali years"):
        jalali.from_days(np.array([day_number(dt.date(1700, 1, 1))]))


def test_round_trip_days_to_jalali_to_days():
    year, month, day = jalali.from_days(ALL_DAYS)
    assert jalali.valid(year, month, day).all()
    assert (jalali.to_days(year, month, day) == ALL_DAYS).all()


def test_round_trip_jalali_to_days_to_jalali():
    rng = np.random.default_rng(1403)
    year = rng.integers(1279, 1480, size=20_000)
    month = rng.integers(1, 13, size=20_000)
    day = rng.integers(1, 32, size=20_000)
    ok = jalali.valid(year, month, day)
    days = jalali.to_days(year, month, day)
    assert (days[~ok] == NOT_A_DATE).all()
    # valid dates are also checked by
    # converting back rather than by "not -1".
    back = jalali.from_days(days[ok])
    assert (back[0] == year[ok]).all()
    assert (back[1] == month[ok]).all()
    assert (back[2] == day[ok]).all()


def test_format_days():
    days = np.array([day_number(dt.date(2024, 10, 10)), day_number(dt.date(2025, 3, 20))])
    assert jalali.format_days(days).tolist() == ["1403-07-19", "1403-12-30"]
    assert jalali.format_days(days, sep="/").tolist() == ["1403/07/19", "1403/12/30"]
