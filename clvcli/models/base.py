"""What every model shares: the fit loop, standard errors and saved parameters.

Models fit by maximum likelihood on log parameters (so every parameter stays
positive) with analytic gradients. Customers who share a (frequency, recency, T)
row share a likelihood term, so the fit runs on the distinct rows weighted by their
counts: a few thousand rows stand for millions of customers. Several starting points
and a second optimiser guard against the "did not converge" failures users know from
other tools; a fit on hundreds of thousands of rows starts where a fit on an even
sample of them ends. Newton steps end every fit where the gradient vanishes, and
standard errors come from the Hessian of the log-likelihood there. A fit that runs off
to where customers stop differing is fitted and reported at that limit, with a
warning in words (see :mod:`clvcli.models.spread`).
"""

from __future__ import annotations

import copy
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from clvcli.errors import ModelError
from clvcli.models.spread import (
    RUN_OFF_SIZE,
    SAME_FIT,
    Coordinates,
    Spread,
    edge_warning,
    large_spread_warning,
    near_limit_warning,
    run_off_warning,
    wide_interval_warnings,
)
from clvcli.parallel import in_parallel, row_blocks

if TYPE_CHECKING:
    from scipy import optimize

# Log-parameter box: exp(-14) to exp(14) covers every published estimate in any
# time unit, and keeps the optimiser away from overflow.
_LOG_BOUND = 14.0
_Z_95 = 1.959963984540054
# Rows per BLAS call in a weighted sum: OpenBLAS runs a dot product of up to 10,000
# elements, and a matrix-vector product of fewer than 9,216 (2,048 rows of 4 columns),
# on one thread, whatever its thread count.
BLAS_ROWS = 2048
# A fit on SAMPLED_START_ROWS distinct rows or more starts from a fit on an even
# sample of SAMPLE_ROWS of them (see Fitter._fit_from_sample).
SAMPLE_ROWS = 32_768
SAMPLED_START_ROWS = 8 * SAMPLE_ROWS
_LBFGSB_OPTIONS = {"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9}
# Newton steps after the optimiser (with the Hessian the standard errors need anyway):
# L-BFGS-B stops when the likelihood no longer falls by a relative 1e-14, which on a
# flat ridge leaves the parameters uncertain in their fifth digit; from there a Newton
# step lands where the gradient vanishes, so that the printed digits do not depend on
# the optimiser's path (and with it on the CPU and BLAS).
_NEWTON_STEPS = 3
# A limit whose log-likelihood is within this of a fit's is where the fit was going.
_SAME_POINT = 1e-3


class NotFittedError(ModelError):
    """A prediction was asked of a model that has not been fitted."""


@dataclass
class DistinctRows:
    """Distinct rows of the model's inputs with how many customers share each.

    ``columns`` hold one float array per input (``x, t_x, T`` for the purchase models);
    ``inverse`` maps every customer back to its row. :meth:`levels` gives the distinct
    values of one column or of a pair of columns, so that a likelihood can evaluate
    its expensive functions once per distinct value and gather the results.
    """

    columns: tuple[np.ndarray, ...]
    weight: np.ndarray
    inverse: np.ndarray
    # Per row, the sum over its customers of their log inter-purchase times (in the
    # model's time unit), when the purchase days were at hand: the regularity models
    # (clvcli.models.cnbd) choose their k by it. None when unknown.
    litt: np.ndarray | None = None
    # Levels by column indices, and what models keep per set of rows by other keys.
    _levels: dict[tuple[Any, ...], Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, *columns: np.ndarray) -> DistinctRows:
        """Group equal rows by hashing (linear time, unlike a lexicographic sort).

        Each column's factorization is kept for :meth:`levels`: the rows are in the order
        of their first customer, so a column's distinct values come out of the rows in
        the order they came out of the customers, and the fit need not hash them again.
        """
        if len(columns[0]) == 0:
            empty = tuple(np.zeros(0) for _ in columns)
            return cls(empty, np.zeros(0), np.zeros(0, dtype=np.int64))
        factorized = _each_factorized(columns)
        key, decode_codes = _combined_key(factorized)
        # The key holds the customers' codes from here on: they go before the key is
        # hashed, the grouping's largest moment (120 MB at four million customers).
        missing = any(_has_missing(column) for column in factorized)  # NaN has no code
        uniques = [unique for _, unique in factorized]
        del factorized
        inverse, unique_keys = pd.factorize(key)
        del key
        codes = decode_codes(unique_keys)
        rows = tuple(unique[code] for code, unique in zip(codes, uniques, strict=True))
        weight = np.bincount(inverse, minlength=len(unique_keys)).astype(np.float64)
        grouped = cls(rows, weight, inverse.astype(np.int64, copy=False))
        if not missing:
            for i, (code, unique) in enumerate(zip(codes, uniques, strict=True)):
                grouped._levels[("column", i)] = (code, unique)
        return grouped

    def with_litt(self, litt: np.ndarray | None) -> DistinctRows:
        """These rows with ``litt``, the customers' sums of log inter-purchase times (one
        per customer, in the order of :attr:`inverse`), added up per row; unchanged
        when ``litt`` is None."""
        if litt is not None:
            litt = np.asarray(litt, dtype=np.float64)
            self.litt = np.bincount(self.inverse, weights=litt, minlength=len(self.weight))
        return self

    @property
    def customers(self) -> int:
        return int(self.weight.sum())

    def every(self, step: int) -> DistinctRows:
        """Every ``step``-th row with its weight: each customer is in it with the same
        chance, one in ``step``, so it is an even sample of them for a quick first fit.
        It maps no customers to its rows (its ``inverse`` is empty)."""
        step = max(step, 1)
        return DistinctRows(
            tuple(np.ascontiguousarray(column[::step]) for column in self.columns),
            np.ascontiguousarray(self.weight[::step]),
            np.zeros(0, dtype=np.int64),
            None if self.litt is None else np.ascontiguousarray(self.litt[::step]),
        )

    def level_weights(self, *indices: int) -> np.ndarray:
        """Customers at each level of the given columns (in the order of :meth:`levels`)."""
        key = ("customers", *indices)
        if key not in self._levels:
            *values, codes = self.levels(*indices)
            self._levels[key] = np.bincount(codes, self.weight, minlength=len(values[0]))
        return self._levels[key]

    def levels(self, *indices: int) -> tuple[np.ndarray, ...]:
        """Distinct values of the given columns (one array each) and each row's index."""
        if indices not in self._levels:
            missing = [i for i in indices if ("column", i) not in self._levels]
            found = _each_factorized([self.columns[i] for i in missing])
            for i, column in zip(missing, found, strict=True):
                self._levels[("column", i)] = column
            factorized = [self._column(i) for i in indices]
            if len(factorized) == 1 and not _has_missing(factorized[0]):
                # A column's codes are already its levels' indices, in order.
                code, unique = factorized[0]
                self._levels[indices] = (unique, code)
            else:
                key, decode_codes = _combined_key(factorized)
                codes, unique_keys = pd.factorize(key)
                values = (
                    unique[code]
                    for code, (_, unique) in zip(decode_codes(unique_keys), factorized, strict=True)
                )
                self._levels[indices] = (*values, codes.astype(np.int64, copy=False))
        return self._levels[indices]

    def _column(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """pd.factorize of one column (codes, distinct values), kept for :meth:`levels`."""
        key = ("column", index)
        if key not in self._levels:
            self._levels[key] = _factorized(self.columns[index])
        return self._levels[key]


def import_optimizer() -> None:
    """Import scipy.optimize now (0.2-0.3 s) rather than at the first fit.

    The fit imports it itself; a command calls this while it waits for something
    else, such as a log being read on another thread.
    """
    import scipy.optimize  # noqa: F401


def on_distinct(function, *arrays: np.ndarray) -> np.ndarray:
    """``function(*arrays)`` evaluated once per distinct combination of the arrays.

    Predictions that depend on (x, T) only, say, cost what the distinct pairs cost,
    not what the customers cost.
    """
    arrays = tuple(np.asarray(a, dtype=np.float64) for a in np.broadcast_arrays(*arrays))
    if arrays[0].size == 0:
        return np.zeros(0)
    key, decode = _combined_codes([a.reshape(-1) for a in arrays])
    codes, unique_keys = pd.factorize(key)
    values = np.asarray(function(*decode(unique_keys)), dtype=np.float64)
    return values[codes].reshape(arrays[0].shape)


def sum_in_blocks(
    fill: Callable[[slice, np.ndarray, np.ndarray], None], weight: np.ndarray, k: int
) -> tuple[float, np.ndarray]:
    """The weighted sums of the terms (m,) and gradient (m, k) that ``fill(rows, terms,
    gradient)`` writes for each block of rows, without arrays as long as the data: each
    block fills arrays of its own, which stay in the cache, and reduces them."""

    def work(rows: slice) -> np.ndarray:
        m = rows.stop - rows.start
        terms, gradient = np.empty(m), np.empty((k, m)).T  # each column contiguous
        fill(rows, terms, gradient)
        total, sums = weighted_sums(weight[rows], terms, gradient)
        return np.concatenate([[total], sums])

    sums = add_up_blocks(work, len(weight), k + 1)
    return float(sums[0]), sums[1:]


def add_up_blocks(work: Callable[[slice], np.ndarray], n: int, k: int) -> np.ndarray:
    """The sum of ``work(rows)`` (k,) over consecutive slices of ``n`` rows.

    The slices run on every core the process may use (:func:`in_parallel`), and their
    results are added in the order of the slices: the sum does not depend on how many
    threads ran them, nor on which finished first.
    """
    blocks = row_blocks(n)
    partial = np.zeros((len(blocks), k))

    def run(block: int) -> None:
        partial[block] = work(blocks[block])

    in_parallel(run, range(len(blocks)))
    total = np.zeros(k)
    for sums in partial:
        total += sums
    return total


def weighted_sums(
    weight: np.ndarray, terms: np.ndarray, gradient: np.ndarray
) -> tuple[float, np.ndarray]:
    """``weight @ terms`` and ``weight @ gradient``, by BLAS in chunks added in order
    (see :func:`dot`)."""
    k = gradient.shape[1]
    step = BLAS_ROWS * 4 // max(k, 4)
    sums = np.zeros(k)
    for start in range(0, len(weight), step):
        sums += weight[start : start + step] @ gradient[start : start + step]
    return dot(weight, terms), sums


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``a @ b`` by BLAS in chunks added in order.

    OpenBLAS splits a longer product among its threads, so that its bits would depend
    on their number; a chunk is short enough for one thread, and up to a chunk the bits
    are those of a single product.
    """
    total = 0.0
    for start in range(0, len(a), BLAS_ROWS):
        total += float(np.dot(a[start : start + BLAS_ROWS], b[start : start + BLAS_ROWS]))
    return total


def logaddexp(x: np.ndarray, y: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """ln(e^x + e^y) as max(x, y) + ln(1 + e^-|x - y|), which is np.logaddexp's own
    formula; np.logaddexp calls libm once per element, this runs numpy's vectorised exp
    and log1p and takes a quarter of the time. Equal infinities give themselves."""
    gap = np.subtract(x, y)
    np.abs(gap, out=gap)
    np.fmax(gap, 0.0, out=gap)  # inf - inf: a gap of 0, and -inf + ln 2 is -inf
    np.exp(np.negative(gap, out=gap), out=gap)
    return np.add(np.maximum(x, y), np.log1p(gap, out=gap), out=gap if out is None else out)


def _combined_codes(arrays: list[np.ndarray]):
    """One int64 key per row for several float columns, and a way back to values."""
    factorized = [_factorized(values) for values in arrays]
    key, decode_codes = _combined_key(factorized)

    def decode(keys: np.ndarray) -> tuple[np.ndarray, ...]:
        codes = decode_codes(keys)
        return tuple(unique[code] for code, (_, unique) in zip(codes, factorized, strict=True))

    return key, decode


def _each_factorized(columns: Sequence[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`_factorized` of each column, side by side on every core: pandas hashes
    floats with the GIL let go (three history columns of four million customers:
    0.27-0.54 s one after another, 0.11-0.37 s side by side)."""
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def factorize(index: int) -> None:
        found[index] = _factorized(np.asarray(columns[index], dtype=np.float64))

    in_parallel(factorize, range(len(columns)))
    return [found[index] for index in range(len(columns))]


def _factorized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pd.factorize of a float column: int64 codes (-1 for NaN) and float64 uniques."""
    code, unique = pd.factorize(values)
    return code.astype(np.int64, copy=False), np.asarray(unique, dtype=np.float64)


def _has_missing(factorized: tuple[np.ndarray, np.ndarray]) -> bool:
    return len(factorized[0]) > 0 and int(factorized[0].min()) < 0


def _combined_key(factorized: list[tuple[np.ndarray, np.ndarray]]):
    """One int64 key per row from the columns' (codes, uniques), and a way back from
    keys to each column's codes."""
    codes = [code for code, _ in factorized]
    sizes = [len(unique) for _, unique in factorized]
    if np.prod([float(size) for size in sizes]) >= 2.0**62:
        # Too many combinations for one int64: fall back to a lexicographic sort.
        stacked = np.column_stack(codes)
        unique_rows, key = np.unique(stacked, axis=0, return_inverse=True)

        def decode_rows(keys: np.ndarray) -> tuple[np.ndarray, ...]:
            picked = unique_rows[np.asarray(keys, dtype=np.int64)]
            return tuple(picked[:, i] for i in range(len(codes)))

        return key.reshape(-1), decode_rows
    key = codes[0]  # mixed radix, in a new array: the codes may be kept by the rows
    for step, (code, size) in enumerate(zip(codes[1:], sizes[1:], strict=True)):
        key = key * size if step == 0 else np.multiply(key, size, out=key)
        key += code

    def decode(keys: np.ndarray) -> tuple[np.ndarray, ...]:
        out = []
        rest = np.asarray(keys, dtype=np.int64)
        for size in reversed(sizes):
            out.append(rest % size)
            rest = rest // size
        return tuple(reversed(out))

    return key, decode


@dataclass
class _Estimate:
    """A fit's estimate at one optimum, before it becomes the fitted state."""

    params: dict[str, float]
    std_errors: dict[str, float | None]
    ci_lower: dict[str, float | None]
    ci_upper: dict[str, float | None]
    log_likelihood: float
    fixed: tuple[Spread, ...]  # spreads held at their limit
    pinned: dict[str, float]  # parameters held at the edge of the box
    held: dict[str, str]  # of those, the ones held because another ran to the edge
    free: int  # parameters estimated, for AIC and BIC
    customers: int = 0
    iterations: int = 0
    # The covariance of the log parameters (k, k), when every parameter is free (none
    # at a limit or at the edge of the box); what per-customer intervals draw from.
    log_covariance: np.ndarray | None = None


class Fitter:
    """Maximum-likelihood fit on log parameters; subclasses supply the likelihood.

    Subclasses set ``name`` and ``param_names`` and implement
    :meth:`log_likelihood_terms` (per-row log-likelihood and its gradient with respect
    to the parameters themselves) and :meth:`initial_params`.
    """

    name: ClassVar[str] = ""
    param_names: ClassVar[tuple[str, ...]] = ()
    # The parameters the covariance is of: all of them, unless some are chosen rather
    # than estimated (the order k of the CNBD-k models), which have no variance.
    estimated_names: ClassVar[tuple[str, ...] | None] = None
    # The mixing distributions whose spread can vanish (see clvcli.models.spread).
    spreads: ClassVar[tuple[Spread, ...]] = ()
    # Whether the likelihood is accurate at LIMIT_SIZE, so that limits can be fitted;
    # otherwise a large spread is only named in a warning.
    fits_limits: ClassVar[bool] = True
    # When set, only the spreads with these shapes are fitted at their limit.
    limit_shapes: ClassVar[tuple[str, ...] | None] = None
    # What a parameter running to the edge of the box means, by (name, +1 up or -1 down).
    edges: ClassVar[dict[tuple[str, int], str]] = {}
    # Whether the fit needs the rows' litt (DistinctRows.litt), which only a log gives.
    needs_purchase_days: ClassVar[bool] = False
    # Whether the predictions are scaled over the customers scored together (see
    # :meth:`scale_over`).
    scales_over_cohort: ClassVar[bool] = False

    def __init__(self) -> None:
        self.params_: dict[str, float] | None = None
        self.warnings_: list[str] = []
        self.log_covariance_: np.ndarray | None = None

    # -- what each model supplies -------------------------------------------------
    def log_likelihood_terms(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-row log-likelihood (n,) and its gradient in the parameters (n, k)."""
        raise NotImplementedError

    def initial_params(self, data: DistinctRows) -> list[np.ndarray]:
        """Starting points for the optimiser, most promising first."""
        raise NotImplementedError

    def weighted_log_likelihood(
        self, params: np.ndarray, data: DistinctRows
    ) -> tuple[float, np.ndarray]:
        """The weighted sum of the terms and of their gradients: what the fit needs.

        Models whose likelihood splits into parts that depend on few distinct values
        override this to skip the per-row arrays.
        """
        terms, gradient = self.log_likelihood_terms(params, data)
        return weighted_sums(data.weight, terms, gradient)

    def expected_purchases_of_rows(
        self, t: float, rows: DistinctRows, p_alive: np.ndarray
    ) -> np.ndarray:
        """``expected_purchases(t, *rows.columns, p_alive=p_alive)``, which is what it is
        here; models whose prediction depends on fewer columns reuse the rows' grouping."""
        return self.expected_purchases(t, *rows.columns, p_alive=p_alive)  # type: ignore[attr-defined]

    def scale_over(self, rows: DistinctRows | None) -> None:
        """For a model whose predictions are scaled over the customers scored
        together (:attr:`scales_over_cohort`): scale them over ``rows``, the whole
        table's distinct rows, so that a table scored in pieces gets the whole
        table's values (None: over the customers scored again). Nothing to do here."""

    def expected_purchases_by_block(
        self, t: float, rows: DistinctRows, p_alive: np.ndarray
    ) -> Callable[[slice], np.ndarray] | None:
        """:meth:`expected_purchases_of_rows` as a function of a block of the rows, for
        models that can give it without an array as long as the rows (None here): the
        scores then run the months block by block, in the cache."""
        return None

    # -- fitting ------------------------------------------------------------------
    def log_likelihood(self, params: np.ndarray | dict[str, float], data: DistinctRows) -> float:
        """The weighted log-likelihood of ``data`` at ``params``."""
        return self.weighted_log_likelihood(self._vector(params), data)[0]

    def _objective(self, log_params: np.ndarray, data: DistinctRows) -> tuple[float, np.ndarray]:
        params = np.exp(log_params)
        total, grad_params = self._weighted(params, data)
        if not np.isfinite(total) or not np.all(np.isfinite(grad_params)):
            return 1e300, np.zeros_like(log_params)
        scale = max(data.customers, 1)
        return -total / scale, -(grad_params * params) / scale

    def fit_rows(self, data: DistinctRows) -> Fitter:
        """Fit on distinct rows; raises ModelError when no start converges.

        On its way the optimiser tries extreme parameters where the special functions
        overflow and scipy warns; the objective turns those points into a huge value,
        so the warnings are expected and silenced (in a CLI they printed dozens of
        lines on stderr, --quiet or not). The fitted parameters are kept on the rows,
        for a model that starts from another's fit (Gamma-Gompertz/NBD from Pareto/NBD).
        """
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitted = self._fit_rows(data)
        data._levels[("fitted", type(self))] = dict(fitted.fitted())
        return fitted

    def _weighted(self, params: np.ndarray, data: DistinctRows) -> tuple[float, np.ndarray]:
        """weighted_log_likelihood, with the last point remembered on the rows: the
        optimiser and the checks after it ask for the same point again (a call in eight)."""
        key, point = ("last point", type(self)), params.tobytes()
        last = data._levels.get(key)
        if last is not None and last[0] == point:
            return last[1], last[2].copy()
        total, gradient = self.weighted_log_likelihood(params, data)
        data._levels[key] = (point, total, np.array(gradient, dtype=np.float64))
        return total, gradient

    def _fit_rows(self, data: DistinctRows) -> Fitter:
        started = time.perf_counter()
        if data.customers == 0:
            raise ModelError(f"{self.name}: no customers to fit", None)
        best, iterations, hard = None, 0, False
        if len(data.weight) >= SAMPLED_START_ROWS:
            best, iterations, hard = self._fit_from_sample(data)
        if best is None:
            best, searched, hard = self._search(data)
            iterations += searched
        converged = bool(np.isfinite(best.fun) and self._is_optimum(best, data))
        if not converged and np.isfinite(best.fun):
            # The optimisers can stall on a long ridge with the gradient still at 1e-4:
            # Newton steps from there often end at the optimum.
            polished, _ = self._polish(best.x, data, Coordinates(self.param_names))
            value, _ = self._objective(polished, data)
            if value <= best.fun:
                best.x, best.fun = polished, value
                converged = self._is_optimum(best, data)
        full = self._estimate(best.x, data, Coordinates(self.param_names)) if converged else None
        at = dict(zip(self.param_names, np.exp(best.x).tolist(), strict=True))
        limit, messages = self._limit(data, at, full, -best.fun * data.customers, hard)
        if limit is not None and not self._predicts_at(limit, data):
            # The limit's parameters lie where a prediction fails: not an answer.
            limit, messages = None, []
        chosen = limit if limit is not None else full
        if chosen is None:
            if not converged:
                raise ModelError(
                    f"{self.name}: the fit did not converge "
                    f"(log-likelihood {-best.fun * data.customers:.4g} at "
                    + ", ".join(f"{n}={v:.4g}" for n, v in at.items())
                    + ")",
                    "try another --period (week suits most shops), more history, or another "
                    "--model",
                )
            raise ModelError(
                f"{self.name}: the data cannot pin down the parameters (the likelihood is flat "
                "in some direction, so they have no standard errors)",
                "more customers, more repeat buyers or a longer history help; or try another "
                "--model",
            )
        self._apply(chosen, iterations + chosen.iterations, time.perf_counter() - started)
        self.run_off_ = {spread.shape: spread.size(at) for spread in chosen.fixed}
        self.warnings_ = self._boundary_warnings(messages)
        return self

    def _predicts_at(self, estimate: _Estimate, data: DistinctRows) -> bool:
        """Whether the model's predictions for the rows are finite at the estimate."""
        model = type(self)().set_params(estimate.params)
        with np.errstate(all="ignore"):
            if hasattr(model, "expected_purchases") and len(data.columns) == 3:
                long = max(1.0, 10.0 * float(np.max(data.columns[2], initial=0.0)))
                values = [model.p_alive(*data.columns)]  # type: ignore[attr-defined]
                values += [
                    model.expected_purchases(t, *data.columns)  # type: ignore[attr-defined]
                    for t in (1.0, long)
                ]
            elif hasattr(model, "expected_spend"):
                values = [model.expected_spend(*data.columns)]  # type: ignore[attr-defined]
            else:
                return True
        return all(bool(np.all(np.isfinite(v))) for v in values)

    def _boundary_warnings(self, near: list[str]) -> list[str]:
        """What to tell the user about a fit at or near a limit, or with a parameter
        its data barely pin down (``near``: the warnings of a fit kept near a limit)."""
        assert self.params_ is not None
        at_limit = [
            run_off_warning(self.name, spread, self.params_, self.run_off_[spread.shape])
            for spread in self.fixed_
        ] + [
            edge_warning(
                self.name,
                name,
                value,
                self.edges.get((name, 1 if value > 1 else -1)),
                self.held_.get(name),
            )
            for name, value in self.pinned_.items()
        ]
        pinned = set(self.pinned_)
        said = {spread.shape for spread in self.fixed_} | {
            spread.shape for spread in self.spreads if any(spread.limit in w for w in near)
        }
        large = [
            large_spread_warning(self.name, spread, self.params_)
            for spread in self.spreads
            if spread.shape not in said
            and not {spread.shape, spread.partner} & pinned
            and spread.size(self.params_) > RUN_OFF_SIZE
        ]
        return (
            at_limit
            + (near if not at_limit else [])
            + large
            + wide_interval_warnings(self.name, self.ci_lower_, self.ci_upper_)
        )

    def _limit(
        self,
        data: DistinctRows,
        at: dict[str, float],
        full: _Estimate | None,
        reached: float,
        hard: bool = False,
    ) -> tuple[_Estimate | None, list[str]]:
        """The fit at the limit of the spreads that run off, when it is the answer; and
        what to tell the user about them.

        A spread whose shape is large is fitted at its limit (all such spreads at once,
        then each alone); when the fit failed, every spread is (the optimiser gives up
        on the long flat ridge to a limit, at shapes of a few), and so when the search
        was ``hard`` (no start ended at an optimum: a likelihood with several tops, where
        the second optimiser may end at a lower one, a shape of 1.8 on one CPU where
        the limit, 0.5 more likely, was found on another). The limit is reported
        when it is as likely as the fit (the fit only stopped on the way there), or the
        fit failed and the limit is as likely as the point it ``reached``; a fit that
        is better than its limit, but not significantly, is kept with a warning.
        """
        cut = RUN_OFF_SIZE if full is not None and not hard else 0.0
        spreads = self.spreads if self.fits_limits else ()
        if self.limit_shapes is not None:
            spreads = tuple(spread for spread in spreads if spread.shape in self.limit_shapes)
        large = tuple(spread for spread in spreads if spread.size(at) > cut)
        trials = [large] if large else []
        trials += [(spread,) for spread in large] if len(large) > 1 else []
        if full is None:
            trials.append(())  # the parameters at the edge held there, the rest fitted
        if not trials:
            return None, []
        start = np.log(np.array([at[name] for name in self.param_names]))
        found = [self._fit_at(data, Coordinates(self.param_names, f), start) for f in trials]
        usable = [estimate for estimate in found if estimate is not None]
        top = max((estimate.log_likelihood for estimate in usable), default=-np.inf)
        # Of the fits as likely as the best, the one with the fewest parameters: the
        # limit, where a fit with every parameter free only stopped on the way to it.
        best = min(
            (e for e in usable if e.log_likelihood >= top - _SAME_POINT),
            key=lambda e: e.free,
            default=None,
        )
        if best is None or (full is None and best.log_likelihood < reached - _SAME_POINT):
            return None, []
        if full is not None and best.log_likelihood < full.log_likelihood - _SAME_POINT:
            if full.log_likelihood - best.log_likelihood < SAME_FIT:
                return None, [near_limit_warning(self.name, s, full.params) for s in best.fixed]
            return None, []
        return best, [
            run_off_warning(self.name, spread, best.params, spread.size(at))
            for spread in best.fixed
        ]

    def _fit_at(
        self, data: DistinctRows, coordinates: Coordinates, log_start: np.ndarray
    ) -> _Estimate | None:
        """The fit in ``coordinates`` (some spreads held at their limit) from a point in
        log parameters; None when it fails or has no standard errors."""
        from scipy import optimize

        def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
            log_params, jacobian = coordinates.with_jacobian(z)
            value, gradient = self._objective(log_params, data)
            return value, jacobian.T @ gradient

        iterations = 0
        for _ in range(2):  # again with the parameters that ran to the edge held there
            if coordinates.size == 0:
                return None
            bounds = coordinates.bounds(_LOG_BOUND)
            z = np.clip(coordinates.start(log_start), *np.array(bounds).T)
            result = optimize.minimize(
                objective, z, jac=True, method="L-BFGS-B", bounds=bounds, options=_LBFGSB_OPTIONS
            )
            iterations += int(result.nit)
            box = np.array(bounds)
            inside = np.all((result.x > box[:, 0] + 1e-6) & (result.x < box[:, 1] - 1e-6))
            flat = np.all(np.abs(objective(result.x)[1]) < 1e-4)
            if np.isfinite(result.fun) and inside and flat:
                found = self._estimate(result.x, data, coordinates)
                if found is not None:
                    found.iterations += iterations
                    return found
            # Free log parameters within a factor e^0.5 of the edge: held at the edge.
            log_start = coordinates.to_log(result.x)
            edge = {
                i: float(np.sign(log_start[i]) * _LOG_BOUND)
                for i in coordinates.free
                if abs(log_start[i]) > _LOG_BOUND - 0.5
            }
            if not edge and np.isfinite(result.fun):
                # None so near it: those along which the likelihood still rises to the
                # edge, where the optimiser stopped short on the slope.
                edge = self._rising_to_edge(data, log_start, coordinates)
            if not edge or not np.isfinite(result.fun):
                return None
            # With one of a distribution's parameters at the edge, the other no longer
            # matters (no one drops out, whatever s is): it is held where it is.
            held = dict(coordinates.held)
            for spread in self.spreads:
                i, j = self.param_names.index(spread.shape), self.param_names.index(spread.partner)
                for one, other in ((i, j), (j, i)):
                    if one in edge and other in coordinates.free and other not in edge:
                        edge[other] = float(log_start[other])
                        held[self.param_names[other]] = self.param_names[one]
            coordinates = Coordinates(
                self.param_names, coordinates.fixed, {**coordinates.pinned, **edge}, held
            )
        return None

    def _rising_to_edge(
        self, data: DistinctRows, log_params: np.ndarray, coordinates: Coordinates
    ) -> dict[int, float]:
        """The free parameters along which the likelihood rises all the way to the edge
        from ``log_params``, each with the edge's log value.

        A likelihood whose supremum lies at the edge rises ever more slowly on its way
        there: fourteen identical customers, none of whom dropped out, want a/(a+b) at
        0, and at a = 1e-5, b = 7e4 the log-likelihood gains 4e-10 per unit of log a.
        That is below what the optimiser tells from a stop (its gradient tolerance),
        and below the rounding of the log-likelihood itself (betaln of b = 7e4 is a
        difference of log-gammas near 7e5, each good to 1e-10). So the optimiser stops
        on the slope, a few units short of the edge, where its path and the CPU's
        rounding leave it: the point looks flat but is no maximum (it has no standard
        errors) and, far from the edge, was not held there; the fit failed on one
        machine and held a at its edge on another. The gradient is accurate there (a
        difference of digammas), so the test uses it: a parameter runs to the edge its
        gradient points to when, moved there alone, the gradient still points there
        and the fit is as likely as here (within _SAME_POINT). The parameters are
        tried in their order, and one whose partner in a mixing distribution already
        runs to the edge is left to be held where it is (see :meth:`_fit_at`): here a
        runs to 0 and b is held. b's own gradient could not tell: at b = 7e4 it is a
        difference of digammas times b, rounding to a few 1e-9."""
        value, gradient = self._objective(log_params, data)
        tolerance = _SAME_POINT / max(data.customers, 1)
        partners = {}
        for spread in self.spreads:
            i, j = self.param_names.index(spread.shape), self.param_names.index(spread.partner)
            partners[i], partners[j] = j, i
        edge: dict[int, float] = {}
        for i in coordinates.free:
            if partners.get(i) in edge or gradient[i] == 0 or not np.isfinite(gradient[i]):
                continue
            moved = log_params.copy()
            moved[i] = -np.sign(gradient[i]) * _LOG_BOUND
            moved_value, moved_gradient = self._objective(moved, data)
            if moved_value <= value + tolerance and moved_gradient[i] * gradient[i] > 0:
                edge[i] = float(moved[i])
        return edge

    def _estimate(
        self, z: np.ndarray, data: DistinctRows, coordinates: Coordinates
    ) -> _Estimate | None:
        """The estimate at an optimum ``z``, polished by Newton steps, with standard
        errors and 95% intervals; None when some free parameter has none, or one so
        wide that its interval runs off the numbers."""
        z, hessian = self._polish(z, data, coordinates)
        log_params, jacobian = coordinates.with_jacobian(z)
        params = np.exp(log_params)
        try:
            covariance = np.linalg.inv(hessian * data.customers)
        except np.linalg.LinAlgError:
            return None
        variances = np.einsum("ij,jk,ik->i", jacobian, covariance, jacobian)
        moving = np.any(jacobian != 0, axis=1)
        if not np.all(np.isfinite(variances)) or np.any(variances[moving] <= 0):
            return None
        errors_log = np.sqrt(np.maximum(variances, 0.0))
        with np.errstate(over="ignore", under="ignore"):
            lower = np.exp(log_params - _Z_95 * errors_log)
            upper = np.exp(log_params + _Z_95 * errors_log)
        if not (np.all(np.isfinite(upper)) and np.all(lower[moving] > 0)):
            return None

        def named(values: np.ndarray) -> dict[str, float | None]:
            return {
                n: (float(v) if m else None)
                for n, v, m in zip(self.param_names, values, moving, strict=True)
            }

        free_everywhere = coordinates.size == len(self.param_names) and bool(np.all(moving))
        log_covariance = _symmetric(jacobian @ covariance @ jacobian.T)
        return _Estimate(
            log_covariance=log_covariance if free_everywhere else None,
            params=dict(zip(self.param_names, params.tolist(), strict=True)),
            std_errors=named(params * errors_log),
            ci_lower=named(lower),
            ci_upper=named(upper),
            log_likelihood=self._weighted(params, data)[0],
            fixed=coordinates.fixed,
            pinned={self.param_names[i]: float(np.exp(v)) for i, v in coordinates.pinned.items()},
            held=coordinates.held,
            free=coordinates.size,
            customers=data.customers,
        )

    def _polish(
        self, z: np.ndarray, data: DistinctRows, coordinates: Coordinates
    ) -> tuple[np.ndarray, np.ndarray]:
        """Newton steps from an optimum the optimiser stopped near, with the Hessian at
        its point (a chord method: the Hessian is the costly part); each step is kept
        only when it makes the gradient smaller. Also that Hessian."""

        def objective(point: np.ndarray) -> tuple[float, np.ndarray]:
            log_params, jacobian = coordinates.with_jacobian(point)
            value, gradient = self._objective(log_params, data)
            return value, jacobian.T @ gradient

        hessian = self._hessian(z, objective)
        value, gradient = objective(z)
        bounds = np.array(coordinates.bounds(_LOG_BOUND))
        for _ in range(_NEWTON_STEPS):
            try:
                step = -np.linalg.solve(hessian, gradient)
            except np.linalg.LinAlgError:
                break
            if not (np.all(np.isfinite(step)) and np.max(np.abs(step)) < 1.0):
                break
            moved = z + step
            if np.any(moved <= bounds[:, 0]) or np.any(moved >= bounds[:, 1]):
                break
            new_value, new_gradient = objective(moved)
            if not (
                np.isfinite(new_value)
                and new_value <= value + 1e-13 * abs(value)
                and np.linalg.norm(new_gradient) < np.linalg.norm(gradient)
            ):
                break
            z, value, gradient = moved, new_value, new_gradient
            if np.max(np.abs(step)) < 1e-13:
                break
        return z, hessian

    def _search(self, data: DistinctRows) -> tuple[optimize.OptimizeResult, int, bool]:
        """The best optimum from the model's starting points, polished by a second
        optimiser when none is one; the iterations that took, and whether the search
        was hard: no starting point ended at an optimum."""
        # Imported here: its 0.3 s of imports would slow every command that only reads.
        from scipy import optimize

        best: optimize.OptimizeResult | None = None
        iterations, hard = 0, True
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(self.param_names)
        for start in self.initial_params(data):
            result = optimize.minimize(
                self._objective,
                np.log(start),
                args=(data,),
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                options=_LBFGSB_OPTIONS,
            )
            iterations += int(result.nit)
            at_optimum = self._is_optimum(result, data)
            # An abnormal stop (a line search that could not go on) may be at the top.
            hard = hard and not at_optimum
            if best is None or result.fun < best.fun:
                best = result
            if result.success and at_optimum:
                break
        assert best is not None
        if not (best.success and self._is_optimum(best, data)):
            polished = optimize.minimize(
                self._objective,
                best.x,
                args=(data,),
                jac=True,
                method="trust-constr",
                bounds=optimize.Bounds(-_LOG_BOUND, _LOG_BOUND),
                options={"maxiter": 3000, "gtol": 1e-10, "xtol": 1e-12},
            )
            iterations += int(polished.nit)
            if polished.fun <= best.fun:
                best = polished
        return best, iterations, hard

    def _fit_from_sample(
        self, data: DistinctRows
    ) -> tuple[optimize.OptimizeResult | None, int, bool]:
        """The optimum on all rows, found from a fit on an even sample of them; None
        when the sample's fit fails or its lead does not end at an optimum of all rows
        (the caller then searches as usual). Also the iterations spent, and whether the
        sample's search was hard (see :meth:`_limit`): its likelihood may have several
        tops, and so may that of all rows.

        From the usual starting points the optimiser spends about twenty evaluations of
        the likelihood learning its curvature, each a pass over every row (1.7 million
        rows, 0.4 s in all, for a 10M-transaction log). A sample of SAMPLE_ROWS rows
        costs a few milliseconds to fit, and gives both: a start close to the optimum,
        and the Hessian there. In coordinates where that Hessian is the identity, the
        likelihood of all rows is nearly round, and the fit ends in about six
        evaluations, at the optimum the search finds to eight digits.
        """
        from scipy import optimize

        sample = data.every(len(data.weight) // max(SAMPLE_ROWS, 1))
        lead, spent, hard = self._search(sample)
        if not (np.isfinite(lead.fun) and self._is_optimum(lead, sample)):
            return None, spent, hard
        start = np.asarray(lead.x, dtype=np.float64)
        try:
            lower = np.linalg.cholesky(
                self._hessian(start, lambda point: self._objective(point, sample))
            )
        except np.linalg.LinAlgError:  # not a strict maximum: nothing to lead with
            return None, spent, hard
        to_log_params = np.linalg.inv(lower).T  # log parameters = start + this @ z

        def objective(z: np.ndarray) -> tuple[float, np.ndarray]:
            value, gradient = self._objective(start + to_log_params @ z, data)
            return value, to_log_params.T @ gradient

        result = optimize.minimize(
            objective, np.zeros(len(start)), jac=True, method="L-BFGS-B", options=_LBFGSB_OPTIONS
        )
        result.x = start + to_log_params @ result.x
        spent += int(result.nit)
        if not (result.success and np.isfinite(result.fun) and self._is_optimum(result, data)):
            return None, spent, hard
        return result, spent, hard

    def _is_optimum(self, result: optimize.OptimizeResult, data: DistinctRows) -> bool:
        """Inside the box, and the gradient (per customer) is flat."""
        at_bound = np.any(np.abs(result.x) >= _LOG_BOUND - 1e-6)
        gradient = self._objective(np.asarray(result.x), data)[1]
        return bool(not at_bound and np.all(np.abs(gradient) < 1e-4))

    def _apply(self, estimate: _Estimate, iterations: int, seconds: float) -> None:
        """Keep an estimate as the fitted state."""
        n = estimate.customers
        self.params_ = dict(estimate.params)
        self.std_errors_ = estimate.std_errors
        self.ci_lower_ = estimate.ci_lower
        self.ci_upper_ = estimate.ci_upper
        self.log_likelihood_ = estimate.log_likelihood
        self.aic_ = 2 * estimate.free - 2 * estimate.log_likelihood
        self.bic_ = estimate.free * np.log(n) - 2 * estimate.log_likelihood
        self.converged_ = True
        self.iterations_ = iterations
        self.n_customers_ = n
        self.seconds_ = seconds
        self.fixed_ = estimate.fixed
        self.pinned_ = estimate.pinned
        self.held_ = estimate.held
        self.log_covariance_ = estimate.log_covariance

    def _hessian(
        self, z: np.ndarray, objective: Callable[[np.ndarray], tuple[float, np.ndarray]]
    ) -> np.ndarray:
        """The Hessian of ``objective`` (per customer) at ``z``: a central difference of
        the analytic gradient, which is accurate to about 1e-8 here, far below the
        standard errors made of it."""
        k = len(z)
        hessian = np.empty((k, k))
        for i in range(k):
            step = np.zeros(k)
            step[i] = 1e-5
            up = objective(z + step)[1]
            down = objective(z - step)[1]
            hessian[i] = (up - down) / 2e-5
        return (hessian + hessian.T) / 2

    # -- parameters ---------------------------------------------------------------
    def _vector(self, params: np.ndarray | dict[str, float]) -> np.ndarray:
        if isinstance(params, dict):
            return np.array([float(params[name]) for name in self.param_names])
        return np.asarray(params, dtype=np.float64)

    def set_params(self, params: dict[str, float]) -> Fitter:
        """Use known parameters (a saved fit, or published values) without fitting."""
        missing = [name for name in self.param_names if name not in params]
        if missing:
            raise ModelError(f"{self.name}: parameters lack {', '.join(missing)}", None)
        values = [float(params[name]) for name in self.param_names]
        if not all(np.isfinite(v) and v > 0 for v in values):
            raise ModelError(f"{self.name}: parameters must be positive numbers", None)
        self.params_ = dict(zip(self.param_names, values, strict=True))
        self.log_covariance_ = None
        return self

    def with_params(self, params: dict[str, float]) -> Fitter:
        """A copy of this model at other parameters (what else it holds, such as a
        chosen order, kept), without a covariance: for predictions at a draw."""
        other = copy.copy(self)
        other.warnings_ = []
        return other.set_params(params)

    @classmethod
    def covariance_names(cls) -> tuple[str, ...]:
        """The parameters :attr:`log_covariance_` is of, in its order."""
        return cls.estimated_names or cls.param_names

    def set_covariance(self, covariance: dict[str, dict[str, float]]) -> Fitter:
        """Use a saved covariance of the parameters (``summary()["covariance"]``)."""
        params = self.fitted()
        names = self.covariance_names()
        matrix = np.array([[float(covariance[a][b]) for b in names] for a in names])
        scale = np.array([params[name] for name in names])
        self.log_covariance_ = matrix / np.outer(scale, scale)
        return self

    def covariance(self) -> dict[str, dict[str, float]] | None:
        """The covariance of the parameters themselves (by the delta method from that
        of the log parameters), by name; None when the fit has none."""
        if self.log_covariance_ is None or self.params_ is None:
            return None
        names = self.covariance_names()
        scale = np.array([self.params_[name] for name in names])
        return _by_name(names, self.log_covariance_ * np.outer(scale, scale))

    def correlation(self) -> dict[str, dict[str, float]] | None:
        """The correlation of the estimates, by name; None when the fit has none."""
        if self.log_covariance_ is None:
            return None
        sd = np.sqrt(np.diag(self.log_covariance_))
        return _by_name(self.covariance_names(), self.log_covariance_ / np.outer(sd, sd))

    def fitted(self) -> dict[str, float]:
        """The parameters; NotFittedError before fit or set_params."""
        if self.params_ is None:
            raise NotFittedError(f"{self.name}: fit the model (or load parameters) first", None)
        return self.params_

    def summary(self) -> dict[str, Any]:
        """Everything `clv fit --format json` writes, in the contract's keys."""
        self.fitted()
        return {
            "params": dict(self.params_ or {}),
            "std_errors": dict(getattr(self, "std_errors_", {})),
            "ci_lower": dict(getattr(self, "ci_lower_", {})),
            "ci_upper": dict(getattr(self, "ci_upper_", {})),
            "log_likelihood": getattr(self, "log_likelihood_", None),
            "aic": getattr(self, "aic_", None),
            "bic": getattr(self, "bic_", None),
            "converged": getattr(self, "converged_", None),
            "iterations": getattr(self, "iterations_", None),
            "n_customers": getattr(self, "n_customers_", None),
            "seconds": getattr(self, "seconds_", None),
            "warnings": list(self.warnings_),
            **(
                {"covariance": self.covariance(), "correlation": self.correlation()}
                if self.log_covariance_ is not None
                else {}
            ),
        }


def _by_name(names: tuple[str, ...], matrix: np.ndarray) -> dict[str, dict[str, float]]:
    return {a: {b: float(matrix[i, j]) for j, b in enumerate(names)} for i, a in enumerate(names)}


def _symmetric(matrix: np.ndarray) -> np.ndarray:
    """A covariance made exactly symmetric (an inverse is so only to rounding)."""
    return (matrix + matrix.T) / 2
