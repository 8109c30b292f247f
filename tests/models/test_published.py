"""Every model against the numbers published for its reference data set.

Sources:

- BG/NBD on CDNOW: Fader, Hardie and Lee (2005), "Counting your customers the easy
  way", and its Excel note; log-likelihood -9582.429 as reported by CLVTools. The
  predictions for the customer with x=2, t_x=30.43, T=38.86, P(X(39)=0) and E[X(t)]
  are the worked examples of the paper and its notes.
- Pareto/NBD on CDNOW: Fader, Hardie and Lee (2005), "A note on implementing the
  Pareto/NBD model in MATLAB"; the predictions at the published parameters are the
  worked examples of the Fader-Hardie Pareto/NBD notes.
- Gamma-Gamma on the 946 CDNOW repeat buyers: Fader and Hardie (2013), "The
  Gamma-Gamma model of monetary value".
- BG/BB on the donations data: Fader, Hardie and Shang (2010).
- MBG/NBD: Batislam et al. (2007) publish no CDNOW estimates; the reference values are
  those of R's BTYDplus (mbgcnbd with k = 1) on the same summary.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from clvcli.models import (
    BGBBFitter,
    BGNBDFitter,
    DistinctRows,
    Fitter,
    GammaGammaFitter,
    MBGNBDFitter,
    ParetoNBDFitter,
)
from clvcli.models.gamma_gamma import spend_rows

BGNBD_PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PNBD_PUBLISHED = {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
GG_PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}
BGBB_PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
MBGNBD_BTYDPLUS = {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}


def _one(value: float) -> np.ndarray:
    return np.array([float(value)])


def _assert_params(fitted: dict[str, float], published: dict[str, float], rel: float) -> None:
    for name, value in published.items():
        assert fitted[name] == pytest.approx(value, rel=rel), name


# -- fits, once per module ----------------------------------------------------------


@pytest.fixture(scope="module")
def bgnbd(cdnow_rows: DistinctRows) -> BGNBDFitter:
    return BGNBDFitter().fit_rows(cdnow_rows)


@pytest.fixture(scope="module")
def pnbd(cdnow_rows: DistinctRows) -> ParetoNBDFitter:
    return ParetoNBDFitter().fit_rows(cdnow_rows)


@pytest.fixture(scope="module")
def mbgnbd(cdnow_rows: DistinctRows) -> MBGNBDFitter:
    return MBGNBDFitter().fit_rows(cdnow_rows)


@pytest.fixture(scope="module")
def spend(cdnow: pd.DataFrame) -> DistinctRows:
    return spend_rows(cdnow["frequency"].to_numpy(), cdnow["monetary_value"].to_numpy())


@pytest.fixture(scope="module")
def gamma_gamma(spend: DistinctRows) -> GammaGammaFitter:
    return GammaGammaFitter().fit_rows(spend)


@pytest.fixture(scope="module")
def bgbb(donations: DistinctRows) -> BGBBFitter:
    return BGBBFitter().fit_rows(donations)


# -- the data -----------------------------------------------------------------------


def test_cdnow_calibration_summary_has_the_published_counts(cdnow: pd.DataFrame) -> None:
    assert len(cdnow) == 2357
    assert int((cdnow["frequency"] > 0).sum()) == 946
    # Everyone in the sample first bought in 1997 Q1: T is at most 272 days (38.86
    # weeks, the T of the papers' worked example) and at least 26 weeks.
    assert cdnow["T"].max() == pytest.approx(272 / 7)
    assert cdnow["T"].min() > 26


def test_donations_rows_hold_the_published_donors(donations: DistinctRows) -> None:
    assert len(donations.weight) == 22
    assert donations.customers == 11104


# -- BG/NBD ---------------------------------------------------------------------------


def test_bgnbd_cdnow_estimates(bgnbd: BGNBDFitter, cdnow_rows: DistinctRows) -> None:
    _assert_params(bgnbd.params_, BGNBD_PUBLISHED, rel=0.01)
    assert bgnbd.log_likelihood_ == pytest.approx(-9582.429, abs=0.1)
    assert bgnbd.n_customers_ == 2357


def test_bgnbd_expected_purchases_of_the_papers_customer() -> None:
    model = BGNBDFitter().set_params(BGNBD_PUBLISHED)
    expected = model.expected_purchases(39, _one(2), _one(30.43), _one(38.86))
    assert expected[0] == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_probability_of_no_purchase_in_39_weeks() -> None:
    model = BGNBDFitter().set_params(BGNBD_PUBLISHED)
    assert float(model.probability_of_purchases(0, 39)) == pytest.approx(0.5737864, abs=1e-6)


def test_bgnbd_probabilities_of_purchases_sum_to_one() -> None:
    model = BGNBDFitter().set_params(BGNBD_PUBLISHED)
    probabilities = model.probability_of_purchases(np.arange(400), 39)
    assert np.all(probabilities >= 0)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-6)
    mean = float(np.dot(np.arange(400), probabilities))
    assert mean == pytest.approx(float(model.expected_purchases_new(39)), rel=1e-4)


def test_bgnbd_unconditional_expectations(bgnbd: BGNBDFitter) -> None:
    # These four published values are computed from the unrounded estimates: they match
    # the FITTED parameters to 1e-3 relative, but at the rounded published parameters
    # (0.243, 4.414, 0.793, 2.426) E[X(78)] comes out 1.8605, 0.16 % off.
    expected = bgnbd.expected_purchases_new(np.array([1.0, 3.0, 32.0, 78.0]))
    np.testing.assert_allclose(expected, [0.0532, 0.1506, 1.0437, 1.8576], rtol=1e-3)


# -- Pareto/NBD ---------------------------------------------------------------------


def test_pnbd_cdnow_estimates(pnbd: ParetoNBDFitter) -> None:
    _assert_params(pnbd.params_, PNBD_PUBLISHED, rel=0.01)
    # alpha and beta are published to three decimals; hold them to 1e-2 as well.
    assert pnbd.params_["alpha"] == pytest.approx(PNBD_PUBLISHED["alpha"], abs=1e-2)
    assert pnbd.params_["beta"] == pytest.approx(PNBD_PUBLISHED["beta"], abs=1e-2)
    assert pnbd.log_likelihood_ == pytest.approx(-9594.976, abs=0.01)


def test_pnbd_expected_purchases_of_a_new_customer() -> None:
    model = ParetoNBDFitter().set_params(PNBD_PUBLISHED)
    assert float(model.expected_purchases_new(52)) == pytest.approx(1.473, abs=5e-4)


def test_pnbd_predictions_for_a_frequent_buyer() -> None:
    model = ParetoNBDFitter().set_params(PNBD_PUBLISHED)
    x, t_x, T = _one(26), _one(30.86), _one(31)
    assert model.expected_purchases(52, x, t_x, T)[0] == pytest.approx(25.46, abs=5e-3)
    assert model.p_alive(x, t_x, T)[0] == pytest.approx(0.9979, abs=5e-5)


# -- MBG/NBD ------------------------------------------------------------------------


def test_mbgnbd_cdnow_estimates_agree_with_btydplus(mbgnbd: MBGNBDFitter) -> None:
    _assert_params(mbgnbd.params_, MBGNBD_BTYDPLUS, rel=0.05)
    assert math.isfinite(mbgnbd.log_likelihood_)


def test_mbgnbd_cdnow_fit_is_a_maximum(mbgnbd: MBGNBDFitter, cdnow_rows: DistinctRows) -> None:
    log_params = np.log(list(mbgnbd.params_.values()))
    _, gradient = mbgnbd._objective(log_params, cdnow_rows)
    assert np.all(np.abs(gradient) < 1e-5), gradient
    best = mbgnbd.log_likelihood_
    for i in range(4):
        for step in (-0.01, 0.01):
            moved = log_params.copy()
            moved[i] += step
            assert mbgnbd.log_likelihood(np.exp(moved), cdnow_rows) < best


# -- Gamma-Gamma --------------------------------------------------------------------


def test_gamma_gamma_fits_the_946_repeat_buyers(
    gamma_gamma: GammaGammaFitter, spend: DistinctRows
) -> None:
    assert spend.customers == 946
    _assert_params(gamma_gamma.params_, GG_PUBLISHED, rel=0.01)
    assert gamma_gamma.n_customers_ == 946


def test_gamma_gamma_log_likelihood_at_the_published_values(spend: DistinctRows) -> None:
    value = GammaGammaFitter().log_likelihood(GG_PUBLISHED, spend)
    assert value == pytest.approx(-4055.92, abs=0.01)


def test_gamma_gamma_expected_spend_of_the_first_ten_customers(
    gamma_gamma: GammaGammaFitter, cdnow: pd.DataFrame
) -> None:
    first = cdnow.set_index("customer_id").loc[[f"{i:04d}" for i in range(1, 11)]]
    spend = gamma_gamma.expected_spend(
        first["frequency"].to_numpy(), first["monetary_value"].to_numpy()
    )
    published = [24.65, 18.91, 35.17, 35.17, 35.17, 71.46, 18.91, 35.17, 27.28, 35.17]
    np.testing.assert_allclose(spend, published, atol=0.01)


# -- BG/BB --------------------------------------------------------------------------


def test_bgbb_donations_estimates(bgbb: BGBBFitter) -> None:
    _assert_params(bgbb.params_, BGBB_PUBLISHED, rel=0.01)
    assert bgbb.log_likelihood_ == pytest.approx(-33225.6, abs=0.1)
    assert bgbb.n_customers_ == 11104


def test_bgbb_p_alive_of_three_donors(bgbb: BGBBFitter) -> None:
    alive = bgbb.p_alive(np.array([0.0, 2, 6]), np.array([0.0, 4, 6]), np.array([6.0, 6, 6]))
    np.testing.assert_allclose(alive, [0.11, 0.59, 0.93], atol=0.01)


# -- what every fit reports -----------------------------------------------------------

FITS = ["bgnbd", "pnbd", "mbgnbd", "gamma_gamma", "bgbb"]
FIT_DATA = {
    "bgnbd": "cdnow_rows",
    "pnbd": "cdnow_rows",
    "mbgnbd": "cdnow_rows",
    "gamma_gamma": "spend",
    "bgbb": "donations",
}


@pytest.mark.parametrize("name", FITS)
def test_fit_reports_convergence_errors_and_criteria(
    name: str, request: pytest.FixtureRequest
) -> None:
    model: Fitter = request.getfixturevalue(name)
    data: DistinctRows = request.getfixturevalue(FIT_DATA[name])
    assert model.converged_ is True
    k = len(model.param_names)
    n = data.customers
    assert model.n_customers_ == n
    for param in model.param_names:
        estimate = model.params_[param]
        error = model.std_errors_[param]
        assert math.isfinite(error) and error > 0, param
        assert model.ci_lower_[param] < estimate < model.ci_upper_[param], param
    log_likelihood = model.log_likelihood_
    assert log_likelihood == pytest.approx(model.log_likelihood(model.params_, data), abs=1e-9)
    assert model.aic_ == pytest.approx(2 * k - 2 * log_likelihood, abs=1e-9)
    assert model.bic_ == pytest.approx(k * math.log(n) - 2 * log_likelihood, abs=1e-9)
    summary = model.summary()
    assert summary["params"] == model.params_
    assert summary["converged"] is True
