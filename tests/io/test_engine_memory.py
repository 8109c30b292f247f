"""--engine duckdb in bounded memory: streamed batches, skipped normalisation, same answers.

DuckDB's result arrives in record batches that become numpy columns one by one;
ids already in normal form skip the per-row trim and digit translation. Each test
checks an answer against the one the whole-table or default path gives.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clvcli.cli.main import main
from clvcli.engines import duckdb as engine
from clvcli.io import results
from clvcli.io.readers import ReadSettings
from clvcli.io.results import summary_columns, summary_from_arrow, summary_table

SAMPLE = Path(__file__).parents[2] / "sample_data"
GIVEN = {"customer": None, "date": None, "amount": None, "channel": None}


def _summary(ids: list[str]) -> pa.Table:
    n = len(ids)
    return pa.table(
        {
            "customer_id": ids,
            "frequency": np.arange(n, dtype=np.int64) % 3,
            "recency": np.arange(n, dtype=np.float64) % 3,
            "T": np.full(n, 5.0),
            "monetary_value": np.linspace(1, 9, n),
            "first_purchase": pa.array(
                np.datetime64("2024-01-01") + np.arange(n).astype("timedelta64[D]"), pa.date32()
            ),
            "orders": np.arange(n, dtype=np.int64) % 3 + 1,
            "total_spend": np.linspace(2, 20, n),
        }
    )


def _in_batches(table: pa.Table, size: int) -> list[pa.RecordBatch]:
    return [
        b for start in range(0, table.num_rows, size) for b in table.slice(start, size).to_batches()
    ]


@pytest.mark.parametrize(
    "ids", [["A", "B", "C", "D", "E", "F", "G"], ["G", "é", "A", "10", "9", "Z", "a"]]
)
def test_batches_and_blocks_give_the_whole_tables_summary(monkeypatch, ids):
    table = _summary(ids)
    whole = summary_from_arrow(table, "s", period="week", as_of=None)
    monkeypatch.setattr(results._Column, "BLOCK_ROWS", 3)  # blocks end inside batches
    columns = summary_columns(table.schema, _in_batches(table, 2), "s")
    assert columns.ids.num_chunks > 1
    streamed = summary_table(columns, "s", period="week", as_of=None)
    pd.testing.assert_frame_equal(streamed.frame, whole.frame)
    assert streamed.as_of == whole.as_of
    assert list(whole.frame["customer_id"]) == sorted(ids)  # code-point order
    assert whole.frame["first_purchase"].dtype == "datetime64[s]"
    assert whole.frame["orders"].dtype == np.int64
    # Rows follow their ids: each customer's dates and counts come with it.
    by_id = table.to_pandas().set_index("customer_id").loc[list(whole.frame["customer_id"])]
    first = pd.to_datetime(by_id["first_purchase"]).to_numpy()
    assert (whole.frame["first_purchase"].to_numpy() == first).all()
    last = first + (by_id["recency"].to_numpy() * 7).astype("timedelta64[D]")
    assert (whole.frame["last_purchase"].to_numpy() == last).all()
    assert list(whole.frame["frequency"]) == list(by_id["frequency"])
    end = first.max() + np.timedelta64(35, "D")
    assert whole.as_of == end.astype("datetime64[D]").astype(np.int64)


def test_an_order_broken_only_between_batches_is_still_sorted():
    table = _summary(["C", "D", "A", "B"])
    columns = summary_columns(table.schema, _in_batches(table, 2), "s")
    frame = summary_table(columns, "s", period="day", as_of=None).frame
    assert list(frame["customer_id"]) == ["A", "B", "C", "D"]
    assert list(frame["monetary_value"]) == list(
        table.column("monetary_value").to_numpy()[[2, 3, 0, 1]]
    )


def test_no_rows_and_blank_ids_are_still_clear_errors():
    from clvcli.errors import InputError

    empty = _summary([]).slice(0, 0)
    with pytest.raises(InputError, match="no data rows"):
        summary_from_arrow(empty, "s", period="day", as_of=None)
    with pytest.raises(InputError, match="row 2, column 'customer_id'"):
        summary_from_arrow(_summary(["A", "  ", "C"]), "s", period="day", as_of=None)


def test_a_summary_row_without_its_first_purchase_is_a_clear_error():
    from clvcli.errors import InputError

    table = _summary(["A", "B"])
    dates = pa.array([table.column("first_purchase")[0].as_py(), None], pa.date32())
    table = table.set_column(
        table.schema.get_field_index("first_purchase"), "first_purchase", dates
    )
    with pytest.raises(InputError, match="row 2, column 'first_purchase': no date"):
        summary_from_arrow(table, "s", period="day", as_of=None)


def _run(*args: str) -> int:
    return main([str(a) for a in args])


def test_ids_needing_normalisation_still_get_it(tmp_path):
    # ' C001 ' only refunds on a day 'C001' buys: netted as one customer, as the
    # default engine does, though the raw ids differ.
    log = pa.table(
        {
            "customer_id": ["C001", " C001 ", "C۰۰۲", "C002", "C003"],
            "date": pa.array(
                np.array(
                    ["2024-01-01", "2024-01-01", "2024-01-02", "2024-02-01", "2024-03-01"],
                    dtype="datetime64[D]",
                ),
                pa.date32(),
            ),
            "amount": [10.0, -4.0, 3.0, 5.0, 7.0],
        }
    )
    path = tmp_path / "tx.parquet"
    pq.write_table(log, path)
    for engine_name, out in (("arrow", "a.parquet"), ("duckdb", "d.parquet")):
        code = _run("summary", path, "--engine", engine_name, "-o", tmp_path / out, "-q")
        assert code == 0
    default = pq.read_table(tmp_path / "a.parquet").to_pandas()
    ours = pq.read_table(tmp_path / "d.parquet").to_pandas()
    pd.testing.assert_frame_equal(ours, default)
    assert list(ours["customer_id"]) == ["C001", "C002", "C003"]
    assert list(ours["total_spend"]) == [6.0, 8.0, 7.0]
    assert list(ours["orders"]) == [1, 2, 1]


def test_the_engine_spills_to_a_temporary_folder_not_the_working_one(tmp_path):
    connection = duckdb.connect()
    try:
        engine._configure(connection, str(tmp_path / "it's"))
        setting = connection.execute("SELECT current_setting('temp_directory')").fetchall()
        assert setting[0][0] == str(tmp_path / "it's")
    finally:
        connection.close()


def test_a_read_only_working_folder_is_fine(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    monkeypatch.chdir(folder)
    clean = tmp_path / "shop.parquet"
    columns = ["customer_id", "order_date", "amount"]
    pq.write_table(pq.read_table(SAMPLE / "shop.parquet", columns=columns), clean)
    try:
        log = engine.parquet_log(str(clean), ReadSettings())
        assert log is not None
        with engine.log_pieces(log, period="week", as_of=None, wants_litt=None) as summary:
            customers = summary.customers
    finally:
        folder.chmod(0o755)
    assert customers > 0
    assert not any(folder.iterdir())


def test_every_duckdb_session_is_bounded_and_spills_to_a_fresh_folder(tmp_path):
    with engine.duckdb_session(str(tmp_path)) as connection:
        limit, folder = connection.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
        assert Path(folder).is_dir() and Path(folder).name.startswith("clv-duckdb-")
    assert limit.replace(" ", "").upper().startswith(("1GB", "953.6MIB", "1.0GIB"))
    assert not Path(folder).exists()
