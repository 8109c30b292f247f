"""clvcli.io.dates: every date form, zones, column-wide day/month order, formats."""

from __future__ import annotations

import datetime as dt

import jdatetime
import numpy as np
import pyarrow as pa
import pytest

from clvcli.io.dates import (
    DateProblem,
    DateSettings,
    days_to_iso,
    parse_date_value,
    parse_dates,
)
from clvcli.io.jalali import NOT_A_DATE


def days_of(values: list[str | None], **settings: str) -> list[int]:
    return parse_dates(pa.array(values, type=pa.string()), DateSettings(**settings)).tolist()


def iso(values: list[str | None], **settings: str) -> list[str]:
    days = parse_dates(pa.array(values, type=pa.string()), DateSettings(**settings))
    # NOT_A_DATE marks a bad cell; negative numbers are real days before 1970.
    assert (days != NOT_A_DATE).all(), f"unexpected bad cells: {days.tolist()}"
    return list(days_to_iso(days))


def one(value: str, **settings: str) -> str:
    return iso([value], **settings)[0]


def day_number(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


# --------------------------------------------------------------------------- forms


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO dates and timestamps
        ("2024-03-15", "2024-03-15"),
        ("2024-3-5", "2024-03-05"),
        ("2024/03/15", "2024-03-15"),
        ("2024.03.15", "2024-03-15"),
        ("2024-03-15T14:30:00", "2024-03-15"),
        ("2024-03-15T23:59:59", "2024-03-15"),
        ("2024-03-15 14:30", "2024-03-15"),
        ("2024-03-15 14:30:00.123456", "2024-03-15"),
        ("2024-03-15T14:30:00,5", "2024-03-15"),
        ("2024-03-15 02:30 PM", "2024-03-15"),
        ("2024-03-15 12:30 a.m.", "2024-03-15"),
        ("2024-03-15T14:30:00Z", "2024-03-15"),
        ("2024-03-15 14:30:00 UTC", "2024-03-15"),
        # compact
        ("20240315", "2024-03-15"),
        ("20240315 14:30", "2024-03-15"),
        # year last, order decidable from the value itself
        ("15/03/2024", "2024-03-15"),
        ("03/15/2024", "2024-03-15"),
        ("15.03.2024", "2024-03-15"),
        ("15-03-2024", "2024-03-15"),
        ("03/15/2024 02:30 PM", "2024-03-15"),
        # month names
        ("15 Mar 2024", "2024-03-15"),
        ("15 March 2024", "2024-03-15"),
        ("March 15, 2024", "2024-03-15"),
        ("Mar 15 2024", "2024-03-15"),
        ("15-Mar-2024", "2024-03-15"),
        ("Fri, 15 Mar 2024 10:00:00", "2024-03-15"),
        # epoch seconds and milliseconds (UTC)
        ("1710504000", "2024-03-15"),
        ("1710504000000", "2024-03-15"),
        ("946684800", "2000-01-01"),
        # Jalali, ASCII digits
        ("1403/07/19", "2024-10-10"),
        ("1403-07-19", "2024-10-10"),
        ("1403.07.19", "2024-10-10"),
        ("1403/7/9", "2024-09-30"),
        ("1403/07/19 14:30", "2024-10-10"),
        ("1403-07-19T23:59:59", "2024-10-10"),
        ("14030719", "2024-10-10"),
        ("1403/01/01", "2024-03-20"),
        ("1403/12/30", "2025-03-20"),
        ("1348/10/11", "1970-01-01"),
        ("19/07/1403", "2024-10-10"),
        # Jalali, Persian and Arabic-Indic digits
        ("۱۴۰۳-۰۷-۱۹", "2024-10-10"),
        ("۱۴۰۳/۰۷/۱۹", "2024-10-10"),
        ("١٤٠٣/٠٧/١٩", "2024-10-10"),
        ("۱۴۰۳/۷/۹", "2024-09-30"),
        ("۱۴۰۳/۰۷/۱۹ ۱۴:۳۰", "2024-10-10"),
        # surrounding spaces and invisible marks
        ("  2024-03-15  ", "2024-03-15"),
        ("\u200f1403/07/19\u200e", "2024-10-10"),
        ("\ufeff2024-03-15", "2024-03-15"),
    ],
)
def test_each_form(value, expected):
    assert one(value) == expected


