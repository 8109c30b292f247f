"""End to end: every way a run can fail ends in one clear line and the right exit code.

The contract: an error prints to stderr exactly one ``clv: error: <what>`` line (naming
the file as given, and the row, line and column where known), optionally one ``hint:``
line, and nothing else: no traceback, nothing on stdout, no output file (nor a stray
temporary file) for ``-o FILE``. Exit codes: 2 usage, 3 input, 5 output. With
``--skip-invalid`` bad rows are dropped with one ``clv: warning:`` line giving the count.

Every test runs in its own empty working directory; inputs are given by relative paths
under ``in/`` so that "the path as given" is checked, not a base name or absolute path.
"""

from __future__ import annotations

import gzip
import re
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

HEADER = "customer_id,order_date,amount\n"
GOOD = HEADER + "C1,2024-01-01,100\nC2,2024-01-02,250\nC3,2024-01-03,50\n"
BAD_AMOUNT = HEADER + "C1,2024-01-01,100\nC2,2024-01-02,abc\nC3,2024-01-03,50\n"
SEGMENT_SUMMARY = ("segment", "--summary")


# --- running clv as a user's process would ----------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty working directory (no clv.toml) with in/ for inputs; no debug tracebacks."""
    (tmp_path / "in").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLV_DEBUG", raising=False)


@pytest.fixture
def run(clv):
    """The `clv` fixture, with what Python prints on its own routed to the run's stderr.

    In a real process, warnings and "Exception ignored in ..." reports (with their
    traceback) land on stderr; under pytest they are diverted to pytest's own summary,
    which would hide exactly the stray stderr lines these tests look for.
    """

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    def call(*args: str | Path, input: bytes | str = b""):
        hook = sys.unraisablehook
        with warnings.catch_warnings():
            warnings.resetwarnings()  # Python's defaults for a script, as a user sees them
            for category in (
                DeprecationWarning,
                PendingDeprecationWarning,
                ImportWarning,
                ResourceWarning,
            ):
                warnings.simplefilter("ignore", category)
            warnings.showwarning = show
            sys.unraisablehook = sys.__unraisablehook__
            try:
                return clv(*args, input=input)
            finally:
                sys.unraisablehook = hook

    return call


