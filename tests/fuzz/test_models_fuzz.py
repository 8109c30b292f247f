"""The models under random valid summaries: a number or an honest refusal, never NaN or inf.

Summaries are valid as ``clv compute --summary`` reads them (whole frequencies,
0 <= recency <= T, monetary value >= 0) and reach the extremes: nobody buying twice,
huge frequencies, recency equal to T or 0, T a fraction of a day, spend of a
millionth or a trillion. For each purchase model:

* ``compute`` either refuses the model with a warning (its columns left empty) or
  fills them; a filled column is finite for every customer; P(alive) is a
  probability, expected purchases and CLV are not negative;
* a fit converges to finite, positive parameters with finite standard errors and
  intervals, or raises ModelError (exit 4) with a message;
* scoring gives finite predictions for parameters across the range fits return
  (shapes 0.01 to 100, scales 0.01 to 100,000 time units);
* through the CLI, ``clv fit`` and ``clv compute --summary`` exit 0 or 4, write JSON
  without NaN or Infinity and CSV without them, and let no Python warning through.

Besides random summaries, shops simulated from BG/NBD and Gamma-Gamma (with a few
customers at the edges) make fits succeed often enough for the filled columns to be
tested. BG/BB counts purchase periods, so it is driven by random transaction logs.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from clvcli.contract import MODEL_COLUMNS, CustomerTable, days_per
from clvcli.core.compute import ComputeSettings, compute_clv, compute_from_table
from clvcli.core.value import ValueSettings, fit_purchase_model, fit_spend_model, score
from clvcli.errors import ModelError, TooLittleDataError
from clvcli.io.readers import Transactions
from clvcli.io.results import summary_from_arrow
from clvcli.models import PURCHASE_MODELS, GammaGammaFitter
from tests.fuzz.budget import examples
from tests.fuzz.checks import check_csv_run, check_stderr, run

CONTINUOUS = ("bgnbd", "mbgnbd", "pnbd", "ggomnbd")
PERIODS = ("day", "week", "month", "year")
AS_OF = int(np.datetime64("2024-12-31", "D").astype(np.int64))
HORIZONS = (12.0, 0.5, 120.0, None)  # None: lifetime

# -- random summaries ----------------------------------------------------------------

tenures = st.one_of(
    st.floats(1e-3, 1.0),
    st.floats(1.0, 1000.0),
    st.floats(1000.0, 30000.0),
    st.sampled_from((1e-3, 1.0 / 365.25, 1.0, 7.0, 365.0, 20000.0)),
)
frequencies = st.one_of(
    st.just(0), st.integers(1, 5), st.integers(5, 200), st.sampled_from((10**4, 10**5))
)
recency_shares = st.one_of(st.sampled_from((0.0, 1.0)), st.floats(0.0, 1.0))
spends = st.one_of(
    st.floats(1e-6, 1e-2), st.floats(1.0, 1e6), st.floats(1e6, 1e12), st.sampled_from((1e-6, 1e12))
)


@st.composite
def summaries(draw, min_customers: int = 10, max_customers: int = 40) -> pd.DataFrame:
    """A valid summary; whole-population extremes are drawn as often as mixed ones."""
    n = draw(st.integers(min_customers, max_customers))
    shape = draw(
        st.sampled_from(
            ("mixed", "mixed", "no_repeats", "recency_is_T", "recency_zero", "one_tenure", "few")
        )
    )
    # Customers drawn one by one, then repeated to fill the population: real bases
    # repeat histories, and the fits run on distinct rows.
    distinct = draw(st.integers(1, 8 if shape == "few" else n))
    people = draw(
        st.lists(
            st.tuples(tenures, frequencies, recency_shares, spends),
            min_size=distinct,
            max_size=distinct,
        )
    )
    chosen = [people[i % distinct] for i in range(n)]
    T = np.array([p[0] for p in chosen])
    x = np.array([p[1] for p in chosen], dtype=np.float64)
    share = np.array([p[2] for p in chosen])
    m = np.array([p[3] for p in chosen])
    if shape == "no_repeats":
        x[:] = 0
    if shape == "one_tenure":
        T[:] = T[0]
    t_x = share * T
    if shape == "recency_is_T":
        t_x = T.copy()
    if shape == "recency_zero":
        t_x[:] = 0.0
    t_x = np.where(x > 0, t_x, 0.0)
    m = np.where(x > 0, m, 0.0)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "frequency": x,
            "recency": t_x,
            "T": T,
            "monetary_value": m,
            "total_spend": m * (x + 1) + 1.0,
        }
    )


# Customers at the edges, in days: (frequency, recency, T, monetary value).
EXTREME_CUSTOMERS = (
    (0, 0.0, 0.001, 0.0),
    (0, 0.0, 20000.0, 0.0),
    (10_000, 300.0, 300.0, 50.0),
    (100_000, 20000.0, 20000.0, 1e-6),
    (5, 40.0, 40.0, 1e12),
    (3, 0.0, 10.0, 20.0),
    (1, 0.001, 0.001, 1.0),
    (40, 20000.0, 20000.0, 1e-6),
)


@st.composite
def simulated_summaries(draw, period: str) -> pd.DataFrame:
    """A shop simulated from BG/NBD and Gamma-Gamma (so that fits can succeed), with a
    few customers at the edges; in ``period`` units."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(20, 300))
    r, alpha = draw(st.floats(0.05, 5.0)), draw(st.floats(0.5, 200.0))  # alpha in days
    a, b = draw(st.floats(0.1, 5.0)), draw(st.floats(0.3, 30.0))
    horizon = draw(st.sampled_from((14.0, 365.0, 3000.0)))
    spend_scale = draw(st.sampled_from((1e-3, 1.0, 1e5, 1e9)))
    T = rng.uniform(0.0, horizon, n).round()
    rate = rng.gamma(r, 1 / alpha, n)
    drop = rng.beta(a, b, n)
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        t = 0.0
        while True:
            t += rng.exponential(1 / rate[i]) if rate[i] > 0 else np.inf
            if t > T[i]:
                break
            x[i], t_x[i] = x[i] + 1, t
            if rng.random() < drop[i]:
                break
    m = np.where(x > 0, rng.gamma(draw(st.floats(1.0, 10.0)), spend_scale, n), 0.0)
    edges = draw(st.lists(st.sampled_from(EXTREME_CUSTOMERS), max_size=3))
    for k, (ex, et_x, eT, em) in enumerate(edges):
        x[k], t_x[k], T[k], m[k] = ex, et_x, eT, em
    unit = days_per(period)
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(n)],
            "frequency": x,
            "recency": t_x / unit,
            "T": T / unit,
            "monetary_value": m,
            "total_spend": m * (x + 1) + 1.0,
        }
    )


