"""Scratch folders that a killed run does not leave behind.

clv spills to the temp directory: DuckDB's spill files, a CSV log converted to
Parquet, a summary written range by range (gigabytes at 100M transactions). A run
that ends removes its folder; one the kernel kills (out of memory, a scheduler's
timeout) cannot, and a nightly job killed every night would fill the disk. So each
folder holds an flock on a file inside it for as long as its run lives (the kernel
lets go when the process dies, however it dies), and every run, before it makes its
first folder, removes this user's clv folders whose lock nobody holds.

The lock file is locked before it takes the name a sweep looks for, so a folder
being made is never taken for an abandoned one; a folder without that file (an
older clv's, or a name someone else chose) is left alone.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
import weakref

_KINDS = ("log", "summary", "duckdb", "sort")
_NAMES = re.compile(r"clv-(?:" + "|".join(_KINDS) + r")-[A-Za-z0-9_]+")
_LOCK = ".lock"
_swept = False


class ScratchFolder:
    """A private temporary folder (``.name``), removed by :meth:`cleanup`, when the
    object goes, or by the next run if this process is killed first. Usable as a
    context manager, like :class:`tempfile.TemporaryDirectory`."""

    def __init__(self, kind: str) -> None:
        if kind not in _KINDS:
            raise ValueError(f"unknown scratch kind {kind!r}")
        sweep_abandoned()
        self.name = tempfile.mkdtemp(prefix=f"clv-{kind}-")
        try:
            self._lock = _held_lock(self.name)
        except OSError:
            shutil.rmtree(self.name, ignore_errors=True)
            raise
        self._finalizer = weakref.finalize(self, _remove, self.name, self._lock)

    def cleanup(self) -> None:
        self._finalizer()

    def __enter__(self) -> str:
        return self.name

    def __exit__(self, *exc: object) -> None:
        self.cleanup()


def _held_lock(folder: str) -> int:
    """An open descriptor holding the flock of ``folder``'s lock file."""
    fresh = os.path.join(folder, _LOCK + ".new")
    descriptor = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(fresh, os.path.join(folder, _LOCK))
    except OSError:
        os.close(descriptor)
        raise
    return descriptor


def _remove(folder: str, lock: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.close(lock)


def sweep_abandoned(directory: str | None = None) -> int:
    """Remove this user's clv scratch folders whose run has ended (their lock is
    free); once per process unless a directory is named. How many went."""
    global _swept
    if directory is None:
        if _swept:
            return 0
        _swept = True
        directory = tempfile.gettempdir()
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return 0
    for entry in entries:
        if _NAMES.fullmatch(entry.name) and _abandoned(entry):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += not os.path.lexists(entry.path)
    return removed


def _abandoned(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a real folder of this user whose lock no process holds."""
    try:
        if not entry.is_dir(follow_symlinks=False):
            return False
        if entry.stat(follow_symlinks=False).st_uid != os.geteuid():
            return False
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
        descriptor = os.open(os.path.join(entry.path, _LOCK), flags)
    except OSError:
        return False
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False
    finally:
        os.close(descriptor)
