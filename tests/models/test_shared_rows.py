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