def files_in(root: Path) -> list[str]:
    """Every file and directory under ``root``, hidden ones included."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def assert_error(result, code: int, *expect: str | re.Pattern[str], hint: str | None = None):
    """The error contract; ``expect`` are fragments (or patterns) of the error line."""
    err = result.stderr
    assert "Traceback" not in err, err
    assert result.exit_code == code, err
    assert result.stdout_bytes == b"", result.stdout_bytes[:500]
    lines = err.splitlines()
    assert lines, "nothing on stderr"
    assert lines[0].startswith("clv: error: "), err
    assert len(lines) <= 2, err
    if len(lines) == 2:
        assert lines[1].startswith("hint: "), err
    assert "\x1b" not in err, "colour codes on a stderr that is not a terminal"
    first = lines[0]
    for fragment in expect:
        if isinstance(fragment, re.Pattern):
            assert fragment.search(first), f"{fragment.pattern!r} not in {first!r}"
        else:
            assert fragment in first, f"{fragment!r} not in {first!r}"
    if hint is not None:
        assert len(lines) == 2 and hint in lines[1], err
    return first


def assert_no_output_file(root: Path, before: list[str], name: str = "out.csv") -> None:
    assert not (root / name).is_file()
    assert list(root.glob(f".{name}.*")) == [], "stray temporary output file"
    assert files_in(root) == before, "the failed run left files behind"


# --- inputs that cannot be read -----------------------------------------------------------


def _truncated_parquet(path: Path) -> None:
    table = pa.table(
        {
            "customer_id": [f"C{i}" for i in range(200)],
            "order_date": ["2024-01-01"] * 200,
            "amount": [float(i) for i in range(200)],
        }
    )
    pq.write_table(table, path)
    data = path.read_bytes()
    assert data[:4] == b"PAR1"
    path.write_bytes(data[: len(data) // 2])


def _nan_parquet(path: Path) -> None:
    table = pa.table(
        {
            "customer_id": ["C1", "C2", "C3"],
            "order_date": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "amount": [100.0, float("nan"), 50.0],
        }
    )
    pq.write_table(table, path)


def _zip_of_two(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.csv", GOOD)
        archive.writestr("b.csv", GOOD)


def _broken_gzip(path: Path) -> None:
    data = gzip.compress((GOOD + "C4,2024-01-04,75\n" * 500).encode())
    path.write_bytes(data[: len(data) // 2])


def _directory(path: Path) -> None:
    path.mkdir()


def _big_cp1256_with_a_ragged_row(path: Path) -> None:
    """60,000 good rows (past the first MiB), then a ragged cp1256 row on line 60002."""
    good = "".join(f"C{i},2024-01-01,{i}\n" for i in range(60_000))
    data = (HEADER + good).encode()
    assert len(data) > 1 << 20
    path.write_bytes(data + "رضا,2024-01-02,5,9\n".encode("cp1256") + b"C9,2024-01-03,1\n")


@dataclass(frozen=True)
class Bad:
    """An input clv must refuse with exit 3."""

    id: str
    given: str  # the INPUT argument, relative to the working directory; "-" for stdin
    content: str | bytes | Callable[[Path], None] | None  # None: the file does not exist
    expect: tuple[str | re.Pattern[str], ...] = ()
    hint: str | None = None

    @property
    def shown(self) -> str:
        return "<stdin>" if self.given == "-" else self.given


INPUT_CASES = [
    Bad("empty-file", "in/empty.csv", b"", ("empty",)),
    Bad("whitespace-only", "in/blank.csv", " \n\t\n  \r\n\n", ("empty",)),
    Bad("header-only", "in/header.csv", HEADER, ("no data rows",)),
    Bad(
        "missing-amount-column",
        "in/no_amount.csv",
        "customer_id,order_date,qty\nC1,2024-01-01,3\n",
        ("amount", "customer_id", "order_date", "qty"),
    ),
    Bad(
        "missing-customer-column-persian",
        "in/fa.csv",
        "شماره سفارش,تاریخ,مبلغ\n1,1403/01/05,100\n",
        ("customer", "شماره سفارش", "تاریخ", "مبلغ"),
    ),
    Bad(
        "unparseable-date",
        "in/dates.csv",
        HEADER + "C1,2024-01-01,100\nC2,notadate,5\n",
        ("row 2 (line 3), column 'order_date'", "'notadate'"),
    ),
    Bad(
        "unparseable-amount",
        "in/amounts.csv",
        BAD_AMOUNT,
        ("row 2 (line 3), column 'amount'", "'abc'"),
    ),
    Bad(
        "several-bad-amounts",
        "in/amounts2.csv",
        HEADER + "C1,2024-01-01,100\nC2,2024-01-02,abc\nC3,2024-01-03,50\nC4,2024-01-04,x\n",
        ("row 2 (line 3), column 'amount'", "'abc'", re.compile(r"\b2 bad rows\b")),
    ),
    Bad(
        "ragged-too-many-fields",
        "in/many.csv",
        HEADER + "C1,2024-01-01,100\nC2,2024-01-02,5,9\nC3,2024-01-03,50\n",
        (re.compile(r"\bline 3\b"), re.compile(r"\b4 fields\b")),
    ),
    Bad(
        "ragged-too-few-fields",
        "in/few.csv",
        HEADER + "C1,2024-01-01,100\nC2,2024-01-02\nC3,2024-01-03,50\n",
        (re.compile(r"\bline 3\b"), re.compile(r"\b2 fields\b")),
    ),
    Bad(
        "several-ragged-rows",
        "in/ragged2.csv",
        HEADER + "C1,2024-01-01,100\nC2,2024-01-02,5,9\nC3,2024-01-03,50\nC4,2024-01-04\n",
        (re.compile(r"\bline 3\b"), re.compile(r"\b2 such rows\b")),
    ),
    Bad(
        "nan-amount",
        "in/nan.csv",
        HEADER + "C1,2024-01-01,100\nC2,2024-01-02,NaN\n",
        ("row 2 (line 3), column 'amount'", "'NaN'"),
    ),
    Bad(
        "inf-amount",
        "in/inf.csv",
        HEADER + "C1,2024-01-01,100\nC2,2024-01-02,inf\n",
        ("row 2 (line 3), column 'amount'", "'inf'"),
    ),
    Bad(
        "nan-amount-parquet",
        "in/nan.parquet",
        _nan_parquet,
        (re.compile(r"\brow 2\b"), "column 'amount'", "nan"),
    ),
    Bad(
        "empty-customer-id",
        "in/no_id.csv",
        HEADER + "C1,2024-01-01,100\n,2024-01-02,5\n",
        ("row 2 (line 3), column 'customer_id'", "empty"),
    ),
    Bad(
        "duplicate-header",
        "in/dup.csv",
        "customer_id,order_date,amount,amount\nC1,2024-01-01,100,3\n",
        ("'amount'", re.compile(r"\b3, 4\b")),
    ),
    Bad("garbage-bytes", "in/x.csv", bytes(range(256)) * 10, ("text",)),
    Bad(
        "garbage-bytes-after-header-no-nul",
        "in/noise.csv",
        HEADER.encode() + bytes(range(128, 256)) * 10 + b"\n",
        (re.compile(r"\bline 2\b"),),
    ),
    Bad(
        "invalid-utf8-in-one-row",
        "in/latin.csv",
        HEADER.encode()
        + b"C1,2024-01-01,100\nC2,2024-01-02,5\nC\xff\xfe3,2024-01-03,7\nC4,2024-01-04,8\n",
        (re.compile(r"\bline 4\b"), "UTF-8"),
    ),
    Bad(
        "cp1256-export-with-a-ragged-row",
        "in/cp1256.csv",
        (HEADER + "C1,2024-01-01,100\nرضا,2024-01-02,5,9\n").encode("cp1256"),
        (re.compile(r"\bline 3\b"),),
    ),
    Bad(
        "cp1256-ragged-row-after-the-first-mib",
        "in/big_cp1256.csv",
        _big_cp1256_with_a_ragged_row,
        (re.compile(r"\bline 60002\b"),),
    ),
    Bad(
        "invalid-utf8-in-a-ragged-last-row",
        "in/ragged_last.csv",
        HEADER.encode() + b"C1,2024-01-01,100\nC2,2024-01-02,\xff,3\n",
        (re.compile(r"\bline 3\b"),),
    ),
    Bad("fake-parquet", "in/x.parquet", GOOD, ("Parquet",)),
    Bad("truncated-parquet", "in/cut.parquet", _truncated_parquet, ("Parquet",)),
    Bad(
        "missing-file",
        "in/missing.csv",
        None,
        (re.compile(r"no such file|not found|does not exist", re.IGNORECASE),),
    ),
    Bad("directory-as-input", "in/folder", _directory, ("directory",)),
    Bad("zip-with-two-files", "in/two.zip", _zip_of_two, (re.compile(r"\b2 files\b"),)),
    Bad("broken-gzip", "in/tx.csv.gz", _broken_gzip, ("gzip",)),
    Bad(
        "ambiguous-day-month",
        "in/ambiguous.csv",
        HEADER + "C1,03/04/2024,100\nC2,05/06/2024,5\nC3,01/02/2024,7\n",
        ("column 'order_date'", "03/04/2024"),
        hint="--date-format",
    ),
    Bad(
        "stdin-bad-row",
        "-",
        BAD_AMOUNT,
        ("row 2 (line 3), column 'amount'", "'abc'"),
    ),
]


def prepare(case: Bad, write) -> tuple[str, bytes]:
    """Create the case's input; the INPUT argument and the bytes for stdin."""
    if case.given == "-":
        content = case.content
        assert isinstance(content, str | bytes)
        return "-", content.encode() if isinstance(content, str) else content
    Path(case.given).parent.mkdir(parents=True, exist_ok=True)
    if callable(case.content):
        case.content(Path(case.given))
    elif case.content is not None:
        write(case.given, case.content)
    return case.given, b""


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "o-out.csv"])
@pytest.mark.parametrize("case", INPUT_CASES, ids=lambda c: c.id)
def test_bad_input_is_one_error_line_and_exit_3(run, write, tmp_path, case: Bad, to_file):
    given, stdin = prepare(case, write)
    before = files_in(tmp_path)
    output = ["-o", "out.csv"] if to_file else ["--format", "csv"]
    result = run("compute", given, *output, input=stdin)
    assert_error(result, 3, case.shown, *case.expect, hint=case.hint)
    assert_no_output_file(tmp_path, before)


