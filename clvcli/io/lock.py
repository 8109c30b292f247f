"""An exclusive run lock that dies with its process and never writes a byte.

`flock` on an open file: the kernel releases it when the process ends, however it
ends (a crash or SIGKILL included), so a lock file never goes stale and nothing needs
cleaning up. The file is opened without truncating and nothing is ever written to
it: a mistyped ``--lock`` naming the input or last night's output leaves that file
as it was. A missing lock file is created empty and is never deleted (deleting lock
files races with the next run). Who holds the lock is read from the kernel's own
table of locks (/proc/locks), not from the file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from clvcli.errors import LockError, OutputError
from clvcli.io.targets import check_lock_target

_LOCKS = "/proc/locks"


@contextlib.contextmanager
def run_lock(path: str | None) -> Iterator[None]:
    """Hold ``path`` exclusively while the block runs; LockError at once if taken."""
    if path is None:
        yield
        return
    check_lock_target(path)
    flags = os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOCTTY
    try:
        descriptor = os.open(path, flags, 0o644)
    except OSError as exc:
        raise OutputError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            raise LockError(
                f"another clv run{holder} holds the lock {path}",
                "it is still running; this run did nothing (run it again later)",
            ) from None
        except OSError as exc:
            raise OutputError(f"cannot lock {path}: {exc.strerror or exc}") from None
        yield
    finally:
        os.close(descriptor)


def _holder(descriptor: int) -> str:
    """`` (pid N)`` for the process holding the flock on this file, when the kernel says."""
    found = os.fstat(descriptor)
    inode = f"{os.major(found.st_dev):02x}:{os.minor(found.st_dev):02x}:{found.st_ino}"
    try:
        with open(_LOCKS, encoding="ascii", errors="replace") as table:
            lines = table.readlines()
    except OSError:
        return ""
    for line in lines:
        fields = line.split()
        # "1: FLOCK  ADVISORY  WRITE 12345 08:01:1234567 0 EOF"; waiting ones have "->".
        if "->" in fields or len(fields) < 6 or fields[1] != "FLOCK":
            continue
        if fields[5] == inode and fields[4].isdigit():
            return f" (pid {fields[4]})"
    return ""
