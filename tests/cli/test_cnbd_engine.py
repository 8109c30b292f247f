"""BG/CNBD-k and MBG/CNBD-k on DuckDB's path: a clean typed Parquet log goes straight
to DuckDB, whose summary then carries each customer's litt (the sum of the logs of
the times between their purchase days). The fits, the scores and --model auto's
choice are those of the same log as CSV, which the reader reads.

The grocery log has no amounts (such a log goes to the reader), so both copies get
the same made-up amounts.
"""

from __future__ import annotations

import csv
import io
import json
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import clvcli.engines.csv_log as csv_engine
import clvcli.engines.duckdb as duckdb_engine
from tests.conftest import DATA, SAMPLE

WEEK = ("--period", "week")


def made_up_amounts(ids: pd.Series) -> np.ndarray:
    """Each customer's mean spend (Gamma), times a noise per row, to the cent."""
    rng = np.random.default_rng(7)
    codes, uniques = pd.factorize(ids)
    mean = rng.gamma(3.0, 10.0, len(uniques))[codes]
    return (mean * rng.gamma(10.0, 0.1, len(ids))).round(2) + 0.5


@pytest.fixture(scope="module")
def grocery(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The grocery log as typed Parquet (string ids, DATE dates) and as CSV."""
    frame = pd.read_csv(DATA / "grocery.csv", dtype={"customer_id": str}, parse_dates=["date"])
    folder = tmp_path_factory.mktemp("grocery")
    table = pa.table(
        {
            "customer_id": pa.array(frame["customer_id"], pa.string()),
            "date": pa.array(frame["date"].dt.date, pa.date32()),
            "amount": pa.array(made_up_amounts(frame["customer_id"])),
        }
    )
    pq.write_table(table, folder / "grocery.parquet")
    table.to_pandas().to_csv(folder / "grocery.csv", index=False)
    return {"parquet": str(folder / "grocery.parquet"), "csv": str(folder / "grocery.csv")}


@pytest.fixture
def summaries(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether each summary DuckDB computed from the log carried litt. Appending an
    int to the list first reads each summary in pieces of that many customers."""
    found: list = []
    original = duckdb_engine.log_pieces

    def spy(*args, **kwargs):
        pieces = original(*args, **kwargs)
        if found and isinstance(found[0], int) and not isinstance(found[0], bool):
            pieces.piece_rows = found[0]
        found.append(pieces.litt)
        return pieces

    monkeypatch.setattr(duckdb_engine, "log_pieces", spy)
    # The CSV copy, which DuckDB would take too, is the reader's to compare with.
    monkeypatch.setattr(csv_engine, "csv_log", lambda *args: None)
    return found


def fitted(clv, path: str, *options: str) -> dict:
    result = clv("fit", path, *WEEK, "--format", "json", "-q", *options)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def assert_same_params(ours: dict, theirs: dict) -> None:
    assert ours.keys() == theirs.keys()
    for name, value in theirs.items():
        # The same data, litt summed in another order: the optimiser's tolerance.
        assert ours[name] == pytest.approx(value, rel=1e-5), name


@pytest.mark.parametrize("model", ["bgcnbd", "mbgcnbd"])
def test_fit_on_duckdb_is_the_readers_fit(clv, grocery, summaries, model):
    ours = fitted(clv, grocery["parquet"], "--model", model)
    assert summaries == [True]  # DuckDB's path, with litt
    theirs = fitted(clv, grocery["csv"], "--model", model)
    assert_same_params(ours["params"], theirs["params"])
    assert ours["params"]["k"] == theirs["params"]["k"]
    assert ours["log_likelihood"] == pytest.approx(theirs["log_likelihood"], rel=1e-8)


def values(clv, path: str, *options: str) -> tuple[pd.DataFrame, list[str]]:
    result = clv("compute", path, *WEEK, *options)
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout), dtype={"customer_id": str})
    return frame.set_index("customer_id").sort_index(), result.stderr_lines


def test_compute_on_duckdb_scores_as_the_reader(clv, grocery, summaries):
    ours, ours_notes = values(clv, grocery["parquet"], "--model", "mbgcnbd")
    assert summaries == [True]
    theirs, theirs_notes = values(clv, grocery["csv"], "--model", "mbgcnbd")
    assert ours_notes == theirs_notes
    assert not any("mbgcnbd" in line for line in ours_notes)
    assert list(ours.index) == list(theirs.index)
    for column in ("expected_purchases", "p_alive", "predicted_clv"):
        assert ours[column].notna().all(), column
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-4, atol=1e-6)


def test_pieces_are_scaled_over_the_whole_table(clv, grocery, summaries):
    """The CNBD-k expected purchases are scaled so that their sum over the customers
    is the model's exact expectation: over the whole table's customers, even when it
    is scored in pieces (of 400 customers here, of a million in use)."""
    summaries.append(400)
    ours, _ = values(clv, grocery["parquet"], "--model", "bgcnbd")
    assert summaries == [400, True]
    theirs, _ = values(clv, grocery["csv"], "--model", "bgcnbd")
    for column in ("expected_purchases", "predicted_clv"):
        np.testing.assert_allclose(ours[column], theirs[column], rtol=1e-6, atol=1e-9)


def test_auto_on_duckdb_chooses_as_the_reader(clv, grocery, summaries):
    ours, ours_notes = values(clv, grocery["parquet"])
    theirs, theirs_notes = values(clv, grocery["csv"])
    assert ours_notes == theirs_notes
    chosen = re.match(r"clv: note: model auto chose (\w+):", ours_notes[0])
    assert chosen and chosen.group(1) == "mbgcnbd"
    # The holdout sample carried litt, so the CNBD-k models were candidates...
    assert "bgcnbd left out" in ours_notes[0]
    # ... and, one of them chosen, the summary carried it too.
    assert summaries == [True]
    np.testing.assert_allclose(ours["expected_purchases"], theirs["expected_purchases"], rtol=1e-4)
    fit_ours = fitted(clv, grocery["parquet"], "--model", "auto")
    fit_theirs = fitted(clv, grocery["csv"], "--model", "auto")
    assert fit_ours["chosen_by"] == fit_theirs["chosen_by"]
    assert_same_params(fit_ours["params"], fit_theirs["params"])


def test_other_models_leave_litt_out(clv, grocery, summaries):
    for options in (("--model", "pnbd"), ("--model", "bgnbd")):
        result = clv("compute", grocery["parquet"], *WEEK, "-q", *options)
        assert result.exit_code == 0, result.stderr
    result = clv("fit", grocery["parquet"], *WEEK, "-q", "--model", "gamma-gamma")
    assert result.exit_code == 0, result.stderr
    assert summaries == [False, False, False]


def test_a_choice_of_another_model_leaves_litt_out(clv, tmp_path, summaries):
    """On the shop sample auto chooses a model without k: its summary has no litt."""
    shop = pq.read_table(SAMPLE / "shop.parquet", columns=["customer_id", "order_date", "amount"])
    pq.write_table(shop, tmp_path / "shop.parquet")
    result = clv("compute", tmp_path / "shop.parquet", "--period", "week")
    assert result.exit_code == 0, result.stderr
    notes = [line for line in result.stderr_lines if "model auto chose" in line]
    chosen = re.match(r"clv: note: model auto chose (\w+):", notes[0])
    assert chosen and chosen.group(1) == "mbgnbd", result.stderr
    assert summaries == [False]
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and all(row["expected_purchases"] != "" for row in rows)
