"""End to end: the exports shops really write, read with no option.

The whole CDNOW master log is rendered the way two real systems write it, a Shopify
order export (one row per line item, the order's ``Total`` on its first row only, the
customer an e-mail, ``Paid at`` with the shop's offset) and the UCI Online Retail layout
(``Quantity`` x ``UnitPrice``, ids like ``17850.0``, month-first dates, ``C`` invoices
for returns, rows with no customer), and each must give every customer the purchases
and the money of the clean log, which the test sums up on its own.
"""

from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

MASTER = Path(__file__).parents[1] / "data" / "cdnow_master.csv"
PUBLISHED_TOTAL = 2_500_315.63  # the sum of the master log's amounts
PUBLISHED_ROWS = 69_659
PUBLISHED_CUSTOMERS = 23_570


@dataclass(frozen=True)
class Purchase:
    customer: str  # as in the master log: 00001
    year: int
    month: int
    day: int
    cents: int

    @property
    def iso(self) -> str:
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True)
class Customer:
    first: str
    last: str
    orders: int  # purchase days
    spend: float


@pytest.fixture(scope="module")
def master() -> list[Purchase]:
    with MASTER.open(encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == PUBLISHED_ROWS
    return [
        Purchase(
            row["customer_id"],
            int(row["date"][:4]),
            int(row["date"][5:7]),
            int(row["date"][8:10]),
            round(float(row["amount"]) * 100),
        )
        for row in rows
    ]


@pytest.fixture(scope="module")
def expected(master: list[Purchase]) -> dict[str, Customer]:
    """Each customer of the clean log, summed up here rather than by clv."""
    days: dict[str, set[str]] = defaultdict(set)
    cents: dict[str, int] = defaultdict(int)
    for purchase in master:
        days[purchase.customer].add(purchase.iso)
        cents[purchase.customer] += purchase.cents
    assert sum(cents.values()) == round(PUBLISHED_TOTAL * 100)
    return {
        customer: Customer(min(d), max(d), len(d), cents[customer] / 100)
        for customer, d in days.items()
    }


@pytest.fixture(autouse=True)
def _here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def computed(stdout: str, to_master_id) -> dict[str, Customer]:
    rows = csv.DictReader(io.StringIO(stdout))
    return {
        to_master_id(row["customer_id"]): Customer(
            row["first_purchase"],
            row["last_purchase"],
            int(row["orders"]),
            float(row["total_spend"]),
        )
        for row in rows
    }


def assert_same_customers(got: dict[str, Customer], expected: dict[str, Customer]) -> None:
    assert len(got) == PUBLISHED_CUSTOMERS
    assert got.keys() == expected.keys()
    differ = [c for c in expected if got[c] != expected[c]]
    assert not differ, (
        f"{len(differ)} customers differ, e.g. {got[differ[0]]} != {expected[differ[0]]}"
    )
    assert sum(c.spend for c in got.values()) == pytest.approx(PUBLISHED_TOTAL, rel=1e-12)


def split_cents(cents: int, parts: int) -> list[int]:
    """An order's total cut into line prices that add up to it."""
    if cents < 100 * parts:
        return [cents]
    cut = [cents // parts] * parts
    cut[0] += cents - sum(cut)
    return cut


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# --------------------------------------------------------------------- Shopify

SHOPIFY_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,"
    "Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,"
    "Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,"
    "Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,"
    "Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,"
    "Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,"
    "Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,"
    "Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,"
    "Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,"
    "Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,"
    "Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,"
    "Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,"
    "Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,"
    "Payment References"
)
SHOPIFY_COLUMNS = SHOPIFY_HEADER.split(",")
# What Shopify writes on an order's further line-item rows; the rest stays empty.
LINE_COLUMNS = {
    "Name",
    "Email",
    "Created at",
    "Lineitem quantity",
    "Lineitem name",
    "Lineitem price",
    "Lineitem compare at price",
    "Lineitem sku",
    "Lineitem requires shipping",
    "Lineitem taxable",
    "Lineitem fulfillment status",
    "Vendor",
    "Lineitem discount",
}


def email(customer: str) -> str:
    return f"customer.{customer}@example.com"


def shopify_export(purchases: list[Purchase], path: Path) -> int:
    """The log as a Shopify order export; gives how many line-item rows follow a first."""
    rng = random.Random(42)
    further = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, SHOPIFY_COLUMNS, restval="", lineterminator="\n")
        writer.writeheader()
        for number, purchase in enumerate(purchases, start=1001):
            hour, minute, second = rng.randrange(8, 23), rng.randrange(60), rng.randrange(60)
            created = f"{purchase.iso} {hour:02d}:{minute:02d}:{second:02d} +0330"
            paid = f"{purchase.iso} {hour:02d}:{minute:02d}:{min(second + 9, 59):02d} +0330"
            total = money(purchase.cents)
            order = {
                "Name": f"#{number}",
                "Email": email(purchase.customer),
                "Financial Status": "paid",
                "Paid at": paid,
                "Fulfillment Status": "fulfilled",
                "Fulfilled at": created,
                "Accepts Marketing": rng.choice(["yes", "no"]),
                "Currency": "USD",
                "Subtotal": total,
                "Shipping": "0.00",
                "Taxes": "0.00",
                "Total": total,
                "Discount Amount": "0.00",
                "Shipping Method": "Standard",
                "Created at": created,
                "Billing Name": f"Customer {int(purchase.customer)}",
                "Billing Country": "US",
                "Payment Method": "shopify_payments",
                "Refunded Amount": "0.00",
                "Outstanding Balance": "0.00",
                "Id": str(4_400_000_000 + number),
                "Risk Level": "Low",
                "Source": "web",
                "Tax 1 Name": "",
            }
            lines = split_cents(purchase.cents, rng.choice([1, 1, 1, 2, 3]))
            for index, cents in enumerate(lines):
                line = {
                    "Lineitem quantity": "1",
                    "Lineitem name": f"CD {rng.randrange(1, 500)}",
                    "Lineitem price": money(cents),
                    "Lineitem sku": f"CD-{rng.randrange(1, 500):04d}",
                    "Lineitem requires shipping": "true",
                    "Lineitem taxable": "true",
                    "Lineitem fulfillment status": "fulfilled",
                    "Vendor": "CDNOW",
                    "Lineitem discount": "0.00",
                }
                if index == 0:
                    writer.writerow(order | line)
                else:
                    further += 1
                    kept = {k: v for k, v in order.items() if k in LINE_COLUMNS}
                    writer.writerow(kept | line)
    return further


