"""clvcli.io.columns: finding the customer, date, amount and channel columns."""

from __future__ import annotations

import pytest

from clvcli.errors import InputError, UsageError
from clvcli.io.columns import ColumnChoice, choose_columns

NO_NAMES: dict[str, str | None] = {}


def choose(header: list[str], **given: str) -> ColumnChoice:
    return choose_columns(header, "shop.csv", given)


def roles(header: list[str], **given: str) -> tuple[str, str, str, str | None]:
    choice = choose(header, **given)
    channel = None if choice.channel is None else header[choice.channel]
    return header[choice.customer], header[choice.date], header[choice.amount], channel


# -------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    "header",
    [
        ["customer_id", "date", "amount"],
        ["customer", "order_date", "total"],
        ["user_id", "created_at", "revenue"],
        ["client", "timestamp", "price"],
        ["customer_id", "order_date", "sales"],
        ["Customer ID", "Order Date", "Amount"],
        ["CUSTOMER_ID", "ORDER_DATE", "AMOUNT"],
        ["Customer-Id", "Order.Date", "Total"],
        ["customerId", "orderDate", "Revenue"],
        ["  customer_id ", " date", "amount  "],
    ],
)
def test_english_names(header):
    assert choose(header) == ColumnChoice(customer=0, date=1, amount=2, channel=None)


@pytest.mark.parametrize(
    "header",
    [
        ["مشتری", "تاریخ", "مبلغ"],
        ["کد مشتری", "تاریخ", "مبلغ"],
        ["کد مشتری", "تاریخ سفارش", "مبلغ (تومان)"],
        ["شناسه مشتری", "تاریخ خرید", "مبلغ کل"],
        ["کد_مشتری", "تاریخ_سفارش", "مبلغ_سفارش"],
        ["مشتري", "تاريخ", "مبلغ"],  # Arabic yeh
        ["كد مشتري", "تاريخ", "مبلغ"],  # Arabic kaf and yeh
    ],
)
def test_persian_names(header):
    assert choose(header) == ColumnChoice(customer=0, date=1, amount=2, channel=None)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["customer_id", "Order Date", "Amount (USD)"], (0, 1, 2)),
        (["کد مشتری", "تاریخ سفارش", "مبلغ (تومان)"], (0, 1, 2)),
        (["مشتری", "تاریخ (شمسی)", "مبلغ [ریال]"], (0, 1, 2)),
        (["Customer Code", "Invoice Date", "Grand Total"], (0, 1, 2)),
        (["Client Name", "Purchase Date (UTC)", "Net Sales"], (0, 1, 2)),
        (["customer_id", "تاریخ ثبت سفارش", "مبلغ نهایی"], (0, 1, 2)),
        (["buyer", "created", "paid"], (0, 1, 2)),
    ],
)
def test_qualified_and_longer_names(header, expected):
    choice = choose(header)
    assert (choice.customer, choice.date, choice.amount) == expected


@pytest.mark.parametrize(
    "header",
    [
        ["\ufeffcustomer_id", "date", "amount"],
        ["customer_id\u200e", "\u200fdate", "amount\u200c"],
        ["\ufeffکد مشتری", "\u200fتاریخ\u200e", "مبلغ\u200c(تومان)"],
        ["\u200fکد\u200cمشتری", "تاریخ\u200cسفارش", "\u200eمبلغ"],
    ],
)
def test_bom_and_invisible_marks_in_headers_are_ignored(header):
    assert choose(header) == ColumnChoice(customer=0, date=1, amount=2, channel=None)


def test_columns_in_any_order_with_extra_columns():
    header = ["order_id", "amount", "note", "date", "sku", "customer_id", "channel"]
    assert choose(header) == ColumnChoice(customer=5, date=3, amount=1, channel=6, order=0)


def test_whole_name_beats_a_word_inside_a_longer_name():
    header = ["Customer Name", "Customer ID", "Order Date Local", "Date", "Amount", "Total"]
    assert roles(header) == ("Customer ID", "Date", "Amount", None)


def test_updated_at_is_not_a_date_column():
    header = ["customer_id", "updated_at", "date", "amount"]
    assert roles(header) == ("customer_id", "date", "amount", None)


