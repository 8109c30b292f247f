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

import contextlib
import os
import signal
import sys
import threading
from types import FrameType
from typing import NoReturn

INTERRUPTED = 130
_seen = threading.Event()


def watch() -> None:
    """Handle SIGINT from now on, unless someone else already does (an embedding
    program, a test runner) or this is not the main thread (where signals go)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)
        sys.unraisablehook = _unraisable


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Python's report of an exception it could not raise, less a KeyboardInterrupt
    lost that way: the run ends as interrupted anyway (:func:`seen`), with its one
    line, where Python printed "Exception ignored" and a traceback first."""
    if isinstance(unraisable.exc_value, KeyboardInterrupt) and _seen.is_set():
        return
    sys.__unraisablehook__(unraisable)


def seen() -> bool:
    """Whether a SIGINT came since :func:`watch`, even one an exception lost."""
    return _seen.is_set()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _seen.set()
    raise KeyboardInterrupt


def exit_now() -> NoReturn:
    """End an interrupted run at once with exit code 130, what it printed flushed.

    When KeyboardInterrupt has escaped code that Python compiled from a string (the
    __init__ a dataclass generates while a library imports, say), CPython notes it
    and, at the end of an orderly exit, kills itself with SIGINT whatever the exit
    code, although clv caught the exception further up. A shell sees 130 either way,
    a program that started clv does not. Ending here skips that, and the wait for
    worker threads an interrupted run has no use for; clv's own files are closed
    or removed by then.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed pipe changes nothing now
            stream.flush()
    os._exit(INTERRUPTED)
