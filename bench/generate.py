"""Deterministic transaction logs for benchmarks, simulated from known models.

Purchases follow BG/NBD (Fader, Hardie and Lee 2005): each customer buys at a
Poisson rate lambda ~ Gamma(r, alpha) and, after each repeat purchase, drops out with
probability p ~ Beta(a, b). Spend per purchase follows Gamma-Gamma: z ~ Gamma(p, nu)
with nu ~ Gamma(q, gamma). Knowing the parameters lets benchmarks check that speed
never costs correctness.

Usage: python bench/generate.py ROWS OUT_DIR   (writes tx_ROWS.csv and tx_ROWS.parquet)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW, weeks
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
WINDOW_WEEKS = 104.0
START = np.datetime64("2023-01-01", "D")
MAX_REPEATS = 400


def simulate(rows: int, seed: int = 7) -> pa.Table:
    """About ``rows`` transactions (customer_id, date, amount), sorted by date."""
    rng = np.random.default_rng(seed)
    # Simulate more customers than needed (about 2.7 transactions each) and keep
    # the first ones whose transactions add up to ``rows``.
    customers = max(rows // 2, 1)
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], customers)
    drop = rng.beta(BGNBD["a"], BGNBD["b"], customers)
    birth = rng.uniform(0.0, WINDOW_WEEKS * 0.75, customers)
    repeats = np.minimum(rng.geometric(drop), MAX_REPEATS)
    owner = np.repeat(np.arange(customers), repeats)
    # A gap longer than the window ends the customer's purchases inside it anyway;
    # capping it keeps the running sum below float64's exact range.
    gaps = np.minimum(rng.exponential(1.0, len(owner)) / lam[owner], 2 * WINDOW_WEEKS)
    times = np.cumsum(gaps)
    first_of_owner = np.r_[0, np.cumsum(repeats)[:-1]]
    times -= np.repeat(times[first_of_owner] - gaps[first_of_owner], repeats)
    times += birth[owner]
    keep = times < WINDOW_WEEKS
    owner = np.concatenate([np.arange(customers), owner[keep]])
    times = np.concatenate([birth, times[keep]])
    per_customer = np.bincount(owner, minlength=customers)
    wanted = np.searchsorted(np.cumsum(per_customer), rows, side="right")
    kept = owner < max(wanted, 1)
    owner, times = owner[kept], times[kept]
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], customers)
    amount = np.round(rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu[owner]), 2)
    days = START + np.floor(times * 7).astype("timedelta64[D]")
    order = np.lexsort((owner, days))
    ids = np.char.add("C", np.char.zfill(owner[order].astype(str), 8))
    return pa.table(
        {
            "customer_id": pa.array(ids.astype(object), pa.string()),
            "date": pa.array(days[order], pa.date32()),
            "amount": pa.array(amount[order], pa.float64()),
        }
    )


def write(rows: int, out_dir: Path) -> tuple[Path, Path]:
    """Write the CSV and Parquet logs of ``rows`` transactions, unless present."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"tx_{rows}.csv"
    parquet_path = out_dir / f"tx_{rows}.parquet"
    if not (csv_path.exists() and parquet_path.exists()):
        table = simulate(rows)
        pacsv.write_csv(table, csv_path, write_options=pacsv.WriteOptions(quoting_style="none"))
        pq.write_table(table, parquet_path, compression="zstd")
    return csv_path, parquet_path


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(__file__).parent / "data"
    for path in write(count, target):
        print(path)
