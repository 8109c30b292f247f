"""Predictions for a new customer agree with each other, and Gamma-Gamma's warning."""

from __future__ import annotations

import numpy as np
import pytest

from clvcli.core.value import fit_spend_model
from clvcli.models import BGBBFitter, BGNBDFitter, MBGNBDFitter, ParetoNBDFitter

CONTINUOUS = [
    (BGNBDFitter, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
    (MBGNBDFitter, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
    (ParetoNBDFitter, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
]


@pytest.mark.parametrize(("model", "params"), CONTINUOUS, ids=lambda v: getattr(v, "name", ""))
@pytest.mark.parametrize("t", [1.0, 39.0, 78.0])
def test_pmf_sums_to_one_and_its_mean_is_the_expected_count(model, params, t):
    fitted = model().set_params(params)
    n = np.arange(0, 600)
    pmf = fitted.probability_of_purchases(n, t)
    assert np.all(pmf >= 0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    assert (n * pmf).sum() == pytest.approx(float(fitted.expected_purchases_new(t)), rel=1e-6)


def test_bgbb_pmf_sums_to_one_and_its_mean_is_the_expected_count():
    fitted = BGBBFitter().set_params(
        {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
    )
    for n in (1, 6, 20):
        x = np.arange(0, n + 1)
        pmf = fitted.probability_of_purchases(x, n)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-12)
        assert (x * pmf).sum() == pytest.approx(float(fitted.expected_purchases_new(n)), rel=1e-9)


def test_bgnbd_probability_of_no_purchase_in_39_weeks_is_published():
    fitted = BGNBDFitter().set_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert float(fitted.probability_of_purchases(0, 39.0)[()]) == pytest.approx(0.5737864, abs=1e-6)


def test_gamma_gamma_warns_when_spend_follows_frequency():
    rng = np.random.default_rng(5)
    frequency = rng.integers(1, 20, 2000).astype(float)
    monetary = 10 * frequency * rng.gamma(8, 1 / 8, 2000)
    _, warnings = fit_spend_model(frequency, monetary)
    assert len(warnings) == 1 and "correlated" in warnings[0]
    independent = rng.gamma(6, 5, 2000)
    _, warnings = fit_spend_model(frequency, independent)
    assert warnings == []


@pytest.mark.parametrize("name", ["pnbd", "bgbb"])
def test_closed_form_lifetime_value_agrees_with_a_century_of_monthly_sums(name):
    """DET (Pareto/NBD) and DERT (BG/BB) discount continuously or per opportunity; the
    monthly sum discounts at each month's end, so the two differ by well under 1 %."""
    from clvcli.core.value import ValueSettings, score
    from clvcli.models import GammaGammaFitter

    rng = np.random.default_rng(3)
    x = rng.integers(0, 10, 200).astype(float)
    if name == "pnbd":
        model = ParetoNBDFitter().set_params(dict(CONTINUOUS[2][1]))
        T = rng.uniform(20, 60, 200)
        history = (x, np.where(x > 0, T * rng.uniform(0, 1, 200), 0.0), T)
    else:
        model = BGBBFitter().set_params(
            {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
        )
        n = np.full(200, 52.0)
        t_x = np.where(x > 0, np.minimum(x * 4, n), 0.0)
        history = (np.minimum(x, t_x), t_x, n)
    spend = GammaGammaFitter().set_params({"p": 6.25, "q": 3.74, "v": 15.44})
    monetary = np.full(200, 30.0)
    closed = score(model, spend, history, x, monetary, ValueSettings("week", None, 0.10))
    summed = score(model, spend, history, x, monetary, ValueSettings("week", 1200.0, 0.10))
    assert np.all(np.isfinite(closed.predicted_clv))
    assert closed.predicted_clv.sum() == pytest.approx(summed.predicted_clv.sum(), rel=0.01)


def test_pareto_nbd_has_no_p_alive_for_a_history_with_a_missing_value():
    model = ParetoNBDFitter().set_params({"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    x = np.array([2.0, np.nan, 1.0, 0.0, 2.0])
    t_x = np.array([30.0, 20.0, np.nan, 0.0, 30.0])
    T = np.array([38.0, 38.0, 38.0, np.nan, 38.0])
    alive = model.p_alive(x, t_x, T)
    assert np.isnan(alive[1:4]).all()
    assert alive[0] == alive[4] and 0 < alive[0] < 1
    # The complete histories get what they get alone.
    np.testing.assert_array_equal(alive[[0]], model.p_alive(x[[0]], t_x[[0]], T[[0]]))
