"""Block-by-block likelihoods: the same numbers whatever the blocks and the threads."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy.special import betaln, gammaln, psi

from clvcli import parallel
from clvcli.models import (
    BGNBDFitter,
    DistinctRows,
    Fitter,
    GammaGammaFitter,
    MBGNBDFitter,
    ParetoNBDFitter,
)
from clvcli.models.base import BLAS_ROWS, dot, logaddexp
from clvcli.models.gamma_gamma import spend_rows

PARAMS = [
    np.array([0.243, 4.414, 0.793, 2.426]),
    np.array([2.5, 0.3, 7.0, 0.2]),
    np.array([1e-5, 1e5, 1e-4, 1e4]),
]


@pytest.fixture
def rows() -> DistinctRows:
    """Some 20,000 distinct histories, with one-time buyers among them."""
    rng = np.random.default_rng(7)
    n = 40_000
    x = rng.integers(0, 60, n).astype(np.float64)
    T = rng.integers(1, 700, n) / 7.0
    t_x = np.where(x > 0, np.minimum(rng.integers(0, 700, n) / 7.0, T), 0.0)
    return DistinctRows.of(x, t_x, T)


@pytest.fixture(scope="module")
def spend(cdnow) -> DistinctRows:
    return spend_rows(cdnow["frequency"].to_numpy(), cdnow["monetary_value"].to_numpy())


def _name(model: type[Fitter]) -> str:
    return model.name


def _settings(monkeypatch, block_rows: int, cores: int) -> None:
    monkeypatch.setattr(parallel, "BLOCK_ROWS", block_rows)
    monkeypatch.setattr(parallel, "cores", lambda: cores)


@pytest.mark.parametrize("model", [BGNBDFitter, MBGNBDFitter], ids=lambda m: m.name)
@pytest.mark.parametrize("params", PARAMS, ids=["published", "wide", "extreme"])
def test_sums_do_not_depend_on_the_threads(model, params, rows, monkeypatch):
    results = []
    for cores in (1, 2, 3):
        _settings(monkeypatch, 1000, cores)
        results.append(model().weighted_log_likelihood(params, rows))
    for total, gradient in results[1:]:
        assert total == results[0][0]
        assert np.array_equal(gradient, results[0][1])


@pytest.mark.parametrize("model", [BGNBDFitter, MBGNBDFitter, GammaGammaFitter], ids=_name)
def test_fits_do_not_depend_on_the_threads(model, cdnow_rows, spend, monkeypatch):
    """The blocks' sums are added in block order, so one thread or several give the same
    fit to the last bit."""
    data = spend if model is GammaGammaFitter else cdnow_rows
    summaries = []
    for cores in (1, 2, 3):
        _settings(monkeypatch, 100, cores)
        fresh = DistinctRows(data.columns, data.weight, data.inverse)  # no remembered points
        summary = model().fit_rows(fresh).summary()
        del summary["seconds"]
        summaries.append(summary)
    assert summaries[1] == summaries[0]
    assert summaries[2] == summaries[0]


@pytest.mark.parametrize("model", [BGNBDFitter, MBGNBDFitter], ids=_name)
@pytest.mark.parametrize("params", PARAMS[:2], ids=["published", "wide"])
def test_sums_are_those_of_the_terms(model, params, rows):
    """The fit's sums, with the parts per x weighted once per x, are the terms' sums.

    Not at the extreme point, where d/db is a digamma of 9 that each row cancels to
    1e-11: summed apart, the parts keep an error of 1e-16 of 9 per row, far below what
    the fit resolves but not below 1e-13 of the cancelled sum.
    """
    total, gradient = model().weighted_log_likelihood(params, rows)
    terms, row_gradient = model().log_likelihood_terms(params, rows)
    assert total == pytest.approx(float(rows.weight @ terms), rel=1e-13)
    scale = np.abs(row_gradient).T @ rows.weight
    assert np.all(np.abs(gradient - rows.weight @ row_gradient) <= 1e-13 * scale)


def test_dot_has_the_bits_of_one_blas_call_up_to_a_chunk():
    rng = np.random.default_rng(3)
    step = BLAS_ROWS
    a, b = rng.normal(size=(2, 3 * step + 5))
    assert dot(a[:step], b[:step]) == float(np.dot(a[:step], b[:step]))
    chunks = [float(np.dot(a[i : i + step], b[i : i + step])) for i in range(0, len(a), step)]
    assert dot(a, b) == ((chunks[0] + chunks[1]) + chunks[2]) + chunks[3]


def test_weighted_sums_do_not_depend_on_the_blas_threads():
    """OpenBLAS shares a dot product of more than 10,000 elements among its threads, each
    summing its part: the sums come out in chunks that one thread computes."""
    script = (
        "import numpy as np; from clvcli.models.base import dot, weighted_sums;"
        "w, t, *g = np.random.default_rng(5).normal(size=(6, 300_000));"
        "print(repr(dot(w, t)), weighted_sums(w, t, np.array(g).T)[1].tolist())"
    )
    printed = set()
    for threads in ("1", "2", "4"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True)
        assert run.returncode == 0, run.stderr
        printed.add(run.stdout)
    assert len(printed) == 1


def test_logaddexp_is_numpys_to_rounding():
    rng = np.random.default_rng(11)
    x, y = rng.normal(-20, 30, size=(2, 100_000))
    y[::7] = x[::7]
    expected = np.logaddexp(x, y)
    scale = np.maximum(np.abs(x), np.abs(y)) + 1
    assert np.all(np.abs(logaddexp(x, y) - expected) <= 4e-16 * scale)
    inf, nan = np.inf, np.nan
    edges = np.array(
        [
            [-inf, -inf],
            [inf, inf],
            [-inf, inf],
            [inf, -inf],
            [-inf, 2.0],
            [nan, 1.0],
            [1.0, nan],
            [1e308, 1e308],
            [-745.0, -745.0],
        ]
    ).T
    with np.errstate(invalid="ignore"):
        assert np.array_equal(logaddexp(*edges), np.logaddexp(*edges), equal_nan=True)


@pytest.mark.parametrize("model", [BGNBDFitter, MBGNBDFitter], ids=lambda m: m.name)
@pytest.mark.parametrize("params", PARAMS, ids=["published", "wide", "extreme"])
def test_terms_do_not_depend_on_the_blocks(model, params, rows, monkeypatch):
    _settings(monkeypatch, 1 << 20, 1)
    terms, gradient = model().log_likelihood_terms(params, rows)
    _settings(monkeypatch, 777, 2)
    blocked_terms, blocked_gradient = model().log_likelihood_terms(params, rows)
    assert np.array_equal(terms, blocked_terms)
    assert np.array_equal(gradient, blocked_gradient)


def _bgnbd_reference(params: np.ndarray, x, t_x, T):
    """Equation (6) and its gradient over all rows at once, with the parts per x added
    last, as the blocks add them."""
    r, alpha, a, b = params
    b_x = np.where(x > 0, b + x - 1, 1.0)
    log_T, log_t_x = np.log(alpha + T), np.log(alpha + t_x)
    a3 = -(r + x) * log_T
    a4 = np.where(x > 0, (np.log(a) - np.log(b_x)) - (r + x) * log_t_x, -np.inf)
    total = logaddexp(a3, a4)
    w3 = np.exp(a3 - total)
    w4 = 1.0 - w3
    grad = np.empty((len(x), 4))
    grad[:, 0] = (-(w3 * log_T) - w4 * log_t_x) + (psi(r + x) - psi(r) + np.log(alpha))
    grad[:, 1] = r / alpha - (r + x) * (w3 * (1 / (alpha + T)) + w4 * (1 / (alpha + t_x)))
    grad[:, 2] = psi(a + b) - psi(a + b + x) + w4 / a
    grad[:, 3] = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - w4 * (1 / b_x)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    return a1 + a2 + total, grad


def _mbgnbd_reference(params: np.ndarray, x, t_x, T):
    """The MBG/NBD terms and gradient over all rows at once, with the parts per x added
    last, as the blocks add them."""
    r, alpha, a, b = params
    log_T, log_t_x = np.log(alpha + T), np.log(alpha + t_x)
    alive = betaln(a, b + x + 1) - betaln(a, b) - (r + x) * log_T
    ended = betaln(a + 1, b + x) - betaln(a, b) - (r + x) * log_t_x
    total = logaddexp(alive, ended)
    w1 = np.exp(alive - total)
    w2 = 1.0 - w1
    grad = np.empty((len(x), 4))
    grad[:, 0] = (-(w1 * log_T) - w2 * log_t_x) + (psi(r + x) - psi(r) + np.log(alpha))
    grad[:, 1] = r / alpha - (r + x) * (w1 * (1 / (alpha + T)) + w2 * (1 / (alpha + t_x)))
    common = psi(a + b) - psi(a + b + x + 1)
    grad[:, 2] = common + w2 * (psi(a + 1) - psi(a))
    grad[:, 3] = (w1 * psi(b + x + 1) + w2 * psi(b + x)) + (common - psi(b))
    base = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    return base + total, grad


@pytest.mark.parametrize(
    ("model", "reference"),
    [(BGNBDFitter, _bgnbd_reference), (MBGNBDFitter, _mbgnbd_reference)],
    ids=["bgnbd", "mbgnbd"],
)
@pytest.mark.parametrize("params", PARAMS, ids=["published", "wide", "extreme"])
def test_terms_are_those_of_the_formula_to_the_last_bit(model, reference, params, rows):
    """Gathering once-per-level values changes no bit: the fit's numbers stay put."""
    with np.errstate(all="ignore"):
        terms, gradient = model().log_likelihood_terms(params, rows)
        expected_terms, expected_gradient = reference(params, *rows.columns)
    assert np.array_equal(terms, expected_terms, equal_nan=True)
    assert np.array_equal(gradient, expected_gradient, equal_nan=True)


