"""`make bench`: `clv compute` end to end against the one-pass floor, on the same file.

For each log it runs `clv compute FILE -q -o out.parquet` as users run it (the
defaults: `--model auto`, start-up and imports included) and the floor, DuckDB's
current release reading the same file and aggregating per customer (floor.py, the
whole process), and prints seconds, peak memory (each child's own high-water mark)
and their ratio. Figures, not pass/fail: shared machines are noisy, and the ratio to
a floor measured in the same run is what we track. The run and the floor each count
their best of RUNS tries, as a neighbour's load only ever slows a try down, and their
tries alternate, so that a spell of such load slows both; the ratio of each try to the
floor's try beside it shows the spread. Then `clv fit --model bgnbd` checks the fitted
BG/NBD and Gamma-Gamma parameters against the simulation's (see generate.py): within
two standard errors, as the log is faithful to them.

Usage: python bench/run.py FILE|FOLDER [...]   (logs written by bench/generate.py)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
BENCH = Path(__file__).parent
sys.path.insert(0, str(BENCH))
from generate import AS_OF, BGNBD, GAMMA_GAMMA, PERIOD  # noqa: E402

TRUTH = {
    "bgnbd": BGNBD,
    "gamma-gamma": {"p": GAMMA_GAMMA["p"], "q": GAMMA_GAMMA["q"], "v": GAMMA_GAMMA["gamma"]},
}
CLV = str(Path(sys.executable).parent / "clv")


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    # This child's own peak: RUSAGE_CHILDREN would give the largest child so far.
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise subprocess.CalledProcessError(code, argv)
    return seconds, usage.ru_maxrss / 1024


def source(path: str) -> str:
    """What clv and the floor read: a file, or a folder's Parquet parts."""
    return f"{path}/*.parquet" if Path(path).is_dir() else path


def floor_try(path: str) -> tuple[float, float]:
    return timed([sys.executable, str(BENCH / "floor.py"), source(path)])


def clv_try(path: str) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as folder:
        return timed([CLV, "compute", path, "-q", "-o", str(Path(folder) / "out.parquet")])


def fitted(path: str) -> dict[str, dict[str, tuple[float, float]]]:
    """BG/NBD and Gamma-Gamma as `clv fit` estimates them, with standard errors."""
    out: dict[str, dict[str, tuple[float, float]]] = {}
    for model in ("bgnbd", "gamma-gamma"):
        argv = [CLV, "fit", path, "--model", model, "--period", PERIOD, "--as-of", str(AS_OF)]
        result = subprocess.run([*argv, "--format", "json", "-q"], check=True, capture_output=True)
        fit = json.loads(result.stdout)
        fit = fit[0] if isinstance(fit, list) else fit
        out[model] = {
            name: (value, fit["std_errors"][name])
            for name, value in fit["params"].items()
            if name in TRUTH[model]
        }
    return out


def describe(path: str) -> str:
    kind = "Parquet parts" if Path(path).is_dir() else Path(path).suffix[1:]
    ids = "integer ids" if "_int" in Path(path).name else "text ids"
    return f"{Path(path).name} ({kind}, {ids})"


def main(paths: list[str]) -> None:
    for path in paths:
        floors: list[tuple[float, float]] = []
        tries: list[tuple[float, float]] = []
        for _ in range(RUNS):  # alternated: a spell of load falls on both alike
            floors.append(floor_try(path))
            tries.append(clv_try(path))
        floor, floor_peak = min(s for s, _ in floors), max(m for _, m in floors)
        total, peak = min(s for s, _ in tries), max(m for _, m in tries)
        print(f"\n{describe(path)}")
        print(f"  clv compute end to end: {total:.2f} s (best of {RUNS}), peak {peak:.0f} MiB")
        what = "floor (DuckDB read + per-customer aggregate)"
        print(f"  {what}: {floor:.2f} s, peak {floor_peak:.0f} MiB")
        print(f"  ratio to the floor: {total / floor:.2f}")
        pairs = " ".join(
            f"{run / base:.2f}" for (run, _), (base, _) in zip(tries, floors, strict=True)
        )
        print(f"  ratio, try by try: {pairs}")
        print("  fitted against the simulation's truth (within 2 standard errors?):")
        for model, params in fitted(path).items():
            for name, (value, error) in params.items():
                true = TRUTH[model][name]
                verdict = "yes" if abs(value - true) <= 2 * error else "NO"
                print(
                    f"    {model} {name:<5} {value:10.4g} ± {error:.2g}  truth {true:<8g} {verdict}"
                )


if __name__ == "__main__":
    main(sys.argv[1:])
