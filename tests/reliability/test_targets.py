"""Files are never lost or clobbered: where outputs and the lock may go, and how
outputs are committed.

A run from cron on the only copy of a shop's exports must not write over what it
reads (by name, symlink or hard link), must not write into a lock file it did not
create, must keep a symlink and a file's mode, must refuse FIFOs and devices, must
commit ``-o`` and ``--sidecar`` together, and must give stdout and stdin failures
their exit codes.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from clvcli.errors import InputError, OutputError, UsageError
from clvcli.io import writers
from clvcli.io.lock import run_lock
from clvcli.io.source import load_input
from clvcli.io.targets import Named, check_targets, identity, source_files
from tests.conftest import SAMPLE

LOG = "customer_id,date,amount\nA,2024-01-01,10\nA,2024-02-01,20\nB,2024-01-03,5\nC,2024-03-01,7\n"
CLV = str(Path(sys.executable).with_name("clv"))


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(LOG, encoding="utf-8")
    return path


def refused(result, code: int = 2) -> str:
    """The one error line of a refused run, which wrote nothing on stdout."""
    assert result.exit_code == code, result.stderr
    assert result.stdout_bytes == b""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr_lines if line.startswith("clv: error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def compute(clv, log, *args):
    return clv("compute", log, "--model", "none", *args)


# ---------------------------------------------------------------- outputs that are inputs


def test_output_onto_the_input_is_a_usage_error_and_the_log_is_kept(clv, log, tmp_path):
    line = refused(compute(clv, log, "-o", log))
    assert line == f"clv: error: -o {log} is INPUT {log}"
    assert log.read_text(encoding="utf-8") == LOG
    # Another spelling of the same path is the same file.
    other = tmp_path / "sub" / ".." / "in.csv"
    (tmp_path / "sub").mkdir()
    refused(compute(clv, log, "-o", other))
    assert log.read_text(encoding="utf-8") == LOG


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_output_linked_to_the_input_is_a_usage_error(clv, log, tmp_path, link):
    target = tmp_path / "out.csv"
    if link == "symlink":
        target.symlink_to(log)
        expected = "(through a symbolic link)"
    else:
        os.link(log, target)
        expected = "(a hard link to it)"
    line = refused(compute(clv, log, "-o", target))
    assert line.endswith(expected)
    assert log.read_text(encoding="utf-8") == LOG
    assert target.is_symlink() == (link == "symlink")


def test_output_from_the_config_file_onto_the_input_is_refused(clv, log, tmp_path):
    config = tmp_path / "clv.toml"
    config.write_text(f'output = "{log}"\nmodel = "none"\n', encoding="utf-8")
    refused(clv("compute", log, "--config", config))
    assert log.read_text(encoding="utf-8") == LOG
    # Nor may the output be the config file itself.
    refused(clv("compute", log, "--config", config, "-o", config))


def test_report_output_onto_the_input_is_refused(clv, log, tmp_path):
    link = tmp_path / "report.html"
    link.symlink_to(log)
    refused(clv("report", log, "-o", link))
    assert log.read_text(encoding="utf-8") == LOG


@pytest.mark.parametrize(
    ("command", "option", "content"),
    [
        ("cac", "--costs", "month,spend\n2024-01,100\n"),
        ("compute", "--customers", "customer_id\nA\nZ\n"),
        ("compute", "--params", '{"model": "bgnbd", "period": "day", "params": {}}\n'),
    ],
)
def test_output_onto_a_costs_customers_or_params_file_is_refused(
    clv, log, tmp_path, command, option, content
):
    other = tmp_path / "other.csv"
    other.write_text(content, encoding="utf-8")
    line = refused(clv(command, log, option, other, "-o", other))
    assert line == f"clv: error: -o {other} is {option} {other}"
    assert other.read_text(encoding="utf-8") == content


def test_output_or_lock_onto_the_subscriptions_file_is_refused(clv, log, tmp_path):
    subscriptions = tmp_path / "subs.csv"
    subscriptions.write_bytes((SAMPLE / "subscriptions.csv").read_bytes())
    before = subscriptions.read_bytes()
    for option in ("-o", "--lock"):
        target = ["-o", subscriptions] if option == "-o" else ["--lock", subscriptions]
        if option == "--lock":
            target += ["-o", tmp_path / "report.html"]
        line = refused(clv("report", log, "--subscriptions", subscriptions, *target))
        assert line == f"clv: error: {option} {subscriptions} is --subscriptions {subscriptions}"
    assert subscriptions.read_bytes() == before


def test_output_onto_the_file_on_stdin_is_refused(log, tmp_path):
    """`clv compute - -o sales.csv < sales.csv`, and segment reading stdin by default."""
    out = tmp_path / "out.csv"
    assert sh(f"{CLV} compute {log} --model none -q -o {out}").returncode == 0
    for command, target in (
        (f"compute - --model none -o {log}", log),
        (f"segment --stage new -o {out}", out),
    ):
        before = target.read_bytes()
        with open(target, "rb") as stdin:
            done = sh(f"{CLV} {command}", stdin=stdin)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"clv: error: -o {target} is INPUT - (the file on stdin)")
        assert target.read_bytes() == before
    with open(log, "rb") as stdin:  # another output is fine
        assert (
            sh(f"{CLV} compute - --model none -o {tmp_path / 'x.csv'}", stdin=stdin).returncode == 0
        )


def test_a_new_output_a_glob_input_would_read_next_time_is_refused(clv, tmp_path):
    folder = tmp_path / "parts"
    (folder / "2024").mkdir(parents=True)
    (folder / "2024" / "a.csv").write_text(LOG, encoding="utf-8")
    for pattern, output in (
        (folder / "2024" / "*.csv", folder / "2024" / "all.csv"),
        (folder / "*" / "*.csv", folder / "2024" / "all.csv"),
        (folder / "**" / "*.csv", folder / "all.csv"),
        (folder / "**" / "*.csv", folder / "2024" / "all.csv"),
    ):
        line = refused(compute(clv, str(pattern), "-o", output))
        assert line.endswith(
            f"matches INPUT {pattern}: the next run would read it as one of its files"
        )
        assert not output.exists()
    for output in (
        folder / "2024" / "all.json",
        folder / "2024" / ".all.csv",
        tmp_path / "all.csv",
    ):
        assert compute(clv, str(folder / "2024" / "*.csv"), "-o", output).exit_code == 0


def test_output_onto_a_summary_file_is_refused(clv, log, tmp_path):
    summary = tmp_path / "summary.csv"
    assert clv("summary", log, "-o", summary).exit_code == 0
    before = summary.read_bytes()
    refused(clv("fit", "--summary", summary, "-o", summary))
    assert summary.read_bytes() == before


def test_sidecar_onto_an_input_is_refused(clv, tmp_path):
    # The log is named like the sidecar of -o out.csv.
    log = tmp_path / "out.csv.meta.json"
    log.write_text(LOG, encoding="utf-8")
    line = refused(compute(clv, log, "-o", tmp_path / "out.csv", "--sidecar"))
    assert line.startswith("clv: error: --sidecar ")
    assert log.read_text(encoding="utf-8") == LOG
    assert not (tmp_path / "out.csv").exists()


def test_outputs_onto_a_folder_or_glob_input_file_are_refused(clv, tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    for name in ("a.csv", "b.csv"):
        (folder / name).write_text(LOG, encoding="utf-8")
    refused(compute(clv, folder, "-o", folder / "b.csv"))
    refused(compute(clv, str(folder / "*.csv"), "-o", folder / "a.csv"))
    # A new file in the folder would be read as one of its parts by the next run.
    line = refused(compute(clv, folder, "-o", folder / "new.csv"))
    assert "would become a part of the input folder" in line
    assert not (folder / "new.csv").exists()
    # A name the folder's reading skips is fine.
    assert compute(clv, folder, "-o", folder / "_out.csv").exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["_out.csv", "a.csv", "b.csv"]
    assert all((folder / n).read_text(encoding="utf-8") == LOG for n in ("a.csv", "b.csv"))


def test_stdin_is_not_a_file(clv, log, tmp_path):
    out = tmp_path / "out.csv"
    result = clv("compute", "-", "--model", "none", "-o", out, input=LOG)
    assert result.exit_code == 0, result.stderr
    assert out.read_text(encoding="utf-8").startswith("customer_id,")


def test_check_targets_compares_by_identity_and_by_resolved_path(tmp_path):
    real = tmp_path / "a.csv"
    real.write_text("x", encoding="utf-8")
    (tmp_path / "l.csv").symlink_to(real)
    assert identity(str(tmp_path / "l.csv")) == identity(str(real))
    missing = tmp_path / "new.csv"
    assert identity(str(missing)) == identity(str(tmp_path / "." / "new.csv"))
    with pytest.raises(UsageError):
        check_targets([Named("INPUT", str(real))], [Named("-o", str(tmp_path / "l.csv"))])
    # Neither file exists yet: the same resolved path is the same file.
    with pytest.raises(UsageError):
        check_targets([], [Named("-o", str(missing))], lock=str(tmp_path / "x" / ".." / "new.csv"))
    check_targets([Named("INPUT", "-")], [Named("-o", str(missing))], lock=str(tmp_path / "k"))
    assert source_files("-") == []
    # A name that exists is that file, even with glob characters in it.
    odd = tmp_path / "sales[1].csv"
    odd.write_text("x", encoding="utf-8")
    assert source_files(str(odd)) == [str(odd)]


# ---------------------------------------------------------------- the lock


def test_lock_onto_the_input_or_output_is_a_usage_error(clv, log, tmp_path):
    line = refused(compute(clv, log, "--lock", log))
    assert line == f"clv: error: --lock {log} is INPUT {log}"
    assert log.read_text(encoding="utf-8") == LOG
    out = tmp_path / "out.csv"
    out.write_text("yesterday\n", encoding="utf-8")
    refused(compute(clv, log, "-o", out, "--lock", out))
    assert out.read_text(encoding="utf-8") == "yesterday\n"


@pytest.mark.parametrize("succeeds", [True, False])
def test_lock_never_writes_into_an_existing_file(clv, log, tmp_path, succeeds):
    lock = tmp_path / "notes.txt"
    lock.write_text("a file that is not clv's\n", encoding="utf-8")
    lock.chmod(0o640)
    source = log if succeeds else tmp_path / "missing.csv"
    result = compute(clv, source, "--lock", lock)
    assert result.exit_code == (0 if succeeds else 3), result.stderr
    assert lock.read_text(encoding="utf-8") == "a file that is not clv's\n"
    assert stat.S_IMODE(lock.stat().st_mode) == 0o640


def test_a_new_lock_file_is_created_empty_and_kept(clv, log, tmp_path):
    lock = tmp_path / "run.lock"
    assert compute(clv, log, "--lock", lock).exit_code == 0
    assert lock.read_bytes() == b""


def test_a_lock_that_is_a_fifo_or_directory_is_refused(clv, log, tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "FIFO" in refused(compute(clv, log, "--lock", fifo))
    assert "directory" in refused(compute(clv, log, "--lock", tmp_path))


def test_run_lock_is_exclusive_and_reports_the_holder(tmp_path):
    lock = tmp_path / "run.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import fcntl,sys,time\nf=open({str(lock)!r},'w')\n"
            "fcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout.readline() == b"held\n"
        with pytest.raises(Exception) as caught, run_lock(str(lock)):
            pass
        assert caught.value.exit_code == 6
        assert f"(pid {holder.pid})" in caught.value.message
    finally:
        holder.kill()
        holder.wait()
    with run_lock(str(lock)):
        pass


# ---------------------------------------------------------------- symlinks, modes, special files


def test_output_through_a_symlink_replaces_its_target_and_keeps_the_link(clv, log, tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    target = archive / "2024-06.csv"
    target.write_text("old\n", encoding="utf-8")
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    assert compute(clv, log, "-o", link).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text(encoding="utf-8").startswith("customer_id,")
    assert sorted(p.name for p in archive.iterdir()) == ["2024-06.csv"]  # no temporary left
    # A dangling link gets its target created.
    dangling = tmp_path / "next.csv"
    dangling.symlink_to(archive / "2024-07.csv")
    assert compute(clv, log, "-o", dangling).exit_code == 0
    assert (archive / "2024-07.csv").read_text(encoding="utf-8").startswith("customer_id,")
    assert dangling.is_symlink()


def test_an_existing_output_keeps_its_mode_and_a_new_one_gets_the_umask(clv, log, tmp_path):
    private = tmp_path / "private.csv"
    private.write_text("old\n", encoding="utf-8")
    private.chmod(0o600)
    assert compute(clv, log, "-o", private).exit_code == 0
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text(encoding="utf-8").startswith("customer_id,")
    old = os.umask(0o027)
    try:
        assert compute(clv, log, "-o", tmp_path / "new.csv").exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o640


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_an_existing_output_keeps_its_owner(clv, log, tmp_path):
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("old\n", encoding="utf-8")
    os.chown(theirs, 4321, 4321)
    assert compute(clv, log, "-o", theirs).exit_code == 0
    assert (theirs.stat().st_uid, theirs.stat().st_gid) == (4321, 4321)
    assert theirs.read_text(encoding="utf-8").startswith("customer_id,")


@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_output_onto_a_fifo_device_or_directory_is_an_output_error(clv, log, tmp_path, kind):
    if kind == "fifo":
        target = tmp_path / "pipe.csv"
        os.mkfifo(target)
    elif kind == "device":
        target = Path("/dev/null")
    else:
        target = tmp_path / "folder.csv"
        target.mkdir()
    line = refused(compute(clv, log, "-o", target), 5)
    assert line.startswith(f"clv: error: cannot write {target}: it is ")
    if kind == "fifo":
        assert stat.S_ISFIFO(os.lstat(target).st_mode)
    elif kind == "device":
        assert stat.S_ISCHR(os.lstat(target).st_mode)
    else:
        assert target.is_dir()


# ---------------------------------------------------------------- outputs committed together


@pytest.fixture
def previous(tmp_path):
    """Yesterday's output and sidecar, which a failed run must leave as they are."""
    out = tmp_path / "out.csv"
    out.write_text("yesterday\n", encoding="utf-8")
    return out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize("command", ["compute", "report"])