def _table(summary: pd.DataFrame, period: str) -> CustomerTable:
    """The summary as `clv compute --summary FILE --as-of 2024-12-31` reads it."""
    return summary_from_arrow(
        pa.Table.from_pandas(summary, preserve_index=False), "fuzz", period=period, as_of=AS_OF
    )


# -- checks --------------------------------------------------------------------------


def check_model_columns(result) -> None:
    """The model columns of a compute result: each empty for everyone, when its model was
    refused with a warning, or finite for everyone; probabilities and money in range."""
    frame, warned = result.frame, result.warnings
    filled_columns = [c for c in MODEL_COLUMNS if frame[c].notna().any()]
    event(f"compute: {len(filled_columns)} of {len(MODEL_COLUMNS)} model columns filled")
    purchases = ["expected_purchases", "p_alive"]
    spend = ["expected_avg_spend", "predicted_clv"]
    empty: list[str] = []
    if result.purchase_model is None:
        empty = purchases + spend
        assert warned, "the purchase model was refused without a warning"
    elif result.spend_model is None:
        empty = spend
        assert any("gamma-gamma" in w for w in warned), "no spend model and no warning"
    for column in MODEL_COLUMNS:
        values = frame[column].to_numpy(dtype=np.float64)
        assert not np.isinf(values).any(), (column, values)
        if column in empty:
            assert np.isnan(values).all(), (column, values)
        else:
            bad = ~np.isfinite(values)
            assert not bad.any(), (column, frame.loc[bad].to_dict("records")[:3])
    p_alive = frame["p_alive"].to_numpy(dtype=np.float64)
    assert np.all(np.isnan(p_alive) | ((p_alive >= 0) & (p_alive <= 1))), p_alive
    for column in ("expected_purchases", "expected_avg_spend", "predicted_clv"):
        values = frame[column].to_numpy(dtype=np.float64)
        assert np.all(np.isnan(values) | (values >= 0)), (column, values)
    for column in ("historical_clv", "total_clv"):
        assert np.isfinite(frame[column].to_numpy(dtype=np.float64)).all(), column


