"""`make bench` keeps working: its generator and its phases run on a small log.

The figures are not checked (they are for people, on a quiet machine), only that each
step runs as compute does and the fit lands near the simulation's parameters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_the_bench_generates_a_log_and_times_every_phase(tmp_path):
    subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), "20000", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = tmp_path / "tx_20000.parquet"
    assert log.exists() and (tmp_path / "tx_20000.csv").exists()
    ran = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--phases", str(log)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert ran.returncode == 0, ran.stderr
    steps = json.loads(ran.stdout)
    for phase in ("read", "parse", "summary", "fit", "score", "stages", "write"):
        seconds, peak = steps[phase]
        assert seconds >= 0 and peak > 0
    # 20,000 transactions pin BG/NBD's r loosely; four standard errors is room enough.
    r, error = steps["params"]["bgnbd"]["r"]
    assert abs(r - 0.243) <= 4 * error


def test_the_bench_alternates_the_floor_and_clv_and_prints_each_ratio(tmp_path):
    subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), "5000", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    ran = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), str(tmp_path / "tx_5000.parquet")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "BENCH_RUNS": "2"},
    )
    assert ran.returncode == 0, ran.stderr
    lines = ran.stdout.splitlines()
    assert any(line.strip().startswith("ratio to the floor: ") for line in lines), ran.stdout
    pairs = [line for line in lines if line.strip().startswith("ratio, try by try:")]
    assert len(pairs) == 1 and len(pairs[0].split(":")[1].split()) == 2, ran.stdout
