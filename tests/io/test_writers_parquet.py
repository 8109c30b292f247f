"""Parquet output: the same bytes every time, readable everywhere, dictionaries where
they pay."""

from __future__ import annotations

import io
import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from clvcli.io.writers import encode


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 200_000
    first = np.datetime64("2023-01-01") + rng.integers(0, 600, n).astype("timedelta64[D]")
    recency = rng.integers(0, 90, n) / 7.0
    spend = np.round(rng.gamma(2.0, 20.0, n), 2)
    p_alive = rng.uniform(0, 1, n)
    p_alive[::13] = np.nan
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:08d}" for i in range(n)],
            "first_purchase": pd.to_datetime(first),
            "orders": rng.integers(1, 30, n),
            "total_spend": spend,
            "recency": recency,
            "T": recency + rng.integers(0, 400, n) / 7.0,
            "p_alive": p_alive,
            "stage": np.array(["new", "repeat", "loyal", "churned"])[rng.integers(0, 4, n)],
        }
    )


def _encodings(data: bytes) -> dict[str, set[str]]:
    meta = pq.ParquetFile(io.BytesIO(data)).metadata
    return {
        meta.schema.column(i).name: set(meta.row_group(0).column(i).encodings)
        for i in range(meta.num_columns)
    }


def test_same_bytes_every_time(frame):
    assert encode(frame, "parquet", metadata={"run": 1}) == encode(
        frame, "parquet", metadata={"run": 1}
    )


def test_read_back_by_pyarrow_pandas_and_duckdb(frame, tmp_path):
    data = encode(frame, "parquet", metadata={"model": "bgnbd"})
    path = tmp_path / "out.parquet"
    path.write_bytes(data)
    assert json.loads(pq.read_schema(path).metadata[b"clv"]) == {"model": "bgnbd"}
    back = pd.read_parquet(path)
    assert list(back.columns) == list(frame.columns)
    for column in ("orders", "total_spend", "recency", "T", "p_alive"):
        assert np.array_equal(back[column], frame[column], equal_nan=True)
    assert back["stage"].tolist() == frame["stage"].tolist()
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    dates = back["first_purchase"].astype("datetime64[s]")
    assert (dates.to_numpy() == frame["first_purchase"].to_numpy()).all()
    connection = duckdb.connect()
    total, times, missing = connection.execute(
        f"select sum(total_spend), sum(recency + T), count(*) - count(p_alive) "
        f"from read_parquet('{path}')"
    ).fetchone()
    assert total == pytest.approx(frame["total_spend"].sum(), rel=1e-12)
    assert times == pytest.approx((frame["recency"] + frame["T"]).sum(), rel=1e-12)
    assert missing == frame["p_alive"].isna().sum()


def test_dictionaries_for_repeating_columns_only(frame):
    encodings = _encodings(encode(frame, "parquet"))
    for column in ("recency", "T", "orders", "stage", "first_purchase"):
        assert "RLE_DICTIONARY" in encodings[column], column
    for column in ("customer_id", "total_spend", "p_alive"):
        assert "RLE_DICTIONARY" not in encodings[column], column


def test_empty_and_tiny_frames(frame):
    for part in (frame.iloc[:0], frame.iloc[:3]):
        back = pd.read_parquet(io.BytesIO(encode(part, "parquet")))
        assert len(back) == len(part)


def test_nan_is_null_and_a_column_without_nan_has_no_nulls():
    frame = pd.DataFrame(
        {
            "gaps": [1.5, np.nan, -0.0, np.inf],
            "whole": [1.5, 2.0, -0.0, np.inf],
            "count": np.array([1, 2, 3, 4], dtype=np.int64),
        }
    )
    table = pq.read_table(io.BytesIO(encode(frame, "parquet")))
    assert table.column("gaps").null_count == 1
    assert table.column("gaps").to_pylist() == [1.5, None, -0.0, np.inf]
    assert table.column("whole").null_count == 0
    assert np.signbit(table.column("whole").to_numpy()).tolist() == [False, False, True, False]
    assert table.column("count").to_pylist() == [1, 2, 3, 4]
