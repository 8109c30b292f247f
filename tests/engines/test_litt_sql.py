"""The summary SQL's litt (sum of the logs of the times between purchase days), which
the BG/CNBD-k and MBG/CNBD-k fits need, against the reader's
:func:`clvcli.core.summary.log_inter_purchase_times` on a hand-made log.

Customer A buys on Jan 1 (two rows, one day), on Jan 4 a refund nets the day below
zero (no purchase), buys on Jan 10 and Jan 24: gaps of 9 and 14 days. B buys once.
C buys on Jan 1, its Jan 5 is a purchase netted to zero by a same-day refund (no
purchase), buys on Jan 20: a gap of 19 days. D buys on Jan 2 and refunds on Jan 3:
one purchase day. E's only day nets to zero: no purchase, no row.
"""

from __future__ import annotations

import io
import math

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlglot

from clvcli.contract import LITT_COLUMN, days_per
from clvcli.core.summary import customer_table
from clvcli.engines.sql import DIALECTS, emitted_sql, summary_sql
from clvcli.io.readers import read_transactions

LOG = """customer_id,date,amount
A,2024-01-01,5
A,2024-01-01,3
A,2024-01-04,-10
A,2024-01-10,7
A,2024-01-24,2
B,2024-01-02,4
C,2024-01-01,2
C,2024-01-05,6
C,2024-01-05,-6
C,2024-01-20,6
D,2024-01-02,3
D,2024-01-03,-3
E,2024-01-08,5
E,2024-01-08,-5
"""


def sql_summary(period: str, **options) -> pd.DataFrame:
    frame = pd.read_csv(io.StringIO(LOG), parse_dates=["date"])
    connection = duckdb.connect()
    connection.register("sales", frame)
    sql = summary_sql(table="sales", period=period, **options)
    return connection.execute(sql).df().set_index("customer_id")


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_sql_litt_is_the_readers(period):
    ours = customer_table(read_transactions("-", stdin=io.BytesIO(LOG.encode())), period=period)
    reader = ours.frame.set_index("customer_id")[LITT_COLUMN]
    theirs = sql_summary(period, with_litt=True)[LITT_COLUMN]
    assert list(theirs.index) == list(reader.index) == ["A", "B", "C", "D"]
    np.testing.assert_allclose(theirs.to_numpy(), reader.to_numpy(), rtol=1e-12, atol=1e-12)
    unit = days_per(period)
    hand = [math.log(9 / unit) + math.log(14 / unit), 0.0, math.log(19 / unit), 0.0]
    np.testing.assert_allclose(theirs.to_numpy(), hand, rtol=1e-12, atol=1e-12)


def test_litt_changes_no_other_column():
    plain = sql_summary("week")
    with_litt = sql_summary("week", with_litt=True)
    assert LITT_COLUMN not in plain
    pd.testing.assert_frame_equal(with_litt.drop(columns=LITT_COLUMN), plain)


def test_integer_ids_as_they_are_join_their_litt():
    frame = pd.read_csv(io.StringIO(LOG), parse_dates=["date"])
    frame["customer_id"] = frame["customer_id"].map(lambda c: ord(c) * 1000)
    connection = duckdb.connect()
    connection.register("sales", frame)
    sql = summary_sql(table="sales", period="day", normalise_ids=False, with_litt=True)
    found = connection.execute(sql).df()
    expected = [math.log(9) + math.log(14), 0.0, math.log(19), 0.0]
    np.testing.assert_allclose(found[LITT_COLUMN].to_numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_litt_transpiles_to_every_dialect(dialect):
    sql = emitted_sql(dialect=dialect, table="sales", period="week", with_litt=True)
    assert "LAG(" in sql.upper() and "LN(" in sql.upper()
    sqlglot.parse_one(sql, read=dialect)  # sqlglot reads back what it wrote


def test_emit_sql_leaves_litt_out(clv):
    result = clv("summary", "--emit-sql", "--table", "sales")
    assert result.exit_code == 0, result.stderr
    assert "LAG(" not in result.stdout.upper() and LITT_COLUMN not in result.stdout