@pytest.mark.parametrize("command", [("summary",), SEGMENT_SUMMARY], ids=" ".join)
@pytest.mark.parametrize("case", INPUT_CASES, ids=lambda c: c.id)
def test_every_command_reports_a_bad_input_as_compute_does(run, write, case: Bad, command):
    given, stdin = prepare(case, write)
    result = run(*command, given, "--format", "csv", input=stdin)
    assert_error(result, 3, case.shown)
    expected = run("compute", given, "--format", "csv", input=stdin)
    assert (result.exit_code, result.stderr) == (expected.exit_code, expected.stderr)


def test_a_failed_run_keeps_the_previous_output_file(run, write, tmp_path):
    write("in/amounts.csv", BAD_AMOUNT)
    previous = write("out.csv", "previous results\n")
    result = run("compute", "in/amounts.csv", "-o", "out.csv")
    assert_error(result, 3, "in/amounts.csv")
    assert previous.read_text() == "previous results\n"
    assert list(tmp_path.glob(".out.csv.*")) == []


# --- option values that cannot work -------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """Options clv must refuse with exit 2, on a good input."""

    id: str
    args: tuple[str, ...]
    expect: tuple[str, ...]
    command: tuple[str, ...] = ("compute",)


USAGE_CASES = [
    Usage("unknown-option", ("--frobnicate",), ("--frobnicate",)),
    Usage("format-xml", ("--format", "xml"), ("--format", "xml")),
    Usage("period-fortnight", ("--period", "fortnight"), ("--period", "fortnight")),
    Usage("margin-1.5", ("--margin", "1.5"), ("--margin", "1.5")),
    Usage("margin-abc", ("--margin", "abc"), ("--margin", "abc")),
    Usage("as-of-notadate", ("--as-of", "notadate"), ("--as-of", "notadate")),
    Usage(
        "as-of-before-first-transaction",
        ("--as-of", "2023-12-31"),
        ("--as-of", "2023-12-31", "2024-01-01"),
    ),
    Usage("segment-unknown-stage", ("--stage", "gold"), ("--stage", "gold"), ("segment",)),
    Usage("segment-without-stage-or-summary", (), ("--stage", "--summary"), ("segment",)),
]