@pytest.mark.parametrize(
    ("header", "channel"),
    [
        (["customer_id", "date", "amount", "channel"], "channel"),
        (["customer_id", "date", "amount", "utm_source"], "utm_source"),
        (["مشتری", "تاریخ", "مبلغ", "کانال جذب"], "کانال جذب"),
        (
            ["customer_id", "date", "amount", "Acquisition Channel (first touch)"],
            "Acquisition Channel (first touch)",
        ),
    ],
)
def test_channel_detection(header, channel):
    assert roles(header)[3] == channel


# ----------------------------------------------------------------- explicit names


def test_explicit_names_exact():
    header = ["Buyer Ref", "When", "Paid Total", "Src"]
    choice = choose(header, customer="Buyer Ref", date="When", amount="Paid Total", channel="Src")
    assert choice == ColumnChoice(customer=0, date=1, amount=2, channel=3)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("buyer ref", 0),
        ("BUYER_REF", 0),
        ("buyer-ref", 0),
        ("  Buyer   Ref ", 0),
        ("buyer.ref", 0),
    ],
)
def test_explicit_names_case_and_spacing_insensitive(given, expected):
    header = ["Buyer Ref", "When", "Paid Total"]
    choice = choose(header, customer=given, date="when", amount="paid_total")
    assert choice == ColumnChoice(customer=expected, date=1, amount=2, channel=None)


def test_explicit_name_with_a_case_insensitive_duplicate_is_an_error():
    header = ["customer_id", "date", "Amount", "amount"]
    # "Amount" and "amount" collide case-insensitively, so the named column must be the
    # exact one; the duplicate check then sees two columns with one key.
    with pytest.raises(InputError, match="appears more than once"):
        choose(header, amount="amount")


def test_explicit_name_overrides_detection():
    header = ["customer_id", "date", "total", "price"]
    assert roles(header, amount="price") == ("customer_id", "date", "price", None)


def test_explicit_name_is_not_reused_by_detection():
    # The named customer column is "user"; detection must not pick it again for another role
    # and must still find the other roles.
    header = ["amount", "user", "date", "customer_id"]
    assert roles(header, customer="user") == ("user", "date", "amount", None)


def test_explicit_name_not_in_header_is_a_usage_error_listing_columns():
    header = ["customer_id", "date", "amount"]
    with pytest.raises(UsageError) as caught:
        choose(header, amount="price")
    message = str(caught.value)
    assert message.startswith("shop.csv:")
    assert "--amount-col 'price' is not a column" in message
    assert "customer_id, date, amount" in message


# --------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("header", "role"),
    [
        (["customer_id", "qty", "amount"], "date"),
        (["order_id", "date", "amount"], "customer"),
        (["a", "b", "c"], "customer"),
    ],
)
def test_missing_column_lists_the_columns_found(header, role):
    with pytest.raises(InputError) as caught:
        choose(header)
    message = str(caught.value)
    assert message == f"shop.csv: no {role} column found; columns are: {', '.join(header)}"
    assert caught.value.hint == f"name it with --{role}-col"
    assert caught.value.exit_code == 3


def test_no_amount_column_is_left_to_the_reader():
    # Whether the log is one of purchase days alone depends on the other columns'
    # values (io/amountless.py): the header alone does not refuse it.
    assert choose(["customer_id", "order_date", "qty"]) == ColumnChoice(0, 1, None, None)
    assert choose(["customer_id", "date"]) == ColumnChoice(0, 1, None, None)


def test_amount_col_none_means_no_amount_unless_a_column_is_named_so():
    assert choose(["customer_id", "date", "amount"], amount="none").amount is None
    assert choose(["customer_id", "date", "None"], amount="none").amount == 2


def test_missing_column_in_an_empty_header():
    with pytest.raises(InputError, match=r"columns are: \(none\)"):
        choose([])


