"""End to end: odd input ends in one clear line or the right numbers, never wrong ones.

Each case is run as a user's script would run it: exit code, one ``clv: error:`` line,
and what reaches stdout (a table on a terminal gets no raw escape sequence).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLE

HEADER = "customer_id,order_date,amount\n"
ROWS = "C1,2024-01-01,100\nC2,2024-01-02,250\nC3,2024-01-03,50\n"


def _errors(result) -> list[str]:
    return [line for line in result.stderr_lines if line.startswith("clv: error:")]


@pytest.mark.parametrize("first", ["\x0c\n", "\x85\n", "\u2028\n", "\x1e\n", "\r"], ids=repr)
def test_an_odd_first_line_keeps_every_customer(clv, write, first):
    path = write("tx.csv", first + HEADER + ROWS)
    result = clv("compute", path, "--model", "none", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert frame["customer_id"].tolist() == ["C1", "C2", "C3"]
    assert frame["total_spend"].sum() == 400


def test_an_odd_first_line_keeps_the_error_line_right(clv, write):
    path = write("tx.csv", "\x0c\n" + HEADER + "C1,2024-01-01,100\nC2,today,250\n")
    result = clv("compute", path, "--model", "none")
    assert result.exit_code == 3
    assert _errors(result) == [
        f"clv: error: {path}: row 2 (line 4), column 'order_date': cannot read 'today' as a date"
    ]


@pytest.mark.parametrize("cell", ["now", "yesterday", "Mar 2023", "2024-01-02T10:00:00+25:00"])
def test_dates_that_are_no_day_are_bad_rows(clv, write, cell):
    path = write("tx.csv", HEADER + f"C1,2024-01-01,100\nC2,{cell},250\n")
    result = clv("compute", path, "--model", "none")
    assert result.exit_code == 3
    assert f"row 2 (line 3), column 'order_date': cannot read '{cell}'" in result.stderr
    skipped = clv("compute", path, "--model", "none", "--skip-invalid", "--format", "csv")
    assert skipped.exit_code == 0 and "skipped 1 row with bad values" in skipped.stderr


def test_a_runaway_quote_is_refused_at_its_line_and_counted_when_skipped(clv, write):
    path = write("tx.csv", HEADER + 'C1,2024-01-01,100\nC2,2024-01-02,"250\nC3,2024-01-03,50\n')
    result = clv("compute", path, "--model", "none")
    assert result.exit_code == 3
    assert _errors(result) == [
        f"clv: error: {path}: line 3: a quote opened on this line is never closed, so lines "
        "3-4 would read as one value"
    ]
    skipped = clv("compute", path, "--model", "none", "--skip-invalid", "--format", "csv")
    assert skipped.exit_code == 0
    assert "skipped 1 row with a quote never closed (lines 3-4)" in skipped.stderr


def test_a_400_kb_cell_is_cut_in_the_error(clv, write):
    path = write("tx.csv", HEADER + "C1,2024-01-01," + "9x" * 200_000 + "\n")
    result = clv("compute", path, "--model", "none")
    assert result.exit_code == 3
    (line,) = _errors(result)
    assert len(line) < 400 and "(400,000 characters)" in line


def test_escape_sequences_in_ids_never_reach_the_terminal(clv, write):
    ids = ["C\x1b[31mred", "T\x1b]0;title\x07", "K\x9b2J"]
    rows = "".join(f"{i},2024-01-0{n + 1},10\n" for n, i in enumerate(ids))
    path = write("tx.csv", HEADER + rows)
    result = clv("compute", path, "--model", "none", "--format", "table")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "C\\x1b[31mred" in out and "T\\x1b]0;title\\x07" in out and "K\\x9b2J" in out


def test_escape_sequences_in_an_error_are_escaped(clv, write):
    path = write("tx.csv", HEADER + "C1,2024-01-01,\x1b[2J\n")
    result = clv("compute", path, "--model", "none")
    assert result.exit_code == 3
    assert "\x1b" not in result.stderr and "'\\x1b[2J'" in result.stderr


@pytest.fixture
def params(clv, tmp_path: Path) -> dict:
    out = tmp_path / "params.json"
    fitted = clv("fit", SAMPLE / "shop.csv", "--model", "bgnbd", "-o", out, "-q")
    assert fitted.exit_code == 0, fitted.stderr
    return json.loads(out.read_text())


@pytest.mark.parametrize(
    ("value", "said"),
    [(1e308, "1e+308 is not a parameter"), (-1, "-1 is not"), (0, "0 is not"), ("abc", "'abc'")],
)
def test_a_bad_params_file_is_refused_before_anything_is_written(
    clv, write, tmp_path, params, value, said
):
    params["params"]["r"] = value
    path = write("bad.json", json.dumps(params))
    out = tmp_path / "out.csv"
    result = clv("compute", SAMPLE / "shop.csv", "--params", path, "-o", out)
    assert result.exit_code == 3
    (line,) = _errors(result)
    assert line.startswith(f"clv: error: {path}: key 'params.r': ") and said in line
    assert not out.exists()


def test_deeply_nested_params_are_refused(clv, write, tmp_path):
    path = write("deep.json", "[" * 200_000 + "]" * 200_000)
    result = clv("compute", SAMPLE / "shop.csv", "--params", path, "-o", tmp_path / "o.csv")
    assert result.exit_code == 3
    assert _errors(result) == [f"clv: error: {path}: not a parameters file (JSON nested too deep)"]


def test_params_that_score_no_one_never_give_empty_columns(clv, write, tmp_path, params):
    # Within the accepted range, yet no fit of this data: every score overflows.
    params["params"]["r"] = 1e15
    path = write("huge.json", json.dumps(params))
    out = tmp_path / "out.csv"
    result = clv("compute", SAMPLE / "shop.csv", "--params", path, "-o", out)
    assert result.exit_code == 3
    assert "give no finite expected purchases" in result.stderr
    assert not out.exists()


def test_costs_that_overflow_are_one_line(clv, write):
    costs = write("costs.csv", "channel,period,spend\na,2023-01,1e308\nb,2023-01,1e308\n")
    result = clv("cac", SAMPLE / "shop.csv", "--costs", costs)
    assert result.exit_code == 3
    assert _errors(result) == [
        f"clv: error: {costs}: row 2 (line 3), column 'spend': with '1e308' the spends add up "
        "to more than the largest number clv can hold (1.8e308)"
    ]


def test_an_id_longer_than_an_excel_cell_is_refused_not_cut(clv, write, tmp_path):
    path = write("tx.csv", HEADER + "C1,2024-01-01,10\n" + "L" * 40_000 + ",2024-01-02,20\n")
    out = tmp_path / "out.xlsx"
    result = clv("compute", path, "--model", "none", "-o", out)
    assert result.exit_code == 5
    assert _errors(result) == [
        "clv: error: column 'customer_id', Excel row 3: a value of 40,000 characters; an "
        "Excel cell holds at most 32,767"
    ]
    assert not out.exists()
    assert clv("compute", path, "--model", "none", "-o", tmp_path / "out.csv").exit_code == 0


FUTURE = "customer_id,date,amount\nA,2024-01-01,10\nA,2099-01-01,10\nB,2024-01-05,5\n"


@pytest.mark.parametrize("command", ["compute", "segment", "stages"])
def test_a_last_day_after_today_is_warned_of(clv, write, command):
    """One mistyped year makes the as-of date 2099 and every customer churned: said
    once, and not when --as-of is given or the last day is not in the future."""
    path = write("tx.csv", FUTURE)
    extra = ["--stage", "churned"] if command == "segment" else []
    result = clv(command, path, "--model", "none", *extra)
    assert result.exit_code == 0, result.stderr
    warned = [line for line in result.stderr_lines if "is after today" in line]
    assert warned == [
        "clv: warning: the log's last day, 2099-01-01, is after today, and every customer is "
        "measured at it: is a date mistyped? (--as-of DATE measures at that date instead)"
    ]
    given = clv(command, path, "--model", "none", "--as-of", "2024-06-01", *extra)
    assert given.exit_code == 0 and "after today" not in given.stderr
    past_log = write("past.csv", FUTURE.replace("2099", "2024"))
    past = clv(command, past_log, "--model", "none", *extra)
    assert past.exit_code == 0 and "after today" not in past.stderr
