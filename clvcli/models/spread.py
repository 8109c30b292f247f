"""Where customers stop differing: the limits a fit can run off to, and how to fit them.

Every model mixes a customer-level rate or probability over customers with a gamma or
beta distribution. When the data show no difference between customers in that
respect, the maximum likelihood lies at infinity: the distribution's shape grows
without bound while its mean stays put (Pareto/NBD's s and beta run off together with
s / beta = mu fixed: one exponential dropout rate for all). An optimiser then stops
somewhere on the way, at "converged" parameters in the hundreds or millions, or at
the edge of its box and fails. :class:`Spread` names such a direction for a model;
:class:`Coordinates` fits the model with the shape held at :data:`LIMIT_SIZE`, far
enough out that customers are alike to a part in a thousand, while the mean is free,
so the limit is fitted and reported as the model's usual parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The shape a limit is fitted and reported at: a gamma of shape 1e6 has a coefficient
# of variation of 0.1 %, so the customers share one rate to three digits.
LIMIT_SIZE = 1e6
# A fitted shape above this is compared with its limit.
RUN_OFF_SIZE = 100.0
# Half the 95 % point of chi-square with one degree of freedom: a limit whose
# log-likelihood is within this of the fit's lies inside the fit's 95 % region.
SAME_FIT = 1.920729410347062
# A 95 % interval whose ends differ by more than this factor pins nothing down.
WIDE_INTERVAL = 1e3


@dataclass(frozen=True)
class Spread:
    """A mixing distribution whose spread can vanish, and what that means to a user.

    ``kind`` says how ``shape`` and ``partner`` move to the limit: ``"gamma"``, both
    grow with shape / partner fixed (a gamma's shape and rate); ``"beta"``, both grow
    with shape / (shape + partner) fixed (a beta's two shapes); ``"product"``, the
    partner shrinks with shape x partner fixed (Gamma-Gamma's p and v).
    """

    shape: str
    partner: str
    kind: str
    meaning: str  # "customers do not differ in how fast they drop out"
    limit: str  # "the homogeneous-dropout limit"

    def size(self, params: dict[str, float]) -> float:
        """How far out the distribution is: its shape (a beta's shapes' sum)."""
        if self.kind == "beta":
            return params[self.shape] + params[self.partner]
        return params[self.shape]

    def kept(self, params: dict[str, float]) -> tuple[str, float]:
        """The quantity the limit keeps, by name and value."""
        a, b = params[self.shape], params[self.partner]
        if self.kind == "gamma":
            return f"{self.shape}/{self.partner}", a / b
        if self.kind == "beta":
            return f"{self.shape}/({self.shape}+{self.partner})", a / (a + b)
        return f"{self.shape}*{self.partner}", a * b

    def free_value(self, log_a: float, log_b: float) -> float:
        """The free coordinate at log parameters: what the limit keeps, in logs."""
        if self.kind == "product":
            return log_a + log_b
        return log_a - log_b  # a gamma's log mean, or a beta's log odds


class Coordinates:
    """The optimiser's coordinates: the log parameters, except that each spread in
    ``fixed`` has its shape held at :data:`LIMIT_SIZE` and one free coordinate left
    (:meth:`Spread.free_value`), and parameters ``pinned`` (by index) are held at a log
    value. With nothing fixed or pinned they are the log parameters."""

    def __init__(
        self,
        names: tuple[str, ...],
        fixed: tuple[Spread, ...] = (),
        pinned: dict[int, float] | None = None,
        held: dict[str, str] | None = None,
    ) -> None:
        self.names, self.fixed, self.pinned = names, fixed, dict(pinned or {})
        # Pinned parameters held only because the named other one ran to the edge.
        self.held = dict(held or {})
        held = {n for spread in fixed for n in (spread.shape, spread.partner)}
        held |= {names[i] for i in self.pinned}
        self.free = [i for i, name in enumerate(names) if name not in held]
        self.pairs = [(names.index(s.shape), names.index(s.partner), s) for s in fixed]

    @property
    def size(self) -> int:
        return len(self.free) + len(self.pairs)

    def start(self, log_params: np.ndarray) -> np.ndarray:
        """The coordinates nearest a point given in log parameters."""
        z = [log_params[i] for i in self.free]
        z += [spread.free_value(log_params[i], log_params[j]) for i, j, spread in self.pairs]
        return np.array(z, dtype=np.float64)

    def to_log(self, z: np.ndarray) -> np.ndarray:
        """Log parameters at coordinates ``z``."""
        return self.with_jacobian(z)[0]

    def with_jacobian(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Log parameters at ``z`` and their derivatives in ``z`` (k, len(z))."""
        k = len(self.names)
        log_params, jacobian = np.zeros(k), np.zeros((k, self.size))
        for i, value in self.pinned.items():
            log_params[i] = value
        for column, i in enumerate(self.free):
            log_params[i] = z[column]
            jacobian[i, column] = 1.0
        top = np.log(LIMIT_SIZE)
        for offset, (i, j, spread) in enumerate(self.pairs):
            column, w = len(self.free) + offset, z[len(self.free) + offset]
            if spread.kind == "gamma":  # w = ln(shape / partner)
                log_params[i], log_params[j] = top, top - w
                jacobian[j, column] = -1.0
            elif spread.kind == "product":  # w = ln(shape x partner)
                log_params[i], log_params[j] = top, w - top
                jacobian[j, column] = 1.0
            else:  # beta: w = ln(a / b), a + b = LIMIT_SIZE
                log_params[i] = top - np.logaddexp(0.0, -w)
                log_params[j] = top - np.logaddexp(0.0, w)
                share = 1 / (1 + np.exp(-w))
                jacobian[i, column], jacobian[j, column] = 1 - share, -share
        return log_params, jacobian

    def bounds(self, log_bound: float) -> list[tuple[float, float]]:
        """The box: the log parameters' own, twice as wide for a free coordinate made of
        two of them."""
        return [(-log_bound, log_bound)] * len(self.free) + [(-2 * log_bound, 2 * log_bound)] * len(
            self.pairs
        )


def run_off_warning(model: str, spread: Spread, params: dict[str, float], fitted: float) -> str:
    """The warning for a fit reported at a spread's limit, in words."""
    kept, value = spread.kept(params)
    # A small shape did not run off: the limit was found more likely than where the
    # optimiser stopped (see Fitter._limit).
    at = f"{spread.shape} = {fitted:.3g}"
    if fitted < RUN_OFF_SIZE:
        at = f"more likely there than where the optimiser stopped, at {at}"
    return (
        f"{model}: {spread.shape} and {spread.partner} run off together ({at}): "
        f"{spread.meaning}; the fit is "
        f"{spread.limit} ({spread.shape} held at {LIMIT_SIZE:.0e}, {kept} = {value:.6g})"
    )


def near_limit_warning(model: str, spread: Spread, params: dict[str, float]) -> str:
    """The warning for a fit whose spread the data cannot tell from none."""
    name = spread.shape if spread.kind != "beta" else f"{spread.shape}+{spread.partner}"
    size = spread.size(params)
    if size < RUN_OFF_SIZE:  # the limit was tried after a hard search (Fitter._limit)
        return (
            f"{model}: {spread.limit} fits as well as {name} = {size:.3g}: "
            f"{spread.meaning}, as far as these data can tell"
        )
    return (
        f"{model}: {name} is large ({name} = {size:.3g}) and "
        f"{spread.limit} fits as well: {spread.meaning}, as far as these data can tell"
    )


def large_spread_warning(model: str, spread: Spread, params: dict[str, float]) -> str:
    """The warning for a spread so narrow that customers hardly differ."""
    size = spread.size(params)
    name = spread.shape if spread.kind != "beta" else f"{spread.shape}+{spread.partner}"
    return (
        f"{model}: {name} is large ({name} = {size:.3g}): {spread.meaning} "
        f"(they vary by {100 / np.sqrt(size):.2g}% around the mean); the fit is close to "
        f"{spread.limit}"
    )


def wide_interval_warnings(
    model: str, lower: dict[str, float | None], upper: dict[str, float | None]
) -> list[str]:
    """Warnings for parameters whose 95 % interval spans orders of magnitude."""
    found = []
    for name, low in lower.items():
        high = upper.get(name)
        if low is None or high is None or not low > 0:
            continue
        if high / low > WIDE_INTERVAL:
            found.append(
                f"{model}: the data barely pin down {name} (95% interval {low:.3g} to "
                f"{high:.3g}); predictions that lean on it are uncertain"
            )
    return found


def edge_warning(
    model: str, name: str, value: float, meaning: str | None, because: str | None = None
) -> str:
    """The warning for a parameter held at the edge of the range a fit searches, or
    held where it was ``because`` another ran to the edge."""
    if because is not None:
        return (
            f"{model}: {name} is held where the fit left it ({name} = {value:.3g}): with "
            f"{because} at the edge of its range it no longer matters"
        )
    what = meaning or "the data push it without bound"
    return (
        f"{model}: {name} runs to the edge of its range ({name} = {value:.3g}): {what}; "
        "the fit holds it there"
    )


# The spreads that several purchase models share, named once.
PURCHASE_RATES = Spread(
    "r",
    "alpha",
    "gamma",
    "customers do not differ in how often they buy",
    "the common-rate limit (one Poisson purchase rate for all, r/alpha)",
)
DROPOUT_AFTER_PURCHASE = Spread(
    "a",
    "b",
    "beta",
    "customers do not differ in their chance of dropping out after a purchase",
    "the common-dropout limit (one dropout probability for all, a/(a+b))",
)
