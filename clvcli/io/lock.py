"""An exclusive run lock that dies with its process.

`flock` on an open file: the kernel releases it when the process ends, however it
ends (a crash or SIGKILL included), so a lock file never goes stale and nothing needs
cleaning up. The file itself stays; it holds the PID of the last run that took it, for
people looking, and is never deleted (deleting lock files races with the next run).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator

from clvcli.errors import LockError, OutputError


@contextlib.contextmanager
def run_lock(path: str | None) -> Iterator[None]:
    """Hold ``path`` exclusively while the block runs; LockError at once if taken."""
    if path is None:
        yield
        return
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
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
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)


def _holder(descriptor: int) -> str:
    try:
        pid = os.pread(descriptor, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (pid {pid})" if pid.isdigit() else ""
