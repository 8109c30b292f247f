"""Output targets under attack: whatever ``-o``, ``--sidecar`` and ``--lock`` point at,
the files a run reads keep their bytes.

One property: a command that reads a log (and perhaps a customers file) writes to a
target drawn from the ways a file can be clobbered: the input itself, another
spelling of it, a symlink or hard link to it, the customers file, a FIFO, a device,
a directory, a file in the input's folder, a read-only folder, a dangling symlink,
or a plain new file; with or without a sidecar and a lock that may be any of them
too, and with a full disk at some step of the write. Every run must leave each
input byte for byte as it was, exit with one of the contract's codes, and print no
traceback.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from clvcli.io import writers
from tests.fuzz.budget import examples
from tests.fuzz.checks import check_stderr, run

LOG = "customer_id,date,amount\nA,2024-01-01,10\nA,2024-02-01,20\nB,2024-01-03,5\nC,2024-03-01,7\n"
CUSTOMERS = "customer_id,channel\nA,web\nZ,shop\n"
TARGETS = (
    "input",
    "input-respelled",
    "symlink-to-input",
    "hardlink-to-input",
    "customers",
    "fifo",
    "device",
    "directory",
    "in-input-folder",
    "read-only-folder",
    "dangling-symlink",
    "existing-file",
    "new-file",
)
LOCKS = (None, "input", "symlink-to-input", "customers", "existing-file", "new-lock", "fifo")
COMMANDS = (
    ("compute", "--model", "none"),
    ("summary",),
    ("segment", "--summary", "--model", "none"),
)


def _place(kind: str, home: Path, log: Path, customers: Path) -> Path:
    """A path of the given kind in ``home`` (made on disk where the kind needs it)."""
    if kind == "input":
        return log
    if kind == "input-respelled":
        return home / "data" / ".." / "data" / log.name
    if kind == "symlink-to-input":
        link = home / f"link{len(list(home.iterdir()))}.csv"
        link.symlink_to(log)
        return link
    if kind == "hardlink-to-input":
        link = home / "hard.csv"
        if not link.exists():
            os.link(log, link)
        return link
    if kind == "customers":
        return customers
    if kind == "fifo":
        fifo = home / "pipe.csv"
        if not fifo.exists():
            os.mkfifo(fifo)
        return fifo
    if kind == "device":
        return Path("/dev/null")
    if kind == "directory":
        (home / "folder.csv").mkdir(exist_ok=True)
        return home / "folder.csv"
    if kind == "in-input-folder":
        return log.parent / "extra.csv"
    if kind == "read-only-folder":
        folder = home / "locked"
        folder.mkdir(exist_ok=True)
        folder.chmod(0o555)
        return folder / "out.csv"
    if kind == "dangling-symlink":
        link = home / "dangling.csv"
        if not link.is_symlink():
            link.symlink_to(home / "nowhere" / "out.csv")
        return link
    if kind in ("existing-file", "new-lock"):
        path = home / f"{kind}.txt"
        if kind == "existing-file":
            path.write_text("someone's notes\n", encoding="utf-8")
        return path
    return home / "new.csv"


@settings(max_examples=examples(60))
@given(
    command=st.sampled_from(COMMANDS),
    target=st.sampled_from(TARGETS),
    folder_input=st.booleans(),
    sidecar=st.booleans(),
    lock=st.sampled_from(LOCKS),
    full_disk_at=st.sampled_from([0, 0, 1, 2]),
)
def test_no_output_target_changes_an_input(
    clv, monkeypatch, command, target, folder_input, sidecar, lock, full_disk_at
):
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        (home / "data").mkdir()
        log = home / "data" / "in.csv"
        log.write_text(LOG, encoding="utf-8")
        customers = home / "customers.csv"
        customers.write_text(CUSTOMERS, encoding="utf-8")
        output = _place(target, home, log, customers)
        args = [command[0], log.parent if folder_input else log, *command[1:], "-o", output]
        if command[0] != "summary":
            args += ["--customers", customers]
        if sidecar:
            args.append("--sidecar")
        if lock is not None:
            args += ["--lock", _place(lock, home, log, customers)]
        inputs = {log: log.read_bytes(), customers: customers.read_bytes()}
        _full_disk(monkeypatch, full_disk_at)
        try:
            result = run(clv, *args, "--format", "csv")
        finally:
            monkeypatch.undo()
            if (home / "locked").exists():
                (home / "locked").chmod(0o755)
        check_stderr(result, {0, 2, 3, 5})
        for path, data in inputs.items():
            assert path.read_bytes() == data, (args, result.stderr)
        assert stat.S_ISREG(os.lstat(log).st_mode)
        if target in ("fifo", "device", "directory", "input", "symlink-to-input"):
            assert result.exit_code != 0, (args, result.stderr)
        if result.exit_code != 0:  # a failed run leaves no temporary file anywhere
            assert not [p for p in home.rglob(".*") if p.is_file()], list(home.rglob("*"))


def _full_disk(monkeypatch, step: int) -> None:
    """The disk fills at the ``step``-th file synced (0: never)."""
    if not step:
        return
    real = writers._sync
    calls: list[int] = []

    def failing(descriptor: int) -> None:
        calls.append(descriptor)
        if len(calls) == step:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(descriptor)

    monkeypatch.setattr(writers, "_sync", failing)
