"""Regressions found by the property tests in tests/fuzz: the models and scoring.

Each test is the smallest case of a bug the fuzzing found, kept here so that it is
checked on every run, whatever examples hypothesis happens to draw.
"""

from __future__ import annotations

import itertools
import time
import warnings

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import hyp2f1

from clvcli.core.value import ValueSettings, fit_spend_model, score
from clvcli.errors import ModelError
from clvcli.models import (
    BGBBFitter,
    BGNBDFitter,
    DistinctRows,
    GammaGammaFitter,
    MBGNBDFitter,
    ParetoNBDFitter,
)
from clvcli.models.bgnbd import _tail, hyp2f1_series
from clvcli.models.gamma_gamma import spend_rows

DAYS_PER_MONTH = 365.25 / 12


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def test_mbgnbd_expected_purchases_of_a_very_frequent_buyer_are_finite():
    """Both of scipy's 2F1 forms give NaN here; MBG/NBD had no series fallback."""
    model = MBGNBDFitter().set_params({"r": 0.5, "alpha": 1.0, "a": 0.5, "b": 1.0})
    x, t_x, T = np.array([1e4]), np.array([0.0]), np.array([1.0])
    expected = model.expected_purchases(365.0, x, t_x, T, p_alive=np.ones(1))
    assert np.isfinite(expected).all() and expected[0] > 0


def test_bgnbd_expected_purchases_when_scipy_gives_inf():
    """scipy's 2F1 returned inf (not NaN) at 36 months, which was taken as a value. An
    alive customer's expected purchases tend to (a + b + x - 1) / (a - 1) here."""
    model = BGNBDFitter().set_params({"r": 64.61848858917101, "alpha": 0.01, "a": 100.0, "b": 39.0})
    x, t_x, T = np.array([42.0]), np.array([0.0]), np.array([0.9197839002186812])
    for months in (1, 12, 36, 120, 1200):
        expected = model.expected_purchases(months * DAYS_PER_MONTH, x, t_x, T, np.ones(1))
        assert expected[0] == pytest.approx((100 + 39 + 42 - 1) / 99, rel=1e-9), months


def test_bgnbd_tail_where_the_power_factor_vanishes_and_the_series_is_huge():
    """(1-z)^(a-1) underflowed to 0 while the transformed series overflowed: NaN. The
    original form converges at z = 1 (c - a - b = a - 1 - r - x > 0) and is summed."""
    r, alpha, a, b = 0.15341206039660313, 0.0037282072670278494, 15392.406, 1114389.666
    x = np.array([59.0])
    tails = []
    for months in (1, 6, 12, 36):
        t = months * DAYS_PER_MONTH
        tails.append(_tail(r, a, b, x, np.array([t / (alpha + 0.5 + t)]))[0])
    assert np.isfinite(tails).all()
    assert all(0 <= later < earlier <= 1 for earlier, later in itertools.pairwise(tails))


def test_series_fallback_agrees_with_scipy_where_scipy_is_reliable():
    a = np.array([0.5, 3.0, 2.0])
    b = np.array([1.5, -0.5, 7.0])
    c = np.array([4.0, 9.0, 12.5])
    z = np.array([0.3, 0.9, 0.99])
    np.testing.assert_allclose(hyp2f1_series(a, b, c, z), hyp2f1(a, b, c, z), rtol=1e-12)
    np.testing.assert_allclose(hyp2f1_series(2.0, 3.0, c, z), hyp2f1(2.0, 3.0, c, z), rtol=1e-12)


def test_scoring_where_the_series_fallback_runs_for_every_month_is_quick():
    """The series fallback took one Python step per term (20,000 of them, for each of
    the 153 months of a lifetime): 40 seconds for five customers."""
    model = BGNBDFitter().set_params(
        {"r": 0.0972846835, "alpha": 0.000110120943, "a": 3.86210457, "b": 315.860413}
    )
    x = np.array([1e5, 3.0, 0.0, 1e5, 50.0])
    t_x = np.array([0.000386, 14047.38, 0.0, 100.33, 345.86])
    T = np.array([0.002344, 16325.13, 0.011088, 331.73, 8816.48])
    # Processor time, not wall time: a loaded shared machine stretches the latter, while
    # the regression this guards against costs 40 s of processor time.
    started = time.process_time()
    scores = score(model, None, (x, t_x, T), x, np.zeros(5), ValueSettings("day", None))
    assert time.process_time() - started < 15
    assert np.isfinite(scores.expected_purchases).all()


