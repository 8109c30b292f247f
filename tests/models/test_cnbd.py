"""BG/CNBD-k and MBG/CNBD-k: hand-worked likelihood, k = 1 against BG/NBD and MBG/NBD,
BTYDplus's grocery numbers, and recovery from data simulated with known parameters.

Published (BTYDplus vignette and the issue's table, `groceryElog`: 1,525 customers,
calibration 2006, 52 weeks of holdout, 3,389 actual purchases, in weeks): BG/CNBD-k at
k = 2 predicts 3,830.1 holdout purchases, relative MAE 0.663; MBG/CNBD-k at k = 2
predicts 3,970.1, relative MAE 0.644. BTYDplus's own unit test of its C++ likelihood:
k = 3, r = 0.5, alpha = 2, a = 0.3, b = 0.6 give -10.42500 and -12.22396 for
(x, t_x, T, litt) = (3, 12, 14, 3) and (4, 12, 14, 3).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln

from clvcli.core.summary import calibration_table
from clvcli.io.readers import ReadSettings, read_transactions
from clvcli.models import (
    BGCNBDFitter,
    BGNBDFitter,
    DistinctRows,
    MBGCNBDFitter,
    MBGNBDFitter,
)
from clvcli.models.cnbd import _at_k, log_likelihood_terms
from tests.conftest import DATA

MODELS = (BGCNBDFitter, MBGCNBDFitter)


def rows_of(x, t_x, T, litt) -> DistinctRows:
    arrays = (np.asarray(v, dtype=np.float64) for v in (x, t_x, T))
    return DistinctRows.of(*arrays).with_litt(np.asarray(litt, dtype=np.float64))


# -- the likelihood by hand --------------------------------------------------------
def test_btydplus_likelihood_values():
    """BTYDplus's check of its likelihood (the BG variant)."""
    params = {"r": 0.5, "alpha": 2.0, "a": 0.3, "b": 0.6, "k": 3}
    model = BGCNBDFitter()
    first = model.log_likelihood(params, rows_of([3], [12], [14], [3]))
    second = model.log_likelihood(params, rows_of([4], [12], [14], [3]))
    assert first == pytest.approx(-10.42500, abs=5e-6)
    assert second == pytest.approx(-12.22396, abs=5e-6)


def _integrated(k, r, alpha, a, b, x, t_x, T, gaps, at_zero):
    """The likelihood of one customer, integrated over lambda and p numerically:
    Erlang-k gaps of rate lambda, then alive at T with the next purchase not due, or
    dropped out at the last coin toss (after each repeat purchase; also at the first
    purchase for MBG)."""
    survived = x - 1 + (1 if at_zero else 0)
    tosses = x > 0 or at_zero

    def density(lam, p):
        gaps_part = np.prod([lam**k * g ** (k - 1) / math.factorial(k - 1) for g in gaps])
        gaps_part *= math.exp(-lam * t_x)
        not_due = sum(
            math.exp(-lam * (T - t_x)) * (lam * (T - t_x)) ** j / math.factorial(j)
            for j in range(k)
        )
        ended = (1 - p) * not_due + p if tosses else not_due
        prior_lam = math.exp(r * math.log(alpha) + (r - 1) * math.log(lam) - alpha * lam
                             - gammaln(r))  # fmt: skip
        prior_p = p ** (a - 1) * (1 - p) ** (b - 1) / math.exp(gammaln(a) + gammaln(b)
                                                                - gammaln(a + b))  # fmt: skip
        return gaps_part * (1 - p) ** max(survived, 0) * ended * prior_lam * prior_p

    value, _ = integrate.dblquad(
        lambda p, lam: density(lam, p), 0, 60, 0, 1, epsabs=1e-14, epsrel=1e-9
    )
    return math.log(value)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("k", "gaps", "T"),
    [(2, [1.5, 2.0], 6.0), (3, [2.5], 4.0), (2, [], 3.0), (4, [1.0, 0.5, 2.0], 3.5)],
)
def test_likelihood_is_the_integral_of_the_story(model, k, gaps, T):
    r, alpha, a, b = 1.3, 2.0, 1.5, 2.5
    x, t_x = len(gaps), float(sum(gaps))
    litt = float(np.sum(np.log(gaps))) if gaps else 0.0
    params = {"r": r, "alpha": alpha, "a": a, "b": b, "k": k}
    ours = model().log_likelihood(params, rows_of([x], [t_x], [T], [litt]))
    expected = _integrated(k, r, alpha, a, b, x, t_x, T, gaps, model.at_zero)
    assert ours == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_gradient_matches_differences(k):
    rng = np.random.default_rng(3)
    x = rng.integers(0, 30, 200).astype(float)
    T = rng.uniform(10, 60, 200)
    t_x = np.where(x > 0, T * rng.uniform(0, 1, 200), 0.0)
    params = np.array([0.8, 3.0, 0.7, 2.2])
    for at_zero in (False, True):
        _, gradient = log_likelihood_terms(params, k, at_zero, x, t_x, T)
        for i in range(4):
            step = np.zeros(4)
            step[i] = 1e-6 * params[i]
            up = log_likelihood_terms(params + step, k, at_zero, x, t_x, T)[0]
            down = log_likelihood_terms(params - step, k, at_zero, x, t_x, T)[0]
            numeric = (up - down) / (2 * step[i])
            np.testing.assert_allclose(gradient[:, i], numeric, rtol=1e-5, atol=1e-7)


