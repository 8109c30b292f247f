"""Reading purchase dates in every form shops export them.

ISO dates and timestamps, compact ``20240315``, day-first and month-first forms,
month names, Unix epoch seconds, and Jalali dates such as ``1403/07/19`` or
``۱۴۰۳-۰۷-۱۹``. A column repeats few distinct values, so each distinct value is
parsed once, with pyarrow regex kernels and numpy arithmetic, and mapped back.

Dates come out as whole days since 1970-01-01 (int64); ``NOT_A_DATE`` marks a cell
that is not a date (a constant far outside any calendar, so 1969-12-31 stays a day).
Timestamps that carry a zone are converted to one zone before the day is taken (see
:func:`parse_dates`); naive ones are read as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from clvcli.io import jalali
from clvcli.io.jalali import NOT_A_DATE
from clvcli.io.text import normalise_cells

CALENDARS = ("auto", "gregorian", "jalali")
# In `auto`, a year-first date with a year below this is Jalali (1403 is never a
# Gregorian purchase year); Jalali years run far below it until 2321 CE.
_JALALI_BELOW = 1700
_SECONDS_PER_DAY = 86_400

_TIME = (
    r"(?:[T\s]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?)?"
)
_YEAR_FIRST = r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})" + _TIME + r"$"
_COMPACT = r"^(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})" + _TIME + r"$"
_YEAR_LAST = r"^(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>\d{4})" + _TIME + r"$"
# Month names: "12 Jan 1997", "12-Jan-97", "Jan 12, 1997", "January 12 1997",
# "۱۲ دی ۱۳۷۵", "12 Dey 1375", optionally after a weekday ("Sun, 12 Jan 1997").
_WEEKDAY = r"(?:(?i:mon|tue|wed|thu|fri|sat|sun)\p{L}*\.?,?\s+|(?:\p{L}*\s?شنبه|جمعه),?\s+)?"
_NAME = r"(?P<mon>\p{L}+)\.?"
_ORDINAL = r"(?i:st|nd|rd|th)?"
_NAMED_YEAR = r"(?P<y>\d{4}|\d{2})"
_NAMED_TIME = r",?" + _TIME + r"$"
_DAY_NAME_YEAR = (
    r"^"
    + _WEEKDAY
    + r"(?P<d>\d{1,2})"
    + _ORDINAL
    + r"[\s\-/.]*"
    + _NAME
    + r"[\s\-/.,]*"
    + _NAMED_YEAR
    + _NAMED_TIME
)
_NAME_DAY_YEAR = (
    r"^"
    + _WEEKDAY
    + _NAME
    + r"[\s\-/.]*(?P<d>\d{1,2})"
    + _ORDINAL
    + r",?[\s\-/.]+"
    + _NAMED_YEAR
    + _NAMED_TIME
)
_YEAR_NAME_DAY = r"^(?P<y>\d{4})[\s\-/.]*" + _NAME + r"[\s\-/.]*(?P<d>\d{1,2})" + _NAMED_TIME
# Unix `date` and C's ctime: "Fri Mar 15 10:00:00 2024", "Fri Mar 15 10:00:00 UTC 2024".
_CTIME = (
    r"^" + _WEEKDAY + _NAME + r"\s+(?P<d>\d{1,2})\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?"
    r"\s+(?:(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2})\s+)?(?P<y>\d{4})$"
)
# Excel's serial day numbers (days since 1899-12-30 from 1 March 1900 on), taken
# only when every value of a column is one between 1955 and 2100: 20090 to 73050.
_SERIAL = r"^\d{5}(?:\.\d+)?$"
_SERIAL_FIRST = 20_090
_SERIAL_LAST = 73_050
_SERIAL_EPOCH = 25_569  # 1970-01-01 as an Excel serial
_EPOCH_SECONDS = r"^\d{9,10}$"
_EPOCH_MILLISECONDS = r"^\d{12,13}$"

_FORMAT_FIELDS = {
    "%Y": r"(?P<y>\d{4})",
    "%m": r"(?P<m>\d{1,2})",
    "%d": r"(?P<d>\d{1,2})",
    "%H": r"(?P<H>\d{1,2})",
    "%I": r"(?P<H>\d{1,2})",
    "%M": r"(?P<M>\d{2})",
    "%S": r"(?P<S>\d{2})",
    "%p": r"(?P<ampm>[AaPp]\.?[Mm]\.?)",
    "%z": r"(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)",
    "%f": r"\d+",
    # Names are looked up once per distinct spelling (see _month_numbers), not by
    # strptime once per value: 90,000 distinct dates take a tenth of the time.
    "%b": r"(?P<mon>\p{L}+)\.?",
    "%B": r"(?P<mon>\p{L}+)\.?",
    "%a": r"\p{L}+\.?",
    "%A": r"\p{L}+\.?",
    "%y": r"(?P<yy>\d{2})",
}


_GREGORIAN = 1
_JALALI = 2
_ARABIC_LETTERS = str.maketrans("يك", "یک")


def _month_names() -> dict[str, tuple[int, int]]:
    """Each spelling of a month's name: (month, calendar)."""
    english = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
    names: dict[str, tuple[int, int]] = {}
    for month, name in enumerate(english, start=1):
        names[name] = names[name[:3]] = (month, _GREGORIAN)
    names["sept"] = (9, _GREGORIAN)
    persian_gregorian = (
        [
            "ژانویه",
            "فوریه",
            "مارس",
            "آوریل",
            "مه",
            "ژوئن",
            "ژوئیه",
            "اوت",
            "سپتامبر",
            "اکتبر",
            "نوامبر",
            "دسامبر",
        ],
        ["", "", "", "", "می", "", "جولای", "آگوست", "", "", "", ""],
    )
    for spellings in persian_gregorian:
        for month, name in enumerate(spellings, start=1):
            if name:
                names[name] = (month, _GREGORIAN)
    jalali = (
        ("فروردین", "farvardin"),
        ("اردیبهشت", "ordibehesht"),
        ("خرداد", "khordad"),
        ("تیر", "tir"),
        ("مرداد", "امرداد", "mordad", "amordad"),
        ("شهریور", "shahrivar"),
        ("مهر", "mehr"),
        ("آبان", "aban", "abaan"),
        ("آذر", "azar"),
        ("دی", "dey", "dei"),
        ("بهمن", "bahman"),
        ("اسفند", "esfand", "isfand", "esphand"),
    )
    for month, spellings in enumerate(jalali, start=1):
        for name in spellings:
            names[name] = (month, _JALALI)
    return names


