"""The README's commands run as written and print what the README shows.

Each ``$ clv ...`` line in a ``console`` block is run in a shell (from a folder
where sample_data/ and tests/ are at hand; the commands of one block run in order in
the same folder, so a block can write a file and use it); the lines shown after a
command are compared with what it printed, stderr lines (``clv: ...``, ``hint: ...``)
with stderr and the others with stdout, ignoring trailing spaces.

Text must match exactly (runs of spaces and of a table's rule aside: a wider number
shifts a table's columns). Numbers that come from a fitted model (the columns in
MODEL_COLUMNS, told by the CSV header or the table header above them) may differ by a
relative 1e-6, the fits' agreement across machines, plus one unit in the last printed
digit, since a value that close to a rounding boundary prints either way. Every other
number (counts, dates, money summed from the log) must match exactly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def examples() -> list[list[tuple[str, list[str]]]]:
    """The console blocks, each a list of (command, lines shown after it)."""
    blocks = []
    for block in re.findall(r"```console\n(.*?)```", README, flags=re.S):
        found: list[tuple[str, list[str]]] = []
        command, shown = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    found.append((command, shown))
                command, shown = line[2:], []
            else:
                shown.append(line)
        if command:
            found.append((command, shown))
        blocks.append(found)
    return blocks


def is_stderr(line: str) -> bool:
    return line.startswith(("clv: ", "hint: "))


def clean(lines: list[str]) -> list[str]:
    return [line.rstrip() for line in lines if line.strip()]


# Columns whose values come from a fitted model, in the examples' outputs.
MODEL_COLUMNS = frozenset(
    (
        "p_alive",
        "expected_purchases",
        "expected_avg_spend",
        "predicted_clv",
        "total_clv",
        "mean_total_clv",
        "mean_clv",
        "clv_cac_ratio",
        "payback_months",
        "estimate",
        "std_error",
        "ci_lower",
        "ci_upper",
        "predicted_holdout_purchases",
        "error_pct",
        "mae",
        "rmse",
        "msle",
        "bias",
        "rel_mae",
        "correlation",
        "log_likelihood",
        "aic",
        "bic",
        "predicted_clv_lower",
        "predicted_clv_upper",
        "expected_purchases_lower",
        "expected_purchases_upper",
    )
)
RELATIVE = 1e-6
_NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_RULE = re.compile(r"^[\s─━═-]+$")


def close_enough(actual: str, shown: str) -> bool:
    """Whether a model's number as printed agrees with the README's (see the top)."""
    try:
        a, b = float(actual.replace(",", "")), float(shown.replace(",", ""))
    except ValueError:
        return actual == shown
    mantissa, _, exponent = shown.replace(",", "").lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** (int(exponent or 0) - decimals)
    return abs(a - b) <= RELATIVE * max(abs(a), abs(b)) + unit * (1 + 1e-9)


def same_output(actual: list[str], shown: list[str]) -> bool:
    """Whether printed lines agree with the README's lines (both cleaned)."""
    if len(actual) != len(shown):
        return False
    if shown and _is_csv_header(shown[0]):
        header = shown[0].split(",")
        return all(_same_csv_line(a, s, header) for a, s in zip(actual, shown, strict=True))
    header: list[tuple[int, int, str]] = []
    for index, (a, s) in enumerate(zip(actual, shown, strict=True)):
        if index + 1 < len(shown) and _RULE.match(shown[index + 1]) and "─" in shown[index + 1]:
            header = [(m.start(), m.end(), m.group()) for m in re.finditer(r"\S+", s)]
        if not _same_text_line(a, s, header):
            return False
    return True


def _is_csv_header(line: str) -> bool:
    return "," in line and re.fullmatch(r"[\w,]+", line) is not None


def _same_csv_line(actual: str, shown: str, header: list[str]) -> bool:
    a, s = actual.split(","), shown.split(",")
    if len(a) != len(s):
        return False
    names = header + [""] * (len(s) - len(header))
    return all(
        close_enough(x, y) if name in MODEL_COLUMNS else x == y
        for x, y, name in zip(a, s, names, strict=True)
    )