@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "o-out.csv"])
@pytest.mark.parametrize("case", USAGE_CASES, ids=lambda c: c.id)
def test_bad_option_is_one_error_line_and_exit_2(run, write, tmp_path, case: Usage, to_file):
    write("good.csv", GOOD)
    before = files_in(tmp_path)
    output = ["-o", "out.csv"] if to_file else ["--format", "csv"]
    result = run(*case.command, "good.csv", *output, *case.args)
    assert_error(result, 2, *case.expect)
    assert_no_output_file(tmp_path, before)


@pytest.mark.parametrize("margin", ["1.5", "150%", "-0.1"])
@pytest.mark.parametrize("command", [("compute",), ("summary",), SEGMENT_SUMMARY], ids=" ".join)
def test_every_command_taking_margin_rejects_one_outside_0_to_1(run, write, command, margin):
    write("good.csv", GOOD)
    result = run(*command, "good.csv", "--format", "csv", "--margin", margin)
    assert_error(result, 2, "--margin")


# --- outputs that cannot be written -------------------------------------------------------


@dataclass(frozen=True)
class Output:
    id: str
    args: tuple[str, ...]
    code: int
    expect: tuple[str, ...]
    directory: str | None = None  # an existing (empty) directory to create first


OUTPUT_CASES = [
    Output("into-missing-directory", ("-o", "nodir/out.csv"), 5, ("nodir/out.csv",)),
    Output("existing-directory", ("-o", "results"), 5, ("results", "directory"), "results"),
    Output(
        "existing-directory-with-format",
        ("--format", "csv", "-o", "results"),
        5,
        ("results", "directory"),
        "results",
    ),
    Output(
        "existing-directory-named-out.csv",
        ("-o", "out.csv"),
        5,
        ("out.csv", "directory"),
        "out.csv",
    ),
    Output("unknown-extension", ("-o", "out.xyz"), 2, ("out.xyz",)),
    Output("table-to-a-file", ("--format", "table", "-o", "out.csv"), 2, ("table",)),
]


@pytest.mark.parametrize("case", OUTPUT_CASES, ids=lambda c: c.id)
def test_unwritable_output_is_one_error_line(run, write, tmp_path, case: Output):
    write("good.csv", GOOD)
    if case.directory:
        (tmp_path / case.directory).mkdir()
    before = files_in(tmp_path)
    result = run("compute", "good.csv", *case.args)
    assert_error(result, case.code, *case.expect)
    assert files_in(tmp_path) == before, "the failed run left files behind"
    assert list(tmp_path.rglob(".out.*")) == [], "stray temporary output file"


# --- --skip-invalid -----------------------------------------------------------------------

SKIPPABLE = {
    "bad-values": "C2,2024-01-02,abc\nC4,someday,75\n",
    "ragged-rows": "C2,2024-01-02,5,9\nC4,2024-01-04\n",
    "one-ragged-one-bad-value": "C2,2024-01-02,5,9\nC4,2024-01-04,x\n",
}


@pytest.mark.parametrize("kind", list(SKIPPABLE))
def test_skip_invalid_drops_two_bad_rows_with_one_warning(run, write, kind):
    bad_c2, bad_c4 = SKIPPABLE[kind].splitlines()
    write(
        "in/two_bad.csv",
        HEADER
        + "C1,2024-01-01,100\n"
        + bad_c2
        + "\nC3,2024-01-03,50\n"
        + bad_c4
        + "\nC5,2024-01-05,7\n",
    )
    result = run(
        "compute", "in/two_bad.csv", "--format", "csv", "--skip-invalid", "--model", "none"
    )
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("clv: warning: "), result.stderr
    assert "in/two_bad.csv" in lines[0]
    assert re.findall(r"\d+", lines[0].split("in/two_bad.csv", 1)[1])[0] == "2", lines[0]
    rows = result.stdout.splitlines()
    assert rows[0].startswith("customer_id,")
    assert [row.split(",")[0] for row in rows[1:]] == ["C1", "C3", "C5"]
