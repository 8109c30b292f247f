"""clv retention's core: lifetimes in calendar periods, Table 1 through the command's
entry, recovery from simulated subscription logs, and the value of the base.

Published numbers: Fader & Hardie (2007), "How to project customer retention", Table 1
(regular and high-end segments, sBG fitted on years 0-7, projected to year 12).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from clvcli.core.retention import (
    RetentionSettings,
    cohort_labels,
    infer_period,
    period_rate,
    project_retention,
    whole_periods,
)
from clvcli.errors import ModelError, TooLittleDataError, UsageError
from clvcli.io.subscriptions import ACTIVE, CohortCounts, SubscriptionLog
from clvcli.retention import BetaDiscreteWeibull, ShiftedBetaGeometric
from tests.retention.conftest import read_table1, survivors

PUBLISHED = {
    "regular": ((0.704, 1.182), -1680.27, [22.0, 20.4, 19.1, 18.0, 17.0]),
    "high_end": ((0.668, 3.806), -1611.16, [46.0, 43.6, 41.4, 39.5, 37.8]),
}


def day(text: str) -> int:
    return int(np.datetime64(text, "D").astype(np.int64))


def days(*texts: str) -> np.ndarray:
    return np.array([day(t) for t in texts])


def add_months(start: np.ndarray, months: np.ndarray) -> np.ndarray:
    """Days of start + months (starts on days 1-28, so no month is too short)."""
    dates = start.astype("datetime64[D]")
    first = dates.astype("datetime64[M]")
    offset = (dates - first.astype("datetime64[D]")).astype(np.int64)
    return ((first + months).astype("datetime64[D]").astype(np.int64) + offset).astype(np.int64)


def simulated_log(model, size: int, seed: int, months: int = 36) -> SubscriptionLog:
    """Subscribers joining over ``months`` months (on days 1-28), each staying the
    model's T months; those whose end is after the last day are still active."""
    rng = np.random.default_rng(seed)
    first = day("2020-01-01")
    month = rng.integers(0, months, size)
    start = add_months(np.full(size, first), month) + rng.integers(0, 28, size)
    end = add_months(start, model.draw_periods(size, rng))
    as_of = add_months(np.array([first]), np.array([months]))[0] - 1
    end = np.where(end <= as_of, end, ACTIVE)
    ids = np.array([f"S{i:05d}" for i in range(size)], dtype=object)
    # The last day of the data is the as-of date: one subscription ends on it.
    end[0], start[0] = as_of, as_of - 40
    return SubscriptionLog("sim.csv", ids, start, end, np.full(size, 10.0), None, None)


# -- Table 1 through the command's entry ------------------------------------------------
@pytest.mark.parametrize("segment", list(PUBLISHED))
def test_table1_fitted_and_projected_as_published(segment):
    percent = read_table1()[segment]
    counts = CohortCounts("table1.csv", np.array(survivors(percent, 8)), unit="year")
    result = project_retention(counts, RetentionSettings(horizon=12))
    (alpha, beta), log_likelihood, projected = PUBLISHED[segment]
    (fit,) = result.fits
    assert fit["params"]["alpha"] == pytest.approx(alpha, rel=5e-3)
    assert fit["params"]["beta"] == pytest.approx(beta, rel=5e-3)
    assert fit["log_likelihood"] == pytest.approx(log_likelihood, abs=0.01)
    frame = result.survival
    assert frame["period"].tolist() == list(range(13))
    assert frame["projected"].tolist() == [False] * 8 + [True] * 5
    future = 100 * frame["fitted_survival"].to_numpy()[8:]
    assert future == pytest.approx(projected, abs=0.1)
    assert 100 * frame["survival"].to_numpy()[:8] == pytest.approx(percent[:8], abs=0.05)
    assert frame["active"].tolist()[:8] == survivors(percent, 8)
    assert frame["active"].isna().tolist()[8:] == [True] * 5
    assert result.period == "year"
    document = result.document()
    assert set(document["params"]) == {"alpha", "beta"}
    assert document["log_likelihood"] == fit["log_likelihood"]
    assert len(document["survival"]) == 13


