"""The analytic gradient of every model's objective against central finite differences.

``Fitter._objective`` is the negative log-likelihood per customer in log parameters,
with its gradient; the fit, the convergence test and the standard errors all rely on
that gradient. Points: the published estimates, the same shifted in every direction,
and a point far from the optimum, where no component of the gradient is near zero.
"""

from __future__ import annotations

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

STEP = 1e-5
RTOL = 1e-5
# Components that vanish (near an optimum) are compared on an absolute scale: the
# objective is per customer, of order 1 to 10, and the fit calls a gradient below 1e-4
# flat, so 1e-7 is a thousand times finer than anything the fit relies on.
ATOL = 1e-7
# Per row, in log parameters, the gradient is compared relative to its size or 0.01,
# whichever is larger (a row's log-likelihood is of order 1 to 100).
ROW_FLOOR = 1e-2

SHIFT = np.array([0.3, -0.4, 0.2, -0.25])

POINTS: dict[str, tuple[type[Fitter], str, list[list[float]]]] = {
    "bgnbd": (
        BGNBDFitter,
        "cdnow_rows",
        [[0.243, 4.414, 0.793, 2.426], [2.0, 20.0, 0.3, 5.0], [0.05, 0.5, 3.0, 0.4]],
    ),
    "mbgnbd": (
        MBGNBDFitter,
        "cdnow_rows",
        [[0.525, 6.183, 0.891, 1.614], [2.0, 20.0, 0.3, 5.0], [0.05, 0.5, 3.0, 0.4]],
    ),
    "pnbd": (
        ParetoNBDFitter,
        "cdnow_rows",
        [[0.553, 10.578, 0.606, 11.669], [2.0, 30.0, 0.2, 3.0], [0.1, 1.0, 3.0, 80.0]],
    ),
    "bgbb": (
        BGBBFitter,
        "donations",
        [[1.204, 0.750, 0.657, 2.783], [0.3, 3.0, 2.0, 0.5], [5.0, 0.2, 0.1, 10.0]],
    ),
    "gamma_gamma": (
        GammaGammaFitter,
        "spend",
        [[6.25, 3.74, 15.44], [1.0, 10.0, 100.0], [20.0, 1.5, 3.0]],
    ),
}


@pytest.fixture(scope="module")
def spend(cdnow: pd.DataFrame) -> DistinctRows:
    return spend_rows(cdnow["frequency"].to_numpy(), cdnow["monetary_value"].to_numpy())


def _central_difference(model: Fitter, log_params: np.ndarray, data: DistinctRows) -> np.ndarray:
    gradient = np.empty_like(log_params)
    for i in range(len(log_params)):
        step = np.zeros_like(log_params)
        step[i] = STEP
        up = model._objective(log_params + step, data)[0]
        down = model._objective(log_params - step, data)[0]
        gradient[i] = (up - down) / (2 * STEP)
    return gradient


def _cases() -> list:
    cases = []
    for name, (_, _, points) in POINTS.items():
        for index, point in enumerate(points):
            cases.append(pytest.param(name, point, id=f"{name}-{index}"))
            shifted = np.exp(np.log(point) + SHIFT[: len(point)]).tolist()
            cases.append(pytest.param(name, shifted, id=f"{name}-{index}-shifted"))
    return cases


@pytest.mark.parametrize(("name", "point"), _cases())
def test_analytic_gradient_matches_finite_differences(
    name: str, point: list[float], request: pytest.FixtureRequest
) -> None:
    cls, data_fixture, _ = POINTS[name]
    data: DistinctRows = request.getfixturevalue(data_fixture)
    model = cls()
    log_params = np.log(point)
    value, analytic = model._objective(log_params, data)
    assert np.isfinite(value) and value < 1e299, "objective is not finite here"
    numeric = _central_difference(model, log_params, data)
    np.testing.assert_allclose(analytic, numeric, rtol=RTOL, atol=ATOL)


def _row_cases() -> list:
    return [
        pytest.param(name, point, id=f"{name}-{index}")
        for name, (_, _, points) in POINTS.items()
        for index, point in enumerate(points)
    ]


@pytest.mark.parametrize(("name", "point"), _row_cases())
def test_gradient_of_every_row_matches_finite_differences(
    name: str, point: list[float], request: pytest.FixtureRequest
) -> None:
    """Row by row: an error in one row's gradient that the weighted sum hides (or that
    only matters on other data) still shows here."""
    cls, data_fixture, _ = POINTS[name]
    data: DistinctRows = request.getfixturevalue(data_fixture)
    model = cls()
    log_params = np.log(point)
    _, analytic = model.log_likelihood_terms(np.exp(log_params), data)
    analytic = analytic * np.exp(log_params)
    for i, param in enumerate(model.param_names):
        step = np.zeros_like(log_params)
        step[i] = STEP
        up, _ = model.log_likelihood_terms(np.exp(log_params + step), data)
        down, _ = model.log_likelihood_terms(np.exp(log_params - step), data)
        numeric = (up - down) / (2 * STEP)
        error = np.abs(analytic[:, i] - numeric) / np.maximum(np.abs(numeric), ROW_FLOOR)
        worst = int(np.argmax(error))
        row = tuple(float(column[worst]) for column in data.columns)
        assert error[worst] < RTOL, (
            f"{param}: relative error {error[worst]:.2e} at row {row}: "
            f"analytic {analytic[worst, i]:.8g}, finite difference {numeric[worst]:.8g}"
        )