def _same_text_line(actual: str, shown: str, header: list[tuple[int, int, str]]) -> bool:
    """Text equal (whitespace and rule runs aside), numbers per their column."""
    a_numbers, s_numbers = list(_NUMBER.finditer(actual)), list(_NUMBER.finditer(shown))
    if len(a_numbers) != len(s_numbers) or _text(actual) != _text(shown):
        return False
    for x, y in zip(a_numbers, s_numbers, strict=True):
        if _column(y.start(), y.end(), header) in MODEL_COLUMNS:
            if not close_enough(x.group(), y.group()):
                return False
        elif x.group() != y.group():
            return False
    return True


def _text(line: str) -> str:
    text = _NUMBER.sub("#", line)
    return re.sub(r"─+", "─", re.sub(r"\s+", " ", text)).strip()


def _column(start: int, end: int, header: list[tuple[int, int, str]]) -> str | None:
    """The header name over a cell: the one it overlaps, else the nearest."""
    if not header:
        return None
    overlap = [name for s, e, name in header if s < end and start < e]
    if overlap:
        return overlap[0]
    return min(header, key=lambda h: min(abs(h[0] - end), abs(start - h[1])))[2]


@pytest.mark.parametrize("block", examples(), ids=lambda b: b[0][0][:60])
def test_readme_example(block, tmp_path):
    for name in ("sample_data", "tests"):
        (tmp_path / name).symlink_to(ROOT / name)
    for command, shown in block:
        check_command(command, shown, tmp_path)


def check_command(command: str, shown: list[str], tmp_path: Path) -> None:
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"], "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    expects_error = any(line.startswith("clv: error:") for line in shown)
    assert (result.returncode != 0) == expects_error, result.stderr
    if shown:
        printed = clean(result.stdout.splitlines())
        expected = clean([line for line in shown if not is_stderr(line)])
        assert same_output(printed, expected), "\n".join(printed)
        assert same_output(
            clean(result.stderr.splitlines()), clean([line for line in shown if is_stderr(line)])
        ), result.stderr


def test_the_readme_lists_every_command():
    from clvcli.cli.main import app

    names = {info.name for info in app.registered_commands} | {
        group.name for group in app.registered_groups
    }
    for name in names:
        assert f"`clv {name}" in README, name


TABLE = [
    "Customers",
    " customer_id   total_spend   p_alive   predicted_clv       total_clv   stage",
    " ──────────────────────────────────────────────────────────────────────────",
    " C0002          14,585,000      0.04      185,300.44   14,770,300.44   churned",
    " C0007             526.13       0.50          526.13          526.13   new",
]


def _changed(line: int, old: str, new: str) -> list[str]:
    lines = list(TABLE)
    lines[line] = lines[line].replace(old, new)
    return lines


def test_a_model_number_may_differ_in_its_last_printed_digit():
    assert same_output(_changed(3, "185,300.44", "185,300.43"), TABLE)
    assert same_output(_changed(4, "   526.13   new", "   526.14   new"), TABLE)
    assert same_output(_changed(3, "0.04", "0.05"), TABLE)


def test_a_real_change_is_still_caught():
    # Money summed from the log, a count, a word: exact.
    assert not same_output(_changed(3, "14,585,000", "14,585,001"), TABLE)
    assert not same_output(_changed(4, "  526.13       0.50", "  526.14       0.50"), TABLE)
    assert not same_output(_changed(3, "churned", "loyal"), TABLE)
    assert not same_output(_changed(1, "stage", "stages"), TABLE)
    # A model's number beyond its last digit and 1e-6 (0.19 at 185,300).
    assert not same_output(_changed(3, "185,300.44", "185,300.24"), TABLE)
    assert not same_output(_changed(3, "185,300.44", "185,301.44"), TABLE)
    assert not same_output(TABLE[:-1], TABLE)


def test_csv_numbers_are_told_by_their_header():
    shown = ["customer_id,recency,p_alive,total_clv", "C1,2.428571429,0.003018698861,526.13"]
    assert same_output(
        ["customer_id,recency,p_alive,total_clv", "C1,2.428571429,0.003018698862,526.14"], shown
    )
    assert not same_output(
        ["customer_id,recency,p_alive,total_clv", "C1,2.428571428,0.003018698861,526.13"], shown
    )
    assert not same_output(
        ["customer_id,recency,p_alive,total_clv", "C1,2.428571429,0.00301871,526.13"], shown
    )
