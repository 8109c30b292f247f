"""How a value from an input is shown to a person: in an error, a warning or a table.

Values come from files anyone can write. A customer id holding ``\\x1b[31m`` or
``\\x1b]0;title\\x07`` would recolour a terminal or retitle its window if printed
raw, and a 400 KB cell quoted whole buries the message it is in. Every place that
shows a value goes through these two functions.
"""

from __future__ import annotations

import re

# Quoted values longer than this are cut, with their length said.
QUOTE_LIMIT = 80

# C0 controls, DEL and C1 controls (NEL and CSI among them): a terminal acts on them.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with every control character written as an escape (``\\x1b``)."""
    if text.isprintable():  # the usual case, and a fast one
        return text
    return _CONTROLS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}.get(char, f"\\x{ord(char):02x}")


def quote_value(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A cell as a message quotes it: in quotes, controls escaped, cut to ``limit``
    characters with an ellipsis and its full length when longer."""
    if not isinstance(value, str):  # a number or a missing (None) cell: as Python says it
        text = str(value)
        if len(text) <= limit:
            return printable(text)
    else:
        text = value
    if len(text) <= limit:
        return f"'{printable(text)}'"
    return f"'{printable(text[:limit])}…' ({len(text):,} characters)"