# -- k = 1 is BG/NBD and MBG/NBD ---------------------------------------------------
@pytest.fixture(scope="module")
def grocery():
    transactions = read_transactions(str(DATA / "grocery.csv"), ReadSettings())
    day = lambda text: int(np.datetime64(text, "D").astype(np.int64))  # noqa: E731
    frame = calibration_table(
        transactions, calibration_end=day("2006-12-31"), as_of=day("2007-12-30"), period="week"
    ).frame
    names = ("frequency", "recency", "T", "litt", "frequency_holdout")
    return tuple(frame[name].to_numpy(np.float64) for name in names)


@pytest.mark.parametrize(
    ("model", "plain"), [(BGCNBDFitter, BGNBDFitter), (MBGCNBDFitter, MBGNBDFitter)]
)
def test_k_one_is_the_plain_model(grocery, model, plain):
    x, t_x, T, litt, _ = grocery
    rows = rows_of(x, t_x, T, litt)
    at_one = _at_k(model.name, 1, model.at_zero)().fit_rows(rows)
    reference = plain().fit_rows(DistinctRows.of(x, t_x, T))
    assert at_one.log_likelihood_ == pytest.approx(reference.log_likelihood_, abs=1e-6)
    for name in ("r", "alpha", "a", "b"):
        assert at_one.params_[name] == pytest.approx(reference.params_[name], rel=1e-5)
    fitted = model().fit_rows(rows)
    assert fitted.log_likelihoods_[1] == pytest.approx(reference.log_likelihood_, abs=1e-6)
    # Predictions at k = 1 are the plain model's (no correction at k = 1).
    same = model().set_params({**reference.params_, "k": 1})
    np.testing.assert_allclose(same.p_alive(x, t_x, T), reference.p_alive(x, t_x, T), rtol=1e-10)
    np.testing.assert_allclose(
        same.expected_purchases(52.0, x, t_x, T),
        reference.expected_purchases(52.0, x, t_x, T),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        same.expected_purchases_new(np.array([1.0, 10.0, 100.0, 1000.0])),
        reference.expected_purchases_new(np.array([1.0, 10.0, 100.0, 1000.0])),
        rtol=1e-8,
    )


# -- BTYDplus's grocery numbers ----------------------------------------------------
@pytest.mark.parametrize(
    ("model", "total", "rel_mae"), [(BGCNBDFitter, 3830.1, 0.663), (MBGCNBDFitter, 3970.1, 0.644)]
)
def test_grocery_holdout_matches_btydplus(grocery, model, total, rel_mae):
    x, t_x, T, litt, actual = grocery
    assert actual.sum() == 3389
    fitted = model().fit_rows(rows_of(x, t_x, T, litt))
    assert fitted.params_["k"] == 2
    predicted = fitted.expected_purchases(52.0, x, t_x, T)
    assert predicted.sum() == pytest.approx(total, rel=0.005)
    assert np.abs(predicted - actual).sum() / actual.sum() == pytest.approx(rel_mae, rel=0.005)
    # The rows' weighted form gives the customers' numbers.
    rows = rows_of(x, t_x, T, litt)
    by_rows = fitted.expected_purchases_of_rows(52.0, rows, fitted.p_alive(*rows.columns))
    np.testing.assert_allclose(by_rows[rows.inverse], predicted, rtol=1e-9)
    # k counts in AIC and BIC: five parameters.
    assert fitted.aic_ == pytest.approx(10 - 2 * fitted.log_likelihood_)
    assert fitted.bic_ == pytest.approx(5 * np.log(1525) - 2 * fitted.log_likelihood_)
    assert fitted.std_errors_["k"] is None
    assert all(fitted.std_errors_[name] > 0 for name in ("r", "alpha", "a", "b"))