def test_gregorian_leap_day():
    assert iso(["2024-02-29", "2000-02-29"]) == ["2024-02-29", "2000-02-29"]


def test_mixed_forms_in_one_column():
    values = ["2024-03-15", "20240316", "1403/07/19", "۱۴۰۳-۰۷-۲۰", "17 Mar 2024", "1710504000"]
    assert iso(values) == [
        "2024-03-15",
        "2024-03-16",
        "2024-10-10",
        "2024-10-11",
        "2024-03-17",
        "2024-03-15",
    ]


def test_repeated_values_and_nulls_map_back_to_their_rows():
    values = ["2024-03-15", None, "2024-03-16", "2024-03-15", None, "1403/07/19"]
    assert days_of(values) == [
        day_number("2024-03-15"),
        NOT_A_DATE,
        day_number("2024-03-16"),
        day_number("2024-03-15"),
        NOT_A_DATE,
        day_number("2024-10-10"),
    ]


def test_integer_column_of_compact_dates_and_epoch_seconds():
    column = pa.array([20240315, 1710504000, None], type=pa.int64())
    assert parse_dates(column).tolist() == [day_number("2024-03-15")] * 2 + [NOT_A_DATE]


def test_typed_date_column():
    # 1403-07-19 is a Jalali date stored as a DATE: the Jalali 1403-07-19, 2024-10-10.
    column = pa.array([dt.date(2024, 3, 15), None, dt.date(1403, 7, 19)], type=pa.date32())
    assert parse_dates(column).tolist() == [
        day_number("2024-03-15"),
        NOT_A_DATE,
        day_number("2024-10-10"),
    ]


def test_typed_date_columns_of_either_width_sliced_or_not():
    days = [dt.date(2024, 3, 15), None, dt.date(1969, 12, 31), dt.date(2024, 3, 16)]
    want = [day_number("2024-03-15"), NOT_A_DATE, -1, day_number("2024-03-16")]
    for kind in (pa.date32(), pa.date64()):
        column = pa.array([dt.date(2000, 1, 1), *days], type=kind)
        assert parse_dates(column.slice(1)).tolist() == want
        whole = pa.array([day for day in days if day is not None], type=kind)
        assert parse_dates(whole).tolist() == [w for w in want if w != NOT_A_DATE]


def test_typed_naive_timestamp_column_is_read_as_written():
    column = pa.array([dt.datetime(2024, 3, 15, 23, 59), None], type=pa.timestamp("us"))
    assert parse_dates(column).tolist() == [day_number("2024-03-15"), NOT_A_DATE]
    # A naive timestamp has no zone to convert from, even when a zone is asked for.
    assert parse_dates(column, DateSettings(timezone="Asia/Tehran")).tolist()[0] == day_number(
        "2024-03-15"
    )


def test_typed_utc_timestamp_column_converted_to_tehran():
    column = pa.array(
        [dt.datetime(2024, 3, 15, 21, 0), dt.datetime(2024, 3, 15, 20, 0)],
        type=pa.timestamp("us", tz="UTC"),
    )
    assert list(days_to_iso(parse_dates(column))) == ["2024-03-15", "2024-03-15"]
    tehran = parse_dates(column, DateSettings(timezone="Asia/Tehran"))
    # 21:00 UTC is 00:30 the next day in Tehran (+03:30); 20:00 UTC is 23:30.
    assert list(days_to_iso(tehran)) == ["2024-03-16", "2024-03-15"]


# ---------------------------------------------------------------------- time zones


def test_single_shared_offset_keeps_the_files_own_day():
    values = ["2024-03-15T23:30:00+03:30", "2024-03-16T01:00:00+03:30"]
    # In UTC these are 2024-03-15 20:00 and 2024-03-15 21:30; the file's own day is kept.
    assert iso(values) == ["2024-03-15", "2024-03-16"]


