"""One definition of a line, under random writings of the same log.

A log written with \\n, \\r\\n or lone \\r line ends, after a first line that is a
form feed, NEL (U+0085), U+2028 or another character ``str.splitlines`` takes for a
line break (CSV parsers do not), with those characters and real line breaks inside
quoted values of a note column: ``clv compute --model none`` gives byte for byte what
the plain writing gives (the same customers and totals, or the same refusal).
Reading the first line by one rule and the rows by another lost the first data row.
"""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.budget import examples
from tests.fuzz.checks import check_csv_run, run
from tests.fuzz.render import Dataset, amount_text, clean_csv, datasets

LINE_ENDS = ("\n", "\r\n", "\r")
# Characters that break a line for str.splitlines and not for a CSV parser.
LOOKALIKES = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
FIRST_LINES = ("", " ", *LOOKALIKES)
NOTE_PIECES = (*LOOKALIKES, "\n", "\r\n", "x", ",", '"', "یادداشت")


@st.composite
def writings(draw) -> tuple[Dataset, bytes, str]:
    data = draw(datasets(max_rows=12))
    end = draw(st.sampled_from(LINE_ENDS))
    first = draw(st.sampled_from(FIRST_LINES))
    with_notes = draw(st.booleans())
    header = ["customer_id", "date", "amount"] + (["channel"] if data.has_channel else [])
    if with_notes:
        header.append("note")
    buffer = io.StringIO()
    # Notes are always quoted: a lookalike is text, a line break inside quotes is a
    # value's (QUOTE_MINIMAL would leave a \n unquoted in a file of \r line ends).
    quoting = csv.QUOTE_ALL if with_notes else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, lineterminator=end, quoting=quoting)
    writer.writerow(header)
    for row in data.rows:
        cells = [row.customer, row.day.isoformat(), amount_text(row.cents)]
        if data.has_channel:
            cells.append(row.channel)
        if with_notes:
            pieces = draw(st.lists(st.sampled_from(NOTE_PIECES), max_size=4))
            cells.append("".join(pieces) or "-")
        writer.writerow(cells)
    text = buffer.getvalue()
    prefix = first + end if first or draw(st.booleans()) else ""
    described = f"end={end!r} first={first!r} notes={with_notes}"
    return data, (prefix + text).encode("utf-8"), described


@settings(max_examples=examples(60))
@given(writings())
def test_line_end_writings_read_as_the_plain_one(clv, case):
    data, written, described = case
    want = run(clv, "compute", "--model", "none", "-", "--quiet", input=clean_csv(data))
    got = run(clv, "compute", "--model", "none", "-", "--quiet", input=written)
    check_csv_run(got, {0, 3})
    # Every writing is valid CSV of the same log: not even a refusal is allowed, unless
    # the plain writing is refused the same way.
    assert (got.exit_code, got.stderr) == (want.exit_code, want.stderr), described
    assert got.stdout == want.stdout, described
