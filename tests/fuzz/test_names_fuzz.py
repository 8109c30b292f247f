"""File names under attack: whatever a file is called, clv reads exactly that file.

Random names mix glob characters (``[ ] ? * { }``), spaces, leading dashes, line
breaks, control characters and bytes that are not UTF-8. Beside each file lie
siblings named as a glob of the name would match (``sales[1].csv`` beside
``sales1.csv``), holding another customer: the output shows which file was read,
and it must be the named one. An error names the file with its odd bytes escaped
(``\\xe9``, ``\\n``), in one line, never a traceback.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile

from hypothesis import example, given, settings
from hypothesis import strategies as st

from clvcli.io.names import shown
from tests.fuzz.budget import examples
from tests.fuzz.checks import check_stderr, run

_PIECES = [
    b"a",
    b"B",
    b"1",
    b"sales",
    b" ",
    b"-",
    b"[",
    b"]",
    b"[1]",
    b"[!x]",
    b"?",
    b"*",
    b"**",
    b"{",
    b"}",
    b"{a,b}",
    b"\n",
    b"\t",
    b"\x1b[31m",
    b"\xe9",
    b"\xff\xfe",
    "é".encode(),
    "ی".encode(),
    b".",
    b",",
    b"'",
    b'"',
]
_SUFFIXES = [b".csv", b".txt", b".tsv", b""]


@st.composite
def file_names(draw) -> bytes:
    """A file name as bytes: never empty, no ``/`` or NUL, not ``.`` or ``..``."""
    start = draw(st.sampled_from([b"", b"-", b"--", b" "]))
    middle = b"".join(draw(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6)))
    name = start + middle + draw(st.sampled_from(_SUFFIXES))
    return b"x" + name if name.strip(b".") == b"" else name


def _glob_siblings(name: bytes) -> set[bytes]:
    """Names a glob reading of ``name`` would match (or nearly): other files."""
    first = re.sub(rb"\[!?([^\]])[^\]]*\]", rb"\1", name)
    return {
        sibling
        for sibling in (
            first.replace(b"?", b"X").replace(b"*", b""),
            first.replace(b"?", b"Q").replace(b"*", b"ZZ"),
            name.replace(b"[", b"").replace(b"]", b""),
            re.sub(rb"\{([^,}]*),[^}]*\}", rb"\1", name),
        )
        if sibling != name and sibling and sibling.strip(b".")
    }


def _write(path: bytes, customer: str, bad: bool = False) -> None:
    with open(path, "wb") as handle:
        handle.write(f"customer,date,amount\n{customer},2024-01-01,10\n".encode())
        if bad:
            handle.write(b"OTHER,someday,5\n")


@settings(max_examples=examples(25))
@given(file_names())
@example(b"sales[1].csv")
@example(b"what?.csv")
@example(b"a*b.csv")
@example(b"caf\xe9.csv")
@example(b"-[0]\n.csv")
def test_a_file_is_read_as_itself_whatever_its_name(clv, name):
    with tempfile.TemporaryDirectory(prefix="clv-names-") as folder:
        base = os.fsencode(folder)
        target = os.path.join(base, name)
        _write(target, "THE_FILE")
        for sibling in _glob_siblings(name):
            _write(os.path.join(base, sibling), "A_SIBLING")
        path = os.fsdecode(target)

        result = run(clv, "summary", path, "-q", "--delimiter", ",")
        assert check_stderr(result, {0})
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert [row["customer_id"] for row in rows] == ["THE_FILE"], (name, result.stdout)

        # As typed in the folder: a name with a leading dash comes after ``--``.
        here = os.getcwd()
        os.chdir(folder)
        try:
            relative = run(clv, "summary", "-q", "--delimiter", ",", "--", os.fsdecode(name))
        finally:
            os.chdir(here)
        assert relative.stdout == result.stdout, (name, relative.stderr)

        _write(target, "THE_FILE", bad=True)
        failed = run(clv, "summary", path, "--delimiter", ",")
        check_stderr(failed, {3})
        error = next(line for line in failed.stderr.splitlines() if line.startswith("clv: "))
        # One line: runs of spaces in the name print as one (see clvcli.cli.console).
        assert error.startswith(" ".join(f"clv: error: {shown(path)}:".split())), error