def test_correction_matches_the_exact_sum(grocery):
    """For k > 1 and a cohort, the predictions add up to the exact unconditional
    expectation over the customers' ages; a few customers are not scaled."""
    x, t_x, T, _, _ = grocery
    model = MBGCNBDFitter().set_params({"r": 1.33, "alpha": 2.81, "a": 0.42, "b": 0.79, "k": 2})
    predicted = model.expected_purchases(52.0, x, t_x, T)
    exact = model._exact_new(T + 52.0) - model._exact_new(T)
    assert predicted.sum() == pytest.approx(exact.sum(), rel=1e-6)
    few = model.expected_purchases(52.0, x[:50], t_x[:50], T[:50])
    raw = model.p_alive(x[:50], t_x[:50], T[:50]) * model._growth(x[:50], T[:50], 52.0)
    np.testing.assert_allclose(few, raw, rtol=1e-12)


def test_unconditional_spline_agrees_with_the_exact_sum():
    model = BGCNBDFitter().set_params({"r": 0.36, "alpha": 1.13, "a": 0.52, "b": 2.79, "k": 3})
    ages = np.linspace(1.0, 5300.0, 500)  # many ages: the spline
    exact = model._exact_new(ages[::50])
    # To a millionth, or 1e-5 purchases where E[X(t)] is near 0.
    np.testing.assert_allclose(model._unconditional(ages)[::50], exact, rtol=1e-6, atol=1e-5)


def test_unconditional_sums_the_probabilities():
    """E[X(t)] against a direct sum of n P(X(t) = n) from the model's story."""
    r, alpha, a, b, k, t = 0.5, 2.0, 0.3, 0.6, 3, 10.0
    for model, z in ((BGCNBDFitter, 0), (MBGCNBDFitter, 1)):
        fitted = model().set_params({"r": r, "alpha": alpha, "a": a, "b": b, "k": k})
        i = np.arange(0, 4000, dtype=float)
        nbd = np.exp(gammaln(r + i) - gammaln(r) - gammaln(i + 1) + r * np.log(alpha / (alpha + t))
                     + i * np.log(t / (alpha + t)))  # fmt: skip
        total = 0.0
        for n in range(1, 1000):
            survive = np.exp(
                gammaln(b + n + z) + gammaln(a + b) - gammaln(b) - gammaln(a + b + n + z)
            )
            due = nbd[k * n : k * n + k].sum()
            died = a / (b + n - 1 + z) * nbd[k * n :].sum()
            total += n * survive * (due + died)
        assert fitted.expected_purchases_new(t) == pytest.approx(total, rel=1e-8)


def test_extreme_customers_stay_finite():
    x = np.array([0.0, 1.0, 500.0, 2000.0, 3.0])
    t_x = np.array([0.0, 1e-6, 5000.0, 9999.0, 0.5])
    T = np.array([1e-9, 1e4, 5000.0, 1e4, 1e4])
    for model in MODELS:
        fitted = model().set_params({"r": 0.4, "alpha": 0.2, "a": 0.6, "b": 3.0, "k": 6})
        alive = fitted.p_alive(x, t_x, T)
        assert np.all((alive >= 0) & (alive <= 1))
        assert np.all(np.isfinite(fitted.expected_purchases(52.0, x, t_x, T)))
        terms, gradient = log_likelihood_terms(np.array([0.4, 0.2, 0.6, 3.0]), 6, model.at_zero,
                                               x, t_x, T)  # fmt: skip
        assert np.all(np.isfinite(terms)) and np.all(np.isfinite(gradient))


@pytest.mark.parametrize("k", [2.5, 0, -1, float("nan")])
def test_k_must_be_a_whole_number(k):
    from clvcli.errors import ModelError

    with pytest.raises(ModelError, match="k must be a whole number"):
        BGCNBDFitter().set_params({"r": 1.0, "alpha": 1.0, "a": 1.0, "b": 1.0, "k": k})


def test_no_litt_no_fit():
    from clvcli.errors import ModelError

    rows = DistinctRows.of(np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.array([3.0, 3.0]))
    with pytest.raises(ModelError, match="choosing k needs each customer's purchase days"):
        BGCNBDFitter().fit_rows(rows)


