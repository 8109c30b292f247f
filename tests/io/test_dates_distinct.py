"""Tens of thousands of distinct textual dates are parsed by column, not one Python
call per value (clvcli.io.dates): month names, --date-format with names, offsets."""

from __future__ import annotations

import datetime as dt
import time

import jdatetime
import numpy as np
import pyarrow as pa
import pytest

from clvcli.io import dates
from clvcli.io.dates import DateSettings, parse_dates

N = 90_000
EPOCH = dt.date(1970, 1, 1)


def _moments() -> list[dt.datetime]:
    start = dt.datetime(2010, 1, 1)
    return [start + dt.timedelta(minutes=37 * i) for i in range(N)]


def _days(moments: list[dt.datetime]) -> np.ndarray:
    return np.array([(m.date() - EPOCH).days for m in moments])


def _timed(values: list[str], settings: DateSettings = DateSettings()) -> np.ndarray:
    parse_dates(pa.array(["25/12/2024 13:45", "1403/07/19"]))  # warm the regex caches
    # Processor time, which a loaded shared machine does not stretch as it does wall
    # time: 0.5-0.9 s measured; the per-value loop this guards against took 2-4 s.
    started = time.process_time()
    days = parse_dates(pa.array(values), settings)
    assert time.process_time() - started < 6
    return days


def test_90k_distinct_day_first_timestamps():
    moments = _moments()
    values = [m.strftime("%d/%m/%Y %H:%M") for m in moments]
    assert len(set(values)) == N
    assert (_timed(values) == _days(moments)).all()


def test_90k_distinct_jalali_timestamps():
    moments = _moments()
    values = [
        jdatetime.datetime.fromgregorian(datetime=m).strftime("%Y/%m/%d %H:%M") for m in moments
    ]
    assert (_timed(values) == _days(moments)).all()


def test_month_names_are_looked_up_once_per_spelling(monkeypatch):
    moments = _moments()
    values = [m.strftime("%d %b %Y %H:%M") for m in moments]
    looked_up: list[str] = []
    key = dates._month_key
    monkeypatch.setattr(dates, "_month_key", lambda name: looked_up.append(name) or key(name))
    assert (_timed(values) == _days(moments)).all()
    assert len(looked_up) <= 4 * 13  # the twelve names (and ""), per pattern tried


@pytest.mark.parametrize(
    "form", ["%d %b %Y %H:%M", "%B %d, %Y", "%a %d %b %y", "%d-%b-%y %H:%M", "%A, %d %B %Y"]
)
def test_a_date_format_with_names_reads_as_strptime_without_it(monkeypatch, form):
    moments = _moments()
    values = [m.strftime(form) for m in moments]
    expected = np.array([(dt.datetime.strptime(v, form).date() - EPOCH).days for v in values])

    class NoStrptime(dt.datetime):
        @classmethod
        def strptime(cls, *args: object) -> dt.datetime:
            raise AssertionError("strptime called for a format clv reads itself")

    monkeypatch.setattr(dates, "datetime", NoStrptime)
    assert (_timed(values, DateSettings(date_format=form)) == expected).all()


def test_a_format_clv_does_not_read_itself_still_uses_strptime():
    """``%j`` (day of the year) and a name without a day stay with strptime."""
    assert (
        parse_dates(pa.array(["2024-060"]), DateSettings(date_format="%Y-%j"))[0]
        == (dt.date(2024, 2, 29) - EPOCH).days
    )
    assert (
        parse_dates(pa.array(["Mar 2023"]), DateSettings(date_format="%b %Y"))[0]
        == (dt.date(2023, 3, 1) - EPOCH).days
    )


def test_offsets_are_read_once_per_distinct_offset(monkeypatch):
    moments = _moments()
    values = [
        m.strftime("%Y-%m-%dT%H:%M:%S") + ("+03:30", "-05:00")[i % 2] for i, m in enumerate(moments)
    ]
    seen: list[int] = []
    distinct = dates._distinct_offset_seconds
    monkeypatch.setattr(
        dates, "_distinct_offset_seconds", lambda zone: seen.append(len(zone)) or distinct(zone)
    )
    days = _timed(values)
    assert max(seen) <= 3  # "", "+03:30", "-05:00"
    utc = np.array(
        [
            (
                (
                    m - dt.timedelta(hours=3, minutes=30)
                    if i % 2 == 0
                    else m + dt.timedelta(hours=5)
                ).date()
                - EPOCH
            ).days
            for i, m in enumerate(moments)
        ]
    )
    assert (days == utc).all()  # two offsets: read in UTC
