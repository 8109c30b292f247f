"""`make bench`: clv compute end to end, phase by phase, against a one-pass floor.

For each log it prints seconds and peak memory (the process's high-water mark after
the phase) of read, parse, summary, fit, score, stages and write, the whole
`clv compute FILE --model bgnbd --period month --as-of AS_OF -o out.parquet` as
users run it (with start-up; BG/NBD, the model of the phases and of the simulation),
and the floor: DuckDB reading the same file and aggregating per customer (count of
purchase days, first and last day, spend) into columnar memory (Arrow), the
least any tool does to summarise the log. Figures, not pass/fail: shared machines are
noisy, and the ratio to a floor measured in the same run is what we track. The run
and the floor each count their best of RUNS tries, as a neighbour's load only ever
slows a try down, and their tries alternate, so that a spell of such load slows
both; the ratio of each try to the floor's try beside it shows the spread. Then it
checks the fitted BG/NBD and Gamma-Gamma parameters against the simulation's (see
generate.py): within two standard errors, as the log is faithful to them.

Usage: python bench/run.py FILE [FILE ...]   (logs written by bench/generate.py)
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("read", "parse", "summary", "fit", "score", "stages", "write")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
sys.path.insert(0, str(Path(__file__).parent))
from generate import AS_OF, BGNBD, GAMMA_GAMMA, PERIOD  # noqa: E402

TRUTH = {
    "bgnbd": BGNBD,
    "gamma-gamma": {"p": GAMMA_GAMMA["p"], "q": GAMMA_GAMMA["q"], "v": GAMMA_GAMMA["gamma"]},
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phases(path: str) -> dict[str, tuple[float, float]]:
    """Run compute's steps one by one in this process (call it in a fresh one)."""
    import numpy as np
    import pandas as pd

    from clvcli.core.compute import COMPUTE_COLUMNS, model_history
    from clvcli.core.summary import customer_table
    from clvcli.core.value import ValueSettings, fit_purchase_model, fit_spend_model, score_rows
    from clvcli.io.readers import ReadSettings, parse_transactions
    from clvcli.io.source import read_columns
    from clvcli.io.writers import FrameWriter, atomic_output, in_chunks
    from clvcli.lifecycle import assign_stages
    from clvcli.memory import hand_back_free_memory, large_blocks_from_heap, one_malloc_arena
    from clvcli.models import DistinctRows

    one_malloc_arena()  # the CLI's malloc settings (clvcli/cli/__init__.py)
    large_blocks_from_heap()
    out: dict[str, tuple[float, float]] = {}
    clock = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal clock
        hand_back_free_memory()  # as the CLI does between its phases
        now = time.perf_counter()
        out[name] = (now - clock, _peak_mb())
        clock = time.perf_counter()

    raw = read_columns(path, ReadSettings().given_columns())
    mark("read")
    transactions = parse_transactions(raw)
    del raw
    mark("parse")
    as_of = int(AS_OF.astype(np.int64))
    table = customer_table(transactions, period=PERIOD, as_of=as_of, consume=True)
    del transactions  # as compute lets them go: BG/NBD reads the table only
    frame = table.frame
    mark("summary")
    history = model_history("bgnbd", None, table)
    rows = DistinctRows.of(*history)  # as compute does: grouped once for fit and score
    purchases = fit_purchase_model("bgnbd", *history, rows=rows)
    frequency = history[0]
    del history  # as compute does: the rows stand for it
    monetary = frame["monetary_value"].to_numpy(np.float64)
    spend, _ = fit_spend_model(frequency, monetary)
    mark("fit")
    scores = score_rows(purchases, spend, rows, frequency, monetary, ValueSettings(PERIOD))
    del rows
    total_spend = frame["total_spend"].to_numpy()
    columns = {
        "historical_clv": total_spend,
        "expected_purchases": scores.expected_purchases,
        "p_alive": scores.p_alive,
        "expected_avg_spend": scores.expected_avg_spend,
        "predicted_clv": scores.predicted_clv,
        "total_clv": total_spend + np.nan_to_num(scores.predicted_clv),
    }
    mark("score")
    since_first = (
        np.datetime64(table.as_of, "D") - frame["first_purchase"].to_numpy(dtype="datetime64[D]")
    ).astype(np.int64)
    columns["stage"] = assign_stages(
        frame["orders"].to_numpy(),
        frame["days_since_last"].to_numpy(),
        since_first,
        scores.p_alive,
    ).array
    # One frame of the columns as they are, as compute builds it: no copies.
    frame = pd.DataFrame(
        {name: columns[name] if name in columns else frame[name] for name in COMPUTE_COLUMNS},
        copy=False,
    )
    mark("stages")
    with (
        tempfile.TemporaryDirectory() as folder,
        atomic_output(str(Path(folder) / "out.parquet")) as handle,
    ):
        writer = FrameWriter(handle, "parquet")  # streamed, as the CLI writes -o
        for piece in in_chunks(frame):
            writer.write(piece)
        writer.close()
    mark("write")
    out["params"] = {  # type: ignore[assignment]
        model.name: {
            name: (value, model.std_errors_[name]) for name, value in model.fitted().items()
        }
        for model in (purchases, spend)
    }
    return out


