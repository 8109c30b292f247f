r"""The two standard models of contractual retention, fitted by maximum likelihood.

Each subscriber has a churn probability :math:`\theta \sim \mathrm{Beta}(\alpha, \beta)`
that stays theirs; the likely leavers leave first, so the cohort's retention rate rises
with tenure even though no one's own probability changes. Periods, T and S(t) follow
the convention of :mod:`clvcli.retention.lifetimes` (S(t): share still subscribed after
t renewals).

- :class:`ShiftedBetaGeometric` (sBG; Fader & Hardie 2007, "How to project customer
  retention", J. Interactive Marketing 21(1), eqs. 5-8): each subscriber leaves at each
  renewal with probability theta, so

  .. math:: S(t) = \frac{B(\alpha, \beta + t)}{B(\alpha, \beta)}, \qquad
            r(t) = \frac{S(t)}{S(t-1)} = \frac{\beta + t - 1}{\alpha + \beta + t - 1}.

- :class:`BetaDiscreteWeibull` (BdW; Fader, Hardie, Liu, Davin & Steenburgh 2018, "How
  to project customer retention revisited: the role of duration dependence", J.
  Interactive Marketing 43): a subscriber's own survival is :math:`(1-\theta)^{t^c}`,
  so that each one's churn probability falls with tenure when c < 1 and rises when
  c > 1; c = 1 is the sBG:

  .. math:: S(t) = \frac{B(\alpha, \beta + t^c)}{B(\alpha, \beta)}.

Both are fitted on log parameters by L-BFGS-B with analytic gradients and finished by
Newton steps; standard errors come from the Hessian of the log-likelihood (the delta
method carries them from log parameters to parameters). Churned groups contribute
P(T = t), active ones S(t) (right-censoring).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from scipy.special import betaln, gammaln, hyp2f1, psi

from clvcli.errors import ModelError, TooLittleDataError
from clvcli.retention.lifetimes import Lifetimes

# Log-parameter box for alpha and beta: exp(+-14) covers any retention a business
# sees; running to its edge means the fit is going to a limit (see _edge_warnings).
_LOG_BOUND = 14.0
# c = exp(-4)..exp(3) (0.018..20): t^c stays finite for any tenure in periods.
_LOG_C_BOUNDS = (-4.0, 3.0)
_NEAR_EDGE = 1.0
# How much less likely (relative) the same-for-all limit may be than the fit found and
# still be taken: the rounding of a log-likelihood (see _up_the_ridge).
_SAME_LIKELIHOOD = 1e-12
# Up to this many periods ln S(t) is a sum of each period's log-retention (see
# _log_survival).
_RUNNING_PERIODS = 100_000
_NEWTON_STEPS = 8
# DERL's sum runs in chunks from _DIRECT_TERMS terms, doubling, until its tail is
# negligible; past _MAX_DIRECT_TERMS terms (tiny discounts) the tail is integrated.
_DIRECT_TERMS = 1 << 12
_MAX_DIRECT_TERMS = 1 << 22
# Without discount the terms fall as a power of t, and the integral of the rest is
# accurate to 1e-10 of itself from here on.
_MAX_UNDISCOUNTED_TERMS = 1 << 16
_TAIL_TOLERANCE = 1e-13
# Above this, psi(y + a) - psi(y) is taken from psi's asymptotic series: the plain
# difference of two numbers near log(y) would lose the digits of a / y.
_PSI_SERIES_FROM = 1e5
# From here on ln r(t) comes from Stirling's series (see _log_step); its first left-out
# term, 1/(1680 y^7), is below 1e-15 at y = 50.
_STIRLING_FROM = 50.0


class NotFittedError(ModelError):
    """A prediction was asked of a retention model that has not been fitted."""


def _psi_gap(y: np.ndarray, a: np.ndarray | float) -> np.ndarray:
    """psi(y + a) - psi(y), accurate also where y is so large that both are ~ log y."""
    y = np.asarray(y, dtype=np.float64)
    a = np.broadcast_to(np.asarray(a, dtype=np.float64), y.shape)
    out = np.empty_like(y)
    small = y < _PSI_SERIES_FROM
    out[small] = psi(y[small] + a[small]) - psi(y[small])
    big = ~small
    yb, ab = y[big], a[big]
    # psi(y) = ln y - 1/(2y) - 1/(12 y^2) + O(y^-4)
    with np.errstate(over="ignore", invalid="ignore"):
        out[big] = (
            np.log1p(ab / yb)
            - 0.5 / (yb + ab)
            + 0.5 / yb
            - 1.0 / (12.0 * (yb + ab) ** 2)
            + 1.0 / (12.0 * yb**2)
        )
    out[np.isinf(y)] = 0.0
    return out


def _stirling(y: np.ndarray) -> np.ndarray:
    """Stirling's correction k(y) = ln Gamma(y) - [(y - 1/2) ln y - y + ln(2 pi) / 2],
    to 1/(1260 y^5); the next term, 1/(1680 y^7), is below 1e-15 from y = 50 on."""
    inverse = 1.0 / y
    square = inverse * inverse
    return inverse * (1.0 / 12.0 - square * (1.0 / 360.0 - square / 1260.0))


def _log_gamma_gap(y: np.ndarray, a: float) -> np.ndarray:
    """ln Gamma(y + a) - ln Gamma(y) for y >= _STIRLING_FROM, as a sum of terms that
    are each accurate (no difference of two large log-gammas)."""
    return (
        (y - 0.5) * np.log1p(a / y) + a * (np.log(y + a) - 1.0) + (_stirling(y + a) - _stirling(y))
    )


def _betaln(a: float, b: np.ndarray) -> np.ndarray:
    """ln B(a, b) for b >= 0 (an array): scipy's betaln where b is small, and ln Gamma(a)
    - [ln Gamma(b + a) - ln Gamma(b)] by Stirling's series where it is large, since
    scipy's betaln is off by up to 4e-10 for b between 1e3 and 1e6 (a = 2)."""
    b = np.asarray(b, dtype=np.float64)
    out = np.empty_like(b)
    small = b < _STIRLING_FROM
    out[small] = betaln(a, b[small])
    big = ~small
    with np.errstate(over="ignore", invalid="ignore"):
        out[big] = gammaln(a) - _log_gamma_gap(b[big], a)
    out[np.isposinf(b)] = -np.inf
    return out


