"""Deterministic transaction logs for benchmarks, simulated from known models.

What is simulated, with clv's month (365.25 / 12 days) as the model time unit. Each
customer makes a first purchase on a whole day drawn uniformly from the first three
quarters of a 104-month window (2018-01-01 to AS_OF, 2026-09-02) and is observed to
AS_OF: T months. Purchases follow BG/NBD (Fader, Hardie and Lee 2005) with CDNOW's
parameters read as months: the customer buys at a Poisson rate lambda ~ Gamma(r,
alpha) and, after each repeat purchase, drops out with probability p ~ Beta(a, b).
Drawn exactly, without caps: the purchases it would make in (0, T] if it never
dropped out are Poisson(lambda T) at uniform times, and it makes the first
min(that, Geometric(p)) of them. Each purchase's amount follows Gamma-Gamma:
z ~ Gamma(p, nu) with nu ~ Gamma(q, gamma) per customer, rounded to cents. About 2.6
transactions per customer.

Why the log clv reads is faithful to these parameters at day resolution (run.py
passes --as-of AS_OF and --period month). First purchases on whole days and the
as-of at the window's end make T exact; later purchases are rounded to the nearest
day, so recency is off by at most half a day (0.016 months), without bias. What
remains is two purchases of a customer on one day, which clv counts as one occasion
of their summed amount: the heaviest buyers lose purchases. With weeks as the unit
(and a 104-week window) 1.4% of repeat purchases collapse so and, at 10M
transactions, r, alpha, p and v land 4 to 25 standard errors off; with months 0.34%
do and alpha is still about 6 standard errors off. So a purchase that rounds onto a
day its customer already bought on is recorded on the next free day: each customer's
count of purchase days is the model's, and each day is one purchase with one
Gamma-Gamma amount. The 0.34% of repeat purchases moved (by one day, rarely two,
against months between purchases) shift the BG/NBD estimates by 0.03 standard errors
at most at 10M, against a fit on the exact simulated times; one purchase in 8
million is moved past AS_OF and dropped. Knowing the parameters lets benchmarks
check that speed never costs correctness.

Customer ids come in the two forms users' logs have: text (`C00001234`, as shops
export them) and integers (as warehouses do); engines group the two differently, so
the bench times both.

Usage: python bench/generate.py ROWS OUT_DIR [--ids text|int] [--parts N]
  writes tx_ROWS.csv and tx_ROWS.parquet (integer ids: tx_ROWS_int.*); with --parts N,
  a folder tx_ROWS_parts/ of N Parquet files of ROWS / N transactions each, simulated
  with seeds of their own and customers of their own.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from clvcli.contract import days_per

BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # CDNOW's, per PERIOD
GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}
PERIOD = "month"
WINDOW_DAYS = round(104 * days_per(PERIOD))
START = np.datetime64("2018-01-01", "D")
AS_OF = START + WINDOW_DAYS  # 2026-09-02, the last day of the window


def simulate(rows: int, seed: int = 7, *, ids: str = "text", first_id: int = 0) -> pa.Table:
    """About ``rows`` transactions (customer_id, date, amount), sorted by date; the
    customers are numbered from ``first_id``."""
    rng = np.random.default_rng(seed)
    # Simulate more customers than needed (about 2.6 transactions each) and keep
    # the first ones whose transactions add up to ``rows``.
    customers = max(rows // 2, 1)
    lam = rng.gamma(BGNBD["r"], 1.0 / BGNBD["alpha"], customers)
    drop = rng.beta(BGNBD["a"], BGNBD["b"], customers)
    birth = rng.integers(0, WINDOW_DAYS * 3 // 4, customers)
    span = WINDOW_DAYS - birth
    events = rng.poisson(lam * span / days_per(PERIOD))
    made = np.minimum(events, rng.geometric(drop))
    owner = np.repeat(np.arange(customers), made)
    start = np.cumsum(made) - made
    rank = np.arange(len(owner)) - start[owner]
    # The first ``made`` of ``events`` sorted uniforms are cumulative sums of
    # exponential spacings over the sum of all events + 1 spacings; those not drawn
    # add up to a Gamma(events - made + 1).
    steps = np.cumsum(rng.exponential(1.0, len(owner)))
    steps -= np.r_[0.0, steps][start][owner]
    total = np.r_[0.0, steps][start + made] * (made > 0)
    total += rng.gamma(events - made + 1.0)
    days = birth[owner] + np.rint(steps / total[owner] * span[owner]).astype(np.int64)
    # One purchase per customer and day: day_k = max(rounded_k, day_(k-1) + 1, birth + 1),
    # a running maximum of rounded_k - k per customer (offset to keep customers apart).
    offset = owner.astype(np.int64) << 32
    floor = np.maximum(days - rank, birth[owner] + 1) + offset
    days = np.maximum.accumulate(floor) - offset + rank
    inside = days <= WINDOW_DAYS  # pushed past AS_OF: 1 of 8 million at 10M
    owner = np.concatenate([np.arange(customers), owner[inside]])
    days = np.concatenate([birth, days[inside]])
    per_customer = np.bincount(owner, minlength=customers)
    wanted = np.searchsorted(np.cumsum(per_customer), rows, side="right")
    kept = owner < max(wanted, 1)
    owner, days = owner[kept], days[kept]
    nu = rng.gamma(GAMMA_GAMMA["q"], 1.0 / GAMMA_GAMMA["gamma"], customers)
    amount = np.round(rng.gamma(GAMMA_GAMMA["p"], 1.0 / nu[owner]), 2)
    order = np.lexsort((owner, days))
    number = owner[order].astype(np.int64) + first_id
    if ids == "int":
        customer = pa.array(number + 10_000_000, pa.int64())
    else:
        text = np.char.add("C", np.char.zfill(number.astype(str), 8))
        customer = pa.array(text.astype(object), pa.string())
    return pa.table(
        {
            "customer_id": customer,
            "date": pa.array(START + days[order].astype("timedelta64[D]"), pa.date32()),
            "amount": pa.array(amount[order], pa.float64()),
        }
    )


def write(rows: int, out_dir: Path, ids: str = "text") -> tuple[Path, Path]:
    """Write the CSV and Parquet logs of ``rows`` transactions, unless present."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"tx_{rows}" if ids == "text" else f"tx_{rows}_{ids}"
    csv_path = out_dir / f"{stem}.csv"
    parquet_path = out_dir / f"{stem}.parquet"
    if not (csv_path.exists() and parquet_path.exists()):
        table = simulate(rows, ids=ids)
        pacsv.write_csv(table, csv_path, write_options=pacsv.WriteOptions(quoting_style="none"))
        pq.write_table(table, parquet_path, compression="zstd")
    return csv_path, parquet_path


def write_parts(rows: int, parts: int, out_dir: Path) -> Path:
    """A folder of ``parts`` Parquet files, ``rows`` transactions in all: one log
    too large to simulate at once, each part a simulation of its own customers."""
    folder = out_dir / f"tx_{rows}_parts"
    folder.mkdir(parents=True, exist_ok=True)
    each = rows // parts
    for part in range(parts):
        path = folder / f"part_{part:03d}.parquet"
        if not path.exists():
            table = simulate(each, seed=7 + part, first_id=part * each)
            pq.write_table(table, path.with_suffix(".tmp"), compression="zstd")
            path.with_suffix(".tmp").rename(path)
    return folder


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write simulated transaction logs.")
    parser.add_argument("rows", type=int, nargs="?", default=1_000_000)
    parser.add_argument("out_dir", type=Path, nargs="?", default=Path(__file__).parent / "data")
    parser.add_argument("--ids", choices=("text", "int"), default="text")
    parser.add_argument("--parts", type=int, default=0)
    args = parser.parse_args()
    if args.parts:
        print(write_parts(args.rows, args.parts, args.out_dir))
    else:
        for path in write(args.rows, args.out_dir, args.ids):
            print(path)
