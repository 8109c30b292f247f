"""Time each model's fit and the scoring of every customer on a large log.

Prints seconds per phase: read, summary, then for each purchase model the fit (on
distinct rows) and the scoring of all customers (P(alive), 12-month expected
purchases and CLV with Gamma-Gamma spend), and the Gamma-Gamma fit. Figures, not
pass/fail.

Usage: python bench/models.py FILE [--period month]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from clvcli.core.compute import model_history
from clvcli.core.summary import customer_table
from clvcli.core.value import ValueSettings, fit_purchase_model, fit_spend_model, score
from clvcli.io.readers import read_transactions
from clvcli.models import PURCHASE_MODELS, DistinctRows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--period", default="month")
    args = parser.parse_args()
    clock = time.perf_counter()
    transactions = read_transactions(args.path)
    print(f"read        {time.perf_counter() - clock:6.2f} s  {transactions.num_rows:,} rows")
    clock = time.perf_counter()
    table = customer_table(transactions, period=args.period)
    frame = table.frame
    print(f"summary     {time.perf_counter() - clock:6.2f} s  {len(frame):,} customers")
    frequency = frame["frequency"].to_numpy(np.float64)
    monetary = frame["monetary_value"].to_numpy(np.float64)
    clock = time.perf_counter()
    spend, _ = fit_spend_model(frequency, monetary)
    print(f"gamma-gamma {time.perf_counter() - clock:6.2f} s  fit")
    for name in PURCHASE_MODELS:
        clock = time.perf_counter()
        history = model_history(name, transactions, table)
        rows = DistinctRows.of(*history)
        prepared = time.perf_counter() - clock
        clock = time.perf_counter()
        model = fit_purchase_model(name, *history)
        fitted = time.perf_counter() - clock
        clock = time.perf_counter()
        score(model, spend, history, frequency, monetary, ValueSettings(period=args.period))
        scored = time.perf_counter() - clock
        print(
            f"{name:<11} {fitted:6.2f} s  fit on {len(rows.weight):,} distinct rows "
            f"(+{prepared:.2f} s to prepare); score {scored:.2f} s"
        )


if __name__ == "__main__":
    main()