@pytest.mark.parametrize("offset", ["+0330", "+03", "-05:00", "-0500", "+14:00", "-12:00"])
def test_single_offset_in_any_spelling_keeps_the_written_day(offset):
    values = [f"2024-03-15T00:10:00{offset}", f"2024-03-15T23:50:00{offset}"]
    assert iso(values) == ["2024-03-15", "2024-03-15"]


def test_mixed_offsets_are_converted_to_utc():
    values = [
        "2024-03-16T02:00:00+03:30",  # 2024-03-15 22:30 UTC
        "2024-03-15T20:00:00-05:00",  # 2024-03-16 01:00 UTC
        "2024-03-15T12:00:00Z",  # 2024-03-15 12:00 UTC
    ]
    assert iso(values) == ["2024-03-15", "2024-03-16", "2024-03-15"]


def test_single_shared_offset_with_month_names_keeps_the_files_own_day():
    # Same rule as for ISO timestamps: one offset in the column -> the day as written.
    values = ["15 Mar 2024 01:00 +0330", "16 Mar 2024 01:00 +0330"]
    assert iso(values) == ["2024-03-15", "2024-03-16"]


def test_same_instant_gives_same_day_whether_iso_or_month_name():
    values = ["2024-03-15T01:00:00+03:30", "15 Mar 2024 01:00 +0330"]
    assert iso(values) == ["2024-03-15", "2024-03-15"]


def test_typed_timestamp_column_with_one_zone_keeps_its_own_day():
    # A Parquet column typed timestamp[tz=Asia/Tehran] has one zone for all values, like a
    # text column with a single shared offset: 2024-03-15 21:30 UTC is 01:00 on the 16th.
    column = pa.array([dt.datetime(2024, 3, 15, 21, 30)], type=pa.timestamp("us", tz="Asia/Tehran"))
    assert list(days_to_iso(parse_dates(column))) == ["2024-03-16"]


def test_explicit_timezone_asia_tehran():
    values = [
        "2024-03-15T21:00:00Z",  # 00:30 on the 16th in Tehran
        "2024-03-15T20:00:00Z",  # 23:30 on the 15th in Tehran
        "2024-07-15T21:00:00+00:00",  # no daylight saving since 2022: still +03:30
        "2024-03-15T23:30:00+03:30",  # already Tehran time
    ]
    assert iso(values, timezone="Asia/Tehran") == [
        "2024-03-16",
        "2024-03-15",
        "2024-07-16",
        "2024-03-15",
    ]


def test_explicit_timezone_converts_epoch_seconds():
    # 1710527400 is 2024-03-15 18:30 UTC = 2024-03-15 22:00 Tehran;
    # 1710531000 is 2024-03-15 19:30 UTC = 2024-03-15 23:00 Tehran;
    # 1710534600 is 2024-03-15 20:30 UTC = 2024-03-16 00:00 Tehran.
    values = ["1710527400", "1710531000", "1710534600"]
    assert iso(values) == ["2024-03-15", "2024-03-15", "2024-03-15"]
    assert iso(values, timezone="Asia/Tehran") == ["2024-03-15", "2024-03-15", "2024-03-16"]


def test_explicit_timezone_leaves_naive_text_as_written():
    assert iso(["2024-03-15 23:50", "2024-03-15 00:10"], timezone="Asia/Tehran") == [
        "2024-03-15",
        "2024-03-15",
    ]


def test_explicit_utc_timezone_converts_a_single_offset():
    values = ["2024-03-16T02:00:00+03:30"]
    assert iso(values) == ["2024-03-16"]
    assert iso(values, timezone="UTC") == ["2024-03-15"]


def test_unknown_timezone_is_a_date_problem():
    with pytest.raises(DateProblem, match="unknown time zone 'Mars/Olympus'"):
        days_of(["2024-03-15T10:00:00Z"], timezone="Mars/Olympus")


# ------------------------------------------------------------ day/month order


def test_day_first_decided_for_the_whole_column():
    # 15/03 can only be day-first, so 05/03 is 5 March, not 3 May.
    assert iso(["05/03/2024", "15/03/2024", "01/02/2024"]) == [
        "2024-03-05",
        "2024-03-15",
        "2024-02-01",
    ]