def test_a_sidecar_with_a_directory_in_the_way_fails_before_the_output_is_replaced(
    clv, log, tmp_path, command
):
    previous = tmp_path / ("out.csv" if command == "compute" else "report.html")
    previous.write_text("yesterday\n", encoding="utf-8")
    Path(f"{previous}.meta.json").mkdir()
    extra = ("--model", "none") if command == "compute" else ()
    line = refused(clv(command, log, *extra, "-o", previous, "--sidecar"), 5)
    assert line.startswith(f"clv: error: cannot write {previous}.meta.json: it is a directory")
    assert previous.read_text(encoding="utf-8") == "yesterday\n"


def _fail_on(monkeypatch, name: str, call: int) -> list[int]:
    """Make ``writers.<name>`` raise ENOSPC on its ``call``-th call (a full disk then)."""
    real = getattr(writers, name)
    calls: list[int] = []

    def failing(*args):
        calls.append(1)
        if len(calls) == call:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(*args)

    monkeypatch.setattr(writers, name, failing)
    return calls


@pytest.mark.parametrize(("command", "step"), [("compute", 1), ("compute", 2), ("fit", 2)])
def test_a_full_disk_while_staging_leaves_every_output_as_it_was(
    clv, log, previous, monkeypatch, command, step
):
    """Step 1 is the main output's data, step 2 the sidecar's: either way nothing is
    replaced, and no temporary file stays behind."""
    sidecar = Path(f"{previous}.meta.json")
    sidecar.write_text("{}\n", encoding="utf-8")
    _fail_on(monkeypatch, "_sync", step)
    if command == "compute":
        result = clv("compute", log, "--model", "none", "-o", previous, "--sidecar")
    else:  # a whole document (a fit's JSON) goes the same way
        result = clv(
            "fit",
            SAMPLE / "shop.csv",
            "--model",
            "bgnbd",
            "-o",
            previous,
            "--sidecar",
            "--format",
            "json",
        )
    what = previous if step == 1 else sidecar
    line = refused(result, 5)
    assert line == f"clv: error: cannot write {what}: No space left on device"
    assert previous.read_text(encoding="utf-8") == "yesterday\n"
    assert sidecar.read_text(encoding="utf-8") == "{}\n"
    assert leftovers(previous.parent) == []


