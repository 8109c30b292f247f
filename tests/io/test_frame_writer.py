"""Writing a result frame by frame gives the document of writing it at once."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from clvcli.errors import OutputError
from clvcli.io.writers import FrameWriter, atomic_output, encode, in_chunks


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "customer_id": [f"=c{i}" if i % 7 == 0 else f"c,{i}" for i in range(rows)],
            "first_purchase": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 300, rows), unit="D"),
            "orders": rng.integers(1, 9, rows),
            "total_spend": np.round(rng.gamma(2.0, 30.0, rows), 3),
            "p_alive": np.where(rng.random(rows) < 0.1, np.nan, rng.random(rows)),
        }
    )


def _pieces(frame: pd.DataFrame, size: int) -> bytes:
    sink = io.BytesIO()
    writer = FrameWriter(sink, "csv", ["total_spend"])
    for part in in_chunks(frame, size):
        writer.write(part)
    writer.close()
    return sink.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "jsonl"])
def test_text_formats_do_not_depend_on_the_pieces(fmt: str) -> None:
    frame = _frame(23)
    whole = encode(frame, fmt, ["total_spend"])
    for size in (1, 5, 22, 23):
        sink = io.BytesIO()
        writer = FrameWriter(sink, fmt, ["total_spend"])
        for part in in_chunks(frame, size):
            writer.write(part)
        writer.close()
        assert sink.getvalue() == whole, (fmt, size)


def test_json_pieces_make_the_array_of_all_rows() -> None:
    frame = _frame(9)
    rows = json.loads(encode(frame, "json", ["total_spend"]))
    assert len(rows) == 9
    assert rows[0]["customer_id"] == "=c0"  # JSON is raw: no formula guard
    assert encode(frame.iloc[:0], "json") == b"[]\n"


def test_csv_header_once_and_formula_guard_in_every_piece() -> None:
    text = _pieces(_frame(15), 4).decode()
    lines = text.splitlines()
    assert lines[0] == "customer_id,first_purchase,orders,total_spend,p_alive"
    assert sum(line.startswith("customer_id") for line in lines) == 1
    assert lines[1].startswith("'=c0,") and lines[8].startswith("'=c7,")
    assert lines[2].startswith('"c,1",')


def test_parquet_pieces_are_row_groups_of_the_same_table() -> None:
    frame = _frame(10)
    sink = io.BytesIO()
    writer = FrameWriter(sink, "parquet", metadata={"command": "compute"})
    for part in in_chunks(frame, 4):
        writer.write(part)
    writer.close()
    parquet = pq.ParquetFile(io.BytesIO(sink.getvalue()))
    assert parquet.metadata.num_row_groups == 3
    assert b"clv" in parquet.schema_arrow.metadata
    back = parquet.read().to_pandas()
    assert back["customer_id"].tolist() == frame["customer_id"].tolist()
    np.testing.assert_array_equal(back["total_spend"], frame["total_spend"])


def test_parquet_compresses_money_lightly_and_the_rest_hard() -> None:
    """Money (noise to zstd) gets snappy; ids, dates, counts get zstd; full-precision
    rates, noise to snappy too, are stored as they are."""
    frame = _frame(5000)
    frame["recency"] = np.arange(5000) % 12 / 3.0  # few values: zstd and a dictionary
    sink = io.BytesIO()
    writer = FrameWriter(sink, "parquet")
    writer.write(frame)
    writer.close()
    group = pq.ParquetFile(io.BytesIO(sink.getvalue())).metadata.row_group(0)
    codecs = {group.column(i).path_in_schema: group.column(i).compression for i in range(6)}
    assert codecs == {
        "customer_id": "ZSTD",
        "first_purchase": "ZSTD",
        "orders": "ZSTD",
        "total_spend": "SNAPPY",
        "p_alive": "UNCOMPRESSED",
        "recency": "ZSTD",
    }


def test_parquet_float_codec_follows_what_snappy_saves_on_a_sample() -> None:
    rng = np.random.default_rng(5)
    rows = 200_000  # past the sample size: the sample is every third row
    frame = pd.DataFrame(
        {
            "cents": np.round(rng.gamma(2.0, 30.0, rows), 2),  # 20,000 prices: many repeats
            "noise": rng.random(rows),
            "empty": np.full(rows, np.nan),
        }
    )
    sink = io.BytesIO()
    writer = FrameWriter(sink, "parquet")
    writer.write(frame)
    writer.close()
    parquet = pq.ParquetFile(io.BytesIO(sink.getvalue()))
    group = parquet.metadata.row_group(0)
    codecs = {group.column(i).path_in_schema: group.column(i).compression for i in range(3)}
    assert codecs["cents"] == "SNAPPY"
    assert codecs["noise"] == "UNCOMPRESSED"
    assert codecs["empty"] == "ZSTD"  # one value, null: a dictionary
    pd.testing.assert_frame_equal(parquet.read().to_pandas(), frame)


def test_parquet_piece_with_an_empty_column_keeps_the_first_types() -> None:
    first = pd.DataFrame({"customer_id": ["a"], "channel": ["web"], "orders": [1]})
    later = pd.DataFrame({"customer_id": ["b"], "channel": [None], "orders": [2]})
    sink = io.BytesIO()
    writer = FrameWriter(sink, "parquet")
    writer.write(first)
    writer.write(later)
    writer.close()
    table = pq.read_table(io.BytesIO(sink.getvalue()))
    assert table.column("channel").to_pylist() == ["web", None]


def test_an_empty_result_is_a_header_or_an_empty_table() -> None:
    empty = _frame(0)
    assert encode(empty, "csv") == b"customer_id,first_purchase,orders,total_spend,p_alive\n"
    assert encode(empty, "jsonl") == b""
    table = pq.read_table(io.BytesIO(encode(empty, "parquet")))
    assert table.num_rows == 0 and table.column_names == list(empty.columns)


def test_an_error_while_streaming_leaves_no_file(tmp_path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_output(str(target)) as handle:
        handle.write(b"customer_id\n")
        raise RuntimeError("the input broke half way")
    assert list(tmp_path.iterdir()) == []


def test_streamed_file_appears_whole(tmp_path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with atomic_output(str(target)) as handle:
        handle.write(_pieces(_frame(3), 2))
        assert target.read_text() == "old\n"  # not replaced until the end
    assert target.read_text().startswith("customer_id,")


def test_unknown_format_is_refused() -> None:
    from clvcli.errors import UsageError

    with pytest.raises(UsageError):
        FrameWriter(io.BytesIO(), "xml")


def test_write_failure_is_an_output_error(tmp_path, monkeypatch) -> None:
    import os

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with (
        pytest.raises(OutputError, match="No space left"),
        atomic_output(str(tmp_path / "x.csv")) as handle,
    ):
        handle.write(b"a\n")
    assert list(tmp_path.iterdir()) == []
