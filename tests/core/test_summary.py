"""The RFM summary, purchase occasions and historical CLV on a hand-worked log.

Customer A: 2024-01-01 100 + 50 (one occasion of 150), 2024-01-11 200 - 50 refund
(one occasion of 150), 2024-01-31 300. Customer B: 2024-01-05 80, refunded on
2024-01-20 (a later day: not a purchase, but it nets the spend to 0). Customer C:
2024-01-10 100 refunded the same day (no purchase at all: left out). Customer D:
2024-01-31 40. The as-of date defaults to the last date, 2024-01-31.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from clvcli.contract import COMPUTE_COLUMNS
from clvcli.core.compute import ComputeSettings, compute_clv
from clvcli.core.summary import calibration_table, customer_table
from clvcli.errors import InputError, UsageError
from clvcli.io.dates import parse_date_value
from clvcli.io.readers import read_transactions

LOG = """customer,date,amount
A,2024-01-01,100
A,2024-01-01,50
A,2024-01-11,200
A,2024-01-11,-50
A,2024-01-31,300
B,2024-01-05,80
B,2024-01-20,-80
C,2024-01-10,100
C,2024-01-10,-100
D,2024-01-31,40
"""


def transactions(text: str = LOG):
    return read_transactions("-", stdin=io.BytesIO(text.encode()))


def row(frame, customer: str) -> dict:
    return frame.set_index("customer_id").loc[customer].to_dict()


def test_purchase_occasions_refunds_and_field_convention_in_days():
    table = customer_table(transactions())
    assert list(table.frame["customer_id"]) == ["A", "B", "D"]
    a = row(table.frame, "A")
    assert a["orders"] == 3
    assert a["frequency"] == 2
    assert a["recency"] == 30
    assert a["T"] == 30
    assert a["monetary_value"] == pytest.approx((150 + 300) / 2)
    assert a["total_spend"] == pytest.approx(600)
    assert a["avg_order_value"] == pytest.approx(200)
    assert a["days_since_last"] == 0
    assert str(a["first_purchase"].date()) == "2024-01-01"
    assert str(a["last_purchase"].date()) == "2024-01-31"
    b = row(table.frame, "B")
    assert (b["orders"], b["frequency"], b["recency"], b["T"]) == (1, 0, 0, 26)
    assert b["total_spend"] == pytest.approx(0)
    assert b["monetary_value"] == 0
    d = row(table.frame, "D")
    assert (d["orders"], d["T"], d["days_since_last"]) == (1, 0, 0)
    assert table.warnings == ["<stdin>: left out 1 customers with refunds but no purchase"]


@pytest.mark.parametrize(
    ("period", "days"), [("week", 7.0), ("month", 365.25 / 12), ("year", 365.25)]
)
def test_recency_and_t_are_fractional_in_other_periods(period, days):
    a = row(customer_table(transactions(), period=period).frame, "A")
    assert a["recency"] == pytest.approx(30 / days)
    assert a["T"] == pytest.approx(30 / days)


def test_as_of_later_than_the_data_ages_everyone():
    as_of = parse_date_value("2024-03-01")
    a = row(customer_table(transactions(), as_of=as_of).frame, "A")
    assert a["T"] == 60
    assert a["days_since_last"] == 30


def test_as_of_inside_the_data_ignores_later_transactions_with_a_warning():
    table = customer_table(transactions(), as_of=parse_date_value("2024-01-15"))
    assert list(table.frame["customer_id"]) == ["A", "B"]
    a = row(table.frame, "A")
    assert (a["orders"], a["T"], a["total_spend"]) == (2, 14, 300)
    assert "ignored 3 transactions after --as-of 2024-01-15" in table.warnings[0]


def test_as_of_before_the_first_transaction_is_a_usage_error():
    with pytest.raises(UsageError, match="before the first transaction"):
        customer_table(transactions(), as_of=parse_date_value("2023-12-01"))


def test_calibration_and_holdout_columns():
    table = calibration_table(
        transactions(), calibration_end=parse_date_value("2024-01-15"), period="day"
    )
    assert list(table.frame["customer_id"]) == ["A", "B"]
    a = row(table.frame, "A")
    assert (a["frequency"], a["recency"], a["T"]) == (1, 10, 14)
    assert a["monetary_value"] == pytest.approx(150)
    assert a["frequency_holdout"] == 1
    assert a["monetary_value_holdout"] == pytest.approx(300)
    assert a["duration_holdout"] == 16
    b = row(table.frame, "B")
    assert (b["frequency_holdout"], b["monetary_value_holdout"]) == (0, 0)


def test_calibration_end_must_fall_inside_the_data():
    with pytest.raises(UsageError, match="--calibration-end"):
        calibration_table(transactions(), calibration_end=parse_date_value("2024-02-01"))


def test_historical_clv_is_spend_times_margin_and_model_columns_are_empty():
    result = compute_clv(transactions(), ComputeSettings(margin=0.3))
    assert list(result.frame.columns) == COMPUTE_COLUMNS
    a = row(result.frame, "A")
    assert a["historical_clv"] == pytest.approx(180)
    assert a["total_clv"] == pytest.approx(180)
    for column in ("expected_purchases", "p_alive", "expected_avg_spend", "predicted_clv"):
        assert np.isnan(a[column])
    assert list(result.frame["stage"]) == ["repeat", "new", "new"]


def test_a_log_of_refunds_only_is_an_input_error():
    with pytest.raises(InputError, match="no purchases"):
        customer_table(transactions("customer,date,amount\nA,2024-01-01,-5\n"))


def test_channel_comes_from_the_first_purchase():
    log = "customer,date,amount,channel\nA,2024-02-01,5,ads\nA,2024-01-01,5,seo\nB,2024-01-03,1,\n"
    table = customer_table(transactions(log))
    assert list(table.frame["channel"]) == ["seo", "unknown"]


def test_customer_ids_stay_text_and_persian_digits_are_one_customer():
    log = (
        "customer,date,amount\n0042,2024-01-01,5\n42,2024-01-02,5\n"
        "C۰۰۴۲,2024-01-03,5\nC0042,2024-01-04,5\n"
    )
    table = customer_table(transactions(log))
    assert list(table.frame["customer_id"]) == ["0042", "42", "C0042"]
    assert list(table.frame["orders"]) == [1, 1, 2]


def _sorted_log(amounts: list[float], days: list[int], customers: list[int]):
    from clvcli.io.readers import Transactions

    return Transactions(
        source="log",
        customer_ids=np.array(["a", "b", "c"], dtype=object),
        customer=np.array(customers, dtype=np.int64),
        day=np.array(days, dtype=np.int64),
        amount=np.array(amounts, dtype=np.float64),
        channel=None,
        rows_read=len(amounts),
        by_customer=True,
    )


@pytest.mark.parametrize(
    "amounts",
    [
        [5.0, 0.0, 7.5, 2.0, 3.0],  # a free order is a purchase
        [5.0, -2.0, 7.5, 1e-9, 3.0],  # a lone refund is not; a millionth is nothing
        [-0.0, 4.0, 7.5, 2.0, -1e-9],
    ],
)
def test_occasions_of_one_row_per_day_are_the_rows_themselves(amounts):
    from clvcli.core.occasions import purchase_occasions

    customers, days = [0, 0, 1, 2, 2], [10, 12, 10, 11, 15]
    log = _sorted_log(amounts, days, customers)
    single = purchase_occasions(log)
    if len(single.day) == len(days):  # nothing dropped: no copy of the days either
        assert np.shares_memory(single.day, log.day)
    # The same rows with a second, empty order on each day take the netting path.
    doubled = _sorted_log(
        [v for a in amounts for v in (a, 0.0)],
        [d for d in days for _ in range(2)],
        [c for c in customers for _ in range(2)],
    )
    netted = purchase_occasions(doubled)
    for got, want in zip(
        (single.customer, single.day, single.value),
        (netted.customer, netted.day, netted.value),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
        assert np.signbit(got).tolist() == np.signbit(want).tolist()


@pytest.mark.parametrize("as_of", [None, "2024-01-20"])
def test_a_consumed_log_gives_the_same_table_and_lets_its_rows_go(as_of):
    day = None if as_of is None else parse_date_value(as_of)
    kept = customer_table(transactions(), as_of=day, period="week")
    log = transactions()
    consumed = customer_table(log, as_of=day, period="week", consume=True)
    assert consumed.frame.equals(kept.frame)
    assert consumed.warnings == kept.warnings
    np.testing.assert_array_equal(consumed.codes, kept.codes)
    assert log.num_rows == 0 and len(log.day) == len(log.amount) == 0
    assert log.customer_ids.to_pylist() == ["A", "B", "C", "D"]  # the ids stay


@pytest.mark.parametrize(
    "amounts",
    [
        [5.0, 1.0, 7.5, 2.0, 3.0, 4.0],  # every day a purchase: the starts are kept
        [5.0, -2.0, 7.5, 2.0, 3.0, 4.0],  # a refund day dropped: they are looked for
        [5.0, 1.0, 7.5, 2.0, 3.0, 3.0],  # as the rows of one day are added up
    ],
)
def test_the_sorts_customer_starts_give_the_table_of_looking_for_them(amounts):
    from dataclasses import replace

    from clvcli.core.occasions import purchase_occasions

    customers = [0, 0, 0, 1, 2, 2]
    # The second customer buys on the first's last day: only the code tells them apart.
    days = [10, 12, 14, 14, 15, 16] if amounts[-1] != amounts[-2] else [10, 12, 14, 14, 15, 15]
    told = replace(_sorted_log(amounts, days, customers), customer_starts=np.array([0, 3, 4]))
    looked = replace(told, customer_starts=None)
    occasions = purchase_occasions(told)
    if len(occasions.day) == len(days):
        assert occasions.starts is not None and occasions.starts.tolist() == [0, 3, 4]
    else:
        assert occasions.starts is None
    as_of = 20
    got = customer_table(told, as_of=as_of).frame
    want = customer_table(looked, as_of=as_of).frame
    assert got.equals(want)
    assert got["orders"].tolist() == [3 if amounts[1] > 0 else 2, 1, 2 if days[-1] != 15 else 1]
