"""Distinct rows grouped once serve the fit and the scores: the same numbers as before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvcli.core.value import ValueSettings, fit_purchase_model, fit_spend_model, score
from clvcli.models import DistinctRows


def _history(cdnow: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(cdnow[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd", "pnbd"])
@pytest.mark.parametrize("horizon", [12.0, 5.5, None])
def test_given_rows_change_nothing(cdnow, model, horizon):
    history = _history(cdnow)
    frequency = history[0]
    monetary = cdnow["monetary_value"].to_numpy(np.float64)
    rows = DistinctRows.of(*history)
    fitted = fit_purchase_model(model, *history, rows=rows)
    assert fitted.params_ == fit_purchase_model(model, *history).params_
    spend, _ = fit_spend_model(frequency, monetary)
    settings = ValueSettings("week", horizon)
    given = score(fitted, spend, history, frequency, monetary, settings, rows=rows)
    built = score(fitted, spend, history, frequency, monetary, settings)
    for column in ("expected_purchases", "p_alive", "expected_avg_spend", "predicted_clv"):
        assert np.array_equal(getattr(given, column), getattr(built, column), equal_nan=True)


def _bits(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float64).view(np.int64)


@pytest.mark.parametrize("indices", [(0,), (1,), (2,), (0, 2), (1, 2), (0, 1, 2)])
def test_levels_kept_from_grouping_are_those_of_the_rows(cdnow_rows, indices):
    fresh = DistinctRows(cdnow_rows.columns, cdnow_rows.weight, cdnow_rows.inverse)
    kept, computed = cdnow_rows.levels(*indices), fresh.levels(*indices)
    assert len(kept) == len(computed)
    for mine, theirs in zip(kept, computed, strict=True):
        assert mine.dtype == theirs.dtype
        assert np.array_equal(mine, theirs)


def test_grouping_with_missing_values_keeps_no_levels():
    x = np.array([1.0, np.nan, 2.0, -0.0, 0.0, np.nan, 1.0])
    y = np.array([3.0, 3.0, np.nan, 1.0, 1.0, 2.0, 3.0])
    rows = DistinctRows.of(x, y)
    assert not any(key[0] == "column" for key in rows._levels)
    assert rows.customers == len(x)


@pytest.mark.parametrize("model", ["bgnbd", "mbgnbd"])
def test_monthly_sums_in_blocks_are_those_of_whole_arrays(cdnow, model, monkeypatch):
    """Scoring by blocks of rows and months gives the bits of whole-array months."""
    from clvcli import parallel
    from clvcli.core import value
    from clvcli.models import base

    history = _history(cdnow)
    frequency = history[0]
    monetary = cdnow["monetary_value"].to_numpy(np.float64)
    fitted = fit_purchase_model(model, *history)
    spend, _ = fit_spend_model(frequency, monetary)
    settings = ValueSettings("week", None)
    monkeypatch.setattr(parallel, "BLOCK_ROWS", 64)
    monkeypatch.setattr(value, "MONTHS_AT_ONCE", 5)
    blocked = score(fitted, spend, history, frequency, monetary, settings)
    whole_arrays = base.Fitter.expected_purchases_by_block
    monkeypatch.setattr(type(fitted), "expected_purchases_by_block", whole_arrays)
    whole = score(fitted, spend, history, frequency, monetary, settings)
    for column in ("expected_purchases", "p_alive", "expected_avg_spend", "predicted_clv"):
        assert np.array_equal(_bits(getattr(blocked, column)), _bits(getattr(whole, column)))
