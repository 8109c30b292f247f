"""Logical transaction logs, and strategies that write them cleanly or messily.

A :class:`Dataset` is what a log means: customers, days, amounts in cents, channels.
:func:`clean_csv` writes it the plainest way (``customer_id,date,amount`` in UTF-8,
ISO dates, ASCII numbers); :func:`messy_csv` draws one of the many ways exports
write the same thing, limited to what CONTRACT.md and README.md promise to read
(and what clvcli/io documents): any of the sniffed delimiters, quoting, BOMs,
UTF-16, CRLF, header names in English and Persian with qualifiers and direction
marks, Persian and Arabic-Indic digits, thousands separators, currency words,
accounting negatives, Jalali dates, timestamps, compact dates, month names, epoch
seconds, day-first or month-first dates, gzip.
"""

from __future__ import annotations

import datetime as dt
import gzip
import re
from dataclasses import dataclass

import jdatetime
from hypothesis import strategies as st

PERSIAN = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩"
MARKS = ("\u200c", "\u200e", "\u200f", "\u061c")
DELIMITERS = (",", ";", "\t", "|")
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2030, 12, 31)

HEADERS = {
    "customer": (
        "customer_id",
        "customer",
        "Customer ID",
        "CUSTOMER_ID",
        "user_id",
        "client",
        "customer id (crm)",
        "مشتری",
        "کد مشتری",
        "شناسه مشتری",
        "مشتري",  # Arabic yeh, as Arabic keyboards type it
    ),
    "date": (
        "date",
        "order_date",
        "Order Date",
        "created_at",
        "timestamp",
        "Date (local)",
        "تاریخ",
        "تاریخ سفارش",
        "تاریخ خرید",
    ),
    "amount": (
        "amount",
        "total",
        "revenue",
        "price",
        "sales",
        "Amount (IRR)",
        "order total",
        "مبلغ",
        "مبلغ (تومان)",
        "مبلغ کل",
    ),
    "channel": ("channel", "source", "Acquisition Channel", "کانال", "کانال جذب"),
    "extra": ("notes", "sku", "یادداشت", "status"),
}
CHANNELS = ("instagram", "google", "direct", "referral", "telegram")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FULL_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# One offset per file (a file mixing offsets is read in UTC, which may move days).
# Within +-12 hours, so that an epoch at noon UTC stays on its day in that zone.
ZONES = ("Z", "+03:30", "+0330", "-05:00", "+09", "+11:45", "-11:30", "+00:00")


@dataclass(frozen=True)
class Row:
    customer: str
    day: dt.date
    cents: int
    channel: str
    note: str


@dataclass(frozen=True)
class Dataset:
    rows: tuple[Row, ...]
    has_channel: bool


@dataclass(frozen=True)
class Rendering:
    """A messy CSV of a dataset, and the options a user would have to give with it."""

    data: bytes
    args: tuple[str, ...]
    description: str


# ----------------------------------------------------------------- logical data

customer_ids = st.builds(
    lambda prefix, number, width: prefix + str(number).zfill(width),
    st.sampled_from(("C", "", "cust-", "u_", "Ali ", "مشتری-", "VIP.")),
    st.integers(0, 99_999),
    st.integers(1, 6),
)
days = st.dates(min_value=FIRST_DAY, max_value=LAST_DAY)
# Cents: refunds, zero, small and huge amounts (up to 10^13 toman).
cents = st.one_of(
    st.integers(1, 10**6),
    st.integers(-(10**6), 10**6),
    st.integers(1, 10**15).map(lambda c: c * 100),
    st.just(0),
)


@st.composite
def datasets(draw, max_customers: int = 8, max_rows: int = 30) -> Dataset:
    ids = draw(st.lists(customer_ids, min_size=1, max_size=max_customers, unique=True))
    # A few days, so that customers come back and share days.
    pool = draw(st.lists(days, min_size=1, max_size=8, unique=True))
    has_channel = draw(st.booleans())
    rows = draw(
        st.lists(
            st.builds(
                Row,
                st.sampled_from(ids),
                st.sampled_from(pool),
                cents,
                st.sampled_from(CHANNELS),
                st.text(
                    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    max_size=12,
                ),
            ),
            min_size=1,
            max_size=max_rows,
        )
    )
    return Dataset(tuple(rows), has_channel)


def amount_text(value: int) -> str:
    """Cents as the plainest decimal: 1250000, 12.5 is written 12.50, -20."""
    sign = "-" if value < 0 else ""
    whole, part = divmod(abs(value), 100)
    return f"{sign}{whole}" if part == 0 else f"{sign}{whole}.{part:02d}"


def clean_csv(data: Dataset) -> bytes:
    header = ["customer_id", "date", "amount"] + (["channel"] if data.has_channel else [])
    lines = [",".join(header)]
    for row in data.rows:
        cells = [row.customer, row.day.isoformat(), amount_text(row.cents)]
        if data.has_channel:
            cells.append(row.channel)
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode("utf-8")