def test_a_fit_whose_interval_runs_off_the_numbers_is_refused_or_held_at_its_limit():
    """Fourteen identical customers: MBG/NBD 'converged' at the edge of the box with a
    95% interval of [0, inf] for a, which `clv fit --format json` wrote as Infinity.

    The rule, whatever path the optimiser takes on a given CPU: no interval runs off
    the numbers. Either the fit is refused (a model error, exit 4), or it comes out
    at its limit with every reported number finite and a warning naming what ran off.
    """
    rows = DistinctRows.of(np.full(14, 2.0), np.full(14, 2.0), np.full(14, 2.0))
    try:
        fitted = MBGNBDFitter().fit_rows(rows)
    except ModelError as error:
        assert error.exit_code == 4
        return
    summary = fitted.summary()
    for key in ("params", "std_errors", "ci_lower", "ci_upper"):
        assert all(v is None or np.isfinite(v) for v in summary[key].values()), key
    assert summary["warnings"]
    assert all(v is None or v > 0 for v in summary["ci_lower"].values())


def test_bgbb_lifetime_value_with_daily_opportunities_is_finite():
    """scipy's 2F1(1, delta + n + 1; gamma + delta + n + 1; 1 / (1 + d)) is NaN or inf for
    most parameters when d is a day's discount: predicted CLV was empty for 1,850 of the
    sample shop's 1,989 customers with --model bgbb --period day --horizon lifetime."""
    model = BGBBFitter().set_params({"alpha": 1.0, "beta": 1.0, "gamma": 1.0, "delta": 1.0})
    spend = GammaGammaFitter().set_params({"p": 2.0, "q": 3.0, "v": 10.0})
    x, t_x, n = np.array([0.0, 5.0]), np.array([0.0, 160.0]), np.array([169.0, 169.0])
    m = np.array([0.0, 10.0])
    lifetime = score(model, spend, (x, t_x, n), x, m, ValueSettings("day", None))
    year = score(model, spend, (x, t_x, n), x, m, ValueSettings("day", 12.0))
    assert np.isfinite(lifetime.predicted_clv).all()
    assert (lifetime.predicted_clv > year.predicted_clv).all()


def test_gamma_gamma_expected_spend_is_never_negative():
    """With p x + q <= 1 the posterior mean is infinite; it came out negative."""
    spend = GammaGammaFitter().set_params({"p": 0.2767, "q": 0.4871, "v": 0.02038})
    expected = spend.expected_spend(np.array([0.0, 1.0, 2.0]), np.array([0.0, 1.0, 1.0]))
    assert np.isnan(expected[:2]).all()
    assert expected[2] == pytest.approx(0.2767 * (0.02038 + 2) / (0.2767 * 2 + 0.4871 - 1))


def test_spend_model_without_a_finite_mean_is_refused():
    """q <= 1 leaves one-time buyers without an expected spend, so compute would have
    mixed empty cells into a filled column; the spend model is refused instead."""
    x = np.ones(10)
    m = np.array([0.0078125] * 6 + [1e-6] * 2 + [1.0] * 2)
    with pytest.raises(ModelError, match="no finite mean") as caught:
        fit_spend_model(x, m)
    assert caught.value.exit_code == 4


