"""Computing a summary piece by piece gives the table of computing it whole."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from clvcli.core.compute import ComputeSettings, compute_from_table, compute_in_pieces
from clvcli.core.value import fit_purchase_rows, weighted_correlation
from clvcli.engines import duckdb as engine
from clvcli.engines.duckdb import SummaryPieces
from clvcli.errors import TooLittleDataError
from clvcli.io.readers import ReadSettings
from clvcli.models import DistinctRows
from tests.conftest import SAMPLE

WEEK = {"period": "week", "as_of": None}
SHOP: list[str] = []


@pytest.fixture(autouse=True, scope="module")
def clean_shop(tmp_path_factory) -> None:
    """The sample shop's log as the three typed columns DuckDB takes as they are."""
    import pyarrow.parquet as pq

    shop = pq.read_table(SAMPLE / "shop.parquet", columns=["customer_id", "order_date", "amount"])
    path = tmp_path_factory.mktemp("shop") / "shop.parquet"
    pq.write_table(shop, path)
    SHOP[:] = [str(path)]


def _pieces(path: os.PathLike[str] | str | None = None) -> SummaryPieces:
    """The summary DuckDB computes of a clean Parquet log, as compute gets it."""
    log = engine.parquet_log(str(path or SHOP[0]), ReadSettings())
    assert log is not None
    return engine.log_pieces(log, **WEEK)


def _whole_table():
    with _pieces() as summary:
        summary.piece_rows = summary.customers
        return next(summary.tables())


def _whole(settings: ComputeSettings) -> pd.DataFrame:
    return compute_from_table(_whole_table(), settings).frame


def _in_pieces(settings: ComputeSettings, rows: int) -> tuple[pd.DataFrame, list[str]]:
    with _pieces() as summary:
        summary.piece_rows = rows
        values = compute_in_pieces(summary, settings)
        pieces = list(values.pieces)
    assert all(len(piece) <= rows for piece in pieces)
    return pd.concat(pieces, ignore_index=True), values.warnings


@pytest.mark.parametrize("model", ["bgnbd", "pnbd", "mbgnbd", "none"])
def test_pieces_give_the_whole_table_to_the_last_digit(model: str) -> None:
    settings = ComputeSettings(period="week", model=model, margin=0.3)
    whole = _whole(settings)
    pieces, _ = _in_pieces(settings, 37)
    pd.testing.assert_frame_equal(pieces, whole, check_exact=True)
    if model != "none":
        assert whole["p_alive"].notna().all()


def test_saved_parameters_are_used_for_every_piece() -> None:
    fitted = compute_from_table(_whole_table(), ComputeSettings(period="week"))
    saved = {
        "model": "bgnbd",
        "period": "week",
        "params": {"r": 0.5, "alpha": 9.0, "a": 0.6, "b": 2.5},
        "spend_model": {"params": fitted.spend_model.fitted()},
    }
    settings = ComputeSettings(period="week", saved=saved)
    pieces, _ = _in_pieces(settings, 50)
    pd.testing.assert_frame_equal(pieces, _whole(settings), check_exact=True)


def test_too_little_data_leaves_every_piece_without_model_columns(tmp_path) -> None:
    log = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(12)] + ["c0"],
            "date": pd.to_datetime(["2024-01-01"] * 12 + ["2024-02-01"]),
            "amount": 10.0,
        }
    )
    path = tmp_path / "few.parquet"
    log.to_parquet(path, index=False)
    with _pieces(path) as summary:
        summary.piece_rows = 5
        values = compute_in_pieces(summary, ComputeSettings(period="week"))
        frame = pd.concat(list(values.pieces), ignore_index=True)
    assert len(frame) == 12
    assert frame["p_alive"].isna().all() and frame["predicted_clv"].isna().all()
    assert any("too little data" in warning for warning in values.warnings)
    assert values.purchase_model is None