# ----------------------------------------------------------------- messy pieces


def _digits(draw, text: str) -> str:
    """Digits as ASCII, Persian or Arabic-Indic, for the whole cell or per digit."""
    style = draw(st.sampled_from(("ascii", "persian", "arabic", "mixed")))
    if style == "ascii":
        return text
    out = []
    for char in text:
        if char.isdigit() and char.isascii():
            pick = style if style != "mixed" else draw(st.sampled_from(("a", "persian", "arabic")))
            if pick == "persian":
                char = PERSIAN[int(char)]
            elif pick == "arabic":
                char = ARABIC_INDIC[int(char)]
        out.append(char)
    return "".join(out)


def _padded(draw, text: str, marks: bool = True) -> str:
    """Spaces (and invisible direction marks) around a cell."""
    left = draw(st.sampled_from(("", "", " ", "  ")))
    right = draw(st.sampled_from(("", "", " ", "\u00a0")))
    if marks and draw(st.booleans()):
        left = draw(st.sampled_from(MARKS)) + left
    if marks and draw(st.booleans()):
        right = right + draw(st.sampled_from(MARKS))
    return left + text + right


def _two(draw, number: int) -> str:
    return f"{number:02d}" if draw(st.booleans()) else str(number)


def _time(draw, ampm: bool = True) -> str:
    hour = draw(st.integers(0, 23))
    minute = draw(st.integers(0, 59))
    text = f"{_two(draw, hour)}:{minute:02d}"
    if draw(st.booleans()):
        text += f":{draw(st.integers(0, 59)):02d}"
        if draw(st.booleans()):
            text += "." + str(draw(st.integers(0, 999_999)))
    if ampm and draw(st.booleans()):
        hour12 = hour % 12 or 12
        text = f"{hour12}:{minute:02d} " + ("PM" if hour >= 12 else "AM")
    return text


def _year_first(draw, year: int, month: int, day: int) -> str:
    sep = draw(st.sampled_from("-/."))
    return f"{year:04d}{sep}{_two(draw, month)}{sep}{_two(draw, day)}"


@dataclass(frozen=True)
class DateStyle:
    """What one file does with its dates: a zone for its timestamps, a year-last order."""

    zone: str | None
    order: str | None  # "dmy" or "mdy" for 25/12/2024 or 12/25/2024
    forced: bool  # every date year-last with "/", read with --date-format


def _date_cell(draw, day: dt.date, style: DateStyle, form: str | None = None) -> str:
    if style.forced:
        first, second = (day.day, day.month) if style.order == "dmy" else (day.month, day.day)
        return _digits(draw, f"{_two(draw, first)}/{_two(draw, second)}/{day.year}")
    forms = ["iso", "slashes", "compact", "naive", "jalali", "jalali_time", "month", "epoch"]
    if style.zone is not None:
        forms.append("zoned")
    if style.order is not None:
        forms.append("year_last")
    form = form or draw(st.sampled_from(forms))
    if form == "iso":
        text = day.isoformat()
    elif form == "slashes":
        text = _year_first(draw, day.year, day.month, day.day)
    elif form == "compact":
        text = day.strftime("%Y%m%d")
    elif form == "naive":
        text = _year_first(draw, day.year, day.month, day.day)
        text += draw(st.sampled_from(("T", " "))) + _time(draw)
    elif form == "zoned":
        text = day.isoformat() + draw(st.sampled_from(("T", " "))) + _time(draw, ampm=False)
        text += style.zone
    elif form in ("jalali", "jalali_time"):
        j = jdatetime.date.fromgregorian(date=day)
        text = _year_first(draw, j.year, j.month, j.day)
        if form == "jalali_time":
            text += " " + _time(draw, ampm=False)
    elif form == "month":
        short, long = MONTHS[day.month - 1], FULL_MONTHS[day.month - 1]
        text = draw(
            st.sampled_from(
                (
                    f"{day.day} {short} {day.year}",
                    f"{long} {day.day}, {day.year}",
                    f"{day.day} {long} {day.year}",
                    f"{short} {day.day}, {day.year}",
                )
            )
        )
    elif form == "epoch":
        noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
        seconds = int(noon.timestamp()) + draw(st.integers(-600, 600))
        text = str(seconds) if draw(st.booleans()) else str(seconds * 1000)
    else:  # year_last
        sep = draw(st.sampled_from("/-."))
        first, second = (day.day, day.month) if style.order == "dmy" else (day.month, day.day)
        text = f"{_two(draw, first)}{sep}{_two(draw, second)}{sep}{day.year}"
    return _digits(draw, text)


# A whole number of one thousands group, which a comma could also split as decimals.
_ONE_GROUP = r"[1-9][0-9]{0,2},[0-9]{3}"