def test_actual_retention_rate_of_table1():
    counts = CohortCounts("t.csv", np.array([1000, 631, 468]), unit="year")
    frame = project_retention(counts, RetentionSettings(horizon=3)).survival
    assert math.isnan(frame["retention"][0])
    assert frame["retention"][1:3].tolist() == pytest.approx([0.631, 468 / 631])


def test_bdw_on_a_cohort_table_gives_c():
    percent = read_table1()["regular"]
    counts = CohortCounts("t.csv", np.array(survivors(percent, 8)), unit="year")
    result = project_retention(counts, RetentionSettings(model="bdw"))
    assert set(result.document()["params"]) == {"alpha", "beta", "c"}


def test_cohort_table_refuses_by_and_per_subscriber():
    counts = CohortCounts("t.csv", np.array([100, 80, 70]), unit="year")
    with pytest.raises(UsageError, match="needs a subscription log"):
        project_retention(counts, RetentionSettings(by="plan"))
    with pytest.raises(UsageError, match="needs a subscription log"):
        project_retention(counts, RetentionSettings(per_subscriber=True))


def test_cohort_table_without_a_unit_is_read_as_months_with_a_note():
    counts = CohortCounts("t.csv", np.array([100, 80, 70, 65]))
    result = project_retention(counts, RetentionSettings())
    assert result.period == "month" and "--period year" in result.notes[0]


# -- periods from dates, by hand ----------------------------------------------------------
def test_whole_periods_by_hand():
    start = days("2024-01-15", "2024-01-15", "2024-01-15", "2024-01-31", "2024-01-15")
    end = days("2024-04-15", "2024-04-20", "2024-04-14", "2024-02-29", "2024-01-15")
    whole, exact = whole_periods(start, end, "month")
    assert whole.tolist() == [3, 3, 2, 1, 0]
    assert exact.tolist() == [True, False, False, True, True]
    whole, exact = whole_periods(
        days("2020-02-29", "2020-03-01"), days("2021-02-28", "2022-02-28"), "year"
    )
    assert whole.tolist() == [1, 1] and exact.tolist() == [True, False]


def test_whole_periods_in_the_jalali_calendar():
    # 1402/06/31 (2023-09-22) renews on 1402/07/30 (2023-10-22): Mehr has 30 days.
    whole, exact = whole_periods(days("2023-09-22"), days("2023-10-22"), "month", "jalali")
    assert whole.tolist() == [1] and exact.tolist() == [True]
    whole, _ = whole_periods(days("2023-09-22"), days("2023-10-22"), "month", "gregorian")
    assert whole.tolist() == [1]


def test_lifetimes_of_a_log_by_hand():
    """Paid periods: ended on a renewal date, T = renewals made; ended between two,
    one more; a running one has renewed once per renewal date up to the as-of date."""
    log = SubscriptionLog(
        "log.csv",
        np.array(["a", "b", "c", "d"], dtype=object),
        days("2024-01-15", "2024-01-15", "2024-01-15", "2024-02-10"),
        np.array([day("2024-04-15"), day("2024-04-20"), day("2024-01-16"), ACTIVE]),
        np.array([10.0, 10.0, 10.0, 30.0]),
        None,
        None,
    )
    settings = RetentionSettings(period="month", horizon=6, per_subscriber=True)
    result = project_retention(log, settings)
    # T: a 3, b 4, c 1; d active with 2 renewals (2024-03-10 and 2024-04-10 <= 2024-04-20)
    assert result.survival["active"].tolist()[:5] == [4, 3, 3, 1, 0]
    (row,) = result.subscribers.to_dict("records")
    assert row["customer_id"] == "d" and row["tenure"] == 2 and row["start"] == "2024-02-10"
    assert result.as_of == "2024-04-20"


