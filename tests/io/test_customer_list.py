"""Reading a customer list (--customers FILE): columns, ids, costs and bad files."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clvcli.errors import InputError
from clvcli.io.customers import read_customer_list


def test_english_list_sorted_with_channel_and_cost(write):
    path = write("list.csv", "customer_id,channel,acquisition_cost\nB,ads,90\nA,,60.5\nC,seo,\n")
    listed = read_customer_list(str(path))
    assert list(listed.ids) == ["A", "B", "C"]
    assert list(listed.channel) == ["unknown", "ads", "seo"]
    assert listed.acquisition_cost[:2].tolist() == [60.5, 90.0]
    assert np.isnan(listed.acquisition_cost[2])


def test_persian_headers_digits_and_separators(write):
    text = "کد مشتری,کانال جذب,هزینه جذب\nC۰۰۴۲,اینستاگرام,۱۲۰٬۰۰۰\n"
    listed = read_customer_list(str(write("list.csv", text)))
    assert list(listed.ids) == ["C0042"]
    assert list(listed.channel) == ["اینستاگرام"]
    assert listed.acquisition_cost.tolist() == [120000.0]


def test_ids_only(write):
    listed = read_customer_list(str(write("list.csv", "customer\n 7 \n0042\n")))
    assert list(listed.ids) == ["0042", "7"]
    assert listed.channel is None and listed.acquisition_cost is None


def test_parquet_list(tmp_path):
    path = tmp_path / "list.parquet"
    pq.write_table(pa.table({"customer_id": ["X", "Y"], "cac": [1.5, 2.0]}), path)
    listed = read_customer_list(str(path))
    assert list(listed.ids) == ["X", "Y"]
    assert listed.acquisition_cost.tolist() == [1.5, 2.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,cost\nA,1\n", "no customer column found; columns are: name, cost"),
        ("customer_id\n", "has a header but no rows"),
        ("customer_id,cost\nA,1\n,2\n", "row 2 (line 3), column 'customer_id': the customer id"),
        ("customer_id,cost\nA,1\nB,abc\n", "row 2 (line 3), column 'cost': cannot read 'abc'"),
        ("customer_id,cost\nA,-5\n", "row 1 (line 2), column 'cost': cost '-5' is negative"),
        (
            "customer_id\nC01\nX\nC۰۱\n",
            "customer 'C01' is listed twice (row 1 (line 2) and row 3 (line 4))",
        ),
        # Blank rows are no rows, and lines count as the CSV parser counts them.
        ("\x0c\ncustomer_id,cost\r\nA,1\r\n,\r\n\r\nB,abc\r\n", "row 2 (line 6), column 'cost'"),
    ],
)
def test_bad_lists_name_file_row_and_column(write, text, expected):
    path = write("list.csv", text)
    with pytest.raises(InputError) as caught:
        read_customer_list(str(path))
    assert caught.value.message.startswith(f"{path}: ")
    assert expected in caught.value.message