def floor_seconds(path: str) -> float:
    """One try of the floor, in this process."""
    import duckdb

    reader = "read_parquet" if path.endswith(".parquet") else "read_csv_auto"
    query = (
        "select customer_id, count(distinct date), min(date), max(date), sum(amount) "
        f"from {reader}('{path}') group by customer_id"
    )
    start = time.perf_counter()
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")
    relation = connection.sql(query)
    # Into Arrow, as clv's DuckDB engine does (the method's name changed across releases).
    (getattr(relation, "to_arrow_table", None) or relation.arrow)()
    return time.perf_counter() - start


def floor_try(path: str) -> float:
    """One try of the floor in a child: a child's peak as the kernel reports it is at
    least the parent's memory when it was started, so this process stays small."""
    result = subprocess.run(
        [sys.executable, __file__, "--floor", path], check=True, capture_output=True, text=True
    )
    return float(result.stdout)


def end_to_end(path: str) -> tuple[float, float]:
    clv = str(Path(sys.executable).parent / "clv")
    with tempfile.TemporaryDirectory() as folder:
        output = str(Path(folder) / "o.parquet")
        start = time.perf_counter()
        argv = [clv, "compute", path, "--model", "bgnbd", "--period", PERIOD]
        child = subprocess.Popen([*argv, "--as-of", str(AS_OF), "-q", "-o", output])
        # This child's own peak: RUSAGE_CHILDREN would give the largest of every child
        # so far (the phase run's, the previous file's).
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            raise subprocess.CalledProcessError(child.returncode, child.args)
    return seconds, usage.ru_maxrss / 1024


def main(paths: list[str]) -> None:
    from clvcli.cli.launch import huge_pages_available, large_input, with_huge_pages

    for path in paths:
        # The phases run with the allocator the CLI gives Arrow (clvcli/cli/__init__.py)
        # and, on a log as large, the huge pages it starts with (clvcli/cli/launch.py).
        environment = {"ARROW_DEFAULT_MEMORY_POOL": "system", **os.environ}
        if huge_pages_available(environment) and large_input([path]):
            environment = with_huge_pages(environment)
        result = subprocess.run(
            [sys.executable, __file__, "--phases", path],
            check=True,
            capture_output=True,
            text=True,
            env=environment,
        )
        steps = json.loads(result.stdout)
        # Tries of the floor and of clv alternate, so that a spell of load from
        # elsewhere on a shared machine falls on both alike.
        floors: list[float] = []
        tries: list[tuple[float, float]] = []
        for _ in range(RUNS):
            floors.append(floor_try(path))
            tries.append(end_to_end(path))
        floor = min(floors)
        total, peak = min(seconds for seconds, _ in tries), max(memory for _, memory in tries)
        print(f"\n{Path(path).name}")
        for name in PHASES:
            seconds, memory = steps[name]
            print(f"  {name:<8} {seconds:7.2f} s   peak {memory:7.0f} MiB")
        print(f"  clv compute end to end: {total:.2f} s (best of {RUNS}), peak {peak:.0f} MiB")
        print(f"  floor (DuckDB read + per-customer aggregate): {floor:.2f} s (best of {RUNS})")
        print(f"  ratio to the floor: {total / floor:.1f}")
        pairs = " ".join(f"{run / base:.1f}" for (run, _), base in zip(tries, floors, strict=True))
        print(f"  ratio, try by try: {pairs}")
        print("  fitted against the simulation's truth (within 2 standard errors?):")
        for model, params in steps["params"].items():
            for name, (value, error) in params.items():
                true = TRUTH[model][name]
                verdict = "yes" if abs(value - true) <= 2 * error else "NO"
                print(
                    f"    {model} {name:<5} {value:10.4g} ± {error:.2g}  truth {true:<8g} {verdict}"
                )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--phases"]:
        print(json.dumps(phases(sys.argv[2])))
    elif sys.argv[1:2] == ["--floor"]:
        print(floor_seconds(sys.argv[2]))
    else:
        main(sys.argv[1:])