def test_a_shopify_order_export(clv, master, expected):
    further = shopify_export(master, Path("orders_export.csv"))
    assert further > 10_000
    result = clv("compute", "orders_export.csv", "--model", "none", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    by_email = {email(c): c for c in expected}
    assert_same_customers(computed(result.stdout, by_email.__getitem__), expected)
    assert result.stderr_lines == [
        "clv: note: orders_export.csv: customer 'Email', date 'Paid at', amount 'Total', "
        f"channel 'Source'; {further:,} rows with no 'Total' read as further lines of an "
        "order counted once (by 'Name')"
    ]
    quiet = clv("summary", "orders_export.csv", "--quiet", "--format", "csv")
    assert quiet.exit_code == 0 and quiet.stderr == ""


def test_an_unpaid_shopify_order_is_refused_with_its_row(clv, write):
    text = ",".join(SHOPIFY_COLUMNS) + "\n"
    row = dict.fromkeys(SHOPIFY_COLUMNS, "")
    row |= {"Name": "#1001", "Email": "a@x.com", "Paid at": "2024-03-05 14:22:10 +0330"}
    row |= {"Total": "25.00", "Financial Status": "paid"}
    text += ",".join(row.values()) + "\n"
    row |= {"Name": "#1002", "Paid at": "", "Total": "9.00", "Financial Status": "pending"}
    text += ",".join(row.values()) + "\n"
    write("orders_export.csv", text)
    result = clv("compute", "orders_export.csv", "--model", "none")
    assert result.exit_code == 3
    assert result.stderr_lines == [
        "clv: error: orders_export.csv: row 2 (line 3), column 'Paid at': cannot read '' as a date",
        "hint: a row with no date is no purchase yet (an unpaid order, say): pass "
        "--skip-invalid to leave such rows out, or name another column with --date-col",
    ]
    paid = clv("compute", "orders_export.csv", "--model", "none", "--skip-invalid")
    assert paid.exit_code == 0 and "skipped 1 row with bad values" in paid.stderr


# ------------------------------------------------------------------------- UCI

UCI_COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
ITEMS = [
    ("85123A", "WHITE HANGING HEART T-LIGHT HOLDER"),
    ("22720", "SET OF 3 CAKE TINS, PANTRY DESIGN"),
    ("21212", 'PACK OF 72 "RETROSPOT" CAKE CASES'),
    ("POST", "POSTAGE"),
]


def uci_export(purchases: list[Purchase], path: Path, *, guests: int = 0) -> int:
    """The log in the UCI Online Retail layout; gives how many return rows it holds.

    Each purchase is an invoice of one to three lines whose quantity x unit price add
    up to its amount. Some invoices carry a further line that a return invoice (``C``)
    takes back on the same day: with a negative quantity, as UCI writes them, or with
    a positive one. ``guests`` rows have no customer.
    """
    rng = random.Random(7)
    invoice = 536365
    returns = 0
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(UCI_COLUMNS)

        def line(number: str, quantity: int, price_cents: int, day: Purchase, who: str) -> None:
            code, description = rng.choice(ITEMS)
            when = (
                f"{day.month}/{day.day}/{day.year} {rng.randrange(8, 20)}:{rng.randrange(60):02d}"
            )
            price = money(price_cents)
            writer.writerow(
                [number, code, description, quantity, when, price, who, "United Kingdom"]
            )

        for index, purchase in enumerate(purchases):
            who = f"{int(purchase.customer)}.0"
            for cents in split_cents(purchase.cents, rng.choice([1, 1, 2, 3])):
                quantity = next(q for q in (12, 6, 4, 3, 2, 1) if cents % q == 0)
                line(str(invoice), quantity, cents // quantity, purchase, who)
            if index % 97 == 5 or index % 89 == 7:
                line(str(invoice), 2, 125, purchase, who)  # taken back below
                invoice += 1
                taken_back = 2 if index % 97 == 5 else -2
                line(f"C{invoice}", taken_back, 125, purchase, who)
                returns += 1
            invoice += 1
        for _ in range(guests):
            invoice += 1
            line(str(invoice), 1, 295, rng.choice(purchases), "")
    return returns


def test_the_uci_online_retail_layout(clv, master, expected):
    returns = uci_export(master, Path("Online Retail.csv"))
    assert returns > 1_000
    result = clv("compute", "Online Retail.csv", "--model", "none", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    by_number = {str(int(c)): c for c in expected}
    assert_same_customers(computed(result.stdout, by_number.__getitem__), expected)
    assert result.stderr_lines == [
        "clv: note: Online Retail.csv: customer 'CustomerID', date 'InvoiceDate', amount "
        "'Quantity' x 'UnitPrice'; ids written as floats ('1.0') read as whole numbers; "
        f"{returns:,} rows of invoices starting with C ('InvoiceNo') read as returns"
    ]


def test_uci_rows_with_no_customer_are_refused_or_skipped(clv, master, expected):
    uci_export(master, Path("Online Retail.csv"), guests=25)
    result = clv("compute", "Online Retail.csv", "--model", "none", "--format", "csv")
    assert result.exit_code == 3
    error, hint = result.stderr_lines
    assert error.startswith("clv: error: Online Retail.csv: row ")
    assert error.endswith(", column 'CustomerID': empty customer id; 25 bad rows in all")
    assert hint == (
        "hint: a row with no customer id (a guest or walk-in sale) is no one's purchase: "
        "pass --skip-invalid to leave such rows out, or fill in the ids"
    )
    skipped = clv(
        "compute", "Online Retail.csv", "--model", "none", "--format", "csv", "--skip-invalid"
    )
    assert skipped.exit_code == 0
    by_number = {str(int(c)): c for c in expected}
    assert_same_customers(computed(skipped.stdout, by_number.__getitem__), expected)
    assert "clv: warning: Online Retail.csv: skipped 25 rows with bad values" in skipped.stderr


def test_duckdb_leaves_quantity_times_price_to_the_reader(clv, master):
    uci_export(master[:50], Path("Online Retail.csv"))
    result = clv("compute", "Online Retail.csv", "--engine", "duckdb", "-q")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == clv("compute", "Online Retail.csv", "-q").stdout


# ------------------------------------------------------------------ small logs


@pytest.mark.parametrize(
    ("header", "note"),
    [
        ("customer_id,date,amount", None),
        ("CustomerID,InvoiceDate,Revenue", None),
        ("donor,date,amount", "customer 'donor', date 'date', amount 'amount'"),
        ("id,date,amount", "customer 'id', date 'date', amount 'amount'"),
        (
            "Customer Email,Order Created,Order Total",
            "customer 'Customer Email', date 'Order Created', amount 'Order Total'",
        ),
        ("customer_name,email,Created,montant", "customer 'email', date 'Created', amount "),
    ],
)
def test_a_small_log_under_many_names(clv, write, header, note):
    names = header.split(",")
    rows = ["C1,2024-01-01,10.00", "C2,2024-01-02,5.00", "C1,2024-02-01,2.50"]
    if len(names) == 4:
        rows = [f"Name {r[:2]},{r}" for r in rows]
    write("log.csv", header + "\n" + "\n".join(rows) + "\n")
    result = clv("compute", "log.csv", "--model", "none", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    got = computed(result.stdout, str)
    assert {c: v.spend for c, v in got.items()} == {"C1": 12.5, "C2": 5.0}
    if note is None:
        assert all("note" not in line for line in result.stderr_lines), result.stderr
    else:
        assert result.stderr_lines[0].startswith(f"clv: note: log.csv: {note}")