def test_a_rename_failing_midway_says_what_was_replaced(clv, log, previous, monkeypatch):
    _fail_on(monkeypatch, "_rename", 2)  # the sidecar is renamed first, then the output
    result = compute(clv, log, "-o", previous, "--sidecar")
    line = refused(result, 5)
    assert line == f"clv: error: cannot write {previous}: No space left on device"
    assert result.stderr_lines[-1] == (
        f"hint: already replaced: {previous}.meta.json; left as they were: {previous}"
    )
    assert previous.read_text(encoding="utf-8") == "yesterday\n"
    assert leftovers(previous.parent) == []


def test_output_group_renames_only_when_every_file_is_staged(tmp_path, monkeypatch):
    first, second = tmp_path / "a.csv", tmp_path / "b.json"
    first.write_text("old a\n", encoding="utf-8")
    with pytest.raises(OutputError), writers.output_group() as group:
        group.write(str(first), b"new a\n")
        with group.file(str(second)) as handle:
            handle.write(b"{")
            raise OSError(errno.ENOSPC, "No space left on device")
    assert first.read_text(encoding="utf-8") == "old a\n" and not second.exists()
    with writers.output_group() as group:
        group.write(str(first), b"new a\n")
        group.write(str(second), b"{}\n")
    assert first.read_bytes() == b"new a\n" and second.read_bytes() == b"{}\n"
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------- stdout, stdin, help


