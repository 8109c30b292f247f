"""Scratch folders: removed when done, and swept by the next run when a run is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clvcli.io import scratch
from clvcli.io.scratch import ScratchFolder, sweep_abandoned

CLV = [sys.executable, "-m", "clvcli"]


def killed_run(temp: Path, kind: str = "log") -> Path:
    """The folder a process made before SIGKILL ended it, with a file in it (the
    process does not sweep: earlier ones stay for the test to see)."""
    code = textwrap.dedent(
        f"""
        import os, signal, sys
        from clvcli.io import scratch
        from clvcli.io.scratch import ScratchFolder
        scratch._swept = True
        folder = ScratchFolder({kind!r})
        open(os.path.join(folder.name, "log.parquet"), "wb").write(b"x" * 1000)
        print(folder.name, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "TMPDIR": str(temp)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == -signal.SIGKILL
    folder = Path(done.stdout.strip())
    assert folder.parent == temp and (folder / "log.parquet").exists()
    return folder


def test_a_folder_goes_when_done_and_holds_its_lock_while_it_lives(tmp_path):
    with ScratchFolder("duckdb") as name:
        folder = Path(name)
        assert folder.is_dir() and folder.name.startswith("clv-duckdb-")
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert sweep_abandoned(str(folder.parent)) == 0  # its own lock is held
        assert folder.is_dir()
    assert not folder.exists()


def test_a_killed_runs_folder_is_swept_and_a_living_ones_is_kept(tmp_path):
    living = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from clvcli.io.scratch import ScratchFolder; import sys; "
            "f = ScratchFolder('summary'); print(f.name, flush=True); sys.stdin.read()",
        ],
        env={**os.environ, "TMPDIR": str(tmp_path)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        alive = Path(living.stdout.readline().strip())
        assert alive.is_dir()
        dead = killed_run(tmp_path)
        dead_sort = killed_run(tmp_path, "sort")
        assert sweep_abandoned(str(tmp_path)) == 2
        assert not dead.exists() and not dead_sort.exists()
        assert alive.is_dir()
    finally:
        living.communicate("")
    assert not alive.exists()


def test_what_is_not_a_clv_scratch_folder_is_left_alone(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / ".lock").touch()
    (outside / "keep.csv").write_text("data\n")
    (tmp_path / "clv-log-link").symlink_to(outside)  # a link is never followed
    (tmp_path / "clv-log-file").write_text("a file of that name\n")
    older = tmp_path / "clv-log-older"  # no lock file: an older clv's, or someone's
    older.mkdir()
    (older / "log.parquet").write_text("x")
    named = tmp_path / "clv-report-x"  # not a kind clv makes
    named.mkdir()
    (named / ".lock").touch()
    linked_lock = tmp_path / "clv-sort-lockislink"
    linked_lock.mkdir()
    (linked_lock / ".lock").symlink_to(outside / "keep.csv")
    assert sweep_abandoned(str(tmp_path)) == 0
    for path in (outside / "keep.csv", tmp_path / "clv-log-file", older, named, linked_lock):
        assert path.exists()
    assert (tmp_path / "clv-log-link").is_symlink()


def test_a_folder_being_made_is_never_taken_for_an_abandoned_one(tmp_path, monkeypatch):
    """Between the folder's creation and its lock a sweep sees no lock file, and
    leaves the folder."""
    made = []

    def sweep_midway(folder: str) -> int:
        made.append(folder)
        assert sweep_abandoned(str(tmp_path)) == 0
        return real(folder)

    real = scratch._held_lock
    monkeypatch.setattr(scratch, "_held_lock", sweep_midway)
    monkeypatch.setattr(scratch.tempfile, "tempdir", str(tmp_path))
    folder = ScratchFolder("log")
    assert Path(made[0]).is_dir() and folder.name == made[0]
    folder.cleanup()


def test_the_next_clv_run_removes_what_a_killed_one_left(tmp_path):
    """A nightly run killed (out of memory, a timeout) leaves its converted log; the
    next run, whatever its command, takes it away and still leaves nothing itself."""
    temp = tmp_path / "temp"
    temp.mkdir()
    dead = killed_run(temp)
    log = tmp_path / "tx.csv"
    log.write_text("customer_id,date,amount\nA,2024-01-01,10\nA,2024-02-01,12\nB,2024-01-05,9\n")
    done = subprocess.run(
        [*CLV, "compute", str(log), "--model", "none", "-q", "-o", str(tmp_path / "out.csv")],
        env={**os.environ, "TMPDIR": str(temp), "CLV_DIRECT_ROWS": "1"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert not dead.exists()
    assert list(temp.iterdir()) == []


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        ScratchFolder("other")
