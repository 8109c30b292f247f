"""Fits whose estimates run off to a boundary say so, and report the limit they run to.

When customers do not differ in some respect, the maximum likelihood lies where the
mixing distribution's shape is infinite: a "converged" fit there showed parameters in
the hundreds of thousands with nothing said. Data simulated with that respect shared
by every customer must come out at the limit with a warning naming the parameters;
the published data sets must give no warning at all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvcli.errors import ModelError
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
from clvcli.models.spread import LIMIT_SIZE, Coordinates


def _bgnbd_common_dropout(n: int = 3000, p: float = 0.3, seed: int = 7) -> DistinctRows:
    """BG/NBD customers with gamma-mixed purchase rates and one dropout probability."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1 / 3.0, n)  # r = 0.8, alpha = 3 (weeks)
    T = rng.integers(26, 53, n).astype(np.float64)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / rate[i])
            if t > T[i]:
                break
            x[i] += 1
            t_x[i] = t
            if rng.random() < p:
                break
    return DistinctRows.of(x, np.round(t_x * 7) / 7, T)


def _spend_without_spread_within_customers(n: int = 500, seed: int = 3) -> DistinctRows:
    """Repeat buyers whose every purchase is worth the same: Gamma-Gamma's p runs off."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 8, n).astype(np.float64)
    m = 1 / rng.gamma(4.0, 1 / 90.0, n)  # each customer's one price
    return spend_rows(x, m)


def test_a_common_dropout_probability_is_fitted_at_its_limit_with_a_warning() -> None:
    fitted = BGNBDFitter().fit_rows(_bgnbd_common_dropout())
    params = fitted.fitted()
    assert params["a"] + params["b"] == pytest.approx(LIMIT_SIZE, rel=1e-9)
    assert params["a"] / (params["a"] + params["b"]) == pytest.approx(0.3, abs=0.03)
    assert params["r"] == pytest.approx(0.8, rel=0.15)
    [warning] = [w for w in fitted.warnings_ if "run off together" in w]
    assert warning.startswith("bgnbd: a and b run off together")
    assert "customers do not differ in their chance of dropping out" in warning
    # The limit is what it says: as likely as any large finite spread.
    finite = fitted.log_likelihood(
        {**params, "a": params["a"] / 1e4, "b": params["b"] / 1e4}, _bgnbd_common_dropout()
    )
    assert fitted.log_likelihood_ >= finite - 1e-3
    summary = fitted.summary()
    assert summary["std_errors"]["a"] is not None and summary["warnings"] == fitted.warnings_


def test_spend_that_never_varies_within_a_customer_is_the_constant_spend_limit() -> None:
    rows = _spend_without_spread_within_customers()
    fitted = GammaGammaFitter().fit_rows(rows)
    params = fitted.fitted()
    assert params["p"] == pytest.approx(LIMIT_SIZE, rel=1e-9)
    assert fitted.std_errors_["p"] is None and fitted.ci_lower_["p"] is None
    assert params["q"] == pytest.approx(4.0, rel=0.25)
    assert params["p"] * params["v"] == pytest.approx(90.0, rel=0.2)
    assert any(w.startswith("gamma-gamma: p and v run off together") for w in fitted.warnings_)
    # Expected spend is each customer's own price, as it should be when prices never vary.
    x, m = rows.columns
    assert fitted.expected_spend(x, m) == pytest.approx(m, rel=0.05)


def test_gamma_gamma_in_rials_reports_its_limit_in_rials() -> None:
    rows = _spend_without_spread_within_customers()
    x, m = rows.columns
    toman = GammaGammaFitter().fit_rows(rows)
    rials = GammaGammaFitter().fit_rows(DistinctRows.of(x, m * 1e7))
    assert rials.fitted()["p"] * rials.fitted()["v"] == pytest.approx(
        toman.fitted()["p"] * toman.fitted()["v"] * 1e7, rel=1e-4
    )
    assert any("run off together" in w for w in rials.warnings_)


def test_a_fit_at_the_edge_of_its_range_holds_the_parameter_there_and_says_so() -> None:
    """Fourteen identical customers who all bought on the last day: nobody dropped out,
    everyone bought at the same rate. The fit is the limit, with finite numbers."""
    rows = DistinctRows.of(np.full(14, 2.0), np.full(14, 2.0), np.full(14, 2.0))
    fitted = MBGNBDFitter().fit_rows(rows)
    params = fitted.fitted()
    assert params["r"] / params["alpha"] == pytest.approx(1.0, rel=1e-3)
    text = " ".join(fitted.warnings_)
    assert "a runs to the edge of its range" in text and "almost never drop out" in text
    for name in ("ci_lower", "ci_upper", "std_errors"):
        assert all(v is None or np.isfinite(v) for v in fitted.summary()[name].values())


@pytest.mark.parametrize(
    ("cls", "rows"),
    [
        (BGNBDFitter, "cdnow_rows"),
        (MBGNBDFitter, "cdnow_rows"),
        (ParetoNBDFitter, "cdnow_rows"),
        (BGBBFitter, "donations"),
    ],
)
def test_the_published_data_sets_give_no_warning(
    cls: type[Fitter], rows: str, request: pytest.FixtureRequest
) -> None:
    fitted = cls().fit_rows(request.getfixturevalue(rows))
    assert fitted.warnings_ == []
    assert all(v is not None for v in fitted.std_errors_.values())


def test_cdnow_spend_gives_no_warning(cdnow: pd.DataFrame) -> None:
    rows = spend_rows(cdnow["frequency"].to_numpy(), cdnow["monetary_value"].to_numpy())
    assert GammaGammaFitter().fit_rows(rows).warnings_ == []


@pytest.mark.parametrize("kind", ["gamma", "beta", "product"])
def test_limit_coordinates_keep_the_mean_and_their_jacobian_is_right(kind: str) -> None:
    from clvcli.models.spread import Spread

    spread = Spread("a", "b", kind, "", "")
    coordinates = Coordinates(("r", "a", "b"), (spread,))
    z = np.array([0.3, -1.1])
    log_params, jacobian = coordinates.with_jacobian(z)
    params = dict(zip(("r", "a", "b"), np.exp(log_params), strict=True))
    assert spread.size(params) == pytest.approx(LIMIT_SIZE)
    assert np.log(spread.kept(params)[1]) == pytest.approx(
        {"gamma": -1.1, "beta": -1.1 - np.log1p(np.exp(-1.1)), "product": -1.1}[kind]
    )
    for column in range(2):
        step = np.zeros(2)
        step[column] = 1e-6
        numeric = (coordinates.to_log(z + step) - coordinates.to_log(z - step)) / 2e-6
        assert jacobian[:, column] == pytest.approx(numeric, abs=1e-6)
    assert coordinates.start(log_params) == pytest.approx(z)


def test_a_fit_that_cannot_be_rescued_is_still_refused() -> None:
    """Two customers: no limit makes that a fit."""
    rows = DistinctRows.of(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([1.0, 1.0]))
    with pytest.raises(ModelError) as caught:
        ParetoNBDFitter().fit_rows(rows)
    assert caught.value.exit_code == 4


def test_a_near_limit_warning_calls_a_shape_large_only_when_it_is():
    # After a hard search the limits are tried whatever the shapes' sizes, and a limit
    # that fits about as well as a small shape is said so without calling it large.
    from clvcli.models.spread import PURCHASE_RATES, near_limit_warning

    small = near_limit_warning("pnbd", PURCHASE_RATES, {"r": 1.5, "alpha": 3.0})
    large = near_limit_warning("pnbd", PURCHASE_RATES, {"r": 1500.0, "alpha": 3.0})
    assert small.startswith("pnbd: the common-rate limit") and "fits as well as r = 1.5:" in small
    assert large.startswith("pnbd: r is large (r = 1.5e+03) and the common-rate limit")
    assert "fits as well" in small and "fits as well" in large  # Gamma-Gamma keeps these