# -- recovery from simulated data --------------------------------------------------
def simulate(k, r, alpha, a, b, at_zero, n, seed):
    """Customers of the model's story: Erlang-k gaps of rate lambda, a coin of p after
    each repeat purchase (and at the first, for MBG), T uniform on 30..60 weeks."""
    rng = np.random.default_rng(seed)
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    T = rng.uniform(30, 60, n)
    x, t_x, litt = np.zeros(n), np.zeros(n), np.zeros(n)
    active = rng.uniform(size=n) >= p if at_zero else np.ones(n, dtype=bool)
    now = np.zeros(n)
    while active.any():
        gap = rng.gamma(k, 1 / lam)
        bought = active & (now + gap <= T)
        now = np.where(bought, now + gap, now)
        x += bought
        t_x = np.where(bought, now, t_x)
        litt += np.where(bought, np.log(np.where(bought, gap, 1.0)), 0.0)
        active = bought & (rng.uniform(size=n) >= p)
    return x, t_x, T, litt


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("k", "truth", "seed"),
    [(2, (0.85, 1.45, 0.79, 2.42), 11), (3, (1.2, 2.5, 0.6, 3.0), 12)],
)
def test_recovers_simulated_parameters(model, k, truth, seed):
    x, t_x, T, litt = simulate(k, *truth, model.at_zero, 20_000, seed)
    fitted = model().fit_rows(rows_of(x, t_x, T, litt))
    assert fitted.params_["k"] == k
    for name, value in zip(("r", "alpha", "a", "b"), truth, strict=True):
        error = fitted.std_errors_[name]
        assert abs(fitted.params_[name] - value) < 2 * error, (name, fitted.params_, error)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("k", [2, 6])
def test_extreme_parameters_give_finite_values(model, k):
    """The grid of parameters and histories the other models are checked on
    (tests/models/test_extremes.py): finite terms and gradients, P(alive) a
    probability, expected purchases finite, non-negative and growing with the horizon."""
    from tests.models.test_extremes import BG_SHAPES, HORIZONS, PURCHASE_ROWS, SCALES, SHAPES

    x, t_x, T = PURCHASE_ROWS.T
    failures = []
    for r, alpha, a, b in itertools.product(SHAPES, SCALES, BG_SHAPES, BG_SHAPES):
        fitted = model().set_params({"r": r, "alpha": alpha, "a": a, "b": b, "k": k})
        with np.errstate(all="ignore"):
            terms, gradient = log_likelihood_terms(
                np.array([r, alpha, a, b]), k, model.at_zero, x, t_x, T
            )
            alive = fitted.p_alive(x, t_x, T)
            expected = [fitted.expected_purchases(t, x, t_x, T) for t in HORIZONS]
            new = fitted.expected_purchases_new(np.array(HORIZONS))
        ok = np.all(np.isfinite(terms)) and np.all(np.isfinite(gradient))
        ok &= bool(np.all((alive >= 0) & (alive <= 1)))
        ok &= all(np.all(np.isfinite(e) & (e >= 0)) for e in expected)
        ok &= all(
            np.all(later >= earlier * (1 - 1e-9)) for earlier, later in itertools.pairwise(expected)
        )
        ok &= bool(np.all(np.isfinite(new) & (new >= 0)))
        if not ok:
            failures.append((r, alpha, a, b))
    assert not failures, failures


def test_k_chosen_on_a_sample_of_many_rows(monkeypatch):
    """Past CHOICE_ROWS distinct rows k is chosen on an even sample; the fit at that k
    is then on every row, as a fit at that k alone is."""
    from clvcli.models import cnbd

    x, t_x, T, litt = simulate(3, 1.2, 2.5, 0.6, 3.0, False, 20_000, 21)
    rows = rows_of(x, t_x, T, litt)
    monkeypatch.setattr(cnbd, "CHOICE_ROWS", 2_000)
    fitted = BGCNBDFitter().fit_rows(rows)
    assert fitted.params_["k"] == 3
    alone = _at_k("bgcnbd", 3, False)().fit_rows(rows)
    for name in ("r", "alpha", "a", "b"):
        assert fitted.params_[name] == pytest.approx(alone.params_[name], rel=1e-6)
    total = alone.log_likelihood_ + cnbd.litt_constant(3, rows)
    assert fitted.log_likelihood_ == pytest.approx(total, rel=1e-12)
