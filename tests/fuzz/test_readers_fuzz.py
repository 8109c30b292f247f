"""The readers and the CLI under random input: never a traceback, only exit 0, 2 or 3.

Four properties, each driving ``clv`` in process through stdin:

* the same logical log written messily (delimiters, quoting, encodings, Persian
  digits, Jalali dates, header names...) gives byte for byte what the clean writing
  gives, on stdout and stderr, for ``clv compute --model none`` and ``clv summary``;
* CSV-shaped text of random cells (broken dates, huge and tiny numbers, empty
  fields, ragged rows, very long lines, stray quotes), sent to every command that
  reads a log, a summary or compute output, fails cleanly or succeeds with output
  that parses;
* random bytes do the same;
* amounts from 5e-324 to 1.8e308 either add up in the output as they do on paper or,
  when their total passes the largest double, are an input error.

"Fails cleanly": exit 2 or 3, one ``clv: error:`` line (and perhaps a ``hint:``) on
stderr, nothing on stdout, and no Python warning that a real process would print.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from clvcli.contract import COMPUTE_COLUMNS
from tests.fuzz.budget import examples
from tests.fuzz.checks import check_csv_run, run
from tests.fuzz.render import (
    DELIMITERS,
    HEADERS,
    Dataset,
    Rendering,
    Row,
    clean_csv,
    datasets,
    messy_csv,
)

ALLOWED_EXITS = {0, 2, 3}


def check_clean_failure_or_output(result) -> list[list[str]] | None:
    """The shape every run must have; the parsed CSV rows on success."""
    return check_csv_run(result, ALLOWED_EXITS)


# ----------------------------------------------------------------- messy == clean


def _run_both(clv, command: list[str], clean: bytes, messy: Rendering):
    want = run(clv, *command, "-", "--quiet", input=clean)
    got = run(clv, *command, "-", "--quiet", *messy.args, input=messy.data)
    return want, got


@st.composite
def logs_and_renderings(draw) -> tuple[Dataset, Rendering]:
    data = draw(datasets())
    return data, draw(messy_csv(data))


@settings(max_examples=examples(90))
@given(logs_and_renderings())
def test_messy_rendering_reads_as_the_clean_one(clv, case):
    data, messy = case
    clean = clean_csv(data)
    for command in (["compute", "--model", "none"], ["summary"]):
        want, got = _run_both(clv, command, clean, messy)
        check_clean_failure_or_output(want)
        assert want.exit_code in (0, 3), want.stderr
        assert (got.exit_code, got.stderr) == (want.exit_code, want.stderr), messy.description
        assert got.stdout == want.stdout, messy.description


def test_clean_rendering_has_the_expected_rows(clv):
    """The reference itself: the clean writing gives what the data says."""
    data = Dataset(
        rows=(
            _row("C1", "2024-03-15", 100_000),
            _row("C1", "2024-03-20", 5_000),
            _row("0042", "2024-03-20", 12_345),
        ),
        has_channel=False,
    )
    result = clv("summary", "-", input=clean_csv(data))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "customer_id,frequency,recency,T,monetary_value,first_purchase,last_purchase,"
        "orders,total_spend",
        "0042,0,0,0,0.00,2024-03-20,2024-03-20,1,123.45",
        "C1,1,5,5,50.00,2024-03-15,2024-03-20,2,1050.00",
    ]


def _row(customer: str, day: str, cents: int) -> Row:
    return Row(customer, dt.date.fromisoformat(day), cents, "direct", "")


# ----------------------------------------------------------------- random cells

NUMBERS = (
    "0",
    "-0",
    "1e308",
    "-1e308",
    "1.7976931348623157e308",
    "1e-320",
    "5e-324",
    "1e309",
    "1" + "0" * 400,
    "0." + "0" * 400 + "1",
    "nan",
    "NaN",
    "inf",
    "-Infinity",
    "1,2,3",
    "1.2.3",
    "(12",
    "12)",
    "()",
    "--5",
    "5--",
    "+",
    "-",
    ".",
    "٫",
    "۱۲۳٬۴۵۶",
    "١٢٣٫٥",
    "۱۲۰۰- تومان",
    "(1,200)",
    "1 200 000",
    "0x1F",
    "1_000",
    "9" * 30,
    "1e+400",
    "تومان",
    "$",
    "12 ریال",
)
DATES = (
    "2024-03-15",
    "2024-13-45",
    "2024-02-30",
    "2023-02-29",
    "0000-00-00",
    "9999-12-31",
    "0001-01-01",
    "1403/07/19",
    "۱۴۰۳-۰۷-۱۹",
    "1403/12/30",
    "1404/12/30",
    "1177/01/01",
    "1502/01/01",
    "1699-01-01",
    "1700-01-01",
    "20240315",
    "20241345",
    "15/03/2024",
    "03/15/2024",
    "03/04/2024",
    "31/31/2024",
    "15 Mar 2024",
    "Mar 45 2024",
    "March 15, 2024",
    "Marchember 1, 2024",
    "1710460800",
    "1710460800000",
    "99999999999",
    "9999999999",
    "2024-03-15T10:20:30Z",
    "2024-03-15T10:20:30+03:30",
    "2024-03-15T10:20:30-99:99",
    "2024-03-15 25:61",
    "2024-03-15 12:00 AM",
    "2024-03-15 00:30 PM",
    "2024-03-15T10:20:30.123456789+0530",
    "T",
    "yesterday",
    "1e308",
)
IDS = ("C1", "C2", "۰۰۴۲", "0042", " C1 ", "\u200fC1", "", "   ", '"', "x" * 300)
CHANNELS = ("instagram", "", " google ", "کانال", "unknown")
# Headers of transaction logs, of `clv compute` output and of `clv summary` output, so
# that every reader behind the commands is reached.
COMPUTE_HEADER = list(COMPUTE_COLUMNS)
SUMMARY_HEADER = ["customer_id", "frequency", "recency", "T", "monetary_value"]
STAGES = ("new", "repeat", "loyal", "at_risk", "churned", "potential", "", "LOYAL")

_text = st.text(
    st.characters(blacklist_categories=("Cs",)),
    max_size=20,
)


def _cell_for(name: str) -> st.SearchStrategy[str]:
    key = name.strip().lower()
    if key in ("first_purchase", "last_purchase") or key in HEADERS["date"]:
        return st.sampled_from(DATES)
    if key in ("customer_id",) or key in HEADERS["customer"]:
        return st.sampled_from(IDS)
    if key == "stage":
        return st.sampled_from(STAGES)
    if key in HEADERS["channel"]:
        return st.sampled_from(CHANNELS)
    return st.one_of(st.sampled_from(NUMBERS), st.sampled_from(DATES))


@st.composite
def csv_texts(draw) -> str:
    kind = draw(st.sampled_from(("transactions", "transactions", "compute", "summary", "any")))
    if kind == "transactions":
        header = [
            draw(st.sampled_from(HEADERS["customer"])),
            draw(st.sampled_from(HEADERS["date"])),
            draw(st.sampled_from(HEADERS["amount"])),
        ]
        if draw(st.booleans()):
            header.append(draw(st.sampled_from(HEADERS["channel"])))
        header = draw(st.permutations(header))
    elif kind == "compute":
        header = list(COMPUTE_HEADER) + (["channel"] if draw(st.booleans()) else [])
        if draw(st.booleans()):
            header.remove(draw(st.sampled_from(header)))
    elif kind == "summary":
        header = SUMMARY_HEADER + draw(
            st.lists(
                st.sampled_from(("first_purchase", "last_purchase", "orders", "total_spend")),
                unique=True,
            )
        )
    else:
        header = draw(st.lists(st.one_of(_text, st.sampled_from(HEADERS["amount"])), max_size=5))
    delimiter = draw(st.sampled_from(DELIMITERS))
    rows = []
    for _ in range(draw(st.integers(0, 12))):
        cells = [
            draw(st.one_of(_cell_for(name), _text, st.just("")))
            if draw(st.integers(0, 9)) == 0
            else draw(_cell_for(name))
            for name in header
        ]
        if draw(st.integers(0, 9)) == 0:  # ragged rows
            cells = cells[: draw(st.integers(0, len(cells)))] + draw(st.lists(_text, max_size=2))
        if draw(st.integers(0, 19)) == 0:  # a very long line
            cells = [*cells[:-1], "9" * draw(st.sampled_from((1_000, 70_000)))] if cells else cells
        rows.append(cells)
    quoting = draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONE, "raw")))
    out = io.StringIO()
    if quoting != "raw":
        writer = csv.writer(
            out, delimiter=delimiter, quoting=quoting, escapechar="\\", lineterminator="\n"
        )
        try:
            writer.writerows([header, *rows])
        except csv.Error:  # a record QUOTE_NONE cannot write: write it raw instead
            quoting, out = "raw", io.StringIO()
    if quoting == "raw":  # no escaping at all: stray quotes and delimiters as they come
        out.write("\n".join(delimiter.join(row) for row in [header, *rows]))
    text = out.getvalue()
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return text


COMMANDS = (
    ("compute", "-", "--model", "none"),
    ("summary", "-"),
    ("segment", "-", "--model", "none"),
    ("segment", "-", "--model", "none", "--summary"),
    ("stages", "-", "--model", "none"),
    ("cohorts", "-"),
    ("compute", "--summary", "-", "--model", "none", "--as-of", "2024-12-31"),
)
OPTIONS = st.lists(
    st.sampled_from(
        (
            ("--skip-invalid",),
            ("--calendar", "jalali"),
            ("--calendar", "gregorian"),
            ("--date-format", "%d/%m/%Y"),
            ("--date-format", "%Y-%m-%d %H:%M"),
            ("--date-format", "%d %b %Y"),
            ("--timezone", "Asia/Tehran"),
            ("--period", "week"),
            ("--as-of", "2024-03-15"),
            ("--as-of", "1403-07-19"),
            ("--delimiter", ";"),
            ("--encoding", "cp1256"),
            ("--encoding", "utf-16"),
        )
    ),
    max_size=2,
    unique=True,
)


def _encode(text: str, how: str) -> bytes:
    if how == "utf-8-sig":
        return text.encode("utf-8-sig")
    if how == "utf-16":
        return text.encode("utf-16")
    return text.encode("utf-8")


@settings(max_examples=examples(250))
@given(
    text=csv_texts(),
    command=st.sampled_from(COMMANDS),
    options=OPTIONS,
    encoding=st.sampled_from(("utf-8", "utf-8", "utf-8-sig", "utf-16")),
)
@example(
    text="customer_id,date,amount\nC1,2024-01-01,1e308\nC1,2024-01-02,1e308\n",
    command=("compute", "-", "--model", "none"),
    options=[],
    encoding="utf-8",
)
def test_random_csv_text_fails_cleanly(clv, text, command, options, encoding):
    args = [*command, *(part for option in options for part in option)]
    result = run(clv, *args, input=_encode(text, encoding))
    rows = check_clean_failure_or_output(result)
    if rows and "--summary" not in command and command[0] in ("compute", "summary"):
        header = rows[0]
        for row in rows[1:]:
            for name, cell in zip(header, row, strict=True):
                if name in ("total_spend", "historical_clv", "total_clv", "monetary_value"):
                    assert cell == "" or math.isfinite(float(cell)), (name, cell)


@settings(max_examples=examples(250))
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.binary(max_size=100).map(lambda b: b"customer_id,date,amount\n" + b),
        st.binary(max_size=100).map(lambda b: b"\xef\xbb\xbfcustomer_id;date;amount\r\n" + b),
        st.binary(max_size=100).map(lambda b: b"\xff\xfe" + b),
        st.binary(max_size=100).map(lambda b: b"PAR1" + b),
        st.binary(max_size=100).map(lambda b: b"\x1f\x8b" + b),
        st.binary(max_size=100).map(lambda b: b"PK\x03\x04" + b),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    ),
    command=st.sampled_from(COMMANDS),
)
def test_random_bytes_fail_cleanly(clv, data, command):
    check_clean_failure_or_output(run(clv, *command, input=data))


# ----------------------------------------------------------------- huge and tiny amounts

AMOUNTS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=-1e6, max_value=1e6),
    st.sampled_from(
        (1e308, -1e308, 1.7976931348623157e308, 1e-320, 5e-324, 1e35, 1e36, 1e40, 0.125, 0.005)
    ),
)


def _amount_texts(value: float) -> st.SearchStrategy[str]:
    forms = [repr(value)]
    if value.is_integer():
        forms.append(str(int(value)))  # 1e308 as 309 digits
    return st.sampled_from(forms)


@settings(max_examples=examples(150))
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(("A", "B")), st.integers(1, 4), AMOUNTS).flatmap(
            lambda row: _amount_texts(row[2]).map(lambda text: (*row, text))
        ),
        min_size=1,
        max_size=6,
    )
)
@example(rows=[("A", 1, 1e40, "1e40")])
@example(rows=[("A", 1, 1e308, "1e308"), ("A", 2, 1e308, "1e308")])
def test_accepted_amounts_come_out_as_their_sum(clv, rows):
    """Whatever amounts are accepted add up in the output as they do on paper."""
    text = "customer_id,date,amount\n" + "".join(
        f"{customer},2024-01-0{day},{amount}\n" for customer, day, _, amount in rows
    )
    result = run(clv, "summary", "-", input=text)
    table = check_clean_failure_or_output(result)
    total: dict[str, float] = {}
    magnitude = 0.0
    for customer, _, value, _ in rows:
        total[customer] = total.get(customer, 0.0) + value
        magnitude += abs(value)
    if table is None:
        assert "no purchases" in result.stderr or not math.isfinite(magnitude), result.stderr
        return
    header = table[0]
    for row in table[1:]:
        cells = dict(zip(header, row, strict=True))
        spend = float(cells["total_spend"])
        want = total[cells["customer_id"]]
        assert math.isfinite(spend), cells
        assert math.isclose(spend, want, rel_tol=1e-9, abs_tol=0.006), (cells, want, text)
        assert math.isfinite(float(cells["monetary_value"])), cells
