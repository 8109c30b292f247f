"""The floor of one clv run: the current DuckDB reading a transaction file and aggregating per
customer (first and last day, purchase days, spend), two levels of GROUP BY, both cores.
Nothing that reads the file and groups it can do the pass faster on the same machine, so clv's
end-to-end time is tracked as a ratio to this, measured in the same run on the same file.
usage: python floor.py FILE.parquet|FILE.csv   (prints seconds, customers, purchase days)
Columns: customer_id, date, amount (the generated bench logs)."""

import sys
import time

t0 = time.perf_counter()
import duckdb  # noqa: E402

path = sys.argv[1]
src = (
    f"read_parquet('{path}')"
    if path.endswith(".parquet")
    else f"read_csv('{path}', header=true, columns={{'customer_id':'VARCHAR','date':'DATE','amount':'DOUBLE'}})"
)
con = duckdb.connect()
con.execute("SET threads=2")
n = con.execute(
    f"""SELECT count(*), sum(days) FROM (
      SELECT customer_id, min(date) AS first, max(date) AS last, count(*) AS days, sum(s) AS spend
      FROM (SELECT customer_id, date, sum(amount) AS s FROM {src} GROUP BY customer_id, date)
      GROUP BY customer_id)"""
).fetchone()
print(f"{time.perf_counter() - t0:.3f} s, {n[0]} customers, {n[1]} purchase days")
