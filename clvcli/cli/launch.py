"""How the `clv` program starts: on a large log, under glibc's huge-page setting.

glibc hands out memory in 4 KB pages, each zero-filled by the kernel on first touch;
a 10M-transaction run touches about 1.4 GB of fresh pages that way, which costs this
kind of virtual machine about a second of system time. Asked to (the tunable
``glibc.malloc.hugetlb=1``), glibc marks its heap for transparent huge pages, and
the same run takes a fifth of the faults and 7-15% less time. The tunable is read
once, when the process starts, so a run that will read a large log re-executes
itself with it (same process id, arguments and open files) before it imports
anything heavy. On a small log huge pages only add memory, so it starts as it is.

A user who sets ``hugetlb`` in GLIBC_TUNABLES (``glibc.malloc.hugetlb=0`` to turn
this off) is left as they are.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from clvcli.io.names import named_files

# Inputs past these sizes hold about three million transactions or more.
COMPACT_INPUT_BYTES = 24 << 20  # Parquet and compressed text: 6-8 bytes a row
TEXT_INPUT_BYTES = 96 << 20  # CSV: 25-35 bytes a row
_COMPACT_SUFFIXES = (".parquet", ".pq", ".gz", ".zip")
# Options whose value names a file clv writes, not one it reads.
_OUTPUT_OPTIONS = ("-o", "--output")
_THP_SETTING = "/sys/kernel/mm/transparent_hugepage/enabled"
_TUNABLE = "glibc.malloc.hugetlb=1"
# New objects between two of the garbage collector's youngest collections (see entry).
GC_THRESHOLD = 10_000


def entry() -> int:
    """The `clv` program: :func:`clvcli.cli.main.main`, on huge pages for a large log,
    and an exit that skips the last garbage collection.

    Python's exit collects every object the run left, pandas's and scipy's modules
    among them: about a fifth of a second, a tenth of a small log's whole run, spent
    on memory the process is about to give back. Frozen, the objects are left to the
    exit, which frees them without the walk; files and outputs are closed by then.

    Importing pandas, scipy and pyarrow creates a few hundred thousand objects, and at
    Python's default threshold (700 new objects) the collector walks them hundreds of
    times on the way. At 10,000 it still collects, a tenth of a second less of a
    million-row run goes on it, and the peak is the same.

    Ctrl-C, from here on, ends the run with one line and exit code 130 (see
    clvcli.cli.interrupt).
    """
    from clvcli.cli import interrupt

    interrupt.watch()
    try:
        if huge_pages_available(os.environ) and large_input(sys.argv[1:]):
            restart_with_huge_pages()
        import gc

        gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
        from clvcli.cli.main import main

        code = main()
        gc.freeze()
    except KeyboardInterrupt:  # Ctrl-C while the command line itself is imported
        sys.stderr.write("clv: error: interrupted\n")
        code = interrupt.INTERRUPTED
    if code == interrupt.INTERRUPTED:
        interrupt.exit_now()
    return code


def huge_pages_available(environ: Mapping[str, str]) -> bool:
    """Whether glibc would take the tunable (2.35 and later), the kernel gives huge
    pages where asked ("madvise"; under "always" the heap gets them anyway), and the
    user has not chosen for themselves."""
    if "hugetlb" in environ.get("GLIBC_TUNABLES", ""):
        return False
    if getattr(sys, "frozen", False):  # a bundled executable: its own start-up, not ours
        return False
    if _glibc_version() < (2, 35):
        return False
    try:
        with open(_THP_SETTING, encoding="ascii") as setting:
            return "[madvise]" in setting.read()
    except OSError:
        return False


def _glibc_version() -> tuple[int, ...]:
    try:
        name = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        return ()
    kind, _, version = name.partition(" ")
    try:
        return tuple(int(part) for part in version.split(".")) if kind == "glibc" else ()
    except ValueError:
        return ()


def large_input(args: list[str]) -> bool:
    """Whether the files the arguments name (a file, a folder's files, a glob's)
    come to a few million transactions, judged by their size; the file after
    ``-o`` is an output and does not count."""
    compact = text = 0
    skip = False
    for arg in args:
        if skip or arg in _OUTPUT_OPTIONS:
            skip = not skip
            continue
        if arg.startswith("-"):
            continue
        for path in _named_files(arg):
            try:
                size = os.stat(path).st_size
            except OSError:
                continue
            if path.lower().endswith(_COMPACT_SUFFIXES):
                compact += size
            else:
                text += size
            if compact >= COMPACT_INPUT_BYTES or text >= TEXT_INPUT_BYTES:
                return True
    return False


def _named_files(arg: str) -> list[str]:
    """The files an argument names, as the readers take it: a file that exists is
    that file even with ``[`` or ``*`` in its name (see clvcli.io.names)."""
    try:
        return [path for path in named_files(arg) if os.path.isfile(path)]
    except OSError:
        return []


def with_huge_pages(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` with the tunable added to the user's other tunables."""
    changed = dict(environ)
    tunables = changed.get("GLIBC_TUNABLES")
    changed["GLIBC_TUNABLES"] = f"{tunables}:{_TUNABLE}" if tunables else _TUNABLE
    return changed


def restart_with_huge_pages() -> None:
    """Replace this process with itself under the tunable; if that fails, go on."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(sys.executable, sys.orig_argv, with_huge_pages(os.environ))
    except OSError:
        return
