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


def _generated_log(folder: Path, rows: int) -> Path:
    """The bench's simulated log of ``rows`` transactions, as Parquet (and CSV)."""
    subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), str(rows), str(folder)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = folder / f"tx_{rows}.parquet"
    assert log.exists() and (folder / f"tx_{rows}.csv").exists()
    return log


def test_the_bench_generates_a_log_and_times_every_phase(tmp_path):
    log = _generated_log(tmp_path, 20000)
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
    log = _generated_log(tmp_path, 5000)
    ran = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), str(log)],
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