def test_month_first_decided_for_the_whole_column():
    # 03/15 can only be month-first, so 05/03 is 3 May.
    assert iso(["05/03/2024", "03/15/2024", "01/02/2024"]) == [
        "2024-05-03",
        "2024-03-15",
        "2024-01-02",
    ]


def test_ambiguous_day_month_order_raises_date_problem():
    with pytest.raises(DateProblem) as caught:
        days_of(["01/02/2024", "03/04/2024", "12/11/2024"])
    message = str(caught.value)
    assert "'01/02/2024'" in message
    assert "could be day-first or month-first" in message
    assert "--date-format" in caught.value.hint
    assert "%d/%m/%Y" in caught.value.hint


def test_ambiguous_dotted_dates_raise_date_problem():
    with pytest.raises(DateProblem, match="day-first or month-first"):
        days_of(["01.02.2024"])


def test_ambiguity_is_resolved_by_a_date_format():
    values = ["01/02/2024", "03/04/2024"]
    assert iso(values, date_format="%d/%m/%Y") == ["2024-02-01", "2024-04-03"]
    assert iso(values, date_format="%m/%d/%Y") == ["2024-01-02", "2024-03-04"]


# ---------------------------------------------------------------- date formats


@pytest.mark.parametrize(
    ("date_format", "value", "expected"),
    [
        ("%d/%m/%Y", "15/03/2024", "2024-03-15"),
        ("%m/%d/%Y", "03/15/2024", "2024-03-15"),
        ("%Y%m%d", "20240315", "2024-03-15"),
        ("%d.%m.%Y %H:%M", "15.03.2024 14:30", "2024-03-15"),
        ("%Y-%m-%d %H:%M:%S", "2024-03-15 23:59:59", "2024-03-15"),
        ("%m/%d/%Y %I:%M %p", "03/15/2024 11:30 PM", "2024-03-15"),
        ("%d %b %Y", "15 Mar 2024", "2024-03-15"),
        ("%B %d, %Y", "March 15, 2024", "2024-03-15"),
        ("%d-%m-%y", "15-03-24", "2024-03-15"),
    ],
)
def test_date_format(date_format, value, expected):
    assert one(value, date_format=date_format) == expected


def test_date_format_with_offset_single_zone_keeps_the_day():
    assert one("2024-03-15 23:30 +0330", date_format="%Y-%m-%d %H:%M %z") == "2024-03-15"


def test_textual_date_format_with_single_offset_keeps_the_day():
    values = ["15 Mar 2024 01:00 +0330", "16 Mar 2024 01:00 +0330"]
    assert iso(values, date_format="%d %b %Y %H:%M %z") == ["2024-03-15", "2024-03-16"]


def test_textual_date_format_with_mixed_offsets_converts_to_utc():
    # The numeric-format path converts mixed offsets to UTC; a format with month names
    # must do the same, not reject the format.
    values = ["15 Mar 2024 01:00 +0330", "15 Mar 2024 22:00 -0500"]
    assert iso(values, date_format="%d %b %Y %H:%M %z") == ["2024-03-14", "2024-03-16"]


def test_numeric_date_format_with_mixed_offsets_converts_to_utc():
    values = ["2024-03-15 01:00 +0330", "2024-03-15 22:00 -0500"]
    assert iso(values, date_format="%Y-%m-%d %H:%M %z") == ["2024-03-14", "2024-03-16"]


def test_values_not_in_the_date_format_are_bad():
    values = ["15/03/2024", "2024-03-15", "15-03-2024", "32/01/2024", "15/13/2024"]
    assert days_of(values, date_format="%d/%m/%Y") == [
        day_number("2024-03-15"),
        NOT_A_DATE,
        NOT_A_DATE,
        NOT_A_DATE,
        NOT_A_DATE,
    ]