_MONTHS = _month_names()


class DateProblem(ValueError):
    """A column-wide date problem (ambiguous order); the reader adds the file name."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class DateSettings:
    """How to read dates: calendar, an explicit format, the zone to convert into."""

    calendar: str = "auto"
    date_format: str | None = None
    timezone: str | None = None

    def zone(self) -> ZoneInfo | None:
        """The target zone, or None for the file's own zone (UTC when mixed)."""
        if self.timezone is None:
            return None
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise DateProblem(
                f"unknown time zone '{self.timezone}'",
                "use an IANA name such as Asia/Tehran or UTC",
            ) from exc


def parse_dates(
    column: pa.Array | pa.ChunkedArray, settings: DateSettings = DateSettings()
) -> np.ndarray:
    """Days since 1970-01-01 for each cell; NOT_A_DATE where the cell is not a date.

    Timestamps with an offset are converted to ``settings.timezone``; when none is
    given, to the offset all of the column's timestamps share, or to UTC when they
    use several.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if pa.types.is_date(column.type):
        # The int32 days are the date32 column itself: one int64 copy of them, the
        # nulls marked in it (Arrow's fill_null copies a column even without nulls).
        days = column.cast(pa.date32()).cast(pa.int32())
        missing = pc.is_null(days).to_numpy(zero_copy_only=False) if days.null_count else None
        out = pc.fill_null(days, 0).to_numpy() if missing is not None else days.to_numpy()
        out = out.astype(np.int64)
        if missing is not None:
            out[missing] = NOT_A_DATE
        return _jalali_written_as_gregorian(out, settings)
    if pa.types.is_timestamp(column.type):
        return _jalali_written_as_gregorian(_typed_timestamps(column, settings), settings)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        column = column.cast(pa.string())
    runs = _runs_of_equal_cells(column)
    if runs is not None:
        starts, lengths = runs
        return np.repeat(parse_dates(column.take(pa.array(starts)), settings), lengths)
    encoded = pc.dictionary_encode(column)
    distinct = _parse_distinct(normalise_cells(encoded.dictionary), settings)
    if len(distinct) == 0:
        return np.full(len(column), NOT_A_DATE, dtype=np.int64)
    indices = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    return np.where(indices < 0, NOT_A_DATE, distinct[np.maximum(indices, 0)])


def _runs_of_equal_cells(column: pa.Array) -> tuple[np.ndarray, np.ndarray] | None:
    """Where runs of equal cells start and how long they are, if runs are long.

    Logs are mostly written in date order: ten million rows hold a few thousand runs
    of one date. Comparing each cell with the one before is a third of the time of
    hashing every cell; the runs' first cells have the same distinct values, in the
    same order, so they parse to the same days.
    """
    n = len(column)
    if n < _RUNS_MIN_ROWS:
        return None
    # Empty cells run together too (NUL is no date either, and CSV text has none).
    cells = pc.fill_null(column, "\x00") if column.null_count else column
    changed = pc.not_equal(cells.slice(1), cells.slice(0, n - 1))
    starts = np.flatnonzero(changed.to_numpy(zero_copy_only=False)) + 1
    if (len(starts) + 1) * _RUN_LENGTH > n:
        return None
    starts = np.concatenate(([0], starts))
    return starts, np.diff(starts, append=n)


# Runs are looked for in columns this long, and used when on average this long.
_RUNS_MIN_ROWS = 1 << 16
_RUN_LENGTH = 8


def parse_date_value(text: str, settings: DateSettings = DateSettings()) -> int:
    """One date given on the command line (``--as-of``), as days since 1970-01-01."""
    days = parse_dates(pa.array([text], type=pa.string()), settings)
    if days[0] == NOT_A_DATE:
        raise DateProblem(
            f"cannot read '{text}' as a date",
            "write it as YYYY-MM-DD, or as a Jalali date such as 1403-07-19",
        )
    return int(days[0])


def days_to_iso(days: np.ndarray) -> np.ndarray:
    """ISO ``YYYY-MM-DD`` strings for days since 1970-01-01."""
    return np.asarray(days, dtype="datetime64[D]").astype(str).astype(object)


# Days since 1970 of the first day of the first year that is never Jalali.
_GREGORIAN_FROM = int(np.datetime64(f"{_JALALI_BELOW}-01-01", "D").astype(np.int64))


def _jalali_written_as_gregorian(days: np.ndarray, settings: DateSettings) -> np.ndarray:
    """Typed dates whose year is below :data:`_JALALI_BELOW` read as the Jalali dates
    they spell, as the same dates written as text are: a Jalali log stored in a DATE
    column (1403-01-05, which no shop's purchase was in the Gregorian calendar) is
    1403-01-05 in the Jalali calendar, 2024-03-24. Left as they are with --calendar
    gregorian; later years are Gregorian whatever the calendar (a typed 2024 is not
    the Jalali 2024, 2645 CE). A day the Jalali calendar does not have (1403-12-31)
    becomes a bad date."""
    if settings.calendar == "gregorian":
        return days
    early = (days < _GREGORIAN_FROM) & (days != NOT_A_DATE)
    if not early.any():
        return days
    written = days[early].astype("datetime64[D]")
    months = written.astype("datetime64[M]")
    year = months.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (written - months).astype(np.int64) + 1
    out = days.copy()
    out[early] = jalali.to_days(year, month, day)
    return out


def _typed_timestamps(column: pa.Array, settings: DateSettings) -> np.ndarray:
    """Typed timestamps: a zoned column is read in --timezone, else in its own zone."""
    import pandas as pd

    series = pd.Series(column.to_pandas(), copy=False)
    zone = settings.zone()
    if series.dt.tz is not None:
        if zone is not None:
            series = series.dt.tz_convert(zone)
        series = series.dt.tz_localize(None)
    days = series.dt.floor("D").to_numpy(dtype="datetime64[D]").astype(np.int64)
    return np.where(series.isna().to_numpy(), NOT_A_DATE, days)


def _parse_distinct(values: pa.Array, settings: DateSettings) -> np.ndarray:
    if settings.calendar not in CALENDARS:
        raise DateProblem(
            f"unknown calendar '{settings.calendar}'", "use auto, gregorian or jalali"
        )
    parts = _Parts(len(values))
    texts = values.to_numpy(zero_copy_only=False)
    if settings.date_format:
        pattern = _format_regex(settings.date_format)
        if pattern is None:
            _fill_strptime(parts, texts, settings.date_format)
        else:
            _fill_format(parts, pc.extract_regex(values, pattern))
    else:
        for pattern in (_YEAR_FIRST, _COMPACT):
            parts.fill(pc.extract_regex(values, pattern))
        _fill_year_last(parts, values)
        _fill_epochs(parts, values)
        _fill_month_names(parts, values)
        _fill_excel_serials(parts, values)
    return parts.to_days(settings)


def _format_regex(date_format: str) -> str | None:
    """A regex for a strftime format of the fields clv reads itself, else None
    (strptime then reads each distinct value)."""
    pieces = []
    groups: list[str] = []
    for token in re.split(r"(%.)", date_format):
        if token.startswith("%") and len(token) == 2:
            if token not in _FORMAT_FIELDS:
                return None
            pieces.append(_FORMAT_FIELDS[token])
            groups += re.findall(r"\(\?P<(\w+)>", _FORMAT_FIELDS[token])
        elif token:
            pieces.append(re.escape(token).replace(r"\ ", r"\s+"))
    # A field given twice, or a name or short year without a day (strptime's 1st of
    # the month): left to strptime, as before.
    if len(set(groups)) < len(groups) or ({"mon", "yy"} & set(groups) and "d" not in groups):
        return None
    return "^" + "".join(pieces) + "$"


def _fill_format(parts: _Parts, found: pa.StructArray) -> None:
    """The values that matched a --date-format's regex; month names and two-digit
    years read as strptime reads them (``%y``: 69-99 are 1969-1999, else 20xx)."""
    names = _field_names(found)
    if "mon" not in names and "yy" not in names:
        parts.fill(found)
        return
    rows = pc.is_valid(found).to_numpy(zero_copy_only=False) & ~parts.matched
    month, calendar = _int_field(found, "m"), np.zeros(len(found), dtype=np.int8)
    if "mon" in names:
        month, calendar = _month_numbers(_text_field(found, "mon"))
        rows &= month > 0
    year = _int_field(found, "y")
    if "yy" in names:
        short = _int_field(found, "yy")
        year = np.where(short >= 69, 1900, 2000) + short
    if rows.any():
        parts.take(found, rows, day=_int_field(found, "d"), month=month, year=year)
        parts.named[rows] = calendar[rows]


def _month_numbers(names: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(month, calendar) of each month name, 0 where it is none: looked up once per
    distinct spelling."""
    distinct, inverse = np.unique(names.astype(str), return_inverse=True)
    found = np.array([_MONTHS.get(_month_key(name), (0, 0)) for name in distinct], dtype=np.int64)
    found = found.reshape(len(distinct), 2)
    return found[inverse, 0], found[inverse, 1].astype(np.int8)


def _fill_strptime(parts: _Parts, texts: np.ndarray, date_format: str) -> None:
    """Formats with month names and the like, one distinct value at a time."""
    for index, text in enumerate(texts):
        if text is None:
            continue
        try:
            moment = datetime.strptime(text, date_format)
        except ValueError:
            continue
        except re.error as exc:
            raise DateProblem(
                f"cannot use --date-format '{date_format}': {exc}",
                "give a strftime pattern such as %d/%m/%Y",
            ) from None
        parts.set_moment(index, moment)


def _fill_month_names(parts: _Parts, values: pa.Array) -> None:
    """Dates with a month's name, English or Persian, Gregorian or Jalali.

    A name is unambiguous, so it decides the order of day and month and the
    calendar: ``دی`` and ``Dey`` are Jalali, ``Jan`` and ``ژانویه`` Gregorian. A
    two-digit year is taken only with an English name, as Excel writes it
    (``12-Jan-97``) and reads it: 00 to 29 are 2000 to 2029, 30 to 99 are 1930 to
    1999. With a Jalali name it is not a date (its century is a guess).
    """
    for pattern in (_DAY_NAME_YEAR, _NAME_DAY_YEAR, _YEAR_NAME_DAY, _CTIME):
        pending = ~parts.matched
        if not pending.any():
            return
        found = pc.extract_regex(values, pattern)
        rows = pc.is_valid(found).to_numpy(zero_copy_only=False) & pending
        if not rows.any():
            continue
        month, calendar = _month_numbers(_text_field(found, "mon"))
        year = _int_field(found, "y")
        short = np.char.str_len(_text_field(found, "y").astype(str)) == 2
        year = np.where(short, np.where(year < 30, 2000, 1900) + year, year)
        rows &= (month > 0) & ~(short & (calendar == _JALALI))
        if rows.any():
            parts.take(found, rows, day=_int_field(found, "d"), month=month, year=year)
            parts.named[rows] = calendar[rows]


def _month_key(name: str) -> str:
    return name.translate(_ARABIC_LETTERS).casefold().rstrip(".")


def _fill_excel_serials(parts: _Parts, values: pa.Array) -> None:
    """Excel serial numbers (``35431`` is 1997-01-01), when the whole column is them.

    A five-digit number is a date only in a column of nothing else, all of them in
    the range of plausible purchase dates (1955 to 2100); one value of another form
    leaves them unread, and reported as bad rows, rather than guessed.
    """
    if parts.matched.any():  # another form was found: the column is not serials
        return
    present = pc.fill_null(pc.not_equal(values, ""), False).to_numpy(zero_copy_only=False)
    if not present.any():
        return
    serial = pc.match_substring_regex(values, _SERIAL).to_numpy(zero_copy_only=False)
    if not serial[present].all():
        return
    number = pc.cast(values.filter(pa.array(present)), pa.float64()).to_numpy()
    if number.min() < _SERIAL_FIRST or number.max() >= _SERIAL_LAST + 1:
        return
    days = np.floor(number).astype(np.int64) - _SERIAL_EPOCH
    dates = days.astype("datetime64[D]")
    months = dates.astype("datetime64[M]")
    parts.matched[present] = True
    parts.year[present] = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    parts.month[present] = months.astype(np.int64) % 12 + 1
    parts.day[present] = (dates - months.astype("datetime64[D]")).astype(np.int64) + 1
    parts.named[present] = _GREGORIAN


def _fill_year_last(parts: _Parts, values: pa.Array) -> None:
    """Day-first or month-first dates; the order is decided for the whole column."""
    found = pc.extract_regex(values, _YEAR_LAST)
    valid = pc.is_valid(found).to_numpy(zero_copy_only=False) & ~parts.matched
    if not valid.any():
        return
    first = _int_field(found, "a")
    second = _int_field(found, "b")
    day_first_only = valid & (first > 12) & (second <= 12)
    month_first_only = valid & (second > 12) & (first <= 12)
    if day_first_only.sum() >= month_first_only.sum() and day_first_only.any():
        day, month = first, second
    elif month_first_only.any():
        day, month = second, first
    else:
        raise DateProblem(
            "dates such as '"
            + values[int(np.flatnonzero(valid)[0])].as_py()
            + "' could be day-first or month-first",
            "say which with --date-format %d/%m/%Y or --date-format %m/%d/%Y",
        )
    parts.take(found, valid, day=day, month=month)


def _fill_epochs(parts: _Parts, values: pa.Array) -> None:
    for pattern, scale in ((_EPOCH_SECONDS, 1), (_EPOCH_MILLISECONDS, 1000)):
        match = pc.match_substring_regex(values, pattern).to_numpy(zero_copy_only=False)
        match &= ~parts.matched
        if match.any():
            seconds = pc.cast(values.filter(pa.array(match)), pa.int64()).to_numpy() // scale
            parts.set_instants(match, seconds)


def _int_field(found: pa.StructArray, name: str) -> np.ndarray:
    field = pc.struct_field(found, name) if name in _field_names(found) else None
    if field is None:
        return np.zeros(len(found), dtype=np.int64)
    field = pc.if_else(pc.equal(field, ""), None, field)
    return pc.fill_null(field.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)


def _field_names(found: pa.StructArray) -> list[str]:
    return [found.type.field(i).name for i in range(found.type.num_fields)]


def _text_field(found: pa.StructArray, name: str) -> np.ndarray:
    if name not in _field_names(found):
        return np.full(len(found), "", dtype=object)
    field = pc.fill_null(pc.struct_field(found, name), "")
    return field.to_numpy(zero_copy_only=False)


class _Parts:
    """Date and time fields gathered from the patterns that matched each value."""

    def __init__(self, size: int) -> None:
        self.matched = np.zeros(size, dtype=bool)
        self.year = np.zeros(size, dtype=np.int64)
        self.month = np.zeros(size, dtype=np.int64)
        self.day = np.zeros(size, dtype=np.int64)
        self.seconds = np.zeros(size, dtype=np.int64)
        self.offset = np.zeros(size, dtype=np.int64)  # seconds east of UTC
        self.aware = np.zeros(size, dtype=bool)
        self.bad_time = np.zeros(size, dtype=bool)
        self.instant = np.zeros(size, dtype=bool)  # epoch values, already UTC seconds
        self.epoch = np.zeros(size, dtype=np.int64)
        # The calendar a month name (or an Excel serial) fixed: _GREGORIAN, _JALALI.
        self.named = np.zeros(size, dtype=np.int8)

    def fill(self, found: pa.StructArray) -> None:
        rows = pc.is_valid(found).to_numpy(zero_copy_only=False) & ~self.matched
        if rows.any():
            self.take(found, rows, day=_int_field(found, "d"), month=_int_field(found, "m"))

    def take(self, found: pa.StructArray, rows: np.ndarray, *, day, month, year=None) -> None:
        self.matched |= rows
        self.year[rows] = (_int_field(found, "y") if year is None else year)[rows]
        self.month[rows] = month[rows]
        self.day[rows] = day[rows]
        hour = _int_field(found, "H")
        minute = _int_field(found, "M")
        second = _int_field(found, "S")
        ampm = np.char.lower(_text_field(found, "ampm").astype(str))
        is_pm = np.char.startswith(ampm, "p")
        has_ampm = ampm != ""
        bad = (hour > 23) | (minute > 59) | (second > 60) | (has_ampm & ((hour < 1) | (hour > 12)))
        hour = np.where(has_ampm, hour % 12 + np.where(is_pm, 12, 0), hour)
        self.seconds[rows] = (hour * 3600 + minute * 60 + second)[rows]
        self.bad_time[rows] = bad[rows]
        zone = _text_field(found, "tz").astype(str)
        aware = zone != ""
        self.aware[rows] = aware[rows]
        offset = _offset_seconds(zone)
        self.offset[rows] = offset[rows]
        # +25:00 or +05:60 is no zone on Earth: the cell is not a moment, not a shifted day.
        self.bad_time[rows] |= (offset == _BAD_OFFSET)[rows]

    def set_moment(self, index: int, moment: datetime) -> None:
        """One value parsed by the standard library (naive or with an offset)."""
        self.matched[index] = True
        self.year[index], self.month[index], self.day[index] = (
            moment.year,
            moment.month,
            moment.day,
        )
        self.seconds[index] = moment.hour * 3600 + moment.minute * 60 + moment.second
        offset = moment.utcoffset()
        if offset is not None:
            self.aware[index] = True
            self.offset[index] = int(offset.total_seconds())
            self.bad_time[index] = abs(self.offset[index]) > _MOST_OFFSET

    def set_instants(self, rows: np.ndarray, seconds: np.ndarray) -> None:
        self.matched |= rows
        self.instant[rows] = True
        self.epoch[rows] = seconds

    def to_days(self, settings: DateSettings) -> np.ndarray:
        days = np.full(len(self.matched), NOT_A_DATE, dtype=np.int64)
        named_jalali = self.named == _JALALI
        if settings.calendar == "jalali":
            is_jalali = self.matched & (self.named != _GREGORIAN)
        elif settings.calendar == "gregorian":
            is_jalali = self.matched & named_jalali
        else:
            guessed = (self.named == 0) & (self.year < _JALALI_BELOW)
            is_jalali = self.matched & (named_jalali | guessed)
        gregorian = self.matched & ~is_jalali & ~self.instant
        days[is_jalali] = jalali.to_days(
            self.year[is_jalali], self.month[is_jalali], self.day[is_jalali]
        )
        days[gregorian] = _gregorian_days(
            self.year[gregorian], self.month[gregorian], self.day[gregorian]
        )
        days[self.bad_time] = NOT_A_DATE
        self._convert_zones(days, settings)
        return days

    def _convert_zones(self, days: np.ndarray, settings: DateSettings) -> None:
        aware = (self.aware & (days != NOT_A_DATE)) | self.instant
        if not aware.any():
            return
        utc = np.where(
            self.instant, self.epoch, days * _SECONDS_PER_DAY + self.seconds - self.offset
        )[aware]
        zone = settings.zone()
        if zone is None:
            offsets = np.unique(self.offset[self.aware & (days != NOT_A_DATE)])
            shift = int(offsets[0]) if len(offsets) == 1 else 0
            days[aware] = (utc + shift) // _SECONDS_PER_DAY
            return
        import pandas as pd

        local = pd.to_datetime(utc, unit="s", utc=True).tz_convert(zone).tz_localize(None)
        days[aware] = local.floor("D").to_numpy(dtype="datetime64[D]").astype(np.int64)


# Zones run from UTC-12:00 to UTC+14:00; an offset past that is a typo, not a zone.
_MOST_OFFSET = 14 * 3600
# Marks an offset that is no offset (+99:99): far outside any real one.
_BAD_OFFSET = np.iinfo(np.int64).min


def _offset_seconds(zone: np.ndarray) -> np.ndarray:
    """Seconds east of UTC of each zone text, ``_BAD_OFFSET`` where it is not a real
    one: each distinct text read once (a log of 90,000 distinct timestamps holds a
    handful of offsets)."""
    distinct, inverse = np.unique(zone, return_inverse=True)
    return _distinct_offset_seconds(distinct)[inverse.reshape(-1)]


def _distinct_offset_seconds(zone: np.ndarray) -> np.ndarray:
    offset = np.zeros(len(zone), dtype=np.int64)
    for index in np.flatnonzero((zone != "") & (zone != "Z") & (zone != "UTC") & (zone != "GMT")):
        text = zone[index].replace(":", "")
        sign = -1 if text[0] == "-" else 1
        hours = int(text[1:3])
        minutes = int(text[3:5]) if len(text) >= 5 else 0
        seconds = hours * 3600 + minutes * 60
        bad = minutes > 59 or seconds > _MOST_OFFSET
        offset[index] = _BAD_OFFSET if bad else sign * seconds
    return offset


def _gregorian_days(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01, or NOT_A_DATE where (year, month, day) is not a real date."""
    ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= 31) & (year >= 1)
    month_index = np.where(ok, (year - 1970) * 12 + month - 1, 0)
    first_of_month = month_index.astype("datetime64[M]").astype("datetime64[D]")
    dates = first_of_month + np.where(ok, day - 1, 0)
    same_month = dates.astype("datetime64[M]").astype(np.int64) == month_index
    return np.where(ok & same_month, dates.astype(np.int64), NOT_A_DATE)


def month_index(days: np.ndarray, calendar: str) -> np.ndarray:
    """Months since year 0 of each day, in the Gregorian or Jalali calendar."""
    days = np.asarray(days, dtype=np.int64)
    if calendar == "jalali":
        year, month, _ = jalali.from_days(days)
        return year * 12 + month - 1
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    return months + 1970 * 12
