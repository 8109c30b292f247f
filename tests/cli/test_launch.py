"""How `clv` starts: a large log re-executes the program under glibc's huge pages.

The decision (is the input large, would glibc and the kernel take the setting, has
the user chosen) is checked piece by piece; the restart itself in a real process,
with the size threshold lowered so that a sample log counts as large.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clvcli.cli import launch

SHOP = Path(__file__).resolve().parents[2] / "sample_data" / "shop.csv"


@pytest.fixture
def small_thresholds(monkeypatch):
    monkeypatch.setattr(launch, "COMPACT_INPUT_BYTES", 1000)
    monkeypatch.setattr(launch, "TEXT_INPUT_BYTES", 4000)


def write(path: Path, size: int) -> str:
    path.write_bytes(b"x" * size)
    return str(path)


def test_a_text_file_counts_past_the_text_threshold(tmp_path, small_thresholds):
    assert not launch.large_input(["compute", write(tmp_path / "a.csv", 3999)])
    assert launch.large_input(["compute", write(tmp_path / "b.csv", 4000)])


def test_parquet_and_compressed_files_count_past_the_compact_threshold(tmp_path, small_thresholds):
    for name in ("a.parquet", "b.PQ", "c.csv.gz", "d.zip"):
        assert launch.large_input(["compute", write(tmp_path / name, 1000)]), name
    assert not launch.large_input(["compute", write(tmp_path / "e.parquet", 999)])


def test_a_folder_and_a_glob_count_their_files_together(tmp_path, small_thresholds):
    parts = tmp_path / "export"
    parts.mkdir()
    for i in range(3):
        write(parts / f"part-{i}.parquet", 400)
    assert launch.large_input(["compute", str(parts)])
    assert launch.large_input(["compute", str(parts / "part-*.parquet")])
    assert not launch.large_input(["compute", str(parts / "part-[01].parquet")])


def test_a_folder_counts_only_the_files_clv_reads_from_it(tmp_path, small_thresholds):
    """A folder's notes, markers and hidden files are not read, so they do not count."""
    parts = tmp_path / "export"
    parts.mkdir()
    write(parts / "part-0.parquet", 400)
    for name in ("README.md", "_SUCCESS", ".part-0.parquet.crc", "_metadata.parquet"):
        write(parts / name, 10_000)
    assert not launch.large_input(["compute", str(parts)])
    write(parts / "part-1.PARQUET", 600)
    assert launch.large_input(["compute", str(parts)])


def test_the_output_file_and_options_do_not_count(tmp_path, small_thresholds):
    big = write(tmp_path / "old.parquet", 10_000)
    small = write(tmp_path / "log.csv", 10)
    assert not launch.large_input(["compute", small, "-o", big])
    assert not launch.large_input(["compute", small, "--output", big, "--period", "month"])
    assert not launch.large_input(["compute", str(tmp_path / "missing.csv"), "-"])
    # Other options' values are inputs: --summary, --customers, --costs.
    assert launch.large_input(["compute", "--summary", big])


def thp_setting(tmp_path: Path, monkeypatch, text: str) -> None:
    setting = tmp_path / "enabled"
    setting.write_text(text)
    monkeypatch.setattr(launch, "_THP_SETTING", str(setting))
    monkeypatch.setattr(launch, "_glibc_version", lambda: (2, 36))


def test_huge_pages_are_asked_for_only_where_the_kernel_gives_them_on_request(
    tmp_path, monkeypatch
):
    thp_setting(tmp_path, monkeypatch, "always defer [madvise] never\n")
    assert launch.huge_pages_available({})
    thp_setting(tmp_path, monkeypatch, "[always] madvise never\n")  # the heap has them
    assert not launch.huge_pages_available({})
    thp_setting(tmp_path, monkeypatch, "always madvise [never]\n")
    assert not launch.huge_pages_available({})
    monkeypatch.setattr(launch, "_THP_SETTING", str(tmp_path / "no-such-file"))
    assert not launch.huge_pages_available({})


def test_an_older_glibc_or_another_libc_is_left_alone(tmp_path, monkeypatch):
    thp_setting(tmp_path, monkeypatch, "always [madvise] never\n")
    for version in ((2, 34), ()):
        monkeypatch.setattr(launch, "_glibc_version", lambda version=version: version)
        assert not launch.huge_pages_available({})


def test_a_bundled_executable_is_left_alone(tmp_path, monkeypatch):
    thp_setting(tmp_path, monkeypatch, "always [madvise] never\n")
    monkeypatch.setattr(launch.sys, "frozen", True, raising=False)
    assert not launch.huge_pages_available({})


def test_the_users_own_hugetlb_setting_wins(tmp_path, monkeypatch):
    thp_setting(tmp_path, monkeypatch, "always [madvise] never\n")
    assert not launch.huge_pages_available({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"})
    assert launch.huge_pages_available({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2"})


def test_the_restart_keeps_the_users_tunables_and_arguments(monkeypatch):
    calls = []
    monkeypatch.setattr(launch.os, "execve", lambda *args: calls.append(args))
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2")
    launch.restart_with_huge_pages()
    [(path, argv, environ)] = calls
    assert path == sys.executable
    assert argv == sys.orig_argv
    assert environ["GLIBC_TUNABLES"] == "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
    monkeypatch.delenv("GLIBC_TUNABLES")
    launch.restart_with_huge_pages()
    assert calls[-1][2]["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=1"


def test_a_failed_restart_goes_on_as_it_is(monkeypatch):
    def refuse(*args):
        raise PermissionError("exec refused")

    monkeypatch.setattr(launch.os, "execve", refuse)
    launch.restart_with_huge_pages()  # no error: the run goes on without huge pages


# A whole program run: thresholds lowered so that the sample log is large, and the
# machine's THP and glibc checks replaced by the user's-choice rule alone.
SCRIPT = textwrap.dedent(
    """
    import os, sys
    from clvcli.cli import launch
    launch.TEXT_INPUT_BYTES = 1
    launch.huge_pages_available = lambda env: "hugetlb" not in env.get("GLIBC_TUNABLES", "")
    print("tunables:", os.environ.get("GLIBC_TUNABLES"), os.getpid(), file=sys.stderr)
    sys.argv = ["clv", *sys.argv[1:]]
    raise SystemExit(launch.entry())
    """
)


def test_a_large_log_runs_once_more_under_huge_pages_with_the_same_output(tmp_path, clv):
    out = tmp_path / "values.csv"
    ran = subprocess.run(
        [sys.executable, "-c", SCRIPT, "compute", str(SHOP), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    first, second = [line.split() for line in ran.stderr.splitlines() if "tunables:" in line]
    assert first[1] == "None"
    assert second[1] == "glibc.malloc.hugetlb=1"
    assert first[2] == second[2]  # the same process, re-executed
    direct = tmp_path / "direct.csv"
    assert clv("compute", SHOP, "-o", direct).exit_code == 0  # in this process, as it is
    assert out.read_bytes() == direct.read_bytes()


def test_a_file_with_glob_characters_counts_as_itself(tmp_path, small_thresholds):
    """``part[0].csv`` is one small file, not the large ``part0.csv`` beside it."""
    write(tmp_path / "part[0].csv", 10)
    write(tmp_path / "part0.csv", 10_000)
    assert not launch.large_input(["compute", str(tmp_path / "part[0].csv")])
    assert launch.large_input(["compute", str(tmp_path / "part[0]*.csv")])
