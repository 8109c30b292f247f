"""What a line of a text input is, once for every reader.

A line ends at ``\\n``, ``\\r\\n`` or a lone ``\\r`` (old Mac files), as Arrow's CSV
parser and Python's ``csv`` module see it. ``str.splitlines`` also breaks at form
feeds, NEL (U+0085), U+2028/U+2029, ``\\x0b`` and ``\\x1c``-``\\x1e``: counting lines
with it made the header search and the parser disagree, and a file starting with a
form feed lost its first data row. Nothing here breaks a line at those characters.
"""

from __future__ import annotations

import re

# The pattern of a line end, for Arrow's regex kernels too.
LINE_END = r"\r\n|\r|\n"
_LINE_END = re.compile(LINE_END)
_LINE_END_BYTES = re.compile(rb"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their ends (no empty last line for a final end)."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def line_number(data: bytes, offset: int) -> int:
    """The line (from 1) that byte ``offset`` of ``data`` falls on."""
    head = data[:offset]
    # A \r\n cut in two by the offset is still one end, and the offset is on the next line.
    return len(_LINE_END_BYTES.findall(head)) + 1


def line_breaks(text: str) -> int:
    """How many line ends a value holds (a quoted field spanning lines)."""
    return len(_LINE_END.findall(text))