def check_fitted(model) -> None:
    summary = model.summary()
    for key in ("params", "std_errors", "ci_lower", "ci_upper"):
        # None: a parameter held at a limit, which a warning names.
        values = np.array([v for v in summary[key].values() if v is not None], dtype=np.float64)
        assert np.isfinite(values).all(), (key, summary)
        assert summary["warnings"] or None not in summary[key].values(), summary
    assert all(v > 0 for v in summary["params"].values()), summary
    assert np.isfinite(summary["log_likelihood"]), summary


def check_refusal(error: ModelError) -> None:
    assert error.exit_code == 4
    assert error.message.strip(), "a model error without a message"


def _compute(table: CustomerTable, settings: ComputeSettings, transactions=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's optimiser talks; clv's warnings are data
        try:
            return compute_from_table(table, settings, transactions)
        except ModelError as error:
            assert not isinstance(error, TooLittleDataError), "compute should warn instead"
            check_refusal(error)
            event("compute: model error (exit 4)")
            return None


# -- compute on summaries: BG/NBD, MBG/NBD, Pareto/NBD ------------------------------------


@pytest.mark.parametrize("model", CONTINUOUS)
@settings(max_examples=examples(20))
@given(
    data=st.data(),
    period=st.sampled_from(PERIODS),
    horizon=st.sampled_from(HORIZONS),
    margin=st.sampled_from((1.0, 0.3, 0.0)),
)
def test_compute_fills_model_columns_with_numbers_or_leaves_them_empty(
    model, data, period, horizon, margin
):
    summary = data.draw(
        st.one_of(summaries(), simulated_summaries(period), simulated_summaries(period)),
        label="summary",
    )
    settings_ = ComputeSettings(model=model, period=period, horizon=horizon, margin=margin)
    result = _compute(_table(summary, period), settings_)
    if result is None:
        return
    check_model_columns(result)
    if result.purchase_model is not None:
        check_fitted(result.purchase_model)
    if result.spend_model is not None:
        check_fitted(result.spend_model)


@pytest.mark.parametrize("model", CONTINUOUS)
@settings(max_examples=examples(15))
@given(data=st.data(), period=st.sampled_from(PERIODS))
def test_purchase_fit_converges_or_raises_model_error(model, data, period):
    summary = data.draw(st.one_of(summaries(), simulated_summaries(period)), label="summary")
    table = _table(summary, period)
    frame = table.frame
    history = [frame[c].to_numpy(np.float64) for c in ("frequency", "recency", "T")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitted = fit_purchase_model(model, *history)
        except ModelError as error:
            check_refusal(error)
            event(f"fit: {type(error).__name__}")
            return
    event("fit: converged")
    check_fitted(fitted)


# -- scoring with any parameters a fit can return ------------------------------------------

# A fit's parameters stay inside exp(+-14) (clvcli.models.base); published fits in days,
# weeks or months lie well inside these ranges. Far beyond them (alpha of 1e-4 days
# with a and b in the thousands) the series fallback of BG/NBD's 2F1 loses accuracy.
shape_params = st.one_of(st.floats(1e-2, 1e2), st.sampled_from((1e-2, 0.5, 1.0, 2.0, 1e2)))
scale_params = st.one_of(st.floats(1e-2, 1e5), st.sampled_from((1e-2, 1.0, 1e5)))
# The Gamma-Gompertz/NBD's b: from its Pareto/NBD limit (the edge of the box) up.
gompertz_rates = st.one_of(st.floats(8e-7, 1.0), st.sampled_from((8.3e-7, 1e-3, 1.0)))


@st.composite
def purchase_params(draw, model: str) -> dict[str, float]:
    if model == "pnbd":
        r, alpha = draw(shape_params), draw(scale_params)
        return {"r": r, "alpha": alpha, "s": draw(shape_params), "beta": draw(scale_params)}
    if model == "ggomnbd":
        r, alpha, b = draw(shape_params), draw(scale_params), draw(gompertz_rates)
        return {"r": r, "alpha": alpha, "b": b, "s": draw(shape_params), "beta": draw(scale_params)}
    return {
        "r": draw(shape_params),
        "alpha": draw(scale_params),
        "a": draw(shape_params),
        "b": draw(shape_params),
    }


@pytest.mark.parametrize("model", CONTINUOUS)
@settings(max_examples=examples(150))
@given(
    data=st.data(),
    summary=summaries(min_customers=1, max_customers=12),
    period=st.sampled_from(PERIODS),
    horizon=st.sampled_from(HORIZONS),
)
def test_scores_are_finite_across_the_parameter_range(model, data, summary, period, horizon):
    params = data.draw(purchase_params(model), label="params")
    purchases = PURCHASE_MODELS[model]().set_params(params)
    spend = GammaGammaFitter().set_params({"p": 2.0, "q": 3.0, "v": 10.0})
    history = tuple(summary[c].to_numpy(np.float64) for c in ("frequency", "recency", "T"))
    x, m = history[0], summary["monetary_value"].to_numpy(np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = score(purchases, spend, history, x, m, ValueSettings(period, horizon))
    for name in ("expected_purchases", "p_alive", "expected_avg_spend", "predicted_clv"):
        values = getattr(scores, name)
        assert np.isfinite(values).all(), (name, values, params, summary.to_dict("list"))
        assert (values >= 0).all(), (name, values)
    assert (scores.p_alive <= 1).all()


# -- Gamma-Gamma ------------------------------------------------------------------------


@settings(max_examples=examples(40))
@given(
    summary=st.one_of(summaries(), simulated_summaries("week")),
    scale=st.sampled_from((1.0, 1e-6, 1e6)),
)
def test_spend_fit_converges_or_raises_model_error(summary, scale):
    x = summary["frequency"].to_numpy(np.float64)
    m = summary["monetary_value"].to_numpy(np.float64) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            spend, _ = fit_spend_model(x, m)
        except ModelError as error:
            check_refusal(error)
            event(f"fit: {type(error).__name__}")
            return
    event("fit: converged")
    check_fitted(spend)
    expected = spend.expected_spend(x, m)
    assert np.isfinite(expected[x > 0]).all(), expected
    assert (expected[x > 0] > 0).all(), expected


# -- BG/BB, from random transaction logs ------------------------------------------------


@st.composite
def transaction_logs(draw) -> Transactions:
    """Customers with purchase days after a first one: nobody, some or all returning, or
    a shop simulated the BG/BB way (each day a chance to buy, then a chance to leave)."""
    returning = draw(st.sampled_from(("none", "some", "all", "every_day", *["simulated"] * 4)))
    simulated = returning == "simulated"
    span = draw(st.sampled_from((60, 400) if simulated else (1, 7, 60, 400, 1500)))
    n = draw(st.integers(50, 200) if simulated else st.integers(5, 30))
    customer, day, amount = [], [], []
    if simulated:
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        buy = rng.beta(draw(st.floats(0.2, 3.0)), draw(st.floats(1.0, 60.0)), n)
        leave = rng.beta(draw(st.floats(0.2, 3.0)), draw(st.floats(5.0, 500.0)), n)
        scale = draw(st.sampled_from((1e-3, 1.0, 1e6)))
        for code in range(n):
            first = int(rng.integers(0, span + 1))
            days = [first]
            for d in range(first + 1, span + 1):
                if rng.random() < buy[code]:
                    days.append(d)
                if rng.random() < leave[code]:
                    break
            for d in days:
                customer.append(code)
                day.append(AS_OF - span + d)
                amount.append(float(rng.gamma(3.0, scale)))
    for code in range(0 if simulated else n):
        first = draw(st.integers(0, span))
        days = [first]
        if returning == "every_day":
            days = list(range(first, span + 1))
        elif returning == "all" or (returning == "some" and draw(st.booleans())):
            days += draw(st.lists(st.integers(first + 1, span + 1), min_size=1, max_size=12))
        for d in days:
            customer.append(code)
            day.append(AS_OF - span - 1 + d)
            amount.append(draw(spends))
    return Transactions(
        source="fuzz",
        customer_ids=np.array([f"C{i:04d}" for i in range(n)], dtype=object),
        customer=np.array(customer, dtype=np.int64),
        day=np.array(day, dtype=np.int64),
        amount=np.array(amount, dtype=np.float64),
        channel=None,
        rows_read=len(customer),
    )


@settings(max_examples=examples(15))
@given(
    log=transaction_logs(),
    period=st.sampled_from(("day", "week", "month")),
    horizon=st.sampled_from(HORIZONS),
)
def test_bgbb_compute_fills_model_columns_with_numbers_or_leaves_them_empty(log, period, horizon):
    settings_ = ComputeSettings(model="bgbb", period=period, horizon=horizon)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = compute_clv(log, settings_)
        except ModelError as error:
            assert not isinstance(error, TooLittleDataError), "compute should warn instead"
            check_refusal(error)
            event("compute: model error (exit 4)")
            return
    check_model_columns(result)
    if result.purchase_model is not None:
        check_fitted(result.purchase_model)


@st.composite
def opportunity_rows(draw) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, 400), st.integers(0, 400), st.integers(0, 400)),
            min_size=1,
            max_size=12,
        )
    )
    n = np.array([max(r) for r in rows], dtype=np.float64)
    t_x = np.array([sorted(r)[1] for r in rows], dtype=np.float64)
    x = np.array([min(r) for r in rows], dtype=np.float64)
    x = np.where(t_x > 0, np.maximum(np.minimum(x, t_x), 1), 0)  # 1 <= x <= t_x <= n
    return x, t_x, n


