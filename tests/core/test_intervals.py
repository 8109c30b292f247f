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

from clvcli.core.intervals import (
    DRAWS,
    Surrogate,
    check_level,
    quantiles,
    standard_normal,
)
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


def test_quantiles_interpolate_between_order_statistics_as_numpy_does():
    values = np.random.default_rng(1).permutation(np.arange(DRAWS, dtype=np.float64))[None, :]
    values = np.vstack([values, values * 2.0])
    lower, upper = quantiles(values, 0.9)
    # (DRAWS - 1) x 0.05 = 9.95 and x 0.95 = 189.05 of 0, 1, ..., 199.
    assert lower == pytest.approx([9.95, 19.9]) and upper == pytest.approx([189.05, 378.1])
    assert np.allclose(lower, np.quantile(values, 0.05, axis=1))


def test_a_draw_without_a_finite_value_counts_as_infinite():
    values = np.arange(DRAWS, dtype=np.float64)[None, :].copy()
    values[0, -15:] = np.nan  # 7.5% of the draws: beyond the 95% quantile
    lower, upper = quantiles(values, 0.9)
    assert lower[0] == pytest.approx(9.95) and np.isnan(upper[0])


def test_the_surrogate_is_exact_for_a_log_quadratic_along_each_axis():
    z = standard_normal(2, 0)

    def log_value(point: np.ndarray) -> np.ndarray:
        return np.array([1.0 + 0.3 * point[0] - 0.2 * point[1] ** 2])

    center = np.exp(log_value(np.zeros(2)))
    up = np.exp(np.column_stack([log_value(np.eye(2)[j]) for j in range(2)]))
    down = np.exp(np.column_stack([log_value(-np.eye(2)[j]) for j in range(2)]))
    found = Surrogate.through(center, up, down).at(slice(0, 1), z)
    assert np.allclose(found[0], [log_value(point)[0] for point in z], rtol=1e-12)


def test_the_draws_are_fixed_and_normal_on_each_axis():
    z = standard_normal(4, 0)
    assert z.shape == (DRAWS, 4) and np.array_equal(z, standard_normal(4, 0))
    assert not np.array_equal(standard_normal(3, 1), standard_normal(3, 0))
    middles = ndtri((np.arange(DRAWS) + 0.5) / DRAWS)
    assert all(np.allclose(np.sort(z[:, j]), middles) for j in range(4))


@pytest.mark.parametrize("level", [0.9, 0.5, 0.999])
def test_a_level_inside_0_1_is_taken(level):
    assert check_level(level) == level


@pytest.mark.parametrize("level", [1.0, 1.5, -0.1, 90.0, float("nan")])
def test_a_level_outside_0_1_is_a_usage_error(level):
    with pytest.raises(UsageError, match="outside"):
        check_level(level)


def test_zero_means_no_intervals():
    assert check_level(0.0) == 0.0
