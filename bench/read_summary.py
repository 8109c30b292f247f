"""Time reading and summarising a transaction log, against DuckDB's one-pass floor.

Prints seconds for clv's read (parse and validate) and summary phases and for DuckDB
reading the same file and aggregating per customer, and the ratio of the two. These
are figures, not a pass/fail test: shared machines are noisy, ratios are what we track.

Usage: python bench/read_summary.py FILE [FILE ...]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from clvcli.core.summary import customer_table
from clvcli.io.readers import read_transactions


def clv_seconds(path: Path) -> tuple[float, float, int]:
    start = time.perf_counter()
    transactions = read_transactions(str(path))
    read = time.perf_counter() - start
    start = time.perf_counter()
    table = customer_table(transactions)
    return read, time.perf_counter() - start, len(table.frame)


def duckdb_seconds(path: Path) -> float:
    import duckdb

    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
    query = (
        f"select customer_id, count(distinct date), min(date), max(date), sum(amount) "
        f"from {reader}('{path}') group by customer_id"
    )
    start = time.perf_counter()
    relation = duckdb.connect().sql(query)
    # Into Arrow (columnar), not Python tuples; the method's name changed across releases.
    (getattr(relation, "to_arrow_table", None) or relation.arrow)()
    return time.perf_counter() - start


def main(paths: list[str]) -> None:
    print(f"{'file':<32} {'read s':>8} {'summary s':>10} {'clv s':>7} {'duckdb s':>9} {'ratio':>6}")
    for name in paths:
        path = Path(name)
        best = min((clv_seconds(path) for _ in range(3)), key=lambda r: r[0] + r[1])
        floor = min(duckdb_seconds(path) for _ in range(3))
        total = best[0] + best[1]
        print(
            f"{path.name:<32} {best[0]:>8.2f} {best[1]:>10.2f} {total:>7.2f} "
            f"{floor:>9.2f} {total / floor:>6.1f}"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