def sh(command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, timeout=120, text=True, **kwargs
    )


@pytest.mark.parametrize(
    "args",
    [
        "compute {log} --model none",
        "--help",
        "compute --help",
        "formula simple --spend 400000 --per month --years 30",
    ],
)
def test_a_full_stdout_is_an_output_error(log, args):
    done = sh(f"{CLV} {args.format(log=log)} > /dev/full")
    assert done.returncode == 5, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("clv: error: cannot write ") and "No space left" in lines[0]
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "-"])
def test_output_named_stdout_writes_to_stdout_and_keeps_the_file_behind_it(log, tmp_path, name):
    """`-o /dev/stdout >> run.log` appends, as any output to stdout: no new file is
    renamed over run.log."""
    kept = tmp_path / "run.log"
    kept.write_text("earlier line\n", encoding="utf-8")
    done = sh(
        f"{{ echo before; {CLV} summary {log} -q -o {name} --format csv; echo after; }} >> {kept}"
    )
    assert done.returncode == 0, done.stderr
    lines = kept.read_text(encoding="utf-8").splitlines()
    assert lines[:3] == [
        "earlier line",
        "before",
        "customer_id,frequency,recency,T,monetary_value,first_purchase,last_purchase,orders,total_spend",
    ]
    assert lines[-1] == "after" and len(lines) == 7
    piped = sh(f"{CLV} summary {log} -q -o {name} | wc -l")
    assert piped.stdout.strip() == "4", piped.stderr


