"""Everything the CLI says on stderr: errors, warnings and progress.

stdout carries data only. Progress shows only when stderr is a terminal (cron mails
every line it gets), and ``--quiet`` silences warnings and progress, never errors.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator

from rich.console import Console


def _color() -> bool:
    return sys.stderr.isatty() and "NO_COLOR" not in os.environ


def error(message: str, hint: str | None = None) -> None:
    """One ``clv: error:`` line, and a ``hint:`` line when there is one."""
    label = "\033[1;31merror:\033[0m" if _color() else "error:"
    print(f"clv: {label} {_one_line(message)}", file=sys.stderr)
    if hint:
        print(f"hint: {_one_line(hint)}", file=sys.stderr)
    sys.stderr.flush()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class Reporter:
    """Warnings and progress for one run."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def warn(self, messages: Iterable[str], kind: str = "warning") -> None:
        if self.quiet:
            return
        label = f"\033[33m{kind}:\033[0m" if _color() else f"{kind}:"
        for message in messages:
            print(f"clv: {label} {_one_line(message)}", file=sys.stderr)
        sys.stderr.flush()

    @contextlib.contextmanager
    def progress(self, what: str) -> Iterator[None]:
        """A spinner on a terminal's stderr while ``what`` runs; nothing otherwise."""
        if self.quiet or not sys.stderr.isatty():
            yield
            return
        console = Console(file=sys.stderr)
        with console.status(what, spinner="dots"):
            yield