@pytest.mark.parametrize(
    ("date_format", "value", "expected"),
    [
        ("%d/%m/%Y", "19/07/1403", "2024-10-10"),
        ("%Y/%m/%d", "1403/07/19", "2024-10-10"),
        ("%Y%m%d", "14030719", "2024-10-10"),
        ("%d/%m/%Y", "۱۹/۰۷/۱۴۰۳", "2024-10-10"),
        ("%Y-%m-%d %H:%M", "۱۴۰۳-۰۷-۱۹ ۲۳:۵۹", "2024-10-10"),
        ("%d/%m/%Y", "30/12/1403", "2025-03-20"),
    ],
)
def test_jalali_date_format(date_format, value, expected):
    assert one(value, calendar="jalali", date_format=date_format) == expected


def test_jalali_date_format_rejects_invalid_jalali_days():
    values = ["30/12/1402", "31/07/1403", "01/13/1403", "19/07/1403"]
    assert days_of(values, calendar="jalali", date_format="%d/%m/%Y") == [
        NOT_A_DATE,
        NOT_A_DATE,
        NOT_A_DATE,
        day_number("2024-10-10"),
    ]


def test_calendar_jalali_forced_without_format():
    assert iso(["1403/07/19", "۱۴۰۳-۰۱-۰۱"], calendar="jalali") == ["2024-10-10", "2024-03-20"]


def test_calendar_jalali_forced_reads_years_above_1700_as_jalali_too():
    # With the calendar forced there is no year heuristic; 1800 AP is out of range.
    assert days_of(["1800/01/01"], calendar="jalali") == [NOT_A_DATE]


def test_calendar_gregorian_forced_reads_small_years_as_gregorian():
    assert one("1403-07-19", calendar="gregorian") == "1403-07-19"


def test_unknown_calendar_is_a_date_problem():
    with pytest.raises(DateProblem, match="unknown calendar 'lunar'"):
        days_of(["2024-03-15"], calendar="lunar")


# ---------------------------------------------------------------- bad values


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "not a date",
        "yesterday",
        "2024-02-30",
        "2023-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-03-00",
        "2024-03-32",
        "2024-03-15T25:00",
        "2024-03-15T12:60",
        "2024-03-15 13:00 PM",
        "1402/12/30",  # Esfand 30 in a common Jalali year
        "1403/07/31",  # Mehr has 30 days
        "1403/13/01",
        "۱۴۰۲/۱۲/۳۰",
        "12345",
        "2024-03",
        "N/A",
    ],
)
def test_bad_values_are_not_dates(value):
    # A good value in the same column keeps the column's forms decidable.
    assert days_of([value, "2024-03-16"]) == [NOT_A_DATE, day_number("2024-03-16")]


def test_all_bad_column_is_not_dates_everywhere():
    assert days_of(["x", "", None]) == [NOT_A_DATE, NOT_A_DATE, NOT_A_DATE]


def test_empty_column():
    assert days_of([]) == []


# ---------------------------------------------------------------- parse_date_value


def test_parse_date_value():
    assert parse_date_value("2024-03-15") == day_number("2024-03-15")
    assert parse_date_value("۱۴۰۳-۰۷-۱۹") == day_number("2024-10-10")
    with pytest.raises(DateProblem, match="cannot read 'soon' as a date"):
        parse_date_value("soon")


# --------------------------------------------------------------- large column


def test_large_column_maps_distinct_values_back_to_every_row():
    rng = np.random.default_rng(20240315)
    first = day_number("2022-01-01")
    distinct_days = first + np.arange(700, dtype=np.int64)
    # Half the distinct values ISO, half Jalali with Persian digits (from jdatetime).
    persian = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
    texts = []
    for index, day in enumerate(distinct_days):
        date = dt.date(1970, 1, 1) + dt.timedelta(days=int(day))
        if index % 2:
            texts.append(
                jdatetime.date.fromgregorian(date=date).strftime("%Y/%m/%d").translate(persian)
            )
        else:
            texts.append(date.isoformat())
    texts_array = np.array(texts, dtype=object)
    picks = rng.integers(0, 700, size=1_000_000)
    column = pa.array(texts_array[picks], type=pa.string())
    days = parse_dates(column)
    assert days.dtype == np.int64
    assert len(days) == 1_000_000
    assert (days == distinct_days[picks]).all()


