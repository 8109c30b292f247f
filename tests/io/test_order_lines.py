"""clvcli.io.order_lines: an export's line rows read as the transactions they stand for."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from clvcli.errors import InputError
from clvcli.io.order_lines import order_lines, return_invoices, whole_number_ids
from clvcli.io.readers import ReadSettings, read_transactions


def ids_of(values: list[str | None]) -> list[str | None]:
    column, _ = whole_number_ids(pa.array(values, type=pa.string()))
    return column.to_pylist()


# ------------------------------------------------------------- float-rendered ids


def test_float_rendered_ids_are_read_as_whole_numbers():
    assert ids_of(["17850.0", "13047.0", "", "12583.0", None]) == [
        "17850", "13047", "", "12583", None
    ]  # fmt: skip
    assert ids_of(["17850.0", "17850", " 13047.0 "]) == ["17850", "17850", "13047"]


def test_every_id_is_looked_at_wherever_the_first_float_rendered_one_is():
    """The same rows in another order are the same customers: a 17850.0 after
    thousands of plain ids still merges with 17850, and is named in the note."""
    plain = [str(10 + i % 100) for i in range(5000)]
    late, example = whole_number_ids(pa.array([*plain, "10.0"], type=pa.string()))
    early, _ = whole_number_ids(pa.array(["10.0", *plain], type=pa.string()))
    assert example == "10.0"
    assert late.to_pylist() == [*plain, "10"]
    assert early.to_pylist() == ["10", *plain]
    assert whole_number_ids(pa.array([*plain, "A.0"], type=pa.string()))[1] is None


@pytest.mark.parametrize(
    "values",
    [
        ["0042", "0043"],  # ids with leading zeros are text
        ["0042.0", "17850.0"],  # no float prints a leading zero
        ["17850.0", "A17"],
        ["17850.0", "1.5"],
        ["17850.5", "13047.0"],
        ["C1", "C2"],
    ],
)
def test_other_ids_stay_as_written(values):
    assert ids_of(values) == values


# ------------------------------------------------------------------- order lines


def test_rows_with_no_amount_of_a_counted_order_are_lines_of_it():
    amount = pa.array(["25.00", "", " ", "5.50", "", ""])
    order = pa.array(["#1001", "#1001", "#1001", "#1002", "#1003", ""])
    lines = order_lines(amount, order)
    # #1003 has no row with an amount and the last row has no order: bad rows, not lines.
    assert lines.tolist() == [False, True, True, False, False, False]


def test_a_line_before_its_total_is_a_line_too():
    lines = order_lines(pa.array(["", "25.00"]), pa.array(["#1001", "#1001"]))
    assert lines.tolist() == [True, False]


def test_no_lines_when_every_row_has_an_amount():
    assert order_lines(pa.array(["1", "2"]), pa.array(["a", "a"])) is None
    assert order_lines(pa.array([1.0, None]), pa.array([7, 8])) is None


def test_numeric_columns_from_parquet():
    lines = order_lines(pa.array([25.0, None, None]), pa.array([1001, 1001, 1002]))
    assert lines.tolist() == [False, True, False]


# ----------------------------------------------------------------- return invoices


def test_c_invoices_among_numbered_ones_are_returns():
    returns = return_invoices(pa.array(["536365", "C536379", " C536380", "536381"]))
    assert returns.tolist() == [False, True, True, False]


@pytest.mark.parametrize(
    "values",
    [
        ["C1001", "C1002"],  # every order number starts with C: that is the shop's form
        ["536365", "CASH"],
        ["536365", "536366"],
    ],
)
def test_no_returns(values):
    assert return_invoices(pa.array(values)) is None


# -------------------------------------------------------------- through the reader


@pytest.fixture
def read(tmp_path, monkeypatch):
    """Read ``text`` as shop.csv, named so in messages."""
    monkeypatch.chdir(tmp_path)

    def run(text: str, **settings: object):
        (tmp_path / "shop.csv").write_text(text, encoding="utf-8")
        return read_transactions("shop.csv", ReadSettings(**settings))

    return run


def spend(transactions) -> dict[str, float]:
    ids = transactions.customer_ids.to_pylist()
    totals: dict[str, float] = {}
    for code, amount in zip(transactions.customer, transactions.amount, strict=True):
        totals[ids[code]] = round(totals.get(ids[code], 0.0) + amount, 6)
    return totals


UCI = (
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    '536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,12/1/2010 8:26,2.55,17850.0,UK\n'
    "536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,UK\n"
    "536370,22961,JAM MAKING SET,2,12/13/2010 9:41,10.00,14527.0,UK\n"
    "C536371,22961,JAM MAKING SET,1,12/13/2010 10:41,10.00,14527.0,UK\n"
    "C536372,22961,JAM MAKING SET,-1,12/14/2010 10:41,4.25,14527.0,UK\n"
)


def test_uci_layout(read):
    transactions = read(UCI)
    # 14527: 2 x 10.00, a return of 1 x 10.00 with a positive quantity, one of -1 x 4.25
    assert spend(transactions) == {"17850": pytest.approx(35.64), "14527": 5.75}
    assert transactions.notes == [
        "shop.csv: customer 'CustomerID', date 'InvoiceDate', amount 'Quantity' x "
        "'UnitPrice'; ids written as floats ('17850.0') read as whole numbers; 2 rows of "
        "invoices starting with C ('InvoiceNo') read as returns"
    ]


def test_a_quantity_that_is_not_a_number_is_a_bad_row(read):
    text = UCI.replace(",6,12/1/2010 8:26,2.55", ",six,12/1/2010 8:26,2.55")
    with pytest.raises(InputError) as caught:
        read(text)
    assert str(caught.value) == (
        "shop.csv: row 1 (line 2), column 'Quantity': cannot read 'six' as a quantity"
    )


def test_an_empty_customer_says_why_it_is_refused(read):
    text = UCI + "536380,22961,JAM,2,12/14/2010 9:41,1.00,,UK\n"
    with pytest.raises(InputError) as caught:
        read(text)
    assert str(caught.value) == "shop.csv: row 6 (line 7), column 'CustomerID': empty customer id"
    assert "no one's purchase" in caught.value.hint and "--skip-invalid" in caught.value.hint
    assert set(spend(read(text, skip_invalid=True))) == {"17850", "14527"}


SHOPIFY = (
    "Name,Email,Financial Status,Paid at,Total,Created at,Lineitem quantity,Lineitem name,"
    "Lineitem price,Id\n"
    "#1001,a@x.com,paid,2024-03-05 14:22:10 +0330,25.00,2024-03-05 14:20:00 +0330,1,Shirt,"
    "10.00,501\n"
    "#1001,a@x.com,,,,2024-03-05 14:20:00 +0330,1,Hat,15.00,\n"
    "#1002,a@x.com,paid,2024-03-09 10:00:00 +0330,5.50,2024-03-09 10:00:00 +0330,1,Pin,"
    "5.50,502\n"
    "#1003,b@x.com,paid,2024-03-06 10:00:00 +0330,7.00,2024-03-06 10:00:00 +0330,1,Pin,"
    "7.00,503\n"
)


def test_shopify_order_total_read_once(read):
    transactions = read(SHOPIFY)
    assert spend(transactions) == {"a@x.com": 30.5, "b@x.com": 7.0}
    assert transactions.num_rows == 3
    assert transactions.notes == [
        "shop.csv: customer 'Email', date 'Paid at', amount 'Total'; 1 row with no 'Total' "
        "read as further lines of an order counted once (by 'Name')"
    ]


def test_a_bad_row_after_order_lines_is_reported_at_its_place_in_the_file(read):
    text = SHOPIFY + "#1004,c@x.com,paid,2024-03-07 10:00:00 +0330,oops,,1,Pin,7.00,504\n"
    with pytest.raises(InputError, match=r"row 5 \(line 6\), column 'Total': cannot read 'oops'"):
        read(text)


def test_an_order_with_no_total_anywhere_is_a_bad_row(read):
    text = SHOPIFY + "#1004,c@x.com,paid,2024-03-07 10:00:00 +0330,,,1,Pin,7.00,504\n"
    with pytest.raises(InputError, match=r"row 5 \(line 6\), column 'Total'"):
        read(text)


def test_a_bare_id_numbering_rows_is_refused(read):
    with pytest.raises(InputError) as caught:
        read("id,date,amount\n1,2024-01-01,5\n2,2024-01-02,6\n3,2024-01-03,7\n")
    assert str(caught.value) == (
        "shop.csv: column 'id' has a different value on every row, so it numbers the rows "
        "rather than the customers"
    )
    assert "--customer-col" in caught.value.hint


def test_a_bare_id_that_repeats_is_the_customer(read):
    transactions = read("id,date,amount\n1,2024-01-01,5\n2,2024-01-02,6\n1,2024-01-03,7\n")
    assert spend(transactions) == {"1": 12.0, "2": 6.0}
    assert transactions.notes == ["shop.csv: customer 'id', date 'date', amount 'amount'"]


def test_a_plain_log_has_no_note(read):
    transactions = read("customer_id,date,amount\n1,2024-01-01,5\n")
    assert transactions.notes == [] and np.isclose(transactions.amount.sum(), 5.0)
