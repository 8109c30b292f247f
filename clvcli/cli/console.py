"""Everything the CLI says on stderr: errors, warnings, progress and log events.

stdout carries data only. Progress shows only when stderr is a terminal (cron mails
every line it gets), and ``--quiet`` silences warnings, progress and events, never
errors. With ``--log-format json`` every message is one JSON object per line (time,
level, event and its fields) for log collectors, and progress bars give way to
``step`` events.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from clvcli.io.names import without_surrogates
from clvcli.shown import printable

LOG_FORMATS = ("text", "json")
_settings = {"log_format": "text"}


def set_log_format(log_format: str) -> None:
    """Text lines (the default) or JSON objects, for the rest of the run."""
    _settings["log_format"] = log_format


def _json_logs() -> bool:
    return _settings["log_format"] == "json"


def _color() -> bool:
    return _on_terminal() and "NO_COLOR" not in os.environ


def _on_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # closed
        return False


def _say(*lines: str) -> None:
    """Lines on stderr. A stderr that cannot take them (closed, ``2>/dev/full``, a full
    log disk) changes nothing of the run: its data and exit code never depend on
    messages, so what stderr cannot take goes to /dev/null from then on."""
    stream = sys.stderr
    if stream is None:  # print(file=None) would write to stdout
        return
    try:
        for line in lines:
            print(line, file=stream)
        stream.flush()
    except (OSError, ValueError):
        _to_null(stream)


def _to_null(stream: Any) -> None:
    """Point a failing stream's file at /dev/null, so that its next flush (Python's
    own at exit, whose failure makes the exit code 120) has somewhere to go."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
        stream.flush()


def log_event(event: str, level: str = "info", **fields: Any) -> None:
    """One JSON object on stderr: time (UTC), level, event, then the fields."""
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record = {"time": now, "level": level, "event": event, **fields}
    line = json.dumps(record, ensure_ascii=False, default=str)
    _say(without_surrogates(line))


def error(message: str, hint: str | None = None, exit_code: int | None = None) -> None:
    """One ``clv: error:`` line, and a ``hint:`` line when there is one."""
    if _json_logs():
        fields = {"message": _one_line(message), "hint": _one_line(hint) if hint else None}
        log_event("error", "error", **fields, exit_code=exit_code)
        return
    label = "\033[1;31merror:\033[0m" if _color() else "error:"
    _say(f"clv: {label} {_one_line(message)}", *([f"hint: {_one_line(hint)}"] if hint else []))


def _one_line(text: str) -> str:
    """One line: a file name that is not UTF-8 carries its bytes as surrogates, which
    no stream can write, so they print as \\xNN; any control character an input
    slipped in is shown escaped."""
    return printable(" ".join(without_surrogates(str(text)).split()))


class Reporter:
    """Warnings, progress and log events for one run."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet

    def warn(self, messages: Iterable[str], kind: str = "warning") -> None:
        if self.quiet:
            return
        if _json_logs():
            for message in messages:
                log_event(kind, "warning" if kind == "warning" else "info", message=message)
            return
        label = f"\033[33m{kind}:\033[0m" if _color() else f"{kind}:"
        _say(*(f"clv: {label} {_one_line(message)}" for message in messages))

    def event(self, event: str, **fields: Any) -> None:
        """A log event for collectors: shown with --log-format json only."""
        if _json_logs() and not self.quiet:
            log_event(event, **fields)

    @contextlib.contextmanager
    def progress(self, what: str) -> Iterator[None]:
        """A spinner on a terminal's stderr while ``what`` runs; nothing otherwise."""
        if self.quiet:
            yield
            return
        if _json_logs():
            log_event("step", message=what)
            yield
            return
        if not _on_terminal():
            yield
            return
        from rich.console import Console  # only for a spinner on a terminal

        console = Console(file=sys.stderr)
        with console.status(what, spinner="dots"):
            yield