def test_period_inferred_from_whole_years():
    start = days("2020-01-01", "2020-03-05", "2021-06-01", "2020-01-01")
    end = days("2021-01-01", "2023-03-05", "2022-06-03", "2020-05-01")
    assert infer_period(start, end, day("2024-01-01"))[0] == "year"
    assert infer_period(start, end + 60, day("2024-01-01"))[0] == "month"
    assert infer_period(start, np.full(4, ACTIVE), day("2024-01-01"))[0] == "month"


def test_cohort_labels():
    start = days("2024-01-05", "2024-02-10", "2024-04-01")
    assert cohort_labels(start, "month", "gregorian").tolist() == ["2024-01", "2024-02", "2024-04"]
    assert cohort_labels(start, "quarter", "gregorian").tolist() == [
        "2024-Q1",
        "2024-Q1",
        "2024-Q2",
    ]
    assert cohort_labels(start, "none", "gregorian").tolist() == ["all"] * 3
    assert cohort_labels(days("2024-03-25"), "month", "jalali").tolist() == ["1403-01"]


def test_discount_per_period():
    assert period_rate(0.10, "year") == 0.10
    assert (1 + period_rate(0.10, "month")) ** 12 == pytest.approx(1.10)


# -- recovery from simulated logs ---------------------------------------------------------
@pytest.mark.parametrize(
    ("model", "seed"),
    [
        (ShiftedBetaGeometric.from_params(alpha=1.2, beta=6.0), 7),
        (BetaDiscreteWeibull.from_params(alpha=1.5, beta=4.0, c=0.7), 11),
    ],
)
def test_fit_on_a_simulated_log_recovers_its_parameters(model, seed):
    log = simulated_log(model, 6000, seed)
    settings = RetentionSettings(period="month", model=model.name)
    (fit,) = project_retention(log, settings).fits
    for name, truth in model.params.items():
        error = fit["std_errors"][name]
        assert abs(fit["params"][name] - truth) < 2 * error + 1e-9, (name, fit)


def test_period_inferred_month_on_a_monthly_log():
    log = simulated_log(ShiftedBetaGeometric.from_params(alpha=1.2, beta=6.0), 500, 3)
    result = project_retention(log, RetentionSettings())
    assert result.period == "month"
    assert any(note.startswith("renewal period: month") for note in result.notes)


# -- per subscriber and the base ------------------------------------------------------------
def test_per_subscriber_values_by_hand():
    truth = ShiftedBetaGeometric.from_params(alpha=1.2, beta=6.0)
    log = simulated_log(truth, 3000, 5)
    settings = RetentionSettings(period="month", per_subscriber=True, margin=0.4)
    result = project_retention(log, settings)
    alpha, beta = result.fits[0]["params"].values()
    fitted = ShiftedBetaGeometric.from_params(alpha=alpha, beta=beta)
    rows = result.subscribers
    assert len(rows) == int((log.end == ACTIVE).sum())
    n = rows["tenure"].to_numpy()
    # sBG: P(renew) = (beta + n) / (alpha + beta + n) for one who has renewed n times.
    assert rows["p_renew"].to_numpy() == pytest.approx((beta + n) / (alpha + beta + n))
    rate = period_rate(0.10, "month")
    derl = fitted.expected_residual_lifetime(n, rate)
    assert rows["derl"].to_numpy() == pytest.approx(derl)
    assert rows["clv"].to_numpy() == pytest.approx(10.0 * 0.4 * derl)
    # alpha > 1: without discount the expected renewals are (beta + n) / (alpha - 1).
    assert rows["erl"].to_numpy() == pytest.approx((beta + n) / (alpha - 1))
    base = result.base
    assert base["active_subscribers"] == len(rows)
    assert base["total_clv"] == pytest.approx(rows["clv"].sum())
    assert base["discount_rate_per_period"] == pytest.approx(rate)


