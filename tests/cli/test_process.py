"""The installed entry point as a real process: pipes, exit codes, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import SAMPLE

CLV = [sys.executable, "-m", "clvcli"]


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*CLV, *args], input=stdin, capture_output=True, timeout=120)


def test_module_entry_point_prints_the_version():
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("clv ")


def test_a_pipe_gets_csv_and_stderr_stays_clean_with_quiet():
    result = run("compute", str(SAMPLE / "shop.csv"), "--quiet")
    assert result.returncode == 0
    assert result.stdout.startswith(b"customer_id,")
    assert result.stderr == b""


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_closed_downstream_pipe_exits_quietly(fmt):
    # Parquet's writer meets the closed pipe inside the command (its output is past
    # the pipe's buffer), where the framework would make the error exit 1.
    reader = subprocess.Popen(
        [*CLV, "compute", str(SAMPLE / "shop.csv"), "-q", "--format", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert reader.stdout is not None
    reader.stdout.read(4)
    reader.stdout.close()
    _, stderr = reader.communicate(timeout=120)
    assert reader.returncode == 0
    assert stderr == b""


def test_compute_chains_into_segment_through_a_pipe():
    compute = run("compute", str(SAMPLE / "shop_fa.csv"), "-q")
    segment = run("segment", "--stage", "loyal", "-q", stdin=compute.stdout)
    assert segment.returncode == 0
    lines = segment.stdout.decode().splitlines()
    assert len(lines) > 100
    assert all(
        line.endswith(("loyal", "loyal,اینستاگرام")) or ",loyal," in line for line in lines[1:]
    )


def test_errors_are_one_line_without_traceback():
    result = run("compute", "does-not-exist.csv")
    assert result.returncode == 3
    assert result.stderr.decode() == "clv: error: does-not-exist.csv: no such file\n"


def test_sigint_exits_130_with_one_line():
    process = subprocess.Popen(
        [*CLV, "segment", "--summary"],  # waits on stdin
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.decode().strip().splitlines() == ["clv: error: interrupted"]


def test_no_color_and_no_terminal_means_plain_messages():
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run([*CLV, "compute", "nope.csv"], capture_output=True, env=env, timeout=60)
    assert b"\033[" not in result.stderr