@pytest.mark.parametrize(
    ("header", "name", "positions"),
    [
        (["customer_id", "date", "amount", "amount"], "amount", "3, 4"),
        (["customer_id", "date", "amount", "Amount"], "amount", "3, 4"),
        (["customer_id", "date", "customer_id", "amount"], "customer_id", "1, 3"),
        (["customer_id", "Date", "amount", "date"], "Date", "2, 4"),
        (["مشتری", "تاریخ", "مبلغ", "مبلغ"], "مبلغ", "3, 4"),
    ],
)
def test_duplicated_header_of_a_used_column(header, name, positions):
    with pytest.raises(InputError) as caught:
        choose(header)
    assert str(caught.value) == (
        f"shop.csv: column '{name}' appears more than once in the header (columns {positions})"
    )


def test_duplicated_header_of_an_unused_column_is_fine():
    header = ["customer_id", "date", "amount", "note", "note"]
    assert choose(header) == ColumnChoice(customer=0, date=1, amount=2, channel=None)


def test_duplicated_explicit_column_is_an_error():
    header = ["ref", "ref", "date", "amount"]
    with pytest.raises(InputError, match=r"column 'ref' appears more than once"):
        choose(header, customer="ref")


def test_one_column_named_for_two_roles_is_an_error():
    header = ["customer_id", "date", "amount"]
    with pytest.raises(InputError, match="one column was picked for two roles"):
        choose(header, customer="amount", amount="amount")


# ------------------------------------------------------- the exports shops write


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["CustomerID", "InvoiceDate", "Revenue"], ("CustomerID", "InvoiceDate", "Revenue")),
        (["Customer Email", "Order Created", "Order Total"], None),
        (["Email", "Paid at", "Total"], None),
        (["donor", "date", "amount"], None),
        (["member", "Created", "montant"], None),
        (["id", "date", "amount"], None),
        (["E-mail", "Date", "Montant TTC"], None),
        (["Kundennummer", "Datum", "Betrag"], None),
        (["cliente", "fecha", "importe"], None),
    ],
)
def test_names_real_exports_use(header, expected):
    assert roles(header)[:3] == (expected or tuple(header))


def test_an_email_is_preferred_to_a_name():
    header = ["customer_name", "email", "date", "amount"]
    assert roles(header)[0] == "email"
    header = ["Customer Name", "Customer Phone", "Order Date", "Total"]
    assert roles(header)[0] == "Customer Phone"


def test_an_id_inside_a_longer_name_is_preferred_to_a_name():
    header = ["Customer Full Name", "Customer Ref No", "Order Date", "Total"]
    assert roles(header)[0] == "Customer Ref No"


def test_a_discount_or_a_birth_date_is_a_poorer_match():
    header = ["customer", "Date of Birth", "Purchase Date Local", "Discount Amount", "Net Sales"]
    assert roles(header)[1:3] == ("Purchase Date Local", "Net Sales")


def test_a_total_is_preferred_to_a_price():
    header = ["customer_id", "date", "price", "sales"]
    choice = choose(header)
    assert header[choice.amount] == "sales" and choice.quantity is None


def test_quantity_times_unit_price_when_there_is_no_amount():
    header = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
              "CustomerID", "Country"]  # fmt: skip
    choice = choose(header)
    assert (choice.customer, choice.date, choice.amount, choice.quantity, choice.order) == (
        6,
        4,
        5,
        3,
        0,
    )
    assert choice.note == (
        "shop.csv: customer 'CustomerID', date 'InvoiceDate', amount 'Quantity' x 'UnitPrice'"
    )


def test_a_price_alone_is_the_amount():
    choice = choose(["client", "timestamp", "price"])
    assert choice.amount == 2 and choice.quantity is None


def test_a_quantity_beside_a_total_is_not_multiplied():
    choice = choose(["customer_id", "date", "qty", "total"])
    assert choice.amount == 3 and choice.quantity is None


SHOPIFY = [
    "Name",
    "Email",
    "Financial Status",
    "Paid at",
    "Fulfillment Status",
    "Fulfilled at",
    "Accepts Marketing",
    "Currency",
    "Subtotal",
    "Shipping",
    "Taxes",
    "Total",
    "Discount Code",
    "Discount Amount",
    "Shipping Method",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Billing Name",
    "Cancelled at",
    "Refunded Amount",
    "Id",
    "Source",
    "Phone",
    "Receipt Number",
]


