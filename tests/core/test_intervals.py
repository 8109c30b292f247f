"""Per-customer intervals from the uncertainty of the fitted parameters.

The coverage test simulates 3,000 BG/NBD customers (with Gamma-Gamma spend) from
known parameters and fits both models once, for their covariances. It then asks
what the intervals would say over the estimates a repeated sample could give: 64
estimates spread evenly (a Sobol design, mapped through the normal) over the fit's
asymptotic normal around the TRUE parameters. For each, the intervals come from the
model at that estimate, with that covariance, and the expectation under the true
parameters must lie inside the 90% interval for 85 to 95% of customer-estimates.
An even design instead of random estimates: every customer's interval errs with the
same estimate, so a random set of 64 would move the share by +-3 points; the design
pins it to about one. Refitting simulated samples gives the same share (0.909 over
120 samples) but takes a minute.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri
from scipy.stats import qmc

from clvcli.core.intervals import Cumulants, check_level
from clvcli.core.value import ValueSettings, row_values, with_intervals
from clvcli.errors import UsageError
from clvcli.models import BGNBDFitter, DistinctRows, GammaGammaFitter
from clvcli.models.gamma_gamma import spend_rows

TRUE = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_SPEND = {"p": 6.25, "q": 3.74, "v": 15.44}
CUSTOMERS = 3_000
ESTIMATES = 64
SETTINGS = ValueSettings("week", 3.0, 0.10, 1.0)


def _simulate(seed: int) -> tuple[np.ndarray, ...]:
    """BG/NBD purchases over 30 to 60 weeks and Gamma-Gamma mean spend per customer."""
    rng = np.random.default_rng(seed)
    T = rng.uniform(30.0, 60.0, CUSTOMERS)
    rate = rng.gamma(TRUE["r"], 1.0 / TRUE["alpha"], CUSTOMERS)
    dropout = rng.beta(TRUE["a"], TRUE["b"], CUSTOMERS)
    arrivals = rng.poisson(rate * T)
    x = np.minimum(arrivals, rng.geometric(dropout)).astype(np.float64)
    t_x = np.where(x > 0, T * rng.beta(np.maximum(x, 1), np.maximum(arrivals - x + 1, 1)), 0.0)
    scale = rng.gamma(TRUE_SPEND["q"], 1.0 / TRUE_SPEND["v"], CUSTOMERS)
    total = rng.gamma(TRUE_SPEND["p"] * np.maximum(x, 1), 1.0 / scale)
    m = np.where(x > 0, total / np.maximum(x, 1), 0.0)
    return x, np.round(t_x, 2), np.round(T, 2), np.round(m, 2)


def _at(model_type, names, center: dict, axes: np.ndarray, u: np.ndarray, covariance):
    log = np.log([center[n] for n in names]) + axes @ u
    model = model_type().set_params(dict(zip(names, np.exp(log), strict=True)))
    model.log_covariance_ = covariance
    return model


def test_the_true_expectation_is_inside_the_90_percent_interval_for_90_percent():
    x, t_x, T, m = _simulate(2024)
    rows = DistinctRows.of(x, t_x, T)
    fit = BGNBDFitter().fit_rows(rows)
    spend_fit = GammaGammaFitter().fit_rows(spend_rows(x, m))
    covariance, spend_covariance = fit.log_covariance_, spend_fit.log_covariance_
    assert covariance is not None and spend_covariance is not None
    axes, spend_axes = np.linalg.cholesky(covariance), np.linalg.cholesky(spend_covariance)

    truth = row_values(BGNBDFitter().set_params(TRUE), None, rows, SETTINGS)
    true_spend = GammaGammaFitter().set_params(TRUE_SPEND).expected_spend(x, m)
    true_expected = truth.expected[rows.inverse]
    true_clv = truth.discounted[rows.inverse] * true_spend

    design = ndtri(qmc.Sobol(7, seed=7).random(ESTIMATES))
    purchases_in, clv_in = [], []
    for u in design:
        model = _at(BGNBDFitter, BGNBDFitter.param_names, TRUE, axes, u[:4], covariance)
        spend = _at(
            GammaGammaFitter,
            GammaGammaFitter.param_names,
            TRUE_SPEND,
            spend_axes,
            u[4:],
            spend_covariance,
        )
        values = row_values(model, spend, rows, SETTINGS)
        values, said = with_intervals(values, model, spend, rows, SETTINGS, 0.9)
        assert said == []
        scores = values.customers(slice(0, CUSTOMERS), x, m).intervals
        assert scores is not None
        purchases_in.append(
            (scores["expected_purchases_lower"] <= true_expected)
            & (true_expected <= scores["expected_purchases_upper"])
        )
        clv_in.append(
            (scores["predicted_clv_lower"] <= true_clv)
            & (true_clv <= scores["predicted_clv_upper"])
        )
    print("coverage", np.mean(purchases_in), np.mean(clv_in))
    assert 0.85 <= np.mean(purchases_in) <= 0.95
    assert 0.85 <= np.mean(clv_in) <= 0.95


def test_a_fit_keeps_the_covariance_its_standard_errors_come_from():
    x, t_x, T, _ = _simulate(11)
    fit = BGNBDFitter().fit_rows(DistinctRows.of(x, t_x, T))
    summary = fit.summary()
    for name in fit.param_names:
        variance = summary["covariance"][name][name]
        assert np.sqrt(variance) == pytest.approx(summary["std_errors"][name], rel=1e-9)
        assert summary["correlation"][name][name] == pytest.approx(1.0, rel=1e-12)
    assert summary["covariance"]["r"]["alpha"] == summary["covariance"]["alpha"]["r"]
    assert -1 < summary["correlation"]["r"]["alpha"] < 1
    # Read back from a parameters file, the covariance is the fit's.
    loaded = BGNBDFitter().set_params(summary["params"]).set_covariance(summary["covariance"])
    assert np.allclose(loaded.log_covariance_, fit.log_covariance_, rtol=1e-12, atol=0)


def test_a_model_without_a_covariance_gives_empty_intervals_and_says_so():
    x, t_x, T, m = _simulate(5)
    rows = DistinctRows.of(x, t_x, T)
    model = BGNBDFitter().set_params(TRUE)  # known parameters: no covariance
    values = row_values(model, None, rows, SETTINGS)
    values, said = with_intervals(values, model, None, rows, SETTINGS, 0.9)
    assert len(said) == 1 and "no covariance" in said[0]
    scores = values.customers(slice(0, CUSTOMERS), x, m).intervals
    assert scores is not None
    assert all(np.isnan(column).all() for column in scores.values())


def test_intervals_are_the_same_for_a_row_whatever_rows_come_with_it():
    x, t_x, T, m = _simulate(3)
    fit = BGNBDFitter().fit_rows(DistinctRows.of(x, t_x, T))

    def lower(part: slice) -> np.ndarray:
        rows = DistinctRows.of(x[part], t_x[part], T[part])
        values = row_values(fit, None, rows, SETTINGS)
        values, _ = with_intervals(values, fit, None, rows, SETTINGS, 0.8)
        return values.customers(slice(0, len(rows.inverse)), x[part], m[part]).intervals[
            "expected_purchases_lower"
        ]

    assert np.array_equal(lower(slice(0, CUSTOMERS))[:100], lower(slice(0, 100)))


def test_a_log_linear_value_gets_the_normal_interval():
    """log value = 1 + 0.3 z1 - 0.4 z2: normal, sd 0.5; its 90% interval is
    exp(1 -+ 1.6449 x 0.5)."""
    center = np.array([np.e])
    up = [np.exp([1.3]), np.exp([0.6])]
    down = [np.exp([0.7]), np.exp([1.4])]
    found = Cumulants.through(center, up, down)
    assert found.mean == pytest.approx([1.0]) and found.variance == pytest.approx([0.25])
    assert found.third == pytest.approx([0.0], abs=1e-15)
    lower, upper = found.interval(0.9)
    assert lower == pytest.approx(np.exp([1 - 1.6448536269514722 * 0.5]), rel=1e-12)
    assert upper == pytest.approx(np.exp([1 + 1.6448536269514722 * 0.5]), rel=1e-12)


def test_the_cumulants_of_a_quadratic_along_one_axis():
    """0.3 z + 0.1 z^2: mean 0.1, variance 0.09 + 2 x 0.01 = 0.11, third cumulant
    6 x 0.1 x 0.09 + 8 x 0.001 = 0.062, fourth 48 x 0.01 x 0.09 + 48 x 0.0001 = 0.048
    (by hand)."""
    found = Cumulants.through(np.exp([0.0]), [np.exp([0.4])], [np.exp([-0.2])])
    assert found.mean == pytest.approx([0.1]) and found.variance == pytest.approx([0.11])
    assert found.third == pytest.approx([0.062]) and found.fourth == pytest.approx([0.048])


def test_cornish_fisher_quantiles_match_those_of_draws():
    """The quantiles of exp(0.3 z1 + 0.1 z1^2 - 0.2 z2 + 0.05 z2^2) from the cumulants,
    against those of two million draws."""
    found = Cumulants.through(
        np.array([1.0]),
        [np.exp([0.3 + 0.1]), np.exp([-0.2 + 0.05])],
        [np.exp([-0.3 + 0.1]), np.exp([0.2 + 0.05])],
    )
    lower, upper = found.interval(0.9)
    z = np.random.default_rng(4).standard_normal((2_000_000, 2))
    values = np.exp(0.3 * z[:, 0] + 0.1 * z[:, 0] ** 2 - 0.2 * z[:, 1] + 0.05 * z[:, 1] ** 2)
    # Skewness 1.23: to the third cumulant alone they would be 2.6% and 3.2% off.
    assert lower[0] == pytest.approx(np.quantile(values, 0.05), rel=0.005)
    assert upper[0] == pytest.approx(np.quantile(values, 0.95), rel=0.005)


def test_independent_log_values_add_their_cumulants():
    one = Cumulants(np.array([1.0]), np.array([0.04]), np.array([0.001]), np.array([0.0]))
    two = Cumulants(np.array([2.0]), np.array([0.09]), np.array([-0.002]), np.array([0.01]))
    both = one.plus(two)
    assert both.mean[0] == 3.0 and both.variance[0] == pytest.approx(0.13)
    assert both.third[0] == pytest.approx(-0.001) and both.fourth[0] == pytest.approx(0.01)


@pytest.mark.parametrize("level", [0.9, 0.5, 0.999])
def test_a_level_inside_0_1_is_taken(level):
    assert check_level(level) == level


@pytest.mark.parametrize("level", [1.0, 1.5, -0.1, 90.0, float("nan")])
def test_a_level_outside_0_1_is_a_usage_error(level):
    with pytest.raises(UsageError, match="outside"):
        check_level(level)


def test_zero_means_no_intervals():
    assert check_level(0.0) == 0.0
