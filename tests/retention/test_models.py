"""The sBG and BdW retention models: the published Table 1 fits, recovery of known
parameters from simulated subscribers, and the predictions' identities.

Source: Fader & Hardie (2007), "How to project customer retention", J. Interactive
Marketing 21(1): sBG fitted on years 0-7 of Table 1 (parameters, log-likelihood and
the projection of years 8-12 as published in the paper).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.special import betaln, hyp2f1

from clvcli.errors import TooLittleDataError
from clvcli.retention import (
    BetaDiscreteWeibull,
    Lifetimes,
    NotFittedError,
    RetentionModel,
    ShiftedBetaGeometric,
)
from clvcli.retention.models import (
    _betaln,
    _log_step,
    _log_survival,
    _same_for_all,
    sbg_derl_closed_form,
)

from .conftest import survivors

PUBLISHED = {
    "regular": {
        "alpha": 0.704,
        "beta": 1.182,
        "log_likelihood": -1680.27,
        "years_8_12": [22.0, 20.4, 19.1, 18.0, 17.0],
    },
    "high_end": {
        "alpha": 0.668,
        "beta": 3.806,
        "log_likelihood": -1611.16,
        "years_8_12": [46.0, 43.6, 41.4, 39.5, 37.8],
    },
}
SEGMENTS = tuple(PUBLISHED)


@pytest.fixture(scope="module")
def calibration(table1) -> dict[str, Lifetimes]:
    """Years 0-7 of each segment, the data the paper fits on."""
    return {s: Lifetimes.from_survivors(survivors(table1[s], 8)) for s in SEGMENTS}


@pytest.fixture(scope="module")
def sbg(calibration) -> dict[str, ShiftedBetaGeometric]:
    return {s: ShiftedBetaGeometric().fit(calibration[s]) for s in SEGMENTS}


@pytest.fixture(scope="module")
def bdw(calibration) -> dict[str, BetaDiscreteWeibull]:
    return {s: BetaDiscreteWeibull().fit(calibration[s]) for s in SEGMENTS}


# -- Table 1 -------------------------------------------------------------------------


def test_table1_fixture_is_the_published_table(table1):
    assert table1["regular"][[0, 1, 7, 12]].tolist() == [100.0, 63.1, 24.1, 17.3]
    assert table1["high_end"][[0, 1, 7, 12]].tolist() == [100.0, 86.9, 49.1, 39.4]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_sbg_matches_the_published_fit(sbg, segment):
    model, published = sbg[segment], PUBLISHED[segment]
    assert model.converged and model.warnings == []
    assert model.params["alpha"] == pytest.approx(published["alpha"], rel=0.005)
    assert model.params["beta"] == pytest.approx(published["beta"], rel=0.005)
    assert model.log_likelihood == pytest.approx(published["log_likelihood"], abs=0.01)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_sbg_projects_years_8_to_12_as_published(sbg, segment):
    projected = 100 * sbg[segment].survival(np.arange(8, 13))
    assert projected == pytest.approx(PUBLISHED[segment]["years_8_12"], abs=0.1)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_sbg_projection_is_close_to_what_happened(sbg, table1, segment):
    # The paper's point: the projection stays within about a point of years 8-12.
    projected = 100 * sbg[segment].survival(np.arange(8, 13))
    assert np.max(np.abs(projected - table1[segment][8:])) < 2.5


@pytest.mark.parametrize("segment", SEGMENTS)
def test_sbg_survival_at_calibration_years_is_close_to_the_data(sbg, table1, segment):
    fitted = 100 * sbg[segment].survival(np.arange(8))
    assert fitted[0] == 100.0
    assert np.max(np.abs(fitted - table1[segment][:8])) < 2.0


@pytest.mark.parametrize("segment", SEGMENTS)
def test_bdw_nests_the_sbg(sbg, bdw, calibration, segment):
    model = bdw[segment]
    assert model.converged, model.warnings
    assert model.log_likelihood >= sbg[segment].log_likelihood - 1e-6
    # At c = 1 its likelihood is the sBG's.
    params = sbg[segment].params
    theta_bdw = np.array([params["alpha"], params["beta"], 1.0])
    theta_sbg = np.array([params["alpha"], params["beta"]])
    ll_bdw = BetaDiscreteWeibull()._log_likelihood(theta_bdw, calibration[segment])[0]
    ll_sbg = ShiftedBetaGeometric()._log_likelihood(theta_sbg, calibration[segment])[0]
    assert ll_bdw == pytest.approx(ll_sbg, rel=1e-12)
    assert ll_sbg == pytest.approx(sbg[segment].log_likelihood, rel=1e-12)


def test_bdw_on_table1_values(bdw):
    # Our fits (no published BdW numbers for Table 1); pinned at the optimiser's tolerance.
    regular, high_end = bdw["regular"], bdw["high_end"]
    assert regular.params == pytest.approx(
        {"alpha": 0.455614, "beta": 0.779326, "c": 1.283451}, rel=1e-4
    )
    assert regular.log_likelihood == pytest.approx(-1679.602833, abs=1e-4)
    assert high_end.params == pytest.approx(
        {"alpha": 0.214253, "beta": 1.426575, "c": 1.723565}, rel=1e-4
    )
    assert high_end.log_likelihood == pytest.approx(-1605.314213, abs=1e-4)


def test_summary_is_json(sbg):
    summary = sbg["regular"].summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["model"] == "sbg" and summary["n"] == 1000
    assert summary["aic"] == pytest.approx(2 * 2 + 2 * 1680.27, abs=0.02)
    assert summary["bic"] == pytest.approx(2 * math.log(1000) + 2 * 1680.27, abs=0.02)
    assert set(summary["standard_errors"]) == {"alpha", "beta"}
    assert all(error > 0 for error in summary["standard_errors"].values())


# -- simulated subscribers -----------------------------------------------------------


def _simulate(model: RetentionModel, subscribers: int, horizon: int, seed: int) -> Lifetimes:
    """Subscribers joining evenly over ``horizon`` periods, observed at its end."""
    rng = np.random.default_rng(seed)
    periods = model.draw_periods(subscribers, rng)
    seen = rng.integers(1, horizon + 1, subscribers)  # renewals that could be seen
    churned = periods <= seen
    return Lifetimes.from_durations(np.where(churned, periods, seen), churned)


@pytest.mark.parametrize(
    ("model_class", "truth"),
    [
        (ShiftedBetaGeometric, {"alpha": 0.8, "beta": 2.5}),
        (ShiftedBetaGeometric, {"alpha": 3.0, "beta": 12.0}),
        (BetaDiscreteWeibull, {"alpha": 1.2, "beta": 3.0, "c": 0.7}),
        (BetaDiscreteWeibull, {"alpha": 0.6, "beta": 1.5, "c": 1.4}),
    ],
)
def test_fit_recovers_simulated_parameters_within_two_standard_errors(model_class, truth):
    data = _simulate(model_class.from_params(**truth), 20_000, 24, seed=42)
    model = model_class().fit(data)
    assert model.converged, model.warnings
    for name, value in truth.items():
        error = model.standard_errors[name]
        assert 0 < error < 0.25 * value, name  # the data pin the parameter down
        assert abs(model.params[name] - value) < 2 * error, (name, model.params[name], error)


def test_draw_periods_follows_the_survival_curve():
    model = BetaDiscreteWeibull.from_params(alpha=1.2, beta=3.0, c=0.7)
    periods = model.draw_periods(200_000, np.random.default_rng(7))
    t = np.arange(1, 10)
    share = (periods[:, None] > t).mean(axis=0)
    assert share == pytest.approx(model.survival(t), abs=0.005)


def test_cohort_table_and_its_subscribers_fit_the_same(calibration):
    data = calibration["regular"]
    one_per_subscriber = Lifetimes.from_durations(
        np.repeat(data.periods, data.count), np.repeat(data.churned, data.count)
    )
    a = ShiftedBetaGeometric().fit(data)
    b = ShiftedBetaGeometric().fit(one_per_subscriber)
    assert b.params == pytest.approx(a.params, rel=1e-6)
    assert b.log_likelihood == pytest.approx(a.log_likelihood, rel=1e-9)


# -- the likelihood's gradient -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model_class", "theta"),
    [
        (ShiftedBetaGeometric, [0.7, 1.2]),
        (BetaDiscreteWeibull, [0.7, 1.2, 0.6]),
        (BetaDiscreteWeibull, [2.0, 30.0, 3.5]),
    ],
)
def test_gradient_matches_finite_differences(model_class, theta):
    data = Lifetimes.from_durations(
        [1, 2, 2, 5, 40, 300, 7, 120], [True, True, False, True, True, True, False, False]
    )
    model = model_class()
    theta = np.array(theta)
    _, gradient = model._log_likelihood(theta, data)
    for i in range(len(theta)):
        h = 1e-6 * theta[i]
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        numeric = (model._log_likelihood(up, data)[0] - model._log_likelihood(down, data)[0]) / (
            2 * h
        )
        assert gradient[i] == pytest.approx(numeric, rel=1e-5, abs=1e-7), i


# -- numerical accuracy of the kernels ---------------------------------------------------


@pytest.mark.parametrize("a", [2, 7, 30])
def test_log_beta_is_exact_for_large_arguments(a):
    # For whole a, B(a, b) = (a - 1)! / (b (b + 1) ... (b + a - 1)); scipy's betaln is
    # off by up to 5e-8 at b = 1e7, a = 30.
    b = np.array([1.5, 49.0, 50.0, 60.0, 300.0, 1e4, 3.7e5, 1e7, 1e12])
    exact = [math.lgamma(a) - math.fsum(math.log(v + i) for i in range(a)) for v in b]
    assert _betaln(float(a), b) == pytest.approx(exact, rel=1e-15, abs=1e-13)


def test_log_retention_of_the_sbg_is_exact_far_out():
    alpha, beta = 0.704, 1.182
    t = np.array([1, 2, 5, 40, 48, 49, 50, 51, 120, 300, 1e3, 1e4, 1e6])
    exact = -np.log1p(alpha / (beta + t - 1))
    assert _log_step(alpha, beta, 1.0, t) == pytest.approx(exact, rel=1e-13)


@pytest.mark.parametrize("c", [0.4, 1.3, 3.5])
def test_log_retention_is_the_ratio_of_survivals(c):
    t = np.arange(1, 400, dtype=np.float64)
    step = _log_step(0.7, 1.2, c, t)
    ratio = _log_survival(0.7, 1.2, c, t, False)[0] - _log_survival(0.7, 1.2, c, t - 1, False)[0]
    assert step == pytest.approx(ratio, rel=1e-8)


# -- predictions -----------------------------------------------------------------------

MODELS = [
    ShiftedBetaGeometric.from_params(alpha=0.704, beta=1.182),
    ShiftedBetaGeometric.from_params(alpha=3.5, beta=20.0),
    BetaDiscreteWeibull.from_params(alpha=0.455, beta=0.779, c=1.283),
    BetaDiscreteWeibull.from_params(alpha=1.5, beta=4.0, c=0.6),
]


def test_sbg_predictions_match_their_closed_forms():
    alpha, beta = 0.704, 1.182
    model = ShiftedBetaGeometric.from_params(alpha=alpha, beta=beta)
    t = np.arange(1, 200)
    assert model.survival(t) == pytest.approx(
        np.exp(betaln(alpha, beta + t) - betaln(alpha, beta)), rel=1e-12
    )
    assert model.churn_probability(t) == pytest.approx(
        np.exp(betaln(alpha + 1, beta + t - 1) - betaln(alpha, beta)), rel=1e-9
    )
    assert model.retention_rate(t) == pytest.approx(
        (beta + t - 1) / (alpha + beta + t - 1), rel=1e-12
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.name}{m.params}")
def test_renewal_probability_is_survival_ratio(model):
    tenure = np.arange(0, 60)
    expected = model.survival(tenure + 1) / model.survival(tenure)
    assert model.renewal_probability(tenure) == pytest.approx(expected, rel=1e-12)
    assert model.renewal_probability(tenure) == pytest.approx(
        model.retention_rate(tenure + 1), rel=1e-12
    )


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.name}{m.params}")
def test_churn_probabilities_add_up_to_the_lost_share(model):
    assert float(model.survival(0)) == 1.0
    t = np.arange(1, 51)
    churn = model.churn_probability(t)
    assert np.all(churn > 0)
    assert np.cumsum(churn) == pytest.approx(1 - model.survival(t), rel=1e-10)


def test_predictions_keep_the_shape_of_their_input():
    model = MODELS[0]
    assert np.shape(model.survival(3)) == ()
    assert model.survival([[1, 2], [3, 4]]).shape == (2, 2)
    assert model.expected_residual_lifetime([[0, 1], [2, 3]], 0.1).shape == (2, 2)


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan")])
def test_predictions_refuse_impossible_tenures(bad):
    with pytest.raises(ValueError):
        MODELS[0].renewal_probability(bad)


def test_churn_and_retention_start_at_period_1():
    with pytest.raises(ValueError, match="at least 1"):
        MODELS[0].retention_rate(0)


# -- DERL ----------------------------------------------------------------------------


def _long_sum(model: RetentionModel, tenure: int, discount: float, terms: int) -> float:
    """The defining sum of DERL, term by term: S(n+1+k)/S(n) (1+d)^-k for k < terms."""
    k = np.arange(terms, dtype=np.float64)
    s = model.survival(tenure + 1 + k) / model.survival(tenure)
    return float(np.sum(s / (1 + discount) ** k))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.name}{m.params}")
@pytest.mark.parametrize("discount", [0.1, 0.01])
def test_derl_is_its_defining_sum(model, discount):
    tenure = np.array([0, 1, 4, 12, 60])
    terms = 6000 if discount == 0.01 else 600  # (1 + d)^-terms < 1e-25
    expected = [_long_sum(model, n, discount, terms) for n in tenure]
    assert model.expected_residual_lifetime(tenure, discount) == pytest.approx(expected, rel=1e-10)


def _brute_force_derl(alpha: float, beta: float, tenure: int, discount: float) -> float:
    """Two million terms of the defining sum, straight from betaln."""
    k = np.arange(2_000_000, dtype=np.float64)
    log_terms = betaln(alpha, beta + tenure + 1 + k) - betaln(alpha, beta + tenure)
    return float(np.sum(np.exp(log_terms - k * np.log1p(discount))))


@pytest.mark.parametrize("discount", [0.1, 0.01, 1e-4, 1e-6])
@pytest.mark.parametrize(("alpha", "beta"), [(0.704, 1.182), (0.668, 3.806), (3.5, 20.0)])
def test_sbg_derl_is_the_published_closed_form(alpha, beta, discount):
    # Fader & Hardie (2010), eq. 6 with scipy's hyp2f1, where hyp2f1 is accurate.
    model = ShiftedBetaGeometric.from_params(alpha=alpha, beta=beta)
    tenure = np.array([0, 1, 2, 5, 20, 100])
    closed = sbg_derl_closed_form(alpha, beta, tenure, discount)
    assert model.expected_residual_lifetime(tenure, discount) == pytest.approx(closed, rel=1e-8)


@pytest.mark.parametrize(
    ("alpha", "beta", "discount", "tenure"),
    [
        (3.0, 0.2, 0.001, 28),
        (60.0, 0.5, 0.1, 75),
        (0.704, 1.182, 0.001, 1000),
        (8.0, 2.0, 0.1, 100),
    ],
)
def test_sbg_derl_is_right_where_scipys_hyp2f1_is_not(alpha, beta, discount, tenure):
    # scipy's hyp2f1 is off by 0.5 %, inf, NaN and 2e-7 at these points; the summed
    # series agrees with a brute-force sum.
    model = ShiftedBetaGeometric.from_params(alpha=alpha, beta=beta)
    assert float(model.expected_residual_lifetime(tenure, discount)) == pytest.approx(
        _brute_force_derl(alpha, beta, tenure, discount), rel=1e-12
    )


def test_derl_of_sbg_without_discount():
    # alpha > 1: (beta + n) / (alpha - 1) renewals to come, also by the sum and its
    # integrated tail.
    model = ShiftedBetaGeometric.from_params(alpha=3.5, beta=20.0)
    tenure = np.array([0, 3, 40])
    assert model.expected_residual_lifetime(tenure) == pytest.approx((20.0 + tenure) / 2.5)
    direct = RetentionModel._derl(model, tenure.astype(float), 1.0)  # the sum and its tail
    assert direct == pytest.approx((20.0 + tenure) / 2.5, rel=1e-6)
    # alpha <= 1: a heavy tail of subscribers who almost never leave.
    regular = ShiftedBetaGeometric.from_params(alpha=0.704, beta=1.182)
    assert np.all(np.isinf(regular.expected_residual_lifetime([0, 5])))


@pytest.mark.parametrize(("alpha", "beta"), [(2.5, 6.0), (1.01, 3.0), (1.2, 0.3), (30.0, 5.0)])
def test_derl_of_bdw_without_discount(alpha, beta):
    # At c = 1 the BdW is the sBG, whose undiscounted DERL has a closed form; at alpha
    # near 1 the terms fall as t^-1.01 and the sum lives on its integrated tail.
    model = BetaDiscreteWeibull.from_params(alpha=alpha, beta=beta, c=1.0)
    tenure = np.array([0, 2, 30, 500])
    assert model.expected_residual_lifetime(tenure) == pytest.approx(
        (beta + tenure) / (alpha - 1), rel=1e-10
    )


def test_derl_of_bdw_without_discount_diverges_or_is_the_limit_of_small_discounts():
    # alpha c <= 1: S(t) ~ t^-(alpha c) and the expected number of renewals has no end.
    heavy = BetaDiscreteWeibull.from_params(alpha=1.5, beta=4.0, c=0.6)
    assert np.all(np.isinf(heavy.expected_residual_lifetime([0, 5])))
    # Without discount the sum converges slowly (S(t) ~ t^-1.8): it agrees with a very
    # long discounted sum as the discount vanishes.
    slow = BetaDiscreteWeibull.from_params(alpha=1.5, beta=4.0, c=1.2)
    limit = slow.expected_residual_lifetime(3)
    assert slow.expected_residual_lifetime(3, 1e-7) == pytest.approx(limit, rel=1e-4)
    assert slow.expected_residual_lifetime(3, 1e-7) < limit


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.name}{m.params}")
def test_derl_recursion_and_lifetime_of_a_new_subscriber(model):
    d = 0.05
    derl = model.expected_residual_lifetime(np.arange(0, 30), d)
    renew = model.renewal_probability(np.arange(0, 29))
    assert derl[:-1] == pytest.approx(renew * (1 + derl[1:] / (1 + d)), rel=1e-12)
    # DEL counts the first payment: 1 + DERL(0) / (1 + d).
    assert model.expected_lifetime(d) == pytest.approx(1 + derl[0] / (1 + d), rel=1e-12)
    assert model.expected_lifetime(d) == pytest.approx(_long_sum_from_zero(model, d), rel=1e-10)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{m.name}{m.params}")
def test_derl_counts_the_next_renewal_undiscounted_and_not_the_current_payment(model):
    # With a discount so steep that only the first future payment counts, DERL is the
    # chance of that next renewal: no payment for the current period, no discount on it.
    tenure = np.array([0, 3, 10])
    assert model.expected_residual_lifetime(tenure, 1e12) == pytest.approx(
        model.renewal_probability(tenure), rel=1e-9
    )


def test_bdw_at_its_same_for_all_limit_says_so():
    rng = np.random.default_rng(3)
    one_theta = BetaDiscreteWeibull.from_params(alpha=1e7, beta=2e7, c=0.7)
    periods = one_theta.draw_periods(20_000, rng)
    data = Lifetimes.from_durations(np.minimum(periods, 12), periods <= 12)
    model = BetaDiscreteWeibull().fit(data)
    assert not model.converged
    assert len(model.warnings) == 1 and "discrete-Weibull limit" in model.warnings[0]
    assert "rising over each subscriber's tenure" in model.warnings[0]
    assert model.params["c"] == pytest.approx(0.7, abs=0.03)


def _long_sum_from_zero(model: RetentionModel, discount: float) -> float:
    t = np.arange(2000, dtype=np.float64)
    return float(np.sum(model.survival(t) / (1 + discount) ** t))


def test_sbg_lifetime_of_a_new_subscriber_is_the_published_form():
    model = ShiftedBetaGeometric.from_params(alpha=0.668, beta=3.806)
    assert model.expected_lifetime(0.1) == pytest.approx(
        hyp2f1(1, 3.806, 0.668 + 3.806, 1 / 1.1), rel=1e-12
    )


def test_derl_refuses_a_negative_discount():
    with pytest.raises(ValueError, match="discount rate"):
        MODELS[0].expected_residual_lifetime(1, -0.1)


# -- data that cannot identify a model -----------------------------------------------


@pytest.mark.parametrize("model_class", [ShiftedBetaGeometric, BetaDiscreteWeibull])
def test_no_churn_is_refused_in_one_line(model_class):
    with pytest.raises(TooLittleDataError, match="no subscriber has left") as raised:
        model_class().fit(Lifetimes.from_survivors([100, 100, 100, 100]))
    assert "\n" not in str(raised.value)


def test_everyone_leaving_at_the_first_renewal_is_refused():
    with pytest.raises(TooLittleDataError, match="every subscriber left at the first renewal"):
        ShiftedBetaGeometric().fit(Lifetimes.from_survivors([100, 0]))


def test_one_renewal_period_is_too_little():
    with pytest.raises(TooLittleDataError, match="reach only the first renewal"):
        ShiftedBetaGeometric().fit(Lifetimes.from_survivors([100, 60]))


def test_bdw_needs_three_periods():
    data = Lifetimes.from_survivors([100, 60, 45])
    assert ShiftedBetaGeometric().fit(data).converged
    with pytest.raises(TooLittleDataError, match="needs at least as many periods"):
        BetaDiscreteWeibull().fit(data)


def test_subscribers_who_all_churn_alike_are_fitted_at_the_constant_churn_limit():
    # Everyone leaves with probability 0.3 at every renewal: no heterogeneity, so alpha
    # and beta run off together towards the geometric limit.
    rng = np.random.default_rng(1)
    periods = rng.geometric(0.3, 5000)
    data = Lifetimes.from_durations(np.minimum(periods, 10), periods <= 10)
    model = ShiftedBetaGeometric().fit(data)
    assert not model.converged
    assert len(model.warnings) == 1
    assert "constant-churn limit (30.1% leave at each renewal)" in model.warnings[0]
    assert all(math.isnan(e) for e in model.standard_errors.values())
    assert model.retention_rate(np.arange(1, 20)) == pytest.approx(0.699, abs=1e-3)
    assert model.summary()["standard_errors"] == {"alpha": None, "beta": None}


def _constant_churn_table(churn: float) -> Lifetimes:
    return Lifetimes.from_survivors([round(100_000 * (1 - churn) ** year) for year in range(8)])


@pytest.mark.parametrize(
    ("alpha", "beta", "expected"),
    [
        # ln L of the 30 % table at theta = 0.3 and alpha + beta = e^8, e^12, e^14, in
        # 40-digit arithmetic (mpmath: ln B(alpha, beta + t) - ln B(alpha, beta) per group).
        (894.2873961125184, 2086.6705909292095, -186852.77792623214),
        (48826.43742570117, 113928.35399330274, -186852.73339682355),
        (360781.285249433, 841822.9989153437, -186852.7333635359),
    ],
)
def test_sbg_likelihood_is_exact_far_out_on_the_ridge(alpha, beta, expected):
    # As a difference of two log-beta functions near 1e6 it was off by up to 5e-4,
    # enough to rank a point short of the constant-churn limit above the limit itself.
    model = ShiftedBetaGeometric()
    found = -model._objective(np.log([alpha, beta]), _constant_churn_table(0.3))[0]
    assert found == pytest.approx(expected, abs=1e-7)


@pytest.mark.parametrize("model_class", [ShiftedBetaGeometric, BetaDiscreteWeibull])
@pytest.mark.parametrize("churn", [0.3, 0.8])
def test_a_constant_churn_table_whose_top_is_the_limit_is_named_so(model_class, churn):
    # Rounded to whole subscribers, these tables are most likely at the limit itself
    # (checked in 40-digit arithmetic for 30 %); the optimiser stopped short of it, and
    # at 80 % reported alpha alone at the edge of the box, unnamed.
    model = model_class().fit(_constant_churn_table(churn))
    assert len(model.warnings) == 1
    assert "alpha and beta run off to infinity" in model.warnings[0]
    if model_class is ShiftedBetaGeometric:
        assert f"constant-churn limit ({churn:.1%} leave" in model.warnings[0]
    else:
        assert "retention flat over each subscriber's tenure, c = 1)" in model.warnings[0]
    assert model.retention_rate(np.arange(1, 8)) == pytest.approx(1 - churn, abs=1e-4)
    assert not model.converged


@pytest.mark.parametrize("model_class", [ShiftedBetaGeometric, BetaDiscreteWeibull])
@pytest.mark.parametrize("churn", [0.05, 0.1, 0.3, 0.6, 0.8])
def test_no_fit_is_less_likely_than_the_same_for_all_limit(model_class, churn):
    data = _constant_churn_table(churn)
    best_limit = max(
        _same_for_all(np.log(theta / (1 - theta)), 1.0, data)
        for theta in np.linspace(churn - 1e-4, churn + 1e-4, 201)
    )
    model = model_class().fit(data)
    assert model.log_likelihood >= best_limit - 1e-9 * abs(best_limit)
    assert model.retention_rate(np.arange(1, 8)) == pytest.approx(1 - churn, abs=1e-3)


def test_a_limit_the_box_cannot_hold_keeps_the_fit_and_its_predictions():
    # Nobody leaves for two periods, then half. The same-for-all limit is most likely
    # (theta 2e-10, c 20), but within the box it would be a Beta with alpha 2e-4, spread
    # over orders of magnitude, whose survival at period 3 is 0.998: the fit that ran to
    # the edge is kept, and its predictions follow the data.
    model = BetaDiscreteWeibull().fit(Lifetimes.from_survivors([100, 100, 100, 50]))
    assert model.survival(np.arange(4)) == pytest.approx([1, 1, 1, 0.5], abs=0.01)
    assert model.warnings == [
        "BdW: the fit runs to the edge of the parameter range (beta up, c up): its "
        "estimates are a limit, not a maximum, and have no standard errors"
    ]


def test_a_shape_at_its_edge_is_named_beside_the_same_for_all_limit():
    # At the limit alpha and beta are at the edge, which its own warning says; c at the
    # edge of its range as well is said in a second one, not swallowed by the first.
    model = BetaDiscreteWeibull.from_params(alpha=9.6e5, beta=2.4e5, c=20.0)
    log_theta = np.log([9.6e5, 2.4e5, 20.0])
    warnings = model._edge_warnings(log_theta, model._log_bounds(), ridge=True)
    assert len(warnings) == 2
    assert "discrete-Weibull limit (one churn parameter 0.8 for all" in warnings[0]
    assert "the parameter range (c up)" in warnings[1]
    assert model._edge_warnings(np.log([9.6e5, 2.4e5, 1.0]), model._log_bounds(), True)[1:] == []


def test_a_poorly_determined_spread_is_named():
    # 30% leave at every renewal, rounded to whole subscribers: a maximum far out on
    # the ridge towards the constant-churn limit, with errors larger than the estimates.
    active = [10_000]
    for _ in range(10):
        active.append(round(active[-1] * 0.7))
    model = ShiftedBetaGeometric().fit(Lifetimes.from_survivors(active))
    assert model.warnings == [
        "sBG: the data hardly pin down alpha and beta (standard error above the "
        "estimate): projections far beyond the data are uncertain"
    ]
    assert model.retention_rate(np.arange(1, 20)) == pytest.approx(0.7, abs=1e-3)


def test_predictions_need_a_fit():
    with pytest.raises(NotFittedError):
        ShiftedBetaGeometric().survival(1)
    with pytest.raises(NotFittedError):
        BetaDiscreteWeibull().summary()


def test_from_params_refuses_wrong_names_and_values():
    with pytest.raises(ValueError, match="takes alpha, beta, c"):
        BetaDiscreteWeibull.from_params(alpha=1.0, beta=1.0)
    with pytest.raises(ValueError, match="positive"):
        ShiftedBetaGeometric.from_params(alpha=-1.0, beta=1.0)