def test_blocks_keep_the_callers_floating_point_error_state(monkeypatch):
    _settings(monkeypatch, 100, 2)
    big = np.full(1000, 1000.0)
    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        parallel.in_blocks(lambda rows: np.exp(big[rows]), big.size)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("error")
        parallel.in_blocks(lambda rows: np.exp(big[rows]), big.size)


@pytest.mark.parametrize(
    ("model", "params"),
    [
        (BGNBDFitter, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}),
        (MBGNBDFitter, {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}),
        (BGNBDFitter, {"r": 0.243, "alpha": 4.414, "a": 1.00001, "b": 2.426}),
        (ParetoNBDFitter, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}),
    ],
    ids=["bgnbd", "mbgnbd", "bgnbd-a-near-1", "pnbd"],
)
def test_expected_purchases_of_rows_are_those_of_the_columns(model, params, rows):
    fitted = model().set_params(params)
    alive = fitted.p_alive(*rows.columns)
    for t in (4.3, 52.0, 5000.0):
        expected = fitted.expected_purchases(t, *rows.columns, p_alive=alive)
        assert np.array_equal(
            fitted.expected_purchases_of_rows(t, rows, alive), expected, equal_nan=True
        )


def test_expected_purchases_of_no_rows():
    rows = DistinctRows.of(np.zeros(0), np.zeros(0), np.zeros(0))
    fitted = BGNBDFitter().set_params({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert fitted.expected_purchases_of_rows(10.0, rows, np.zeros(0)).shape == (0,)
