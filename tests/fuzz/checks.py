"""What every run of clv must look like, whatever its input."""

from __future__ import annotations

import csv
import io
import warnings


def check_stderr(result, allowed: set[int]) -> bool:
    """An allowed exit code, no traceback, and stderr of clv's own lines only.

    stderr holds whole lines: warnings and notes, and on failure one ``clv: error:``
    line, last or followed by one ``hint:`` line; stdout is empty on failure. Returns
    whether the run succeeded.
    """
    assert "Traceback" not in result.stderr, result.stderr
    assert result.exit_code in allowed, (result.exit_code, result.stderr)
    assert result.stderr == "" or result.stderr.endswith("\n"), result.stderr
    lines = result.stderr.split("\n")[:-1]
    messages = [line for line in lines if not line.startswith("hint: ")]
    for before, line in zip(["clv: error: x", *lines], lines, strict=False):
        if line.startswith("hint: "):
            assert not before.startswith("hint: "), result.stderr
    if result.exit_code != 0:
        assert messages and messages[-1].startswith("clv: error: "), result.stderr
        assert lines[-1] == messages[-1] or lines[-2] == messages[-1], result.stderr
        others = messages[:-1]
        assert result.stdout_bytes == b"", result.stdout_bytes[:200]
    else:
        others = messages
    for line in others:
        assert line.startswith(("clv: warning: ", "clv: note: ")), result.stderr
    return result.exit_code == 0


def check_csv_run(result, allowed: set[int]) -> list[list[str]] | None:
    """:func:`check_stderr`, and on success CSV that parses into rows of one width with
    no NaN or infinity in any cell; returns those rows (None on failure)."""
    if not check_stderr(result, allowed):
        return None
    text = result.stdout_bytes.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows, "no header on success"
    width = len(rows[0])
    assert all(len(row) == width for row in rows), text[:2000]
    for row in rows[1:]:
        for cell in row:
            assert cell.lower() not in ("nan", "inf", "-inf", "infinity", "-infinity"), row
    return rows


# What a Python process hides by default; everything else prints on stderr.
_HIDDEN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


def run(clv, *args, input: bytes | str = b""):
    """``clv(*args)``, failing if a Python warning was raised that a real process would
    print on stderr (pytest catches them in process, so stderr alone would not show it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = clv(*args, input=input)
    shown = [w for w in caught if not issubclass(w.category, _HIDDEN)]
    assert not shown, (
        f"a Python warning would print on stderr: {shown[0].category.__name__}: "
        f"{shown[0].message} ({shown[0].filename}:{shown[0].lineno})"
    )
    return result