@settings(max_examples=examples(150))
@given(
    rows=opportunity_rows(),
    params=st.tuples(shape_params, shape_params, shape_params, shape_params),
    period=st.sampled_from(("day", "week", "month")),
    horizon=st.sampled_from(HORIZONS),
)
def test_bgbb_scores_are_finite_across_the_parameter_range(rows, params, period, horizon):
    purchases = PURCHASE_MODELS["bgbb"]().set_params(
        dict(zip(("alpha", "beta", "gamma", "delta"), params, strict=True))
    )
    x = rows[0]
    m = np.where(x > 0, 10.0, 0.0)
    spend = GammaGammaFitter().set_params({"p": 2.0, "q": 3.0, "v": 10.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        scores = score(purchases, spend, rows, x, m, ValueSettings(period, horizon))
    for name in ("expected_purchases", "p_alive", "expected_avg_spend", "predicted_clv"):
        values = getattr(scores, name)
        assert np.isfinite(values).all(), (name, values, params, rows)
        assert (values >= 0).all(), (name, values)
    assert (scores.p_alive <= 1).all()


# -- through the CLI: exit 0 or 4, strict JSON, clean CSV --------------------------------


def _strict_json(text: str):
    def refuse(name: str):
        raise AssertionError(f"{name} in JSON output")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("model", (*CONTINUOUS, "gamma-gamma"))
@settings(max_examples=examples(8))
@given(data=st.data(), period=st.sampled_from(PERIODS))
def test_fit_and_compute_from_a_summary_exit_0_or_4(clv, model, data, period):
    summary = data.draw(st.one_of(summaries(), simulated_summaries(period)), label="summary")
    text = summary.to_csv(index=False)
    common = ("--summary", "-", "--period", period, "--as-of", "2024-12-31")
    fitted = run(clv, "fit", *common, "--model", model, "--format", "json", input=text)
    if check_stderr(fitted, {0, 4}):
        report = _strict_json(fitted.stdout)
        event(f"clv fit: converged, {report['model']}")
        assert report["converged"] is True
        assert all(v > 0 for v in report["params"].values()), report
    else:
        event("clv fit: exit 4")
    if model != "gamma-gamma":
        computed = run(clv, "compute", *common, "--model", model, "--format", "csv", input=text)
        rows = check_csv_run(computed, {0, 4})
        event(f"clv compute: exit {computed.exit_code}")
        if rows is not None:
            assert len(rows) == len(summary) + 1
