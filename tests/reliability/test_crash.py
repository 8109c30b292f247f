"""A run killed with SIGKILL never leaves a partial output file.

Real `clv compute` and `clv report` processes (CSV, Parquet, xlsx, HTML) write a
large output over an existing one and are killed: once exactly while the output is
being written (seen in /proc as an open file in the output's directory), and at
moments spread over the whole run. Each time the target must be the previous file,
byte for byte, or the complete new one, and no other file may appear beside it.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

CLV = [sys.executable, "-m", "clvcli"]
CUSTOMERS = 150_000
PREVIOUS = b"customer_id,total_clv\nkept,1.00\n"


def one_purchase_each(folder: Path, customers: int) -> Path:
    rng = np.random.default_rng(5)
    days = np.datetime64("2024-01-01") + rng.integers(0, 365, customers)
    amounts = rng.integers(1_000, 900_000, customers)
    path = folder / "tx.csv"
    with path.open("w") as out:
        out.write("customer_id,date,amount\n")
        out.writelines(
            f"C{i:07d},{day},{amount}\n"
            for i, (day, amount) in enumerate(zip(days, amounts, strict=True))
        )
    return path


@pytest.fixture(scope="module")
def big_log(tmp_path_factory) -> Path:
    """One purchase per customer: a quick run whose output is tens of megabytes."""
    return one_purchase_each(tmp_path_factory.mktemp("big"), CUSTOMERS)


@pytest.fixture(scope="module")
def report_log(tmp_path_factory) -> Path:
    """Enough customers for a workbook of a few megabytes in a few seconds."""
    return one_purchase_each(tmp_path_factory.mktemp("report"), 30_000)


def command(log: Path, out: Path) -> list[str]:
    name = "report" if out.suffix in (".html", ".xlsx") else "compute"
    return [*CLV, name, str(log), "--model", "none", "-q", "-o", str(out)]


@pytest.fixture(scope="module")
def expected(big_log, tmp_path_factory) -> dict[str, bytes]:
    """The complete outputs, from runs left to finish."""
    outputs = {}
    for suffix in ("csv", "parquet"):
        out = tmp_path_factory.mktemp("full") / f"values.{suffix}"
        subprocess.run(command(big_log, out), check=True, timeout=300)
        outputs[suffix] = out.read_bytes()
    return outputs


def _writing(pid: int, directory: Path) -> bool:
    """Whether the process has a file open in ``directory`` (its output on the way)."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(str(directory) + "/"):
                return True
    except OSError:
        return False
    return False


def _check(out: Path, complete: bytes) -> str:
    assert os.listdir(out.parent) == [out.name], os.listdir(out.parent)
    data = out.read_bytes()
    if data == PREVIOUS:
        return "previous"
    if out.suffix == ".parquet":
        # The metadata names the output path, so compare what the file holds.
        whole = pq.read_table(io.BytesIO(data))
        assert whole.equals(pq.read_table(io.BytesIO(complete))), "a partial output file"
    else:
        assert data == complete, "a partial output file"
    return "complete"


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_killed_while_writing_leaves_the_previous_file(big_log, expected, tmp_path, suffix):
    killed_mid_write(big_log, tmp_path / f"values.{suffix}", expected[suffix])


def test_a_report_killed_while_writing_leaves_the_previous_file(report_log, tmp_path):
    out = tmp_path / "report.xlsx"
    subprocess.run(command(report_log, out), check=True, timeout=300)
    complete = out.read_bytes()
    killed_mid_write(report_log, out, complete)


@pytest.mark.parametrize("suffix", ["html", "xlsx"])
def test_a_report_killed_at_any_moment_leaves_a_whole_file(report_log, tmp_path, suffix):
    out = tmp_path / f"report.{suffix}"
    started = time.monotonic()
    subprocess.run(command(report_log, out), check=True, timeout=300)
    duration = time.monotonic() - started
    complete = out.read_bytes()
    seen = set()
    for moment in np.linspace(0.5, 1.1, 4) * duration:
        out.write_bytes(PREVIOUS)
        process = subprocess.Popen(command(report_log, out))
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=300)
        seen.add(_check(out, complete))
    assert "previous" in seen


def killed_mid_write(log: Path, out: Path, complete: bytes) -> None:
    """Kill runs of ``log`` into ``out`` until one dies while writing; check it."""
    tmp_path = out.parent
    out.write_bytes(PREVIOUS)
    for _attempt in range(5):
        process = subprocess.Popen(command(log, out))
        caught = False
        while process.poll() is None:
            if _writing(process.pid, tmp_path):
                process.send_signal(signal.SIGKILL)
                caught = True
                break
        process.wait(timeout=300)
        if caught:
            assert process.returncode == -signal.SIGKILL
            assert _check(out, complete) == "previous"
            return
        out.write_bytes(PREVIOUS)  # it finished first; try again
    pytest.fail("never caught the run while it was writing")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_killed_at_any_moment_leaves_a_whole_file(big_log, expected, tmp_path, suffix):
    out = tmp_path / f"values.{suffix}"
    started = time.monotonic()
    subprocess.run(command(big_log, tmp_path / "timing.csv"), check=True, timeout=300)
    duration = time.monotonic() - started
    os.remove(tmp_path / "timing.csv")
    seen = set()
    for moment in np.linspace(0.3, 1.2, 6) * duration:
        out.write_bytes(PREVIOUS)
        process = subprocess.Popen(command(big_log, out))
        time.sleep(moment)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=300)
        seen.add(_check(out, expected[suffix]))
    assert "previous" in seen  # at least one kill landed before the rename
