"""Extreme but valid inputs and parameters: every number finite and in range.

Rows are in days, as ``--period day`` gives them: a repeat purchase takes a day of
its own, so x repeat purchases need t_x >= x; T runs from half a day to 20,000 days
(55 years). Parameters span the range a fit can return in any time unit (shapes 0.01
to 50, scales 0.01 to 5,000 days). Each test runs a whole grid and lists every
failing case, so one failure shows the extent of a problem.

Also: predictions before a fit, bad parameters, data without any repeat buyer, and
the Pareto/NBD likelihood against direct numerical integration.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gammaln

from clvcli.errors import ModelError
from clvcli.models import (
    BGBBFitter,
    BGNBDFitter,
    DistinctRows,
    Fitter,
    GammaGammaFitter,
    GammaGompertzNBDFitter,
    MBGNBDFitter,
    NotFittedError,
    ParetoNBDFitter,
)
from clvcli.models.gamma_gamma import spend_rows

SHAPES = (0.01, 0.3, 3.0, 50.0)
# BG/NBD's a and b: no a equal to 1, no a + b equal to 1, no a equal to an r plus an
# integer: those are special points, tested on their own below.
BG_SHAPES = (0.02, 0.45, 2.5, 50.5)
SCALES = (0.01, 1.0, 5000.0)
HORIZONS = (1.0, 365.0, 20000.0)
# The Gamma-Gompertz/NBD's b per day: its Pareto/NBD limit to a dropout that doubles
# daily.
GOMPERTZ_RATES = (1e-6, 0.01, 1.0)

# (x, t_x, T) in days.
PURCHASE_ROWS = np.array(
    [
        (0, 0, 0.5),
        (0, 0, 1),
        (0, 0, 30),
        (0, 0, 20000),
        (1, 1, 1),
        (1, 1, 30),
        (1, 15, 30),
        (1, 30, 30),
        (1, 1, 20000),
        (1, 10000, 20000),
        (1, 20000, 20000),
        (30, 30, 30),
        (30, 30, 20000),
        (500, 500, 500),
        (500, 500, 20000),
        (500, 10000, 20000),
        (500, 20000, 20000),
    ],
    dtype=np.float64,
)

PURCHASE_MODELS: dict[str, type[Fitter]] = {
    "bgnbd": BGNBDFitter,
    "mbgnbd": MBGNBDFitter,
    "pnbd": ParetoNBDFitter,
    "ggomnbd": GammaGompertzNBDFitter,
}


def _grid(name: str) -> Iterator[tuple[float, ...]]:
    if name == "pnbd":  # r, alpha, s, beta
        return itertools.product(SHAPES, SCALES, SHAPES, SCALES)
    if name == "ggomnbd":  # r, alpha, b, s, beta
        return itertools.product(SHAPES, SCALES, GOMPERTZ_RATES, SHAPES, SCALES)
    return itertools.product(SHAPES, SCALES, BG_SHAPES, BG_SHAPES)  # r, alpha, a, b


def _rows(columns: np.ndarray) -> DistinctRows:
    return DistinctRows(
        tuple(np.ascontiguousarray(c) for c in columns.T),
        np.ones(len(columns)),
        np.arange(len(columns)),
    )


def _problems(
    values: np.ndarray, kind: str, rows: np.ndarray | None = None
) -> list[tuple[str, object]]:
    """The entries that are not finite or out of range, with their rows."""
    values = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(values)
    if kind == "probability":
        bad |= (values < 0) | (values > 1)
    elif kind == "expectation":
        bad |= values < 0
    if values.ndim == 0:
        return [("-", float(values))] if bad else []
    if values.ndim == 2:
        bad = bad.any(axis=1)
        values = values[:, 0]
    where = np.flatnonzero(bad)
    row = (lambda i: tuple(rows[i].tolist())) if rows is not None else (lambda i: i)
    return [(row(i), float(values[i])) for i in where]


def _check_grid(
    name: str, compute: Callable[[Fitter, tuple[float, ...]], list[tuple[str, object]]]
) -> None:
    cls = PURCHASE_MODELS[name]
    failures = []
    cases = 0
    for params in _grid(name):
        model = cls().set_params(dict(zip(cls.param_names, params, strict=True)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            found = compute(model, params)
        cases += 1
        if found:
            failures.append((params, found))
    shown = "\n".join(
        f"  {dict(zip(cls.param_names, p, strict=True))}: {f[:4]}" for p, f in failures[:8]
    )
    assert not failures, f"{len(failures)} of {cases} parameter sets fail:\n{shown}"


# -- the purchase models ----------------------------------------------------------------


@pytest.mark.parametrize("name", list(PURCHASE_MODELS))
def test_log_likelihood_terms_are_finite(name: str) -> None:
    data = _rows(PURCHASE_ROWS)

    def compute(model: Fitter, params: tuple[float, ...]) -> list:
        terms, gradient = model.log_likelihood_terms(np.array(params), data)
        return _problems(terms, "any", PURCHASE_ROWS) + _problems(gradient, "any", PURCHASE_ROWS)

    _check_grid(name, compute)


@pytest.mark.parametrize("name", list(PURCHASE_MODELS))
def test_p_alive_is_a_probability(name: str) -> None:
    x, t_x, T = PURCHASE_ROWS.T

    def compute(model: Fitter, params: tuple[float, ...]) -> list:
        return _problems(model.p_alive(x, t_x, T), "probability", PURCHASE_ROWS)

    _check_grid(name, compute)


@pytest.mark.parametrize("name", list(PURCHASE_MODELS))
def test_expected_purchases_are_finite_and_non_negative(name: str) -> None:
    x, t_x, T = PURCHASE_ROWS.T

    def compute(model: Fitter, params: tuple[float, ...]) -> list:
        found = []
        for t in HORIZONS:
            expected = model.expected_purchases(t, x, t_x, T)
            found += [(f"t={t:g}", *p) for p in _problems(expected, "expectation", PURCHASE_ROWS)]
        return found

    _check_grid(name, compute)


@pytest.mark.parametrize("name", list(PURCHASE_MODELS))
def test_expected_purchases_of_new_customers_are_finite_and_non_negative(name: str) -> None:
    def compute(model: Fitter, params: tuple[float, ...]) -> list:
        expected = model.expected_purchases_new(np.array(HORIZONS))
        return [(HORIZONS[i], v) for i, v in _problems(expected, "expectation")]

    _check_grid(name, compute)


@pytest.mark.parametrize("name", list(PURCHASE_MODELS))
def test_expected_purchases_grow_with_the_horizon(name: str) -> None:
    x, t_x, T = PURCHASE_ROWS.T

    def compute(model: Fitter, params: tuple[float, ...]) -> list:
        found = []
        previous = np.zeros(len(x))
        for t in HORIZONS:
            expected = model.expected_purchases(t, x, t_x, T)
            shrinks = expected < previous * (1 - 1e-9)
            found += [(f"t={t:g}", tuple(PURCHASE_ROWS[i])) for i in np.flatnonzero(shrinks)]
            previous = np.where(np.isfinite(expected), expected, previous)
        return found

    _check_grid(name, compute)


SPECIAL_POINTS = [
    pytest.param(BGNBDFitter, {"r": 0.25, "alpha": 4.0, "a": 1.0, "b": 2.5}, "a", id="bgnbd-a=1"),
    pytest.param(MBGNBDFitter, {"r": 0.25, "alpha": 4.0, "a": 1.0, "b": 2.5}, "a", id="mbgnbd-a=1"),
    pytest.param(BGNBDFitter, {"r": 0.25, "alpha": 4.0, "a": 0.4, "b": 0.6}, "b", id="bgnbd-a+b=1"),
    pytest.param(
        MBGNBDFitter, {"r": 0.25, "alpha": 4.0, "a": 0.4, "b": 0.6}, "b", id="mbgnbd-a+b=1"
    ),
    pytest.param(
        ParetoNBDFitter, {"r": 0.5, "alpha": 10.0, "s": 1.0, "beta": 12.0}, "s", id="pnbd-s=1"
    ),
    pytest.param(
        BGBBFitter,
        {"alpha": 1.2, "beta": 0.75, "gamma": 1.0, "delta": 2.8},
        "gamma",
        id="bgbb-gamma=1",
    ),
]


@pytest.mark.parametrize(("cls", "params", "moved"), SPECIAL_POINTS)
def test_predictions_at_special_parameter_values(
    cls: type[Fitter], params: dict[str, float], moved: str
) -> None:
    """Round values such as a = 1 or a + b = 1 are ordinary parameters, but the
    closed forms divide by a - 1, a + b - 1 (x = 0) or gamma - 1 there: each has a
    finite limit, which is the prediction. Compare with the parameter moved by 1e-7."""
    if cls is BGBBFitter:
        x, t_x, T, t = np.array([0.0, 2, 6]), np.array([0.0, 4, 6]), np.array([6.0, 6, 6]), 5.0
    else:
        x, t_x, T, t = np.array([0.0, 2]), np.array([0.0, 30]), np.array([38.0, 38]), 39.0
    at_point = cls().set_params(params)
    near = [cls().set_params(dict(params, **{moved: params[moved] + d})) for d in (-1e-7, 1e-7)]
    limit_new = np.mean([m.expected_purchases_new(t) for m in near])
    limit = np.mean([m.expected_purchases(t, x, t_x, T) for m in near], axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        conditional = at_point.expected_purchases(t, x, t_x, T)
        new = at_point.expected_purchases_new(t)
    np.testing.assert_allclose(conditional, limit, rtol=1e-5)
    assert float(new) == pytest.approx(float(limit_new), rel=1e-5)


def test_bgnbd_expected_purchases_when_r_minus_a_is_an_integer() -> None:
    """With r - a an integer, c - a - b of the hypergeometric term is an integer and
    scipy's hyp2f1 takes a special branch that gives NaN for large c and z near 1 (a
    customer with 500 purchases, 20,000 days ahead). Compare with r moved by 1e-7."""
    x, t_x, T = np.array([500.0]), np.array([500.0]), np.array([500.0])
    params = {"r": 1.5, "alpha": 1.0, "a": 1.5, "b": 1.5}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        at_point = BGNBDFitter().set_params(params).expected_purchases(20000.0, x, t_x, T)
    near = BGNBDFitter().set_params(dict(params, r=1.5 + 1e-7))
    np.testing.assert_allclose(at_point, near.expected_purchases(20000.0, x, t_x, T), rtol=1e-5)


# -- BG/BB ----------------------------------------------------------------------------


def _bgbb_rows() -> np.ndarray:
    rows = []
    for n in (1, 6, 500):
        for x in sorted({0, 1, n // 2, n}):
            for t_x in sorted({x, n // 2, n}):
                if (x == 0 and t_x > 0) or t_x < x or (x > 0 and t_x == 0):
                    continue
                rows.append((x, t_x, n))
    return np.array(rows, dtype=np.float64)


BGBB_SHAPES = (0.01, 0.3, 3.0, 50.0)


def test_bgbb_everything_is_finite_and_in_range() -> None:
    rows = _bgbb_rows()
    x, t_x, n = rows.T
    data = _rows(rows)
    failures = []
    for params in itertools.product(BGBB_SHAPES, repeat=4):
        model = BGBBFitter().set_params(dict(zip(BGBBFitter.param_names, params, strict=True)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            terms, gradient = model.log_likelihood_terms(np.array(params), data)
            found = _problems(terms, "any", rows) + _problems(gradient, "any", rows)
            found += [
                ("p_alive", *p) for p in _problems(model.p_alive(x, t_x, n), "probability", rows)
            ]
            for t in (1.0, 10.0, 500.0):
                expected = model.expected_purchases(t, x, t_x, n)
                found += [(f"t={t:g}", *p) for p in _problems(expected, "expectation", rows)]
                found += [
                    (f"new t={t:g}", *p)
                    for p in _problems(model.expected_purchases_new(t), "expectation")
                ]
        if found:
            failures.append((params, found))
    assert not failures, f"{len(failures)} parameter sets fail: {failures[:6]}"


# -- Gamma-Gamma ------------------------------------------------------------------------

SPEND_ROWS = np.array(
    [(0, 0), (1, 0.01), (1, 1e6), (500, 0.01), (500, 1e6), (3, 30.0)], dtype=np.float64
)


def test_gamma_gamma_everything_is_finite_and_positive() -> None:
    x, m = SPEND_ROWS.T
    repeat = _rows(SPEND_ROWS[x > 0])
    failures = []
    for params in itertools.product((0.01, 1.0, 50.0), (1.01, 3.74, 50.0), (0.01, 15.0, 5000.0)):
        model = GammaGammaFitter().set_params(dict(zip(("p", "q", "v"), params, strict=True)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            spend = model.expected_spend(x, m)
            terms, gradient = model.log_likelihood_terms(np.array(params), repeat)
        found = _problems(spend, "expectation", SPEND_ROWS)
        found += _problems(terms, "any") + _problems(gradient, "any")
        found += [("not positive", float(s)) for s in spend if s <= 0]
        if found:
            failures.append((params, found))
    assert not failures, f"{len(failures)} parameter sets fail: {failures[:6]}"


def test_gamma_gamma_expected_spend_with_q_below_one() -> None:
    """With q <= 1 the population mean spend is infinite, but a repeat buyer's posterior
    mean p (v + m x) / (p x + q - 1) is finite whenever p x + q > 1."""
    model = GammaGammaFitter().set_params({"p": 6.0, "q": 0.8, "v": 15.0})
    x, m = np.array([1.0, 3.0]), np.array([20.0, 30.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        spend = model.expected_spend(x, m)
    np.testing.assert_allclose(spend, 6.0 * (15.0 + m * x) / (6.0 * x + 0.8 - 1), rtol=1e-12)


# -- the Pareto/NBD integral ------------------------------------------------------------


def _pnbd_log_likelihood(params: tuple[float, ...], x: float, t_x: float, T: float) -> float:
    """Fader and Hardie's expression with the integral over the death time done by
    adaptive quadrature (scipy.integrate.quad)."""
    r, alpha, s, beta = params
    log_front = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = np.exp(-(r + x) * np.log(alpha + T) - s * np.log(beta + T))
    integral, _ = integrate.quad(
        lambda tau: np.exp(-(r + x) * np.log(alpha + tau) - (s + 1) * np.log(beta + tau)),
        t_x,
        T,
        epsabs=0,
        epsrel=1e-12,
        limit=500,
    )
    return float(log_front + np.log(alive + s * integral))


PNBD_ACCURACY_PARAMS = [
    (0.553, 10.578, 0.606, 11.669),  # CDNOW, weeks
    (0.553, 74.0, 0.606, 81.7),  # CDNOW, days
    (0.5, 2.0, 0.5, 10.0),
    (0.5, 1.0, 1.0, 20.0),
    (1.0, 2.0, 1.0, 50.0),
    (0.5, 1.0, 3.0, 80.0),  # frequent buyers, long lifetimes
]
PNBD_ACCURACY_ROWS = [
    (0, 0, 39),
    (0, 0, 300),
    (1, 0.5, 300),
    (2, 30.43, 38.86),
    (5, 1, 38.86),
    (10, 1, 100),
    (26, 30.86, 31),
    (100, 20, 500),
]


@pytest.mark.parametrize("params", PNBD_ACCURACY_PARAMS, ids=str)
def test_pnbd_log_likelihood_matches_direct_integration(params: tuple[float, ...]) -> None:
    rows = np.array(PNBD_ACCURACY_ROWS, dtype=np.float64)
    terms, _ = ParetoNBDFitter().log_likelihood_terms(np.array(params), _rows(rows))
    exact = np.array([_pnbd_log_likelihood(params, *row) for row in PNBD_ACCURACY_ROWS])
    error = np.abs(terms - exact)
    worst = int(np.argmax(error))
    assert error[worst] < 1e-5, (
        f"row {PNBD_ACCURACY_ROWS[worst]}: {terms[worst]:.10g}, by direct integration "
        f"{exact[worst]:.10g}; {int((error >= 1e-5).sum())} of {len(rows)} rows off"
    )


# -- misuse -----------------------------------------------------------------------------

ALL_MODELS = [BGNBDFitter, MBGNBDFitter, ParetoNBDFitter, BGBBFitter, GammaGammaFitter]


def _predictions(model: Fitter) -> list[Callable[[], object]]:
    one = np.array([1.0])
    calls: list[Callable[[], object]] = [model.summary, model.fitted]
    if isinstance(model, GammaGammaFitter):
        return [*calls, lambda: model.expected_spend(one, one)]
    calls += [
        lambda: model.p_alive(one, one, one * 2),
        lambda: model.expected_purchases(1.0, one, one, one * 2),
        lambda: model.expected_purchases_new(1.0),
    ]
    if isinstance(model, BGNBDFitter):
        calls.append(lambda: model.probability_of_purchases(0, 1.0))
    return calls


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.name)
def test_predicting_before_fit_raises_not_fitted(cls: type[Fitter]) -> None:
    model = cls()
    for call in _predictions(model):
        with pytest.raises(NotFittedError):
            call()


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.name)
def test_set_params_rejects_missing_or_invalid_values(cls: type[Fitter]) -> None:
    good = dict.fromkeys(cls.param_names, 2.0)
    cls().set_params(good)
    first = cls.param_names[0]
    with pytest.raises(ModelError):
        cls().set_params({k: v for k, v in good.items() if k != first})
    with pytest.raises(ModelError):
        cls().set_params({})
    for bad in (-1.0, 0.0, float("nan"), float("inf"), -float("inf")):
        model = cls()
        with pytest.raises(ModelError):
            model.set_params(dict(good, **{first: bad}))
        assert model.params_ is None
    last = cls.param_names[-1]
    with pytest.raises(ModelError):
        cls().set_params(dict(good, **{last: -0.5}))


def _no_repeat_rows(cls: type[Fitter]) -> DistinctRows:
    rng = np.random.default_rng(7)
    if cls is BGBBFitter:
        n = rng.integers(1, 10, 500).astype(float)
        return DistinctRows.of(np.zeros(500), np.zeros(500), n)
    T = rng.uniform(1, 60, 500).round(1)
    return DistinctRows.of(np.zeros(500), np.zeros(500), T)


@pytest.mark.parametrize(
    "cls", [BGNBDFitter, MBGNBDFitter, ParetoNBDFitter, BGBBFitter], ids=lambda c: c.name
)
def test_fitting_data_without_repeat_buyers_converges_or_raises_model_error(
    cls: type[Fitter],
) -> None:
    model = cls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit_rows(_no_repeat_rows(cls))
        except ModelError:
            assert model.params_ is None
            return
    assert model.converged_ is True
    values = np.array(list(model.params_.values()))
    assert np.all(np.isfinite(values)) and np.all(values > 0), model.params_
    assert np.isfinite(model.log_likelihood_)
    # A converged fit must be usable: its predictions for one-time buyers are finite.
    x, t_x, T = np.zeros(3), np.zeros(3), np.array([1.0, 10.0, 50.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        alive = model.p_alive(x, t_x, T)
        expected = model.expected_purchases(10.0, x, t_x, T)
    assert np.all(np.isfinite(alive)), (model.params_, alive)
    assert np.all(np.isfinite(expected)), (model.params_, expected)


def test_gamma_gamma_without_repeat_buyers_raises_model_error() -> None:
    rows = spend_rows(np.zeros(5, dtype=np.int64), np.zeros(5))
    with pytest.raises(ModelError):
        GammaGammaFitter().fit_rows(rows)


@pytest.mark.parametrize("cls", ALL_MODELS, ids=lambda c: c.name)
def test_fitting_no_customers_raises_model_error(cls: type[Fitter]) -> None:
    columns = 2 if cls is GammaGammaFitter else 3
    with pytest.raises(ModelError):
        cls().fit_rows(DistinctRows.of(*[np.zeros(0)] * columns))


def test_gamma_gamma_with_identical_spends_converges_or_raises_model_error() -> None:
    """Every repeat buyer spending exactly the same: the spread is zero and p, q run
    off to infinity; the fit must say so, not return nonsense."""
    rows = DistinctRows.of(np.array([1.0, 2, 3, 1, 2]), np.full(5, 25.0))
    model = GammaGammaFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit_rows(rows)
        except ModelError:
            return
    values = np.array(list(model.params_.values()))
    assert np.all(np.isfinite(values)) and np.all(values > 0)