def test_undiscounted_value_of_a_heavy_tail_is_left_empty_with_a_warning():
    log = simulated_log(ShiftedBetaGeometric.from_params(alpha=0.6, beta=2.0), 3000, 9)
    settings = RetentionSettings(period="month", per_subscriber=True, discount_rate=0.0)
    result = project_retention(log, settings)
    assert result.fits[0]["params"]["alpha"] < 1
    assert result.subscribers["derl"].isna().all() and result.subscribers["clv"].isna().all()
    assert any("--discount-rate 0" in w for w in result.warnings)
    assert result.base["total_clv"] is None
    discounted = project_retention(log, RetentionSettings(period="month", per_subscriber=True))
    assert discounted.subscribers["derl"].notna().all()
    assert discounted.subscribers["erl"].isna().all()
    assert any(note.startswith("erl is empty") for note in discounted.notes)


def test_cohorts_and_by_plan_fit_each_group():
    log = simulated_log(ShiftedBetaGeometric.from_params(alpha=1.2, beta=6.0), 4000, 13)
    log.plan = np.where(np.arange(4000) % 2 == 0, "basic", "pro").astype(object)
    settings = RetentionSettings(period="month", cohort="quarter", by="plan", horizon=12)
    result = project_retention(log, settings)
    frame = result.survival
    assert list(frame.columns[:3]) == ["plan", "cohort", "period"]
    assert set(frame["plan"]) == {"basic", "pro"}
    assert frame["cohort"].iloc[0] == "2020-Q1"
    assert len(result.fits) == frame.groupby(["plan", "cohort"]).ngroups
    assert "params" not in result.document()
    # The last quarter's cohorts have barely started: they are shown, not all fitted.
    assert all("params" in fit or "error" in fit for fit in result.fits)


def test_by_a_column_the_log_lacks_is_a_usage_error():
    log = simulated_log(ShiftedBetaGeometric.from_params(alpha=1.2, beta=6.0), 100, 1)
    with pytest.raises(UsageError, match="no channel column"):
        project_retention(log, RetentionSettings(by="channel"))


def test_too_little_data_is_a_model_error():
    log = SubscriptionLog(
        "log.csv",
        np.array(["a"], dtype=object),
        days("2024-01-15"),
        np.array([ACTIVE]),
        None,
        None,
        None,
    )
    with pytest.raises(TooLittleDataError):
        project_retention(log, RetentionSettings(period="month"))


def test_as_of_date_censors_later_ends_and_leaves_out_later_starts():
    log = SubscriptionLog(
        "log.csv",
        np.array(["a", "b", "c"], dtype=object),
        days("2024-01-10", "2024-01-10", "2024-05-01"),
        np.array([day("2024-06-10"), day("2024-02-10"), ACTIVE]),
        None,
        None,
        None,
    )
    settings = RetentionSettings(period="month", as_of=day("2024-04-15"), per_subscriber=True)
    result = project_retention(log, settings)
    # a is still subscribed on 2024-04-15, after 3 renewals; b paid 1 month; c is later.
    assert result.subscribers["customer_id"].tolist() == ["a"]
    assert result.subscribers["tenure"].tolist() == [3]
    assert result.survival["active"].tolist()[:4] == [2, 1, 1, 1]
    assert any(
        "1 subscription starts after the as-of date 2024-04-15" in w for w in result.warnings
    )


def test_no_group_that_can_be_fitted_is_a_model_error():
    log = SubscriptionLog(
        "log.csv",
        np.array(["a", "b"], dtype=object),
        days("2024-01-10", "2024-02-10"),
        np.array([ACTIVE, ACTIVE]),
        None,
        None,
        None,
    )
    with pytest.raises(ModelError, match="no group has enough data to fit"):
        project_retention(log, RetentionSettings(period="month", cohort="month"))