def test_large_chunked_column_with_nulls():
    rng = np.random.default_rng(7)
    distinct = np.array(
        [str(np.datetime64("2023-01-01") + i) for i in range(365)] + [None], dtype=object
    )
    picks = rng.integers(0, 366, size=200_000)
    values = distinct[picks]
    chunked = pa.chunked_array(
        [pa.array(values[:100_000], type=pa.string()), pa.array(values[100_000:], type=pa.string())]
    )
    expected = np.where(picks == 365, NOT_A_DATE, day_number("2023-01-01") + picks)
    assert (parse_dates(chunked) == expected).all()


@pytest.mark.parametrize("calendar", ["auto", "gregorian", "jalali"])
def test_runs_of_one_date_parse_as_the_distinct_dates_do(monkeypatch, calendar):
    """A log in date order is parsed run by run: the same days as hashing every cell."""
    import clvcli.io.dates as dates

    rng = np.random.default_rng(11)
    texts = ["1403-01-05", "1403/01/06", "۱۴۰۳-۰۱-۰۷", None, "not a date", "1403-01-08"]
    if calendar == "gregorian":
        texts = ["2024-01-05", "25/01/2024", "2024/01/06", None, "not a date", "2024-01-08"]
    runs = rng.integers(1, 40, size=3000)
    cells = [texts[i % len(texts)] for i, run in enumerate(runs) for _ in range(run)]
    column = pa.array(cells, type=pa.string())
    settings = DateSettings(calendar=calendar)
    monkeypatch.setattr(dates, "_RUNS_MIN_ROWS", 10**9)
    hashed = parse_dates(column, settings)
    monkeypatch.setattr(dates, "_RUNS_MIN_ROWS", 0)
    assert dates._runs_of_equal_cells(column) is not None
    assert (parse_dates(column, settings) == hashed).all()
    assert (hashed == NOT_A_DATE).any() and (hashed != NOT_A_DATE).any()


def test_short_runs_are_hashed(monkeypatch):
    import clvcli.io.dates as dates

    monkeypatch.setattr(dates, "_RUNS_MIN_ROWS", 0)
    column = pa.array([str(np.datetime64("2024-01-01") + i % 50) for i in range(1000)])
    assert dates._runs_of_equal_cells(column) is None
    assert parse_dates(column)[51] == day_number("2024-01-02")


def test_runs_raise_what_hashing_raises(monkeypatch):
    import clvcli.io.dates as dates

    column = pa.array(["05/01/2024"] * 100 + ["06/02/2024"] * 100)
    monkeypatch.setattr(dates, "_RUNS_MIN_ROWS", 0)
    with pytest.raises(DateProblem, match="day-first or month-first"):
        parse_dates(column)


def test_a_jalali_log_stored_as_typed_dates_reads_as_its_text_does():
    """1403-01-05 in a DATE column (a Jalali log a system wrote as Gregorian dates)
    is the Jalali 1403-01-05, 2024-03-24, as the text 1403-01-05 is; a day Jalali
    does not have is a bad date; --calendar gregorian and modern years keep theirs."""
    written = ["1403-01-05", "1402-12-30", "2024-03-24", None]
    dates = [None if d is None else dt.date.fromisoformat(d) for d in written]
    typed = pa.array(dates, pa.date32())
    stamps = pa.array(
        [None if d is None else dt.datetime(d.year, d.month, d.day, 10, 30) for d in dates],
        pa.timestamp("s"),
    )
    expected = [day_number("2024-03-24"), NOT_A_DATE, day_number("2024-03-24"), NOT_A_DATE]
    for column in (typed, stamps):
        assert parse_dates(column).tolist() == expected
        assert parse_dates(column, DateSettings(calendar="jalali")).tolist() == expected
        kept = parse_dates(column, DateSettings(calendar="gregorian")).tolist()
        assert kept[:3] == [day_number(d) for d in written[:3]]
    text = parse_dates(pa.array(["1403-01-05", "2024-03-24"]))
    assert text.tolist() == [day_number("2024-03-24")] * 2
