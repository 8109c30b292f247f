"""clvcli.io.amountless: a log with no amount column is purchase days alone only when
no other column could hold the amount; otherwise it is refused with a hint."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clvcli.errors import InputError, UsageError
from clvcli.io.amountless import could_hold_amounts
from clvcli.io.readers import ReadSettings, read_transactions


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["12,50", "7"], True),
        (["۱۲۰٬۰۰۰ تومان", ""], True),
        (["1001", "1002"], True),  # order numbers could be amounts: not for clv to guess
        (["apple", "pear", " "], False),
        (["2024-01-01", "2024-02-03"], False),
        (["", "  "], False),
        ([None, None], False),
    ],
)
def test_could_hold_amounts_of_text(cells, expected):
    assert could_hold_amounts(pa.array(cells, pa.string())) is expected


def test_could_hold_amounts_of_typed_columns():
    assert could_hold_amounts(pa.array([1.5, None]))
    assert not could_hold_amounts(pa.array([None, None], pa.float64()))
    assert not could_hold_amounts(pa.array([True, False]))
    assert not could_hold_amounts(pa.array(np.array(["2024-01-01"], dtype="datetime64[D]")))


def test_a_log_of_customer_and_date_alone_is_counted(tmp_path):
    text = "customer_id,date\nA,2024-01-01\nA,2024-01-01\nB,2024-01-02\n"
    path = write(tmp_path, "visits.csv", text)
    transactions = read_transactions(path)
    assert not transactions.has_amount
    assert transactions.num_rows == 3
    assert (transactions.amount == 0).all()


def test_other_columns_of_text_leave_the_log_amount_less(tmp_path):
    text = "customer_id,date,store,channel\nA,2024-01-01,north,ads\nB,2024-01-02,south,seo\n"
    transactions = read_transactions(write(tmp_path, "visits.csv", text))
    assert not transactions.has_amount
    assert transactions.channel is not None


def test_an_unrecognised_amount_column_is_refused_not_dropped(tmp_path):
    path = write(tmp_path, "shop.csv", "customer_id,date,Betrag\nA,2024-01-01,12.50\n")
    with pytest.raises(InputError) as caught:
        read_transactions(path)
    assert str(caught.value) == (
        f"{path}: no amount column found; column 'Betrag' holds numbers and could be the "
        "amount; columns are: customer_id, date, Betrag"
    )
    assert caught.value.hint == (
        "name it with --amount-col (e.g. --amount-col 'Betrag'), or pass --amount-col none to "
        "count purchases without amounts"
    )
    assert caught.value.exit_code == 3


def test_a_mostly_text_column_with_one_number_is_refused(tmp_path):
    text = "customer_id,date,note\nA,2024-01-01,gift\nB,2024-01-02,5\n"
    with pytest.raises(InputError, match="column 'note' holds numbers"):
        read_transactions(write(tmp_path, "shop.csv", text))


def test_amount_col_none_counts_purchases_whatever_the_columns(tmp_path):
    path = write(tmp_path, "shop.csv", "customer_id,date,Betrag\nA,2024-01-01,12.50\n")
    transactions = read_transactions(path, ReadSettings(amount_col="none"))
    assert not transactions.has_amount


def test_the_amount_column_named_and_missing_stays_a_usage_error(tmp_path):
    path = write(tmp_path, "visits.csv", "customer_id,date\nA,2024-01-01\n")
    with pytest.raises(UsageError, match="--amount-col 'total' is not a column"):
        read_transactions(path, ReadSettings(amount_col="total"))


def test_parquet_without_amounts(tmp_path):
    log = pd.DataFrame({"customer_id": ["A", "B"], "date": ["2024-01-01", "2024-01-02"]})
    path = tmp_path / "visits.parquet"
    log.to_parquet(path, index=False)
    assert not read_transactions(str(path)).has_amount
    log.assign(Summe=[3.0, 4.0]).to_parquet(path, index=False)
    with pytest.raises(InputError, match="column 'Summe' holds numbers"):
        read_transactions(str(path))


def test_refunds_and_zero_days_do_not_apply_every_customer_day_is_a_purchase(tmp_path):
    from clvcli.core.summary import customer_table

    text = "customer_id,date\nA,2024-01-01\nA,2024-01-01\nA,2024-01-05\nB,2024-01-03\n"
    table = customer_table(read_transactions(write(tmp_path, "v.csv", text)))
    frame = table.frame.set_index("customer_id")
    assert frame["orders"].to_dict() == {"A": 2, "B": 1}
    assert frame["frequency"].to_dict() == {"A": 1, "B": 0}
    for money in ("total_spend", "avg_order_value", "monetary_value"):
        assert frame[money].isna().all()
    assert not table.has_amount
