"""Which files a run reads and which it writes, checked against each other first.

A run from cron on the business's only copy of its exports must never write over
what it reads: ``-o sales.csv`` on ``sales.csv``, a symlink or a hard link to it, a
costs or params file, or the lock file. Files are compared by identity (device and
inode, so links and other spellings of a path are the same file) where they exist,
and by resolved path where they do not yet. Nothing is read or created before this.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from clvcli.errors import OutputError, UsageError
from clvcli.io.parts import PART_SUFFIXES, folder_parts

STDIN = "-"


@dataclass(frozen=True)
class Named:
    """A file the run touches, and what the user called it (``--costs``, ``INPUT``)."""

    role: str
    path: str


def identity(path: str) -> tuple[int, int] | str:
    """(device, inode) of the file ``path`` ends at, or its resolved path if none."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return os.path.realpath(path)
    return (found.st_dev, found.st_ino)


def source_files(path: str) -> list[str]:
    """The files an input names: itself, a folder's parts, or a glob's matches.

    A name that exists is that file (even with ``[`` or ``*`` in it); an unreadable
    folder or a glob that matches nothing gives nothing here (reading reports it).
    """
    if path == STDIN:
        return []
    if os.path.isdir(path):
        try:
            return [path, *folder_parts(path)]
        except OSError:
            return [path]
    if os.path.lexists(path) or not glob.has_magic(path):
        return [path]
    return sorted(glob.glob(path, recursive=True))


def check_targets(
    sources: Iterable[Named], outputs: Iterable[Named], lock: str | None = None
) -> None:
    """UsageError when an output or the lock is a file the run reads, or each other.

    Called before anything is read, opened or created, so a refused run changes nothing.
    """
    read: list[tuple[Named, tuple[int, int] | str]] = []
    folders: list[str] = []
    patterns: list[Named] = []
    for source in sources:
        if source.path == STDIN:
            piped = _stdin_file()
            if piped is not None:  # `clv compute - -o sales.csv < sales.csv`
                read.append((Named(source.role, "- (the file on stdin)"), piped))
            continue
        if os.path.isdir(source.path):
            folders.append(os.path.realpath(source.path))
        elif not os.path.lexists(source.path) and glob.has_magic(source.path):
            patterns.append(source)
        for name in source_files(source.path):
            read.append((source, identity(name)))
    written = [(output, identity(output.path)) for output in outputs if output.path]
    for output, ident in written:
        for source, known in read:
            if ident == known:
                raise UsageError(
                    f"{output.role} {output.path} is {source.role} {source.path}"
                    + _same_hint(output.path, source.path),
                    "write the output to another file: clv never writes over a file it reads",
                )
        into = _part_of(output.path, folders)
        if into is not None:
            raise UsageError(
                f"{output.role} {output.path} would become a part of the input folder {into}",
                "write the output outside the folder, or name it with a leading _ or .",
            )
        for pattern in patterns:
            if _matches(output.path, pattern.path):
                raise UsageError(
                    f"{output.role} {output.path} matches {pattern.role} {pattern.path}: the "
                    "next run would read it as one of its files",
                    "write the output to a name the pattern does not match",
                )
    if lock:
        mine = identity(lock)
        for other, ident in [*read, *written]:
            if ident == mine:
                raise UsageError(
                    f"--lock {lock} is {other.role} {other.path}",
                    "give the lock a file of its own, such as /tmp/clv-nightly.lock",
                )


def _stdin_file() -> tuple[int, int] | None:
    """(device, inode) of the regular file on stdin (``< sales.csv``), if it is one."""
    try:
        found = os.fstat(0)
    except OSError:
        return None
    return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None


def _matches(output: str, pattern: str) -> bool:
    """Whether the file ``output`` would be one of the files the glob ``pattern``
    names once it exists: its name matches the pattern's last part, in a folder the
    rest of the pattern names (a dot file only where the pattern starts with one)."""
    folder, last = os.path.split(pattern)
    name = os.path.basename(output)
    if name.startswith(".") and not last.startswith("."):
        return False
    if not fnmatch.fnmatchcase(name, last):
        return False
    home = os.path.realpath(os.path.dirname(os.path.abspath(output)))
    if not glob.has_magic(folder):
        return home == os.path.realpath(folder or ".")
    folders = glob.glob(folder, recursive=True)
    if os.path.basename(folder) == "**":  # also the folder the ** stands under
        folders.append(os.path.dirname(folder) or ".")
    return any(home == os.path.realpath(f) for f in folders)


