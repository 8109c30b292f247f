"""validate's metrics, worked by hand on a tiny example, and the best model by
per-customer error."""

from __future__ import annotations

import math

import numpy as np
import pytest

from clvcli.core.validation import best_model, deciles, holdout_metrics


@pytest.fixture
def tiny():
    """Four customers: predicted 0.5, 1, 2, 0 purchases; they made 0, 2, 1, 1."""
    predicted = np.array([0.5, 1.0, 2.0, 0.0])
    actual = np.array([0.0, 2.0, 1.0, 1.0])
    frequency = np.array([0, 1, 3, 9])
    return holdout_metrics(predicted, actual, frequency)


def test_totals_bias_and_error_pct(tiny):
    assert tiny["predicted_holdout_purchases"] == 3.5
    assert tiny["actual_holdout_purchases"] == 4.0
    assert tiny["error_pct"] == pytest.approx(-12.5)  # (3.5 - 4) / 4
    assert tiny["bias"] == pytest.approx(-0.125)  # 3.5 / 4 - 1


def test_per_customer_errors(tiny):
    # errors 0.5, -1, 1, -1: |e| sums to 3.5, e^2 to 3.25
    assert tiny["mae"] == pytest.approx(0.875)  # 3.5 / 4
    assert tiny["rmse"] == pytest.approx(math.sqrt(0.8125))  # sqrt(3.25 / 4) = 0.9014
    assert tiny["rel_mae"] == pytest.approx(0.875)  # 3.5 / 4 purchases
    # (log 1 - log 1.5)^2 + (log 3 - log 2)^2 + (log 2 - log 3)^2 + (log 2 - log 1)^2,
    # over 4: three times (log 1.5)^2 = 0.16440 and (log 2)^2 = 0.48045
    assert tiny["msle"] == pytest.approx((3 * math.log(1.5) ** 2 + math.log(2) ** 2) / 4)
    assert tiny["msle"] == pytest.approx(0.243415, abs=1e-6)


def test_correlation(tiny):
    # deviations -0.375, 0.125, 1.125, -0.875 and -1, 1, 0, 0: their products sum to
    # 0.5, their squares to 2.1875 and 2
    assert tiny["correlation"] == pytest.approx(0.5 / math.sqrt(2.1875 * 2.0))


def test_by_frequency_rows(tiny):
    rows = {row["frequency"]: row for row in tiny["by_frequency"]}
    assert list(rows) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert rows["7+"] == {
        "frequency": "7+",
        "customers": 1,
        "mean_predicted": 0.0,
        "mean_actual": 1.0,
    }
    assert rows["2"]["customers"] == 0 and rows["2"]["mean_predicted"] is None


def test_deciles_rank_customers_by_prediction():
    predicted = np.arange(1.0, 21.0)  # 20 customers: two per decile
    actual = np.arange(20.0)[::-1] % 3
    rows = deciles(predicted, actual)
    assert [row["decile"] for row in rows] == list(range(1, 11))
    assert all(row["customers"] == 2 for row in rows)
    assert rows[0]["mean_predicted"] == 19.5  # the 20 and the 19, highest first
    assert rows[-1]["mean_predicted"] == 1.5
    # the customers predicted 20 and 19 (the last two) made 0 and 1 purchases
    assert rows[0]["mean_actual"] == 0.5


def test_deciles_of_fewer_customers_than_ten():
    rows = deciles(np.array([1.0, 3.0, 2.0]), np.array([0.0, 1.0, 2.0]))
    assert [row["customers"] for row in rows] == [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    assert [row["mean_actual"] for row in rows[:3]] == [1.0, 2.0, 0.0]
    assert rows[3]["mean_predicted"] is None


def test_no_holdout_purchases_leave_the_ratios_empty():
    metrics = holdout_metrics(np.array([0.2, 0.1]), np.zeros(2), np.zeros(2, dtype=int))
    assert metrics["bias"] is None and metrics["rel_mae"] is None
    assert metrics["error_pct"] is None
    assert metrics["mae"] == pytest.approx(0.15)


def test_the_best_is_the_smallest_per_customer_error_not_the_total():
    actual = np.array([0.0, 0.0, 0.0, 4.0])
    frequency = np.zeros(4, dtype=int)
    # right total, wrong for every customer
    flat = holdout_metrics(np.array([1.0, 1.0, 1.0, 1.0]), actual, frequency)
    # total 20% short, close for every customer
    close = holdout_metrics(np.array([0.0, 0.0, 0.0, 3.2]), actual, frequency)
    assert flat["error_pct"] == 0.0 and close["error_pct"] == pytest.approx(-20.0)
    assert flat["mae"] == 1.5 and close["mae"] == pytest.approx(0.2)
    assert best_model({"flat": flat, "close": close}) == "close"


def test_bgbb_counts_periods_so_it_is_best_only_alone():
    small = {"mae": 0.1}
    assert best_model({"bgnbd": {"mae": 0.9}, "bgbb": small, "pnbd": {"mae": 0.8}}) == "pnbd"
    assert best_model({"bgbb": small}) == "bgbb"
