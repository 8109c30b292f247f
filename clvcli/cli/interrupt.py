"""Ctrl-C ends a run with one line and exit code 130, whenever it comes.

Python turns SIGINT into KeyboardInterrupt wherever the main thread happens to be.
Two places lose it: before the CLI's error handling is in place (a traceback), and
inside a callback Python runs for itself, such as the import system's lock clean-up,
where it prints "Exception ignored" and carries on, so a run interrupted while it
imports its libraries went on as if nothing had happened. The handler here raises
KeyboardInterrupt as Python's own does and also remembers the signal, so that the
run can still end as interrupted however the exception was lost. Only the standard
library is imported: this runs before anything else.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

INTERRUPTED = 130
_seen = threading.Event()


def watch() -> None:
    """Handle SIGINT from now on, unless someone else already does (an embedding
    program, a test runner) or this is not the main thread (where signals go)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)


def seen() -> bool:
    """Whether a SIGINT came since :func:`watch`, even one an exception lost."""
    return _seen.is_set()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _seen.set()
    raise KeyboardInterrupt


def keep_exit_code() -> None:
    """Let an interrupted run end with exit code 130 rather than die by SIGINT.

    When KeyboardInterrupt escapes code Python compiled from a string (the __init__
    a dataclass generates while a library imports, say), CPython notes it and, once
    the program ends, kills itself with SIGINT instead of returning its exit code,
    although clv caught the exception further up. Running code compiled from a
    string clears that note. A shell sees 130 either way; a program that starts clv
    sees the exit code it was promised.
    """
    exec("")  # runs nothing; see above
