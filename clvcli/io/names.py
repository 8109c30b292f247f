"""File names as users give them: a name is that file, a pattern only when no file
has that name, and every name printable.

``sales[1].csv`` is a file a shop's export may well be called; read as a glob it
would be ``sales1.csv``, another file, and the numbers would be silently wrong. So
a path that exists is always the file it names; only a path that names nothing and
holds glob characters (``*``, ``?``, ``[``) is expanded. A folder's files are
listed, never globbed, so a part called ``part[0].csv`` is read once, as itself.

On Linux a file name is bytes, and Python hands names that are not UTF-8 over with
surrogate escapes (``caf\\udce9.csv``); such a string cannot be written as UTF-8.
:func:`shown` gives the name every message, note and output file prints instead:
the undecodable bytes as ``\\xe9``, control characters escaped.
"""

from __future__ import annotations

import glob
import os
import re

from clvcli.io.parts import folder_parts

_SURROGATES = re.compile("[\udc80-\udcff]")
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")


def is_pattern(path: str) -> bool:
    """Whether ``path`` is a glob to expand: it holds glob characters and no file,
    folder or link has that very name."""
    return glob.has_magic(path) and not os.path.lexists(path)


def named_files(path: str) -> list[str]:
    """The files ``path`` stands for, sorted: a folder's parts, a pattern's matches
    (files only), else ``path`` itself (whether it exists or not)."""
    if os.path.isdir(path):
        return folder_parts(path)
    if is_pattern(path):
        return sorted(name for name in glob.glob(path, recursive=True) if os.path.isfile(name))
    return [path]


def without_surrogates(text: str) -> str:
    """``text`` with the bytes a non-UTF-8 file name carried as ``\\xNN``: writable
    as UTF-8 (JSON, Parquet metadata, a report), and otherwise unchanged."""
    if not _SURROGATES.search(text):
        return text
    return _SURROGATES.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", text)


def shown(path: str) -> str:
    """A file name as a message prints it: bytes that are not UTF-8 as ``\\xNN``,
    control characters (a newline, an escape) as ``\\n``, ``\\x1b``."""
    text = without_surrogates(path)
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: repr(m.group())[1:-1], text)