def input_state(sources: Iterable[Named]) -> dict[str, tuple[int, ...]]:
    """Each input file's identity, size and modification time before the run reads
    it, by resolved path: :func:`clvcli.io.metadata.run_metadata` compares them with
    the file it digests, so that an output never records the digest of a file other
    than the one the run read."""
    state = {}
    for source in sources:
        for name in source_files(source.path):
            try:
                found = os.stat(name)
            except (OSError, ValueError):
                continue
            if stat.S_ISREG(found.st_mode):
                state[os.path.realpath(name)] = _state(found)
    return state


def _state(found: os.stat_result) -> tuple[int, ...]:
    return (found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns)


def changed_since(path: str, state: Mapping[str, tuple[int, ...]]) -> bool:
    """Whether the file at ``path`` is not the one :func:`input_state` saw."""
    seen = state.get(os.path.realpath(path))
    if seen is None:
        return False
    try:
        return _state(os.stat(path)) != seen
    except OSError:
        return True


def _same_hint(output: str, source: str) -> str:
    if os.path.abspath(output) == os.path.abspath(source):
        return ""
    if os.path.islink(output) or os.path.islink(source):
        return " (through a symbolic link)"
    try:
        if os.stat(output).st_nlink > 1:
            return " (a hard link to it)"
    except OSError:
        pass
    return ""


def _part_of(output: str, folders: list[str]) -> str | None:
    """The input folder an output would be read from next time as one of its parts."""
    if not folders:
        return None
    name = os.path.basename(output)
    if name.startswith((".", "_")) or not name.lower().endswith(PART_SUFFIXES):
        return None
    home = os.path.realpath(os.path.dirname(os.path.abspath(output)))
    return home if home in folders else None


def check_lock_target(path: str) -> None:
    """The lock must be a regular file (or none yet): never a FIFO, device or folder."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"cannot use the lock file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(found.st_mode):
        raise UsageError(
            f"--lock {path} is {kind_of(found.st_mode)}, not a regular file",
            "give the lock a file of its own, such as /tmp/clv-nightly.lock",
        )


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def run_files(values: Mapping[str, object], arguments: Mapping[str, object]) -> list[Named]:
    """The files a command's options and arguments name for reading."""
    roles = (
        ("input_path", "INPUT"),
        ("summary_path", "--summary"),
        ("costs", "--costs"),
        ("subscriptions", "--subscriptions"),
    )
    found = [Named(role, str(arguments[key])) for key, role in roles if arguments.get(key)]
    for key, role in (("customers", "--customers"), ("params", "--params"), ("config", "--config")):
        if values.get(key):
            found.append(Named(role, str(values[key])))
    return found


# Names of stdout itself: -o with one of them writes to stdout, never a file renamed
# over the one the shell redirected stdout to (``>> log.txt`` would lose the log).
STDOUT_NAMES = ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1")


# Names of compressed files, which an output written as plain bytes must not take.
_COMPRESSED = (".gz", ".gzip", ".zip", ".bz2", ".xz", ".zst", ".zstd", ".lz4", ".7z")


def output_path(path: str | None) -> str | None:
    """-o's file; None for stdout (no -o, or a name of stdout)."""
    if path is None or path in STDOUT_NAMES:
        return None
    if not path.strip():
        raise UsageError("-o needs a file name", "give -o FILE, or -o - for stdout")
    if path.lower().endswith(_COMPRESSED):
        raise UsageError(
            f"-o {path}: clv writes files uncompressed, and this name says compressed",
            "name it without the compression suffix, and compress it afterwards if needed",
        )
    return path


def run_outputs(values: Mapping[str, object]) -> list[Named]:
    """The files a run writes: -o FILE and, with --sidecar, FILE.meta.json."""
    output = values.get("output")
    if not output:
        return []
    found = [Named("-o", str(output))]
    if values.get("sidecar"):
        found.append(Named("--sidecar", f"{output}.meta.json"))
    return found