@pytest.mark.parametrize("unnamed", [True, False])
def test_an_output_whose_name_is_as_long_as_names_go_is_written(
    clv, log, tmp_path, monkeypatch, unnamed
):
    """Its temporary name beside it is cut to fit (255 bytes), with or without
    unnamed temporary files (O_TMPFILE)."""
    if not unnamed:
        monkeypatch.setattr(writers, "_unnamed_file", lambda directory: None)
    for name in ("b" * 251 + ".csv", "\u0628" * 123 + ".parquet"):
        out = tmp_path / name
        assert len(os.fsencode(name)) <= 255
        result = compute(clv, log, "-o", out)
        assert result.exit_code == 0, result.stderr
        assert out.stat().st_size > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.csv", "b" * 251 + ".csv", "\u0628" * 123 + ".parquet"]
    )


@pytest.mark.parametrize("name", ["out.csv.gz", "out.parquet.ZIP", "report.html.xz"])
def test_an_output_named_as_compressed_is_a_usage_error(clv, log, tmp_path, name):
    """Written as plain bytes under a .gz name, it fooled zcat and every tool after."""
    command = "report" if name.startswith("report") else "compute"
    line = refused(
        clv(command, log, "--model", "none", "--format", "csv", "-o", tmp_path / name)
        if command == "compute"
        else clv(command, log, "-o", tmp_path / name)
    )
    assert line.startswith(f"clv: error: -o {tmp_path / name}: clv writes files uncompressed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_an_empty_output_name_is_a_usage_error(clv, log):
    line = refused(compute(clv, log, "-o", ""))
    assert line == "clv: error: -o needs a file name"


@pytest.mark.parametrize("stderr", ["2>/dev/full", "2>&-"])
def test_a_stderr_that_cannot_be_written_changes_nothing_of_the_run(log, tmp_path, stderr):
    """Warnings and errors that stderr cannot take (a full log disk, closed) are
    lost; the data and the exit code are what they would be."""
    out = tmp_path / "out.csv"
    warned = tmp_path / "warned.csv"
    warned.write_text(LOG + "D,2024-03-05,-4\n", encoding="utf-8")  # a refund with no purchase
    done = sh(f"{CLV} compute {warned} --model none -o {out} {stderr}")
    assert done.returncode == 0 and out.read_text(encoding="utf-8").startswith("customer_id,")
    piped = sh(f"{CLV} compute {warned} --model none {stderr} | wc -l; exit ${{PIPESTATUS[0]}}")
    assert piped.returncode == 0 and piped.stdout.strip() == "4"
    assert sh(f"{CLV} compute {tmp_path / 'missing.csv'} {stderr}").returncode == 3


def test_a_closed_stdout_is_an_output_error_unless_the_data_goes_to_a_file(log, tmp_path):
    done = sh(f"{CLV} compute {log} --model none >&-")
    assert done.returncode == 5
    assert done.stderr.splitlines()[0] == "clv: error: cannot write to stdout: it is closed"
    assert "Traceback" not in done.stderr
    out = tmp_path / "out.csv"
    done = sh(f"{CLV} compute {log} --model none -o {out} >&-")
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("customer_id,")
    assert sh(f"{CLV} --version >&-").returncode == 5


@pytest.mark.parametrize("pipe", ["{clv} --help | head -c 10", "{clv} compute --help | head -1"])
def test_help_into_a_closed_pipe_exits_0_quietly(pipe):
    for _ in range(3):  # the reader leaves at a different moment each time
        done = sh(pipe.format(clv=CLV) + "; exit ${PIPESTATUS[0]}")
        assert done.returncode == 0, done.stderr
        assert done.stderr == ""


def test_a_closed_stdin_is_an_input_error(log):
    done = sh(f"{CLV} compute - --model none <&-")
    assert done.returncode == 3, done.stderr
    assert done.stderr.splitlines()[0] == "clv: error: <stdin>: is closed"
    # A run that does not read stdin does not care.
    assert sh(f"{CLV} compute {log} --model none <&-").returncode == 0


def test_a_directory_or_closed_stdin_is_an_input_error_in_the_library(monkeypatch):
    """``clv ... < /`` itself stops in Python's start-up, before clv runs (see the
    README); what clv reads from a stdin that fails is an input error all the same."""

    class Unreadable:
        def read(self, size: int = -1):
            raise IsADirectoryError(errno.EISDIR, "Is a directory")

    class Folder:
        buffer = Unreadable()

    monkeypatch.setattr(sys, "stdin", Folder())
    with pytest.raises(InputError, match="<stdin>: is a directory"):
        load_input("-")
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(InputError, match="<stdin>: is closed"):
        load_input("-")