def test_a_shopify_export():
    choice = choose(SHOPIFY)
    assert roles(SHOPIFY) == ("Email", "Paid at", "Total", "Source")
    assert SHOPIFY[choice.order] == "Name"  # the order number, #1001, not the customer
    assert choice.quantity is None
    assert choice.note == (
        "shop.csv: customer 'Email', date 'Paid at', amount 'Total', channel 'Source'"
    )


def test_name_is_no_order_number_outside_a_shopify_export():
    assert choose(["Name", "customer_id", "date", "amount"]).order is None


@pytest.mark.parametrize(
    "header",
    [
        ["customer_id", "date", "amount"],
        ["Customer ID", "Order Date", "Amount"],
        ["کد مشتری", "تاریخ سفارش", "مبلغ (تومان)"],
        ["customer_id", "date", "amount", "channel"],
        ["customer_id", "order_id", "date", "amount"],
    ],
)
def test_no_note_on_a_plain_header(header):
    assert choose(header).note is None


@pytest.mark.parametrize(
    "header",
    [
        ["customer_name", "email", "date", "amount"],  # two candidates
        ["customer_id", "date", "price", "sales"],
        ["Client Name", "Purchase Date (UTC)", "Net Sales"],  # words inside names
        ["id", "date", "amount"],
    ],
)
def test_a_note_when_detection_chose(header):
    assert choose(header).note.startswith("shop.csv: customer '")


def test_given_columns_need_no_note():
    header = ["customer_name", "email", "date", "amount"]
    assert choose(header, customer="email").note is None


def test_a_bare_id_beside_a_column_of_no_role_is_not_taken_for_the_customer():
    with pytest.raises(InputError, match="no customer column found"):
        choose(["id", "date", "amount", "note"])


@pytest.mark.parametrize(
    ("header", "customer"),
    [
        (["id", "customer_id", "date", "amount"], "customer_id"),
        (["Id", "Email", "Paid at", "Total"], "Email"),
    ],
)
def test_a_bare_id_beside_a_customer_column_is_not_the_customer(header, customer):
    choice = choose(header)
    assert header[choice.customer] == customer and not choice.customer_by_shape


def test_a_bare_id_with_a_channel():
    choice = choose(["id", "date", "amount", "channel"])
    assert choice.customer == 0 and choice.customer_by_shape


def test_camel_case_and_compact_names_both_match():
    assert roles(["customerId", "orderDate", "Revenue"])[:2] == ("customerId", "orderDate")
    assert choose(["CustomerID", "date", "amount"], customer="customerid").customer == 0


def test_order_number_names():
    for name in ("order_id", "Order Number", "InvoiceNo", "شماره سفارش", "Invoice"):
        assert choose([name, "customer_id", "date", "amount", "sku"]).order == 0


@pytest.mark.parametrize("line", ["sku", "Quantity", "Lineitem name", "Description", "کالا"])
def test_the_order_number_is_read_from_exports_of_order_lines_only(line):
    assert choose(["order_id", "customer_id", "date", "amount", line]).order == 0
    assert choose(["order_id", "customer_id", "date", "amount"]).order is None


def test_a_persian_invoice_of_lines():
    header = ["شماره فاکتور", "کد مشتری", "تاریخ", "نام کالا", "تعداد", "فی"]
    choice = choose(header)
    assert (choice.order, choice.customer, choice.date, choice.quantity, choice.amount) == (
        0, 1, 2, 4, 5
    )  # fmt: skip


def test_a_header_read_as_one_column_hints_at_its_delimiter():
    """Space-aligned text with one ragged row is read as one column: the error says
    which --delimiter would split it, not only that the date column is missing."""
    with pytest.raises(InputError) as caught:
        choose(["customer date amount"])
    assert "no date column found" in str(caught.value) or "no customer column" in str(caught.value)
    assert "--delimiter ' '" in caught.value.hint
    with pytest.raises(InputError) as caught:
        choose(["customer;date;amount"])
    assert "--delimiter ';'" in caught.value.hint
    with pytest.raises(InputError) as caught:
        choose(["customer_id", "day"])
    assert caught.value.hint.startswith("name it with --")
