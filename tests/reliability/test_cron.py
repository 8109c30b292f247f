"""Cron-ready runs: --quiet, --lock, --log-format json, and config validation."""

from __future__ import annotations

import fcntl
import json
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import SAMPLE

SHOP = SAMPLE / "shop.csv"  # its run warns: 11 customers have refunds but no purchase
CLV = [sys.executable, "-m", "clvcli"]


def test_quiet_run_prints_nothing_on_stderr_but_errors_still_do(clv, tmp_path):
    loud = clv("compute", SHOP, "--model", "none")
    assert "warning" in loud.stderr
    quiet = clv("compute", SHOP, "--model", "none", "--quiet", "-o", tmp_path / "out.csv")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    failed = clv("compute", tmp_path / "missing.csv", "--quiet")
    assert failed.exit_code == 3
    assert failed.stderr_lines == [f"clv: error: {tmp_path / 'missing.csv'}: no such file"]


def _wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _held(lock) -> bool:
    """Whether another process holds the flock on ``lock`` (the file holds nothing)."""
    if not lock.exists():
        return False
    with open(lock, "rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_a_second_run_exits_6_while_the_first_holds_the_lock(tmp_path):
    lock = tmp_path / "nightly.lock"
    # The first run holds the lock while it waits for a transaction log on stdin.
    first = subprocess.Popen(
        [*CLV, "segment", "--summary", "--lock", str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: _held(lock))
        started = time.monotonic()
        second = subprocess.run(
            [*CLV, "compute", str(SHOP), "--lock", str(lock), "-q"],
            capture_output=True,
            timeout=120,
        )
        assert second.returncode == 6
        assert second.stdout == b""
        lines = second.stderr.decode().splitlines()
        assert lines[0] == f"clv: error: another clv run (pid {first.pid}) holds the lock {lock}"
        assert len(lines) == 2 and lines[1].startswith("hint: ")
        assert time.monotonic() - started < 30  # it did not wait for the lock
    finally:
        first.kill()  # SIGKILL: no chance to clean up
        first.communicate(timeout=60)
    # The kernel released the dead run's lock: no stale lock to remove by hand.
    third = subprocess.run(
        [*CLV, "compute", str(SHOP), "--lock", str(lock), "-q", "--model", "none"],
        capture_output=True,
        timeout=120,
    )
    assert third.returncode == 0, third.stderr
    assert third.stdout.startswith(b"customer_id,")
    assert lock.read_bytes() == b""  # the lock holds nothing: it is never written


def test_the_lock_is_released_after_a_run_and_after_a_failed_one(clv, tmp_path):
    lock = tmp_path / "run.lock"
    assert clv("compute", tmp_path / "missing.csv", "--lock", lock).exit_code == 3
    assert clv("compute", SHOP, "--lock", lock, "-q", "--model", "none").exit_code == 0
    assert clv("compute", SHOP, "--lock", lock, "-q", "--model", "none").exit_code == 0


def test_an_unusable_lock_path_is_an_output_error(clv, tmp_path):
    result = clv("compute", SHOP, "--lock", tmp_path / "no" / "such" / "dir.lock")
    assert result.exit_code == 5
    assert result.stderr_lines[0].startswith("clv: error: cannot open the lock file ")


def events(stderr: str) -> list[dict]:
    records = [json.loads(line) for line in stderr.splitlines()]
    for record in records:
        assert {"time", "level", "event"} <= set(record)
        assert record["time"].endswith("Z")
    return records


def test_json_log_has_one_object_per_event_with_counts(clv, tmp_path):
    result = clv("compute", SHOP, "--log-format", "json", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0
    records = events(result.stderr)
    names = [r["event"] for r in records]
    assert names[0] == "start" and names[-1] == "finish"
    read = next(r for r in records if r["event"] == "read")
    assert (read["rows_read"], read["rows_skipped"], read["customers"]) == (11628, 0, 2000)
    warning = next(r for r in records if r["level"] == "warning")
    assert "refunds but no purchase" in warning["message"]
    written = next(r for r in records if r["event"] == "written")
    assert (written["rows"], written["format"]) == (1989, "csv")
    assert written["path"] == str(tmp_path / "out.csv")


@pytest.mark.parametrize(
    ("argv", "fmt", "name"),
    [
        (("fit", SHOP, "--period", "week"), "json", "params.json"),
        (("validate", SHOP, "--holdout", "26w", "--period", "week"), "json", "check.json"),
        (("summary", "--emit-sql", "--table", "sales"), "sql", "summary.sql"),
    ],
)
@pytest.mark.parametrize("to_file", [True, False])
def test_documents_are_logged_as_written_like_tables(clv, tmp_path, argv, fmt, name, to_file):
    target = tmp_path / name
    where = ("-o", target) if to_file else ("--format", "json") if fmt == "json" else ()
    result = clv(*argv, *where, "--log-format", "json")
    assert result.exit_code == 0, result.stderr
    (written,) = [r for r in events(result.stderr) if r["event"] == "written"]
    assert written["format"] == fmt
    assert written["path"] == (str(target) if to_file else "-")
    assert (target.read_text() if to_file else result.stdout).strip()


def test_json_log_counts_skipped_rows_and_errors_are_json_too(clv, write):
    log = write("tx.csv", "customer,date,amount\nA,2024-01-01,10\nB,someday,5\nA,2024-02-01,x\n")
    result = clv("summary", log, "--skip-invalid", "--log-format", "json")
    read = next(r for r in events(result.stderr) if r["event"] == "read")
    assert (read["rows_read"], read["rows_skipped"]) == (3, 2)
    failed = clv("summary", log, "--log-format", "json")
    assert failed.exit_code == 3
    (record,) = events(failed.stderr)[-1:]
    assert (record["level"], record["event"], record["exit_code"]) == ("error", "error", 3)
    assert "row 2" in record["message"] and record["hint"]
    assert [r["level"] for r in events(failed.stderr)].count("error") == 1


def test_json_log_with_quiet_prints_only_errors(clv, tmp_path):
    ok = clv("compute", SHOP, "--log-format", "json", "-q", "-o", tmp_path / "a.csv")
    assert ok.exit_code == 0 and ok.stderr == ""


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("margin = 'lots'\n", "'lots' is not a number"),
        ("margin = 0.5\n[nosuchcommand]\nx = 1\n", "unknown table [nosuchcommand]"),
        ("margin = \n", "config file"),
    ],
)
def test_bad_config_files_are_usage_errors(clv, tmp_path, config, expected):
    path = tmp_path / "clv.toml"
    path.write_text(config)
    result = clv("compute", SHOP, "--config", path)
    assert result.exit_code == 2
    assert result.stderr_lines[0].startswith("clv: error: ") and expected in result.stderr
    assert "Traceback" not in result.stderr


def test_sigint_during_a_run_exits_130_and_leaves_no_output(tmp_path):
    out = tmp_path / "out.csv"
    process = subprocess.Popen(
        [*CLV, "segment", "--summary", "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().splitlines() == ["clv: error: interrupted"]
    assert list(tmp_path.iterdir()) == []
