"""Odd input never becomes wrong numbers: the library's rules, one by one.

A line ends where the CSV parser ends it (\\n, \\r\\n, a lone \\r) and nowhere else;
dates that are no day of a log are bad rows; a quote never closed is found; values
quoted in messages are escaped and cut; parameters, costs and customer lists are
held to the same rules as the log.
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from clvcli.errors import InputError, OutputError
from clvcli.io.costs import read_costs
from clvcli.io.customers import read_customer_list
from clvcli.io.dates import parse_dates
from clvcli.io.jalali import NOT_A_DATE
from clvcli.io.lines import line_breaks, line_number, split_lines
from clvcli.io.params import read_params
from clvcli.io.readers import ReadSettings, read_transactions
from clvcli.io.sheet import MAX_CELL_CHARS, check_cell_text
from clvcli.shown import printable, quote_value

HEADER = "customer,date,amount"
ROWS = ["A,2024-01-01,10", "B,2024-01-02,20", "C,2024-01-03,30"]

# Characters str.splitlines takes for line breaks and CSV parsers do not.
NOT_LINE_ENDS = ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
FIRST_LINES = [ch + "\n" for ch in NOT_LINE_ENDS] + ["\n", "\r", "\r\n", "\x0c\r\n", "  \n"]


def test_lines_end_only_where_a_csv_parser_ends_them():
    text = "a\x0cb\u2028c\x85d\re\r\nf\ng"
    assert split_lines(text) == ["a\x0cb\u2028c\x85d", "e", "f", "g"]
    assert split_lines("x\n") == ["x"] and split_lines("") == []
    assert line_breaks(text) == 3
    data = text.encode("utf-8")
    assert line_number(data, data.index(b"e")) == 2
    assert line_number(data, data.index(b"g")) == 4
    assert line_number(b"a\r\nb", 2) == 2  # inside \r\n: already past the first line


@pytest.mark.parametrize("first", FIRST_LINES, ids=repr)
def test_an_odd_first_line_loses_no_row(write, first):
    path = write("tx.csv", first + HEADER + "\n" + "\n".join(ROWS) + "\n")
    read = read_transactions(str(path))
    assert read.customer_ids.to_pylist() == ["A", "B", "C"]
    assert read.amount.sum() == 60


@pytest.mark.parametrize("first", FIRST_LINES, ids=repr)
def test_an_odd_first_line_keeps_error_lines_right(write, first):
    path = write("tx.csv", first + HEADER + "\n" + ROWS[0] + "\n" + "B,2024-01-02,x\n")
    with pytest.raises(InputError) as caught:
        read_transactions(str(path))
    # The bad row is on the third line after the odd one.
    assert f"{path}: row 2 (line 4), column 'amount'" in caught.value.message


@pytest.mark.parametrize("inside", ["\x0c", "\x85", "\u2028", "\x1e", "\x0b"], ids=repr)
def test_line_break_lookalikes_inside_a_line_are_text(write, inside):
    path = write("tx.csv", f"{HEADER}\nA{inside}1,2024-01-01,10\n{ROWS[1]}\nC,2024-01-03,x\n")
    with pytest.raises(InputError) as caught:
        read_transactions(str(path))
    assert "row 3 (line 4)" in caught.value.message
    read = read_transactions(str(path), ReadSettings(skip_invalid=True))
    assert read.num_rows == 2


def test_a_line_of_spaces_does_not_shift_the_line_named(write):
    path = write("tx.csv", f"{HEADER}\n   \n{ROWS[0]}\nB,2024-01-02,x\n")
    with pytest.raises(InputError) as caught:
        read_transactions(str(path))
    assert "(line 4), column 'amount'" in caught.value.message


def test_old_mac_line_ends_are_lines(write):
    path = write("tx.csv", (HEADER + "\r" + "\r".join(ROWS) + "\r").encode())
    assert read_transactions(str(path)).num_rows == 3


@pytest.mark.parametrize(
    "cell",
    ["today", "now", "yesterday", "Today", "NOW", "tomorrow", "Mar 2023", "Jan 1997",
     "March 2023", "2023-03", "03/2023", "1402/07"],
)  # fmt: skip
def test_dates_that_are_no_day_are_not_dates(cell):
    assert parse_dates(pa.array([cell]))[0] == NOT_A_DATE


@pytest.mark.parametrize(
    "cell",
    [
        "2024-01-01T10:00:00+99:99",
        "2024-01-01T10:00:00+25:00",
        "2024-01-01T10:00:00+05:60",
        "2024-01-01T10:00:00-15",
        "2024-01-01 10:00 +1500",
        "Fri Mar 15 10:00:00 +2500 2024",
    ],
)
def test_offsets_no_zone_has_are_not_dates(cell):
    assert parse_dates(pa.array([cell]))[0] == NOT_A_DATE


def test_real_extreme_offsets_still_read():
    days = parse_dates(pa.array(["2024-01-01T23:00:00+14:00", "2024-01-01T01:00:00-12:00"]))
    assert (days != NOT_A_DATE).all()


def test_wall_clock_dates_are_bad_rows_naming_row_and_column(write):
    path = write("tx.csv", f"{HEADER}\n{ROWS[0]}\nB,today,20\nC,Mar 2023,30\n")
    with pytest.raises(InputError) as caught:
        read_transactions(str(path))
    message = caught.value.message
    assert "row 2 (line 3), column 'date': cannot read 'today' as a date" in message
    assert "2 bad rows in all" in message
    read = read_transactions(str(path), ReadSettings(skip_invalid=True))
    assert read.num_rows == 1 and read.rows_skipped == 2


def test_an_offset_past_any_zone_is_a_bad_row(write):
    path = write("tx.csv", f"{HEADER}\nA,2024-01-01T10:00:00+99:99,10\n")
    with pytest.raises(InputError, match="row 1 \\(line 2\\), column 'date'"):
        read_transactions(str(path))


# --- values in messages ----------------------------------------------------------------


def test_quoted_values_are_escaped_and_cut():
    assert quote_value("abc") == "'abc'"
    assert quote_value(None) == "None" and quote_value(5) == "5"
    assert quote_value("a\x1b[31mb\x07") == "'a\\x1b[31mb\\x07'"
    long = quote_value("x" * 400_000)
    assert long == "'" + "x" * 80 + "…' (400,000 characters)"
    assert printable("C\x9b1m\x85\u200c") == "C\\x9b1m\\x85\u200c"
    assert printable("علی") == "علی"


def test_a_huge_bad_cell_is_cut_in_the_error(write):
    path = write("tx.csv", f"{HEADER}\nA,2024-01-01,{'9x' * 200_000}\n")
    with pytest.raises(InputError) as caught:
        read_transactions(str(path))
    assert len(caught.value.message) < 400
    assert "(400,000 characters)" in caught.value.message


# --- quotes that run away --------------------------------------------------------------

RUNAWAY = f'{HEADER}\nA,2024-01-01,10\nB,2024-01-02,"20\nC,2024-01-03,30\nD,2024-01-04,40\n'
LATE = RUNAWAY.replace("40\n", '40"\nE,2024-01-05,5\n')


def test_a_quote_never_closed_names_its_line(write):
    path = write("tx.csv", RUNAWAY)
    with pytest.raises(InputError) as caught:
        read_transactions(str(path))
    assert caught.value.message == (
        f"{path}: line 3: a quote opened on this line is never closed, so lines 3-5 would "
        "read as one value"
    )


def test_a_quote_never_closed_in_a_column_clv_does_not_read_is_found(write):
    text = (
        'customer,date,amount,note\nA,2024-01-01,10,ok\nB,2024-01-02,20,"oops\nC,2024-01-03,30,x\n'
    )
    path = write("tx.csv", text)
    with pytest.raises(InputError, match="line 3: a quote opened on this line is never closed"):
        read_transactions(str(path))
    read = read_transactions(str(path), ReadSettings(skip_invalid=True))
    assert read.customer_ids.to_pylist() == ["A"]
    assert "lines 3-4" in read.warnings[0]


def test_skipping_a_runaway_quote_says_the_lines_it_spans(write):
    path = write("tx.csv", RUNAWAY)
    read = read_transactions(str(path), ReadSettings(skip_invalid=True))
    assert read.customer_ids.to_pylist() == ["A"]
    assert read.rows_skipped == 1
    assert read.warnings == [
        f"{path}: skipped 1 row with a quote never closed (lines 3-5); each line a row spans "
        "may have been a transaction (--skip-invalid)"
    ]


def test_a_quote_closed_late_says_the_lines_it_swallowed(write):
    path = write("tx.csv", LATE)
    with pytest.raises(InputError) as caught:
        read_transactions(str(path))
    message = caught.value.message
    assert message.startswith(f"{path}: row 2 (line 3), column 'amount'")
    assert "'20\\nC,2024-01-03,30\\nD,2024-01-04,40'" in message
    assert "hold 2 line breaks" in message
    read = read_transactions(str(path), ReadSettings(skip_invalid=True))
    assert read.customer_ids.to_pylist() == ["A", "E"]
    assert "it spans 3 lines" in read.warnings[0]


def test_an_inch_mark_is_no_runaway_quote(write):
    path = write("tx.csv", f'{HEADER},item\nA,2024-01-01,10,Monitor 27"\nB,2024-01-02,20,x\n')
    assert read_transactions(str(path)).num_rows == 2


# --- parameters files ------------------------------------------------------------------

GOOD_PARAMS = {
    "model": "bgnbd",
    "period": "week",
    "params": {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43},
    "spend_model": {"model": "gamma-gamma", "params": {"p": 6.25, "q": 3.74, "v": 15.44}},
}
PERIODS = ("day", "week", "month")


def _params(write, change) -> str:
    saved = json.loads(json.dumps(GOOD_PARAMS))
    change(saved)
    return str(write("params.json", json.dumps(saved)))


def test_good_params_read(write):
    assert read_params(_params(write, lambda s: None), PERIODS)["params"]["r"] == 0.24


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (1e308, "1e+308 is not a parameter a fit gives"),
        (-1, "-1 is not a parameter a fit gives"),
        (0, "0 is not a parameter a fit gives"),
        ("abc", "'abc' is not a number"),
        (True, "True is not a number"),
        ([1], "[1] is not a number"),
        (None, "None is not a number"),
    ],
)
def test_absurd_parameters_are_refused_naming_file_and_key(write, value, said):
    path = _params(write, lambda s: s["params"].__setitem__("r", value))
    with pytest.raises(InputError) as caught:
        read_params(path, PERIODS)
    assert caught.value.exit_code == 3
    assert caught.value.message == f"{path}: key 'params.r': {said}" + (
        " (need a number from 1e-12 to 1e+15)" if "fit gives" in said else ""
    )


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda s: s["params"].pop("alpha"), "key 'params.alpha' is missing"),
        (lambda s: s.__setitem__("model", "nope"), "key 'model': 'nope' is not a purchase model"),
        (lambda s: s.__setitem__("period", "fortnight"), "key 'period': unknown period"),
        (lambda s: s["spend_model"]["params"].__setitem__("v", "x"), "'spend_model.params.v'"),
        (lambda s: s.__setitem__("spend_model", {"model": "other"}), "key 'spend_model'"),
        (lambda s: s.__setitem__("params", [1, 2]), "key 'params': not a set"),
        (lambda s: s.pop("period"), "it needs model, period and params"),
    ],
)
def test_broken_parameters_files_are_refused(write, change, said):
    path = _params(write, change)
    with pytest.raises(InputError) as caught:
        read_params(path, PERIODS)
    assert caught.value.message.startswith(f"{path}: ") and said in caught.value.message


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deep"),
        ('{"model": "bgnbd", "period": "week", "params": {"r": NaN}}', "NaN is not a number"),
        ('{"r": Infinity}', "Infinity is not a number"),
        ("{", "not a parameters file"),
        (" " * (2 << 20) + "{}", "bytes; clv fit writes a few kilobytes"),
    ],
)
def test_files_that_are_no_parameters_are_refused(write, text, said):
    path = str(write("params.json", text))
    with pytest.raises(InputError, match=said):
        read_params(path, PERIODS)


# --- costs and customer lists follow the log's rules ------------------------------------


def test_costs_adding_up_past_the_largest_number_are_refused(write):
    path = write("costs.csv", "channel,period,spend\na,2024-01,1e308\nb,2024-01,1e308\n")
    with pytest.raises(InputError) as caught:
        read_costs(str(path))
    assert caught.value.message == (
        f"{path}: row 2 (line 3), column 'spend': with '1e308' the spends add up to more "
        "than the largest number clv can hold (1.8e308)"
    )


def test_costs_with_odd_lines_blank_rows_and_decimal_commas(write):
    text = "\x0c\nchannel;period;spend\r\na;2024-01;1,5\r\n;;\r\n\r\nb;2024-02;2,5\r\n"
    frame, _ = read_costs(str(write("costs.csv", text)))
    assert frame["spend"].tolist() == [1.5, 2.5]
    bad = write("bad.csv", text.replace("2,5", "x"))
    with pytest.raises(InputError, match="row 2 \\(line 6\\), column 'spend': cannot read 'x'"):
        read_costs(str(bad))


def test_customer_lists_with_odd_lines_and_blank_rows(write):
    text = "\u2028\ncustomer_id,cost\nA,1\n,\nB,2\n"
    listed = read_customer_list(str(write("list.csv", text)))
    assert list(listed.ids) == ["A", "B"]
    bad = write("bad.csv", text.replace("B,2", "B,x"))
    with pytest.raises(InputError, match="row 2 \\(line 5\\), column 'cost'"):
        read_customer_list(str(bad))


# --- spreadsheets ----------------------------------------------------------------------


def test_text_longer_than_a_cell_holds_is_refused():
    check_cell_text(["x" * MAX_CELL_CHARS, None], "column 'id'", 2)
    with pytest.raises(OutputError) as caught:
        check_cell_text(["a", "x" * (MAX_CELL_CHARS + 1)], "column 'id'", 2)
    assert caught.value.exit_code == 5
    assert caught.value.message.startswith("column 'id', Excel row 3: a value of 32,768")


def test_offset_marker_never_leaks_into_days():
    days = parse_dates(pa.array(["2024-01-01T10:00:00+99:99", "2024-01-01T10:00:00+03:30"]))
    assert days[0] == NOT_A_DATE and days[1] == np.datetime64("2024-01-01").astype(int)


def test_side_files_list_their_columns_short_and_printable(write):
    path = write("costs.csv", "channel,period,\x1b[2J" + "s" * 5_000 + "\na,2024-01,5\n")
    with pytest.raises(InputError) as caught:
        read_costs(str(path))
    message = caught.value.message
    assert "no spend column found" in message
    assert len(message) < len(str(path)) + 200 and "\x1b" not in message


def test_a_ragged_row_made_by_a_late_quote_says_the_lines_it_spans(write):
    text = (
        f'{HEADER}\nA,2024-01-01,10\nB,2024-01-02,"20\nC,2024-01-03,30\nD,1,4"0,9\nE,2024-01-05,5\n'
    )
    path = write("tx.csv", text)
    with pytest.raises(InputError, match="line 3 has 4 fields"):
        read_transactions(str(path))
    read = read_transactions(str(path), ReadSettings(skip_invalid=True))
    assert read.customer_ids.to_pylist() == ["A", "E"]
    assert "1 row with the wrong number of fields; it spans 3 lines" in read.warnings[0]


def test_a_quote_never_closed_in_a_side_file_is_refused(write):
    path = write("list.csv", 'customer_id,cost\nA,1\nB,"2\nC,3\n')
    with pytest.raises(InputError, match="line 3: a quote opened on this line is never closed"):
        read_customer_list(str(path))