def _amount_cell(draw, value: int, currency: str) -> str:
    whole, part = divmod(abs(value), 100)
    digits = str(whole)
    group = draw(st.sampled_from(("", ",", "٬", "،")))
    if group:
        head = len(digits) % 3 or 3
        pieces = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
        digits = group.join(pieces)
    point = draw(st.sampled_from((".", ".", "٫")))
    if part:
        fraction = f"{part:02d}"
        if fraction.endswith("0") and draw(st.booleans()):
            fraction = fraction[0]
        digits += point + fraction
    elif draw(st.integers(0, 3)) == 0 or (group == "," and re.fullmatch(_ONE_GROUP, digits)):
        # "1,000" alone could be 1.000 as well: a column of only such values is
        # refused as ambiguous, so the value shows its decimal mark.
        digits += point + draw(st.sampled_from(("0", "00")))
    if value < 0:
        digits = draw(
            st.sampled_from((f"-{digits}", f"({digits})", f"{digits}-", f"\u2212{digits}"))
        )
    elif draw(st.integers(0, 5)) == 0:
        digits = "+" + digits
    digits = _digits(draw, digits)
    # The log's one currency, written on some cells (a log in two is refused).
    currency = currency if draw(st.integers(0, 2)) else ""
    if currency == "$":
        digits = "$" + digits if value >= 0 else digits
    else:
        digits += currency
    return _padded(draw, digits)


def _quoted(draw, cell: str, delimiter: str, mode: str) -> str:
    needs = any(ch in cell for ch in (delimiter, '"', "\n", "\r"))
    if needs or mode == "all" or (mode == "some" and draw(st.booleans())):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def _header_name(draw, role: str) -> str:
    name = draw(st.sampled_from(HEADERS[role]))
    if draw(st.integers(0, 3)) == 0:
        # Direction marks a right-to-left editor leaves around a name.
        name = draw(st.sampled_from(MARKS)) + name + draw(st.sampled_from(("", *MARKS)))
    return name


@st.composite
def messy_csv(draw, data: Dataset) -> Rendering:
    """One messy way of writing ``data`` that clv must read as it reads the clean one."""
    delimiter = draw(st.sampled_from(DELIMITERS))
    roles = ["customer", "date", "amount"] + (["channel"] if data.has_channel else [])
    if draw(st.booleans()):
        roles.append("extra")
    roles = draw(st.permutations(roles))
    header = {role: _header_name(draw, role) for role in roles}
    quote_mode = draw(st.sampled_from(("minimal", "all", "some")))
    order = draw(st.sampled_from((None, None, "dmy", "mdy")))
    zone = draw(st.sampled_from((None, *ZONES)))
    # Year-last dates decide their order from the column; a column where every such
    # date could be either needs --date-format, and then holds only that form.
    unambiguous = any(row.day.day > 12 for row in data.rows)
    forced = order is not None and (not unambiguous or draw(st.integers(0, 4)) == 0)
    style = DateStyle(None if forced else zone, order, forced)
    args: list[str] = []
    if forced:
        args += ["--date-format", "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"]
    # With a year-last order, one date that only that order reads (day > 12) settles it.
    settles = next((row for row in data.rows if row.day.day > 12), None) if order else None
    lines = [delimiter.join(_quoted(draw, header[role], delimiter, quote_mode) for role in roles)]
    currency = draw(st.sampled_from(("", " تومان", "تومان", " ریال", "$", " IRR")))
    for row in data.rows:
        cells = []
        for role in roles:
            if role == "customer":
                cell = _padded(draw, _digits(draw, row.customer))
            elif role == "date":
                form = "year_last" if row is settles and not forced else None
                cell = _padded(draw, _date_cell(draw, row.day, style, form), marks=False)
            elif role == "amount":
                cell = _amount_cell(draw, row.cents, currency)
            elif role == "channel":
                cell = _padded(draw, row.channel, marks=False)
            else:
                cell = row.note
            cells.append(_quoted(draw, cell, delimiter, quote_mode))
        lines.append(delimiter.join(cells))
    if draw(st.integers(0, 5)) == 0:
        lines.insert(0, "sep=" + delimiter)
    newline = draw(st.sampled_from(("\n", "\r\n")))
    text = draw(st.sampled_from(("", "\n", newline * 2))) + newline.join(lines)
    text += draw(st.sampled_from(("", newline, newline * 2)))
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be")))
    if encoding == "utf-16-le":
        raw = b"\xff\xfe" + text.encode("utf-16-le")
    elif encoding == "utf-16-be":
        raw = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        raw = text.encode(encoding)
    packed = draw(st.sampled_from(("plain", "plain", "plain", "gzip")))
    if packed == "gzip":
        raw = gzip.compress(raw, mtime=0)
    description = (
        f"delimiter={delimiter!r} quoting={quote_mode} dates={style} "
        f"encoding={encoding} newline={newline!r} {packed} args={args}\n{text}"
    )
    return Rendering(raw, tuple(args), description)