def _log_survival(
    alpha: float, beta: float, c: float, t: np.ndarray, with_gradient: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """ln S(t) = ln B(alpha, beta + t^c) - ln B(alpha, beta), and its gradient in
    (alpha, beta, c) as an (n, 3) array (None when not asked for).

    For whole periods (up to :data:`_RUNNING_PERIODS`) ln S(t) is the running sum of
    the accurate ln r(t) of :func:`_log_step`: as a difference of two log-beta
    functions it is off by 1e-4 and more near alpha + beta = 1e6 (subscribers who all
    churn alike), enough to rank a fit above the same-for-all limit it approaches."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(over="ignore"):
        x = np.where(t > 0, t**c, 0.0)
    value = _running_log_survival(alpha, beta, c, t)
    if value is None:
        value = _betaln(alpha, beta + x) - betaln(alpha, beta)
    if not with_gradient:
        return value, None
    gradient = np.empty((*t.shape, 3))
    # d/dalpha: psi(a+b) - psi(a+b+x); d/dbeta: [psi(b+x) - psi(a+b+x)] - [psi(b) - psi(a+b)]
    gap_x = _psi_gap(beta + x, alpha)
    gap_0 = psi(alpha + beta) - psi(beta)
    gradient[..., 0] = -_psi_gap(np.full_like(x, alpha + beta), x)
    gradient[..., 1] = gap_0 - gap_x
    with np.errstate(invalid="ignore"):
        log_t = np.log(np.where(t > 0, t, 1.0))
        gradient[..., 2] = np.where(t > 0, -gap_x * x * log_t, 0.0)
    return value, gradient


def _running_log_survival(alpha: float, beta: float, c: float, t: np.ndarray) -> np.ndarray | None:
    """ln S at ``t``, whole periods, as running sums of ln r (see :func:`_log_survival`);
    None when some t is not a whole number of periods from 0 to _RUNNING_PERIODS."""
    top = float(np.max(t, initial=0.0))
    if not (top <= _RUNNING_PERIODS and np.all((t >= 0) & (t == np.floor(t)))):
        return None
    steps = _log_step(alpha, beta, c, np.arange(1.0, top + 1.0))
    return np.concatenate([[0.0], np.cumsum(steps)])[t.astype(np.int64)]


def _log_step(alpha: float, beta: float, c: float, t: np.ndarray) -> np.ndarray:
    """ln r(t) = ln S(t) - ln S(t - 1) for t >= 1, without subtracting two log-survivals.

    For large beta + t^c, ln S(t) and ln S(t - 1) agree in most of their digits (and
    betaln itself loses digits there: at beta + t = 300 the plain difference is off by
    1e-10 relative), so the ratio of beta functions is taken from Stirling's series
    as a sum of log1p terms, each accurate. With B = beta + (t - 1)^c, A = B + alpha
    and delta = t^c - (t - 1)^c:

    ln r = (B - 1/2) ln1p(alpha delta / (B (A + delta))) - alpha ln1p(delta / A)
           - delta ln1p(alpha / (B + delta)) + [k(B + delta) - k(B) - k(A + delta) + k(A)]

    where k(y) = 1/(12 y) - 1/(360 y^3) + 1/(1260 y^5) is Stirling's correction.
    """
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        before = np.where(t > 1, (t - 1.0) ** c, 0.0)
        # t^c - (t-1)^c without cancelling: (t-1)^c expm1(c ln(t / (t - 1))).
        delta = np.where(t > 1, before * np.expm1(-c * np.log1p(-1.0 / np.maximum(t, 2.0))), 1.0)
    b = beta + before
    out = np.empty_like(t)
    small = b < _STIRLING_FROM
    out[small] = betaln(alpha, b[small] + delta[small]) - betaln(alpha, b[small])
    big = ~small
    bb, dd = b[big], delta[big]
    aa = bb + alpha

    k = _stirling
    out[big] = (
        (bb - 0.5) * np.log1p(alpha * dd / (bb * (aa + dd)))
        - alpha * np.log1p(dd / aa)
        - dd * np.log1p(alpha / (bb + dd))
        + ((k(bb + dd) - k(bb)) - (k(aa + dd) - k(aa)))
    )
    return out


def _same_for_all(logit_theta: float, c: float, data: Lifetimes) -> float:
    """The log-likelihood of ``data`` when every subscriber has the same churn
    probability theta (and shape c): the limit of the sBG and BdW as alpha and beta
    grow at a fixed ratio, where S(t) = (1 - theta)^(t^c). Exact, as the mixed models'
    likelihood out there is not."""
    log_stay = -float(np.logaddexp(0.0, logit_theta))  # ln(1 - theta)
    t = data.periods.astype(np.float64)
    weight = data.count.astype(np.float64)
    churned = data.churned
    with np.errstate(divide="ignore", invalid="ignore"):
        now = np.where(t > 0, t**c, 0.0)
        before = np.where(t > 1, (t - 1.0) ** c, 0.0)
        # ln P(T = t) = ln S(t - 1) + ln(1 - S(t) / S(t - 1)).
        left = before * log_stay + np.log(-np.expm1((now - before) * log_stay))
    terms = np.where(churned, left, now * log_stay)
    total = float(weight @ terms)
    return total if np.isfinite(total) else -np.inf


class RetentionModel:
    """Shared fit, standard errors and predictions; subclasses fix the parameters.

    After :meth:`fit`: ``params`` and ``standard_errors`` (dicts by parameter name; an
    error is NaN where the Hessian gives none), ``log_likelihood``, ``converged``
    (False when the optimiser stopped at the edge of the parameter box or without a
    maximum; the predictions are then those of the point where it stopped, and
    ``warnings`` says why in words), ``subscribers`` (n of the fit).
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self.params: dict[str, float] = {}
        self.standard_errors: dict[str, float] = {}
        self.log_likelihood: float = math.nan
        self.converged: bool = False
        self.warnings: list[str] = []
        self.subscribers: int = 0
        self._fitted = False

    @classmethod
    def from_params(cls, **params: float) -> RetentionModel:
        """A model at given parameters (published, saved or simulated), without a fit:
        its predictions work; its standard errors and log-likelihood are NaN.

        >>> model = ShiftedBetaGeometric.from_params(alpha=0.704, beta=1.182)
        >>> round(float(model.renewal_probability(0)), 4)
        0.6267
        """
        if set(params) != set(cls.param_names):
            raise ValueError(
                f"the {cls.label} model takes {', '.join(cls.param_names)}, "
                f"not {', '.join(params) or 'nothing'}"
            )
        for name, value in params.items():
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, not {value}")
        model = cls()
        model.params = {name: float(params[name]) for name in cls.param_names}
        model.standard_errors = {name: math.nan for name in cls.param_names}
        model._fitted = True
        return model

    # -- the parameters -------------------------------------------------------------
    def _triple(self, theta: np.ndarray) -> tuple[float, float, float]:
        """(alpha, beta, c) from the model's own parameter vector."""
        raise NotImplementedError

    def _columns(self) -> list[int]:
        """Which of the (alpha, beta, c) gradient columns are the model's parameters."""
        raise NotImplementedError

    def _log_bounds(self) -> list[tuple[float, float]]:
        raise NotImplementedError

    def _starts(self) -> list[np.ndarray]:
        raise NotImplementedError

    # -- the likelihood ----------------------------------------------------------------
    def _log_likelihood(self, theta: np.ndarray, data: Lifetimes) -> tuple[float, np.ndarray]:
        """Sum over groups of count x (ln P(T = t) churned, ln S(t) active), and its
        gradient in the model's parameters."""
        alpha, beta, c = self._triple(theta)
        t = data.periods.astype(np.float64)
        weight = data.count.astype(np.float64)
        churned = data.churned
        ls, g = _log_survival(alpha, beta, c, t)
        total = float(weight[~churned] @ ls[~churned])
        grad = weight[~churned] @ g[~churned]
        if np.any(churned):
            t1 = t[churned]
            g_now = g[churned]
            ls_before, g_before = _log_survival(alpha, beta, c, t1 - 1.0)
            # ln(S(t-1) - S(t)) = ln S(t-1) + ln(1 - r(t)), with r(t) itself accurate.
            step = _log_step(alpha, beta, c, t1)
            term = ls_before + np.log(-np.expm1(step))
            q = np.exp(step)
            with np.errstate(divide="ignore", invalid="ignore"):
                g_term = (g_before - q[:, None] * g_now) / (-np.expm1(step))[:, None]
            total += float(weight[churned] @ term)
            grad = grad + weight[churned] @ g_term
        return total, grad[self._columns()]

    def _objective(self, log_theta: np.ndarray, data: Lifetimes) -> tuple[float, np.ndarray]:
        theta = np.exp(log_theta)
        with np.errstate(all="ignore"):
            value, grad = self._log_likelihood(theta, data)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(log_theta)
        return -value, -grad * theta

    def _hessian(self, log_theta: np.ndarray, data: Lifetimes) -> np.ndarray:
        """Hessian of the negative log-likelihood in log parameters, by central
        differences of the analytic gradient."""
        k = len(log_theta)
        hessian = np.empty((k, k))
        for i in range(k):
            h = 1e-5 * max(1.0, abs(log_theta[i]))
            up, down = log_theta.copy(), log_theta.copy()
            up[i] += h
            down[i] -= h
            hessian[:, i] = (self._objective(up, data)[1] - self._objective(down, data)[1]) / (
                2 * h
            )
        return (hessian + hessian.T) / 2

    # -- fitting -----------------------------------------------------------------------
    def fit(self, data: Lifetimes) -> RetentionModel:
        """Fit by maximum likelihood; returns self.

        Raises
        ------
        TooLittleDataError
            When the data cannot identify the model: no subscriber has left (retention
            would be 100 % for ever), every one left at the first renewal, or fewer
            renewal periods are observed than the model has parameters.
        """
        from scipy import optimize

        self._check_identified(data)
        self.__init__()  # type: ignore[misc]
        bounds = self._log_bounds()
        best = None
        for start in self._starts():
            result = optimize.minimize(
                self._objective,
                start,
                args=(data,),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10},
            )
            if best is None or result.fun < best.fun:
                best = result
        assert best is not None
        log_theta, value = self._newton(np.asarray(best.x, dtype=np.float64), data, bounds)
        ridge = self._up_the_ridge(log_theta, value, data, bounds)
        if ridge is not None:
            log_theta, value = ridge
        gradient = self._objective(log_theta, data)[1]
        hessian = self._hessian(log_theta, data)
        theta = np.exp(log_theta)
        self.params = {n: float(v) for n, v in zip(self.param_names, theta, strict=True)}
        self.log_likelihood = -float(value)
        self.subscribers = data.subscribers
        edges = self._edge_warnings(log_theta, bounds, ridge is not None)
        self.warnings.extend(edges)
        errors = np.full(len(theta), np.nan)
        positive = False
        if not edges:
            try:
                np.linalg.cholesky(hessian)
                positive = True
            except np.linalg.LinAlgError:
                self.warnings.append(
                    f"{self.label}: the likelihood is flat in some direction at the fit, "
                    "so its standard errors are not given"
                )
            if positive:
                covariance = np.linalg.inv(hessian)
                errors = theta * np.sqrt(np.clip(np.diag(covariance), 0.0, None))
                wide = [n for n, v, e in zip(self.param_names, theta, errors, strict=True) if e > v]
                if wide:
                    self.warnings.append(
                        f"{self.label}: the data hardly pin down {' and '.join(wide)} (standard "
                        "error above the estimate): projections far beyond the data are uncertain"
                    )
        self.standard_errors = {n: float(v) for n, v in zip(self.param_names, errors, strict=True)}
        scale = max(1.0, abs(self.log_likelihood))
        self.converged = bool(not edges and positive and np.max(np.abs(gradient)) < 1e-6 * scale)
        self._fitted = True
        return self

    def _newton(
        self, log_theta: np.ndarray, data: Lifetimes, bounds: list[tuple[float, float]]
    ) -> tuple[np.ndarray, float]:
        """Newton steps from the optimiser's point, kept when they lower the objective:
        they land where the gradient vanishes, so the digits do not depend on the
        optimiser's path."""
        value, gradient = self._objective(log_theta, data)
        low = np.array([b[0] for b in bounds])
        high = np.array([b[1] for b in bounds])
        for _ in range(_NEWTON_STEPS):
            if np.any(log_theta <= low + _NEAR_EDGE) or np.any(log_theta >= high - _NEAR_EDGE):
                break
            try:
                step = np.linalg.solve(self._hessian(log_theta, data), gradient)
            except np.linalg.LinAlgError:
                break
            trial = np.clip(log_theta - step, low, high)
            trial_value, trial_gradient = self._objective(trial, data)
            if not trial_value <= value + 1e-12 * max(1.0, abs(value)):
                break
            done = np.max(np.abs(trial - log_theta)) < 1e-12
            log_theta, value, gradient = trial, trial_value, trial_gradient
            if done:
                break
        return log_theta, value

    def _check_identified(self, data: Lifetimes) -> None:
        at_risk, _ = data.at_risk()
        observed = int(np.count_nonzero(at_risk > 0))
        if observed == 0:
            raise TooLittleDataError(
                "no subscriber has reached a renewal yet: retention cannot be estimated"
            )
        if data.churned_subscribers == 0:
            raise TooLittleDataError(
                "no subscriber has left: with no churn, retention cannot be estimated "
                "(every projection would be 100%)"
            )
        if observed < 2:  # at_risk falls with t: nobody was seen past period 1
            raise TooLittleDataError(
                "the data reach only the first renewal: a retention curve cannot be "
                "projected from one renewal rate"
                if at_risk[0] > data.count[data.churned & (data.periods == 1)].sum()
                else "every subscriber left at the first renewal: retention cannot be projected"
            )
        if observed < len(self.param_names):
            raise TooLittleDataError(
                f"the data cover {observed} renewal periods; the {self.label} model has "
                f"{len(self.param_names)} parameters and needs at least as many periods",
                hint="use the sBG model, which has two",
            )

    def _up_the_ridge(
        self,
        log_theta: np.ndarray,
        value: float,
        data: Lifetimes,
        bounds: list[tuple[float, float]],
    ) -> tuple[np.ndarray, float] | None:
        """The limit where alpha and beta run off together, placed at the edge of the
        box, when it is as likely as the fit found; else None.

        Subscribers who all churn alike want alpha and beta infinite at their ratio:
        the likelihood rises ever more slowly along that ridge, and the optimiser stops
        on it wherever its path and the CPU's rounding leave it (on exact 30 % churn:
        short of the edge with a flat Hessian; at 80 %: alpha at the edge, beta not).
        The limit lies at infinity, so it is not approached but evaluated: every
        subscriber with the same churn probability theta (and the same c), its
        likelihood in closed form (:func:`_same_for_all`) and fitted. When it is no less likely
        than the fit (to :data:`_SAME_LIKELIHOOD`), the answer is the limit, the same on
        every machine, and named as one; data with a true maximum far out on the ridge
        keep it, as there the limit is less likely.
        """
        from scipy import optimize

        i, j = self.param_names.index("alpha"), self.param_names.index("beta")
        scale = min(bounds[i][1], bounds[j][1])
        others = [k for k in range(len(log_theta)) if k not in (i, j)]
        low = [bounds[k][0] for k in others]
        high = [bounds[k][1] for k in others]

        def limit(z: np.ndarray) -> float:
            # z[0] is the logit of theta; z[1:] the other log parameters (c).
            c = float(np.exp(np.clip(z[1], low[0], high[0]))) if others else 1.0
            return -_same_for_all(float(z[0]), c, data)

        found = optimize.minimize(
            limit,
            np.concatenate([[log_theta[i] - log_theta[j]], log_theta[others]]),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
        )
        there = float(found.fun)
        if not there <= value + _SAME_LIKELIHOOD * max(1.0, abs(value)):
            return None
        z = np.asarray(found.x, dtype=np.float64)
        point = log_theta.copy()
        # The larger of alpha and beta at the edge: a Beta of theta as narrow as the box
        # allows.
        point[i] = scale + min(0.0, z[0])
        point[j] = scale - max(0.0, z[0])
        point[others] = np.clip(z[1:], low, high)
        # The predictions come from that point: it must be the limit, as likely as the
        # fit. It is not when theta is so small (or large) that the box leaves alpha (or
        # beta) below 1, a Beta spread over orders of magnitude.
        at_point = float(self._objective(point, data)[0])
        if not at_point <= value + _SAME_LIKELIHOOD * max(1.0, abs(value)):
            return None
        return point, at_point

    def _edge_warnings(
        self, log_theta: np.ndarray, bounds: list[tuple[float, float]], ridge: bool = False
    ) -> list[str]:
        near = {
            name: (value <= low + _NEAR_EDGE, value >= high - _NEAR_EDGE)
            for name, value, (low, high) in zip(self.param_names, log_theta, bounds, strict=True)
        }
        found = []
        if ridge:
            theta = self.params["alpha"] / (self.params["alpha"] + self.params["beta"])
            found.append(
                f"{self.label}: subscribers hardly differ in their churn probability "
                f"(alpha and beta run off to infinity), so the fit is the "
                f"{self._limit_words(theta)} and has no standard errors"
            )
            # Said already: alpha and beta at the edge. A shape there too (BdW's c) is not.
            near = {n: edges for n, edges in near.items() if n not in ("alpha", "beta")}
        names = ", ".join(
            f"{name} {'up' if up else 'down'}" for name, (down, up) in near.items() if down or up
        )
        if names:
            found.append(
                f"{self.label}: the fit runs to the edge of the parameter range ({names}): "
                "its estimates are a limit, not a maximum, and have no standard errors"
            )
        return found

    def _limit_words(self, theta: float) -> str:
        """The model where every subscriber has the same theta, in words."""
        return f"same-for-all limit (theta = {theta:.3g})"

    # -- predictions -------------------------------------------------------------------
    def _fitted_triple(self) -> tuple[float, float, float]:
        if not self._fitted:
            raise NotFittedError(f"the {self.label} model has not been fitted")
        theta = np.array([self.params[n] for n in self.param_names])
        return self._triple(theta)

    def _log_s(self, t: np.ndarray) -> np.ndarray:
        alpha, beta, c = self._fitted_triple()
        return _log_survival(alpha, beta, c, t, with_gradient=False)[0]

    def _log_r(self, t: np.ndarray) -> np.ndarray:
        alpha, beta, c = self._fitted_triple()
        return _log_step(alpha, beta, c, t)

    def survival(self, t: Any) -> np.ndarray:
        """S(t): the share of a new cohort still subscribed after t renewals (t >= 0)."""
        periods = _periods(t, "t", 0)
        return np.exp(self._log_s(periods))

    def churn_probability(self, t: Any) -> np.ndarray:
        """P(T = t): the share of a new cohort that leaves at the end of period t (t >= 1)."""
        periods = _periods(t, "t", 1)
        return np.exp(self._log_s(periods - 1.0)) * -np.expm1(self._log_r(periods))

    def retention_rate(self, t: Any) -> np.ndarray:
        """r(t) = S(t) / S(t - 1): of those who paid for period t, the share renewing at
        its end (t >= 1); it rises with t as the likely leavers leave."""
        periods = _periods(t, "t", 1)
        return np.exp(self._log_r(periods))

    def renewal_probability(self, tenure: Any) -> np.ndarray:
        """The chance that a subscriber who has renewed ``tenure`` times (and so is
        still subscribed) renews once more: S(tenure + 1) / S(tenure) = r(tenure + 1)."""
        periods = _periods(tenure, "tenure", 0)
        return np.exp(self._log_r(periods + 1.0))

    def expected_residual_lifetime(self, tenure: Any, discount: float = 0.0) -> np.ndarray:
        r"""DERL: the expected discounted number of payments still to come from a
        subscriber who has renewed ``tenure`` times (Fader & Hardie 2010, eq. 6).

        .. math:: \mathrm{DERL}(n) = \sum_{k \ge 0} \frac{S(n + 1 + k)}{S(n)}
                  \frac{1}{(1 + d)^k}

        Valued at the renewal that ends the current period: the payment already made
        for the current period is NOT counted; the next renewal's payment counts with
        its probability and no discount, the k-th after it is discounted by
        (1 + d)^-k. With d = 0 it is the expected number of renewals still to come, which
        is infinite when alpha <= 1 (alpha c <= 1 for the BdW): a heavy tail of
        subscribers who almost never leave; the value returned is then ``inf``.
        ``discount`` is the rate per period. Multiply by the margin per period for
        the residual value.
        """
        periods = _periods(tenure, "tenure", 0)
        z = _discount_factor(discount)
        return self._derl(periods, z)

    def expected_lifetime(self, discount: float = 0.0) -> float:
        """DEL: the expected discounted number of payments of a subscriber about to
        join, counting the first (certain, undiscounted) payment: 1 + DERL(0) / (1 + d)."""
        z = _discount_factor(discount)
        return float(1.0 + z * self._derl(np.zeros(1), z)[0])

    def _derl(self, periods: np.ndarray, z: float) -> np.ndarray:
        return _derl_by_sum(self._log_s, self._log_r, self._fitted_triple(), periods, z)

    def draw_periods(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Lifetimes T (periods paid for, >= 1) of ``size`` new subscribers drawn from
        the model: theta from its beta distribution, then T from (1 - theta)^(t^c), by
        inversion (T > t exactly when U <= (1 - theta)^(t^c)). For simulations and
        tests of what a fit recovers."""
        alpha, beta, c = self._fitted_triple()
        theta = rng.beta(alpha, beta, size)
        u = rng.random(size)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.log(u) / np.log1p(-theta)  # 0 when theta is 1; inf when it is 0
            periods = np.floor(ratio ** (1.0 / c)) + 1.0
        return np.minimum(np.nan_to_num(periods, nan=1.0, posinf=2.0**62), 2.0**62).astype(np.int64)

    # -- for JSON ------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The fit as plain values for JSON (NaN standard errors become None)."""
        if not self._fitted:
            raise NotFittedError(f"the {self.label} model has not been fitted")
        k = len(self.param_names)
        n = max(self.subscribers, 1)
        return {
            "model": self.name,
            "params": dict(self.params),
            "standard_errors": {
                name: (None if math.isnan(v) else v) for name, v in self.standard_errors.items()
            },
            "log_likelihood": self.log_likelihood,
            "aic": 2 * k - 2 * self.log_likelihood,
            "bic": k * math.log(n) - 2 * self.log_likelihood,
            "n": self.subscribers,
            "converged": self.converged,
            "warnings": list(self.warnings),
        }


class ShiftedBetaGeometric(RetentionModel):
    """sBG: churn probability theta ~ Beta(alpha, beta), constant over each subscriber's
    tenure (Fader & Hardie 2007).

    Examples
    --------
    >>> from clvcli.retention import Lifetimes
    >>> data = Lifetimes.from_survivors([1000, 631, 468, 382, 326, 289, 262, 241])
    >>> model = ShiftedBetaGeometric().fit(data)
    >>> round(model.params["alpha"], 3), round(model.params["beta"], 3)
    (0.704, 1.182)
    >>> (100 * model.survival([8, 12])).round(1).tolist()
    [22.0, 17.0]
    """

    name = "sbg"
    label = "sBG"
    param_names = ("alpha", "beta")

    def _triple(self, theta: np.ndarray) -> tuple[float, float, float]:
        return float(theta[0]), float(theta[1]), 1.0

    def _columns(self) -> list[int]:
        return [0, 1]

    def _log_bounds(self) -> list[tuple[float, float]]:
        return [(-_LOG_BOUND, _LOG_BOUND)] * 2

    def _starts(self) -> list[np.ndarray]:
        return [np.log(np.array(p)) for p in ((1.0, 1.0), (0.5, 3.0), (3.0, 0.5), (5.0, 20.0))]

    def _limit_words(self, theta: float) -> str:
        return f"constant-churn limit ({theta:.1%} leave at each renewal)"

    def _derl(self, periods: np.ndarray, z: float) -> np.ndarray:
        """Fader & Hardie (2010), eq. 6 with n - 1 = tenure (see
        :func:`sbg_derl_closed_form`). Its hypergeometric function 2F1(1, b; c; z) is the
        series sum_k (b)_k / (c)_k z^k, which is the defining sum of DERL term by term;
        it is summed here with its tail bounded (:func:`_derl_by_sum`), because scipy's
        hyp2f1 is unreliable for these arguments: off by 0.3 % at alpha = 3, beta = 0.2,
        d = 0.001, tenure 28; NaN or inf for tenures in the hundreds when d is small.
        Without discount the series sums to (beta + n) / (alpha - 1), n = tenure."""
        alpha, beta, _ = self._fitted_triple()
        if z == 1.0:
            if alpha <= 1.0:
                return np.full(periods.shape, np.inf)
            return (beta + periods) / (alpha - 1.0)
        return super()._derl(periods, z)


def sbg_derl_closed_form(alpha: float, beta: float, tenure: Any, discount: float) -> np.ndarray:
    r"""DERL of the sBG as Fader & Hardie (2010), "Customer-base valuation in a
    contractual setting: the perils of ignoring heterogeneity", Marketing Science
    29(1), eq. 6, give it for a customer who has made n - 1 = ``tenure`` renewals:

    .. math:: \mathrm{DERL}(d) = \frac{B(\alpha, \beta + n)}{B(\alpha, \beta + n - 1)}
              \; {}_2F_1\!\left(1, \beta + n; \alpha + \beta + n; \tfrac{1}{1 + d}\right)

    with scipy's hyp2f1, for checks; the models sum the series instead (see
    :meth:`ShiftedBetaGeometric._derl` for why).
    """
    n = _periods(tenure, "tenure", 0) + 1.0
    z = _discount_factor(discount)
    return np.exp(betaln(alpha, beta + n) - betaln(alpha, beta + n - 1.0)) * hyp2f1(
        1.0, beta + n, alpha + beta + n, z
    )


class BetaDiscreteWeibull(RetentionModel):
    """BdW: a subscriber's own survival is (1 - theta)^(t^c) with theta ~ Beta(alpha,
    beta) (Fader, Hardie, Liu, Davin & Steenburgh 2018). c < 1: each subscriber grows
    more loyal with tenure; c > 1: less; c = 1 is the sBG, so its log-likelihood is at
    least the sBG's on the same data.
    """

    name = "bdw"
    label = "BdW"
    param_names = ("alpha", "beta", "c")

    def _triple(self, theta: np.ndarray) -> tuple[float, float, float]:
        return float(theta[0]), float(theta[1]), float(theta[2])

    def _columns(self) -> list[int]:
        return [0, 1, 2]

    def _log_bounds(self) -> list[tuple[float, float]]:
        return [(-_LOG_BOUND, _LOG_BOUND), (-_LOG_BOUND, _LOG_BOUND), _LOG_C_BOUNDS]

    def _limit_words(self, theta: float) -> str:
        c = float(f"{self.params['c']:.3g}")  # as shown: c = 1 is flat, not falling
        return (
            f"discrete-Weibull limit (one churn parameter {theta:.3g} for all, with "
            f"retention {'rising' if c < 1 else 'falling' if c > 1 else 'flat'} over each "
            f"subscriber's tenure, c = {c:.3g})"
        )

    def _starts(self) -> list[np.ndarray]:
        return [
            np.log(np.array(p))
            for p in ((1.0, 1.0, 1.0), (0.5, 3.0, 1.0), (1.0, 1.0, 0.5), (3.0, 5.0, 1.5))
        ]


def _periods(values: Any, name: str, least: int) -> np.ndarray:
    """Whole numbers of periods >= ``least`` as floats; a fraction is refused, not rounded."""
    array = np.asarray(values, dtype=np.float64)
    if np.any(~np.isfinite(array)) or np.any(array != np.round(array)):
        raise ValueError(f"{name} must be a whole number of periods")
    if np.any(array < least):
        raise ValueError(f"{name} must be at least {least}")
    return array


def _discount_factor(discount: float) -> float:
    if not math.isfinite(discount) or discount < 0:
        raise ValueError(f"the discount rate must be 0 or more, not {discount}")
    return 1.0 / (1.0 + discount)


LogCurve = Callable[[np.ndarray], np.ndarray]


def _derl_by_sum(
    log_s: LogCurve,
    log_r: LogCurve,
    triple: tuple[float, float, float],
    periods: np.ndarray,
    z: float,
) -> np.ndarray:
    """DERL by its defining sum, for any model (and to check the sBG's closed form).

    DERL(N) at the largest tenure N is summed term by term until the tail is negligible,
    or integrated past a cap (see :func:`_derl_at`). Smaller tenures follow from
    DERL(n) = r(n + 1) (1 + z DERL(n + 1)), a recursion that only shrinks errors
    (r z < 1).
    """
    alpha, _, c = triple
    shape = periods.shape
    flat = periods.reshape(-1)
    if flat.size == 0:
        return np.zeros(shape)
    if z == 1.0 and alpha * c <= 1.0:
        # S(t) ~ t^(-alpha c): the expected number of renewals has no end.
        return np.full(shape, np.inf)
    top = int(flat.max())
    derl = np.empty(top + 1)
    derl[top] = _derl_at(log_s, top, z, alpha * c)
    if top > 0:
        n = np.arange(top, dtype=np.float64)
        renew = np.exp(log_r(n + 1.0))
        for i in range(top - 1, -1, -1):
            derl[i] = renew[i] * (1.0 + z * derl[i + 1])
    return derl[flat.astype(np.int64)].reshape(shape)


def _derl_at(log_s: LogCurve, tenure: int, z: float, power: float) -> float:
    """sum_{k >= 0} S(tenure + 1 + k) / S(tenure) z^k by direct sum plus a bounded or
    integrated tail.

    The sum runs in chunks of doubling length until its tail is negligible: with a
    discount, the tail is below the last term times z / (1 - z); without one, it is
    estimated from the decay of the terms over the chunk's second half (a power law
    t^-p leaves last t / (p - 1)). Where that takes more than _MAX_DIRECT_TERMS terms
    (tiny discounts, slowly decaying S), the rest is the integral of the terms.
    """
    base = float(log_s(np.array([float(tenure)]))[0])
    log_z = math.log(z)
    total = 0.0
    done = 0
    size = _DIRECT_TERMS
    while True:
        k = np.arange(done, done + size, dtype=np.float64)
        log_terms = log_s(tenure + 1.0 + k) - base + k * log_z
        total += float(np.exp(log_terms).sum())
        done += size
        last = math.exp(float(log_terms[-1]))
        if z < 1.0:
            tail = last * z / (1.0 - z)  # every later term is below last z^j
        else:
            t_last, t_mid = tenure + done, tenure + done - size // 2
            drop = float(log_terms[-1] - log_terms[-(size // 2) - 1])
            p = -drop / math.log(t_last / t_mid)
            tail = last * t_last / (p - 1.0) if p > 1.0 else math.inf
        if tail <= _TAIL_TOLERANCE * total or last == 0.0:
            return total
        if done >= (_MAX_DIRECT_TERMS if z < 1.0 else _MAX_UNDISCOUNTED_TERMS):
            break
        size = min(2 * size, _MAX_DIRECT_TERMS - done)
    return total + _tail_integral(log_s, base, tenure, done - 0.5, log_z, power)


def _tail_integral(
    log_s: LogCurve, base: float, tenure: int, start: float, log_z: float, power: float
) -> float:
    """The terms f(k) = S(tenure + 1 + k) / S(tenure) z^k summed over k > start as the
    integral of f from ``start`` on (the midpoint rule: its error is f''/24 per term,
    negligible this far out)."""
    from scipy import integrate

    def log_f(k: float) -> float:
        return float(log_s(np.array([tenure + 1.0 + k]))[0]) - base + k * log_z

    at_start = log_f(start)
    if log_z == 0.0:
        # f(k) ~ k^-power: with v = (k / start)^(1 - power) the integral becomes
        # start / (power - 1) * int_0^1 f(k(v)) (k(v) / start)^power / f(start) dv, a
        # bounded integrand on a finite interval.
        def g(v: float) -> float:
            log_ratio = min(-math.log(max(v, 1e-300)) / (power - 1.0), 700.0)
            return math.exp(log_f(start * math.exp(log_ratio)) - at_start + power * log_ratio)

        integral = integrate.quad(g, 0.0, 1.0, limit=200, full_output=1)[0]
        return math.exp(at_start) * start / (power - 1.0) * integral

    rate = -log_z

    def h(s: float) -> float:  # k = start + s / rate
        return math.exp(log_f(start + s / rate) - at_start)

    integral = integrate.quad(h, 0.0, np.inf, limit=200, full_output=1)[0]
    return math.exp(at_start) * integral / rate