def test_the_temporary_summary_is_removed(tmp_path, monkeypatch) -> None:
    """A log past IN_MEMORY_ROWS keeps its summary in a file, gone after use."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    monkeypatch.setattr(engine, "IN_MEMORY_ROWS", 0)
    with _pieces() as summary:
        assert summary.table is None and os.path.exists(str(summary.file))
        assert summary.customers == sum(len(t.frame) for t in summary.tables())
    assert list(tmp_path.iterdir()) == []


def test_grouped_rows_count_every_customer() -> None:
    with _pieces() as summary:
        x, t_x, T, count = summary.history()
        frequency, spend, repeat_count = summary.spend()
        whole = pd.concat([t.frame for t in summary.tables()])
    assert count.sum() == len(whole) == summary.customers
    assert len(np.unique(np.c_[x, t_x, T], axis=0)) == len(x)
    repeaters = whole[(whole["frequency"] > 0) & (whole["monetary_value"] > 0)]
    assert repeat_count.sum() == len(repeaters)
    assert np.all(frequency > 0) and np.all(spend > 0)


def test_weighted_correlation_is_that_of_the_customers() -> None:
    x = np.array([1.0, 2.0, 3.0, 5.0])
    y = np.array([10.0, 12.0, 9.0, 30.0])
    weight = np.array([3.0, 1.0, 2.0, 4.0])
    expanded = np.corrcoef(np.repeat(x, weight.astype(int)), np.repeat(y, weight.astype(int)))
    assert weighted_correlation(x, y, weight) == pytest.approx(expanded[0, 1], rel=1e-12)
    assert weighted_correlation(x, np.full(4, 7.0), weight) == 0.0
    assert weighted_correlation(x[:1], y[:1], np.array([2.0])) == 0.0


def test_fitting_grouped_rows_refuses_too_few_repeat_buyers() -> None:
    rows = DistinctRows(
        (np.array([0.0, 1.0]), np.array([0.0, 2.0]), np.array([5.0, 5.0])),
        np.array([100.0, 4.0]),
        np.zeros(0, dtype=np.int64),
    )
    with pytest.raises(TooLittleDataError, match="104 customers, 4 with a repeat"):
        fit_purchase_rows("bgnbd", rows)


def _shop_transactions():
    from clvcli.io.readers import read_transactions

    return read_transactions(str(SAMPLE / "shop.csv"))


@pytest.mark.parametrize(
    "settings",
    [
        ComputeSettings(period="week"),
        ComputeSettings(period="week", margin=0.3, horizon=None),
        ComputeSettings(period="week", model="pnbd", horizon=None),
        ComputeSettings(period="week", model="bgbb"),
        ComputeSettings(period="week", model="none"),
    ],
    ids=["bgnbd", "lifetime", "pnbd-lifetime", "bgbb", "none"],
)
def test_a_table_made_in_pieces_is_the_table_made_whole(settings: ComputeSettings) -> None:
    """compute_table_in_pieces: one fit, then each slice of customers spread and staged."""
    from clvcli.core.compute import compute_table_in_pieces, transactions_table

    log = _shop_transactions()
    whole = compute_from_table(transactions_table(log, settings), settings, log)
    log = _shop_transactions()
    values = compute_table_in_pieces(transactions_table(log, settings), settings, log, rows=23)
    pieces = list(values.pieces)
    assert [len(piece) for piece in pieces[:-1]] == [23] * (len(pieces) - 1)
    pd.testing.assert_frame_equal(pd.concat(pieces), whole.frame, check_exact=True)
    assert values.warnings == whole.warnings
    assert values.as_of == whole.as_of
    for got, want in (
        (values.purchase_model, whole.purchase_model),
        (values.spend_model, whole.spend_model),
    ):
        assert (got is None) == (want is None)
        if got is not None:
            assert got.fitted() == want.fitted()


def test_an_empty_summary_is_one_empty_piece() -> None:
    from clvcli.core.compute import compute_table_in_pieces, transactions_table

    settings = ComputeSettings(period="week", model="none")
    table = transactions_table(_shop_transactions(), settings)
    table.frame = table.frame.iloc[:0]
    pieces = list(compute_table_in_pieces(table, settings).pieces)
    assert len(pieces) == 1 and len(pieces[0]) == 0
    assert list(pieces[0].columns) == list(compute_from_table(table, settings).frame.columns)


@pytest.mark.parametrize("model", ["bgnbd", "pnbd"])
def test_pieces_give_the_whole_table_with_intervals(model: str) -> None:
    """Each piece scores its own distinct rows at the estimate and one standard
    deviation either way: a customer's interval is the one the whole table gives."""
    settings = ComputeSettings(period="week", model=model, margin=0.3, interval=0.9)
    whole = _whole(settings)
    assert whole["predicted_clv_upper"].notna().all()
    pieces, _ = _in_pieces(settings, 37)
    pd.testing.assert_frame_equal(pieces, whole, check_exact=True)