def _simulated_spend(v: float, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    p, q = 2.5, 2.3
    x = rng.integers(1, 10, n).astype(np.float64)
    nu = rng.gamma(q, 1 / v, n)
    return x, rng.gamma(p * x, 1 / (nu * x))


def test_gamma_gamma_fits_spend_in_rials():
    """v of spend in rials (3.5e6 for the sample shop) lies outside the parameter box,
    exp(+-14): the fit did not converge. It now refits in units of the mean spend."""
    x, m = _simulated_spend(3.5e6)
    rials = GammaGammaFitter().fit_rows(spend_rows(x, m))
    tomans = GammaGammaFitter().fit_rows(spend_rows(x, m / 10))
    for name in ("p", "q"):
        assert rials.params_[name] == pytest.approx(tomans.params_[name], rel=1e-5)
        assert rials.std_errors_[name] == pytest.approx(tomans.std_errors_[name], rel=1e-3)
    assert rials.params_["v"] == pytest.approx(10 * tomans.params_["v"], rel=1e-5)
    assert rials.ci_upper_["v"] == pytest.approx(10 * tomans.ci_upper_["v"], rel=1e-3)
    shift = len(x) * np.log(10)
    assert rials.log_likelihood_ == pytest.approx(tomans.log_likelihood_ - shift, rel=1e-9)
    assert rials.aic_ == pytest.approx(tomans.aic_ + 2 * shift, rel=1e-9)
    spend = rials.expected_spend(np.array([0.0, 3.0]), np.array([0.0, 4e6]))
    assert np.isfinite(spend).all() and (spend > 0).all()


def test_bgbb_expected_purchases_with_gamma_and_delta_in_the_hundred_thousands():
    """A fit on a shop with little spread in dropout: Gamma(gamma + delta) / Gamma(1 +
    delta) overflowed and the ratio it multiplies underflowed, so every customer's
    expected purchases were NaN. With so little spread, dropout is a coin of weight
    theta = gamma / (gamma + delta) after each opportunity."""
    al, be, ga, de = 6.477345338929271, 0.21833541141417037, 131433.30878412217, 1149893.12
    model = BGBBFitter().set_params({"alpha": al, "beta": be, "gamma": ga, "delta": de})
    x, t_x, n = np.array([3.0, 8.0]), np.array([5.0, 8.0]), np.array([8.0, 8.0])
    alive = model.p_alive(x, t_x, n)
    theta = ga / (ga + de)
    for t in (1, 4, 52):
        survival = sum((1 - theta) ** k for k in range(t))
        expected = alive * (al + x) / (al + be + n) * survival
        np.testing.assert_allclose(model.expected_purchases(float(t), x, t_x, n), expected, 1e-4)


def test_pnbd_lifetime_value_where_scipy_hyperu_is_wrong():
    """scipy's U(87.5, 87.5, 26) is -1.1e4 times too large: the lifetime value came out
    negative (-4.7e8). The model refuses values outside the lifetime's bounds and the
    scoring sums months for them instead."""
    model = ParetoNBDFitter().set_params({"r": 1.0, "alpha": 1.0, "s": 87.5, "beta": 99937.0})
    spend = GammaGammaFitter().set_params({"p": 2.0, "q": 3.0, "v": 10.0})
    x, t_x, T = np.zeros(1), np.zeros(1), np.ones(1)
    rate = np.log(1.1) / 12 / DAYS_PER_MONTH
    assert np.isnan(model.discounted_expected_purchases(rate, x, t_x, T)).all()
    lifetime = quad(lambda u: np.exp(-rate * u) * (99938 / (99938 + u)) ** 87.5, 0, np.inf)[0]
    scores = score(model, spend, (x, t_x, T), x, x, ValueSettings("day", None))
    # P(alive) (r + x) / (alpha + T) x the discounted lifetime x the spend, 10.
    exact = model.p_alive(x, t_x, T)[0] * 1.0 / 2.0 * lifetime * 10.0
    assert scores.predicted_clv[0] == pytest.approx(exact, rel=0.01)


def test_bgnbd_tail_near_z_of_one_by_the_positive_series():
    """z = 1 - 3e-5: scipy's 2F1 fails in both forms and the transformed series, which
    diverges at z = 1, was cut off at 20,000 terms: 111 lifetime purchases instead of
    69.6. The original form's terms are positive and its series converges (in logs,
    with up to 2,000,000 terms). References: mpmath at 40 digits."""
    model = BGNBDFitter().set_params(
        {"r": 0.0972846835, "alpha": 0.000110120943, "a": 3.86210457, "b": 315.860413}
    )
    x, t_x, T = np.zeros(1), np.zeros(1), np.array([0.01108789240748541])
    for months, reference in ((12, 46.0278152784), (1200, 69.5972550007)):
        expected = model.expected_purchases(months * DAYS_PER_MONTH, x, t_x, T, np.ones(1))
        assert expected[0] == pytest.approx(reference, rel=1e-8), months


def test_mbgnbd_tail_of_a_nearly_poisson_fit():
    """r and alpha near a million (no spread in purchase rates): the transformed series,
    with a = a + b - r = -493,064, alternates terms of 1e40 and came out -2.6e42, or a
    plausible 0.2539 where mpmath gives a tail of 0.256074541. Cancellation is now
    detected and the positive series taken instead."""
    params = {"r": 493066.5018985073, "alpha": 1192110.00617493, "a": 1.362056038821537}
    model = MBGNBDFitter().set_params({**params, "b": 0.1626575700850834})
    a, b = params["a"], 0.1626575700850834
    x, t_x, T = np.zeros(1), np.zeros(1), np.zeros(1)
    expected = model.expected_purchases(3 * DAYS_PER_MONTH, x, t_x, T, np.ones(1))
    assert expected[0] == pytest.approx((a + b) / (a - 1) * (1 - 0.2560745410891), rel=1e-8)
    over_time = [
        model.expected_purchases(m * DAYS_PER_MONTH, x, t_x, T, np.ones(1))[0]
        for m in (1, 12, 120, 1200)
    ]
    assert all(
        earlier < later < (a + b) / (a - 1) for earlier, later in itertools.pairwise(over_time)
    )


def test_mbgnbd_tail_below_double_precision_is_zero():
    """The positive series needs millions of terms here, but its value at z = 1 bounds it
    and the bound times the power factor is below 1e-15 (even 1e-300): the tail is 0 to
    double precision, not NaN, from 400 months on."""
    model = MBGNBDFitter().set_params({"r": 82.0, "alpha": 1.0, "a": 88.0, "b": 83.0})
    x, t_x, T = np.array([3.0]), np.zeros(1), np.array([0.5])
    for months in (120, 400, 600, 1200):
        expected = model.expected_purchases(months * DAYS_PER_MONTH, x, t_x, T, np.ones(1))
        assert expected[0] == pytest.approx((88 + 83 + 3) / 87, rel=1e-12), months
    spend = GammaGammaFitter().set_params({"p": 2.0, "q": 3.0, "v": 10.0})
    scores = score(model, spend, (x, t_x, T), x, np.array([1.0]), ValueSettings("day", None))
    assert np.isfinite(scores.predicted_clv).all()
