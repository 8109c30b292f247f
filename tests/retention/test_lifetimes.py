"""Lifetimes: grouping, cohort tables, what is refused, observed survival."""

from __future__ import annotations

import numpy as np
import pytest

from clvcli.retention import CohortCountError, Lifetimes


def test_cohort_table_becomes_churned_and_active_groups():
    data = Lifetimes.from_survivors([1000, 631, 468, 382])
    assert data.periods.tolist() == [1, 2, 3, 3]
    assert data.churned.tolist() == [True, True, True, False]
    assert data.count.tolist() == [369, 163, 86, 382]
    assert data.periods.dtype == np.int64 and data.count.dtype == np.int64
    assert data.subscribers == 1000 and data.churned_subscribers == 618


def test_cohort_table_skips_periods_nobody_left_and_an_empty_end():
    data = Lifetimes.from_survivors([10, 10, 4, 0])
    assert data.periods.tolist() == [2, 3]
    assert data.churned.tolist() == [True, True]
    assert data.count.tolist() == [6, 4]


def test_rising_cohort_count_is_refused_with_the_period_named():
    with pytest.raises(ValueError, match=r"rises from 468 at period 2 to 470 at period 3") as e:
        Lifetimes.from_survivors([1000, 631, 468, 470, 300])
    assert isinstance(e.value, CohortCountError) and e.value.period == 3


@pytest.mark.parametrize(
    ("active", "message"),
    [
        ([], "no periods"),
        ([0, 0], "empty"),
        ([10, -1], "period 1 is negative"),
        ([10, 5.5], "the count at period 1 holds 5.5, which is not a whole number"),
        ([10, 8, float("nan")], "the count at period 2 holds a missing"),
        ([10, "x"], "the count at period 1 holds values that are not numbers"),
    ],
)
def test_bad_cohort_tables_are_refused(active, message):
    with pytest.raises(ValueError, match=message):
        Lifetimes.from_survivors(active)


def test_observed_retention_is_the_renewal_share_of_each_period():
    data = Lifetimes.from_survivors([1000, 631, 468, 382])
    assert data.observed_retention() == pytest.approx([0.631, 468 / 631, 382 / 468])


def test_durations_are_grouped():
    data = Lifetimes.from_durations([3, 1, 3, 5, 3, 0], [True, True, True, False, False, False])
    rows = sorted(
        zip(data.periods.tolist(), data.churned.tolist(), data.count.tolist(), strict=True)
    )
    assert rows == [(0, False, 1), (1, True, 1), (3, False, 1), (3, True, 2), (5, False, 1)]


def test_durations_refuse_a_churned_subscriber_who_never_paid():
    with pytest.raises(ValueError, match="at least one period"):
        Lifetimes.from_durations([0, 2], [True, False])


def test_durations_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="differ in length"):
        Lifetimes.from_durations([1, 2], [True])


def test_observed_survival_of_a_cohort_table_is_its_shares():
    active = [1000, 631, 468, 382, 326]
    survival = Lifetimes.from_survivors(active).observed_survival()
    assert survival == pytest.approx(np.array(active) / 1000, rel=1e-12)


def test_observed_survival_counts_late_joiners_for_the_periods_they_were_seen():
    # 4 subscribers seen for 3 renewals: 1 left at period 1, 1 at period 3; plus 2 who
    # joined late and have renewed once. At period 2 only the 2 long ones still count.
    data = Lifetimes.from_durations([1, 3, 3, 3, 1, 1], [True, True, False, False, False, False])
    survival = data.observed_survival()
    assert survival == pytest.approx([1.0, 5 / 6, 5 / 6, 5 / 6 * 2 / 3])


def test_grouping_is_the_same_for_few_and_for_many_distinct_periods():
    rng = np.random.default_rng(5)
    periods = rng.integers(1, 50, 10_000)
    churned = rng.random(10_000) < 0.4
    few = Lifetimes.from_durations(periods, churned)
    many = Lifetimes.from_durations(periods * 10_000_000, churned)  # keys past the counted
    assert many.periods.tolist() == (few.periods * 10_000_000).tolist()
    assert many.churned.tolist() == few.churned.tolist()
    assert many.count.tolist() == few.count.tolist()
    assert few.subscribers == 10_000
