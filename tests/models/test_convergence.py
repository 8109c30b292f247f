"""Fits end where the gradient vanishes, not where the optimiser happened to stop.

L-BFGS-B stops when the likelihood no longer falls by a relative 1e-14; on a flat
ridge that leaves the parameters uncertain in their sixth digit, which then differs
between CPUs and BLAS builds (Gamma-Gamma's p did). Newton steps from there land on
the optimum to about 1e-9, so a fit started anywhere near it ends at the same point
to far more than the six significant digits clv prints.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvcli.models import BGNBDFitter, DistinctRows, Fitter, GammaGammaFitter, ParetoNBDFitter
from clvcli.models.gamma_gamma import spend_rows
from clvcli.models.spread import Coordinates

# What six printed significant digits need, with room: the optimum is found to ~1e-9.
SAME_OPTIMUM = 1e-7


def _polished_from(fitter: Fitter, rows: DistinctRows, nudge: float) -> dict[str, float]:
    """The polish of a start ``nudge`` away (relative) from the fit, in every parameter."""
    log_params = np.log(np.array(list(fitter.fitted().values())))
    signs = np.resize([1.0, -1.0], len(log_params))
    coordinates = Coordinates(fitter.param_names)
    z, _ = fitter._polish(log_params + nudge * signs, rows, coordinates)
    return dict(zip(fitter.param_names, np.exp(z).tolist(), strict=True))


@pytest.fixture(scope="module")
def spend(cdnow: pd.DataFrame) -> DistinctRows:
    return spend_rows(cdnow["frequency"].to_numpy(), cdnow["monetary_value"].to_numpy())


@pytest.mark.parametrize("nudge", [1e-6, 1e-4])
def test_gamma_gamma_ends_at_one_optimum_from_nearby_starts(spend: DistinctRows, nudge) -> None:
    fitted = GammaGammaFitter().fit_rows(spend)
    again = _polished_from(fitted, spend, nudge)
    assert again == pytest.approx(fitted.params_, rel=SAME_OPTIMUM)


@pytest.mark.parametrize("cls", [BGNBDFitter, ParetoNBDFitter])
def test_purchase_models_end_at_one_optimum_from_nearby_starts(
    cls: type[Fitter], cdnow_rows: DistinctRows
) -> None:
    fitted = cls().fit_rows(cdnow_rows)
    again = _polished_from(fitted, cdnow_rows, 1e-5)
    assert again == pytest.approx(fitted.params_, rel=SAME_OPTIMUM)


def test_the_gradient_at_a_fit_is_flat_to_far_below_the_optimisers_own_check(
    cdnow_rows: DistinctRows,
) -> None:
    fitted = BGNBDFitter().fit_rows(cdnow_rows)
    log_params = np.log(np.array(list(fitted.fitted().values())))
    _, gradient = fitted._objective(log_params, cdnow_rows)
    assert np.max(np.abs(gradient)) < 1e-9
