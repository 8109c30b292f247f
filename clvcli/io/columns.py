"""Finding the customer, date, amount and channel columns of an export.

Exports name columns in many ways: ``customer_id``, ``Customer ID``, ``کد مشتری``,
``مبلغ (تومان)``, ``Order Date``. A column is recognised by, in order of trust: its
whole name, its name without a qualifier in brackets, or a known word inside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clvcli.errors import InputError, UsageError
from clvcli.io.text import header_key

ROLES = ("customer", "date", "amount", "channel")
# The amount is optional: a log of purchase days alone (visits, counted gifts) is read
# with empty money columns when no column could hold amounts (see io/amountless.py).
REQUIRED_ROLES = ("customer", "date")
# ``--amount-col none``: count purchases and leave money empty whatever the columns.
NO_AMOUNT = "none"

# Whole names first; each list is in order of preference.
_NAMES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer id",
        "customer",
        "customerid",
        "user id",
        "userid",
        "client",
        "client id",
        "customer code",
        "customer no",
        "customer number",
        "member id",
        "buyer id",
        "user",
        "buyer",
        "account id",
        "مشتری",
        "کد مشتری",
        "شناسه مشتری",
        "شماره مشتری",
        "کاربر",
        "شناسه کاربر",
        "خریدار",
    ),
    "date": (
        "date",
        "order date",
        "orderdate",
        "purchase date",
        "transaction date",
        "invoice date",
        "created at",
        "createdat",
        "created",
        "timestamp",
        "datetime",
        "order time",
        "time",
        "تاریخ",
        "تاریخ سفارش",
        "تاریخ خرید",
        "تاریخ فاکتور",
        "زمان",
        "تاریخ تراکنش",
    ),
    "amount": (
        "amount",
        "total",
        "revenue",
        "price",
        "sales",
        "value",
        "order total",
        "order value",
        "total amount",
        "net amount",
        "grand total",
        "sale amount",
        "payment",
        "paid",
        "مبلغ",
        "مبلغ کل",
        "جمع",
        "جمع کل",
        "قیمت",
        "فروش",
        "مبلغ سفارش",
        "مبلغ فاکتور",
        "مبلغ پرداختی",
        "درآمد",
    ),
    "channel": (
        "channel",
        "acquisition channel",
        "source",
        "utm source",
        "utmsource",
        "medium",
        "marketing channel",
        "کانال",
        "کانال جذب",
        "منبع",
        "کانال ورود",
        "منبع جذب",
    ),
}
# Words that mark a column's role when they appear inside a longer name.
_WORDS: dict[str, tuple[str, ...]] = {
    "customer": ("customer", "client", "مشتری", "خریدار"),
    "date": ("date", "تاریخ"),
    "amount": ("amount", "revenue", "total", "مبلغ", "sales"),
    "channel": ("channel", "کانال"),
}
_QUALIFIER = re.compile(r"[\(\[\{（].*?[\)\]\}）]")


@dataclass(frozen=True)
class ColumnChoice:
    """Header positions chosen for each role (channel may be absent)."""

    customer: int
    date: int
    amount: int | None  # None: no amount column (a log of purchase days)
    channel: int | None


def choose_columns(header: list[str], source: str, given: dict[str, str | None]) -> ColumnChoice:
    """Pick the column of each role, from the user's names or by detection.

    Raises InputError naming the columns found when a required one is missing, and
    when the header repeats the name of a column that would be used. No amount column
    gives ``amount=None``: the reader decides whether the log is one of purchase days
    alone (:func:`clvcli.io.amountless.check_amountless`).
    """
    keys = [header_key(name) for name in header]
    chosen: dict[str, int | None] = {}
    for role in ROLES:
        name = given.get(role)
        if role == "amount" and no_amount_given(given) and header_key(name or "") not in keys:
            chosen[role] = None
        elif name:
            chosen[role] = _named_column(header, keys, name, role, source)
    for role in ROLES:
        if role not in chosen:
            taken_now = {c for c in chosen.values() if c is not None}
            chosen[role] = _detect(keys, role, taken_now)
    taken = [c for c in chosen.values() if c is not None]
    for role in REQUIRED_ROLES:
        if chosen[role] is None:
            raise InputError(
                f"{source}: no {role} column found; columns are: {_list(header)}",
                f"name it with --{role}-col",
            )
    if len(set(taken)) != len(taken):
        raise InputError(
            f"{source}: one column was picked for two roles ({_roles(chosen, header)})",
            "name the columns with --customer-col, --date-col and --amount-col",
        )
    for role, index in chosen.items():
        if index is not None and keys.count(keys[index]) > 1:
            positions = ", ".join(str(i + 1) for i, k in enumerate(keys) if k == keys[index])
            raise InputError(
                f"{source}: column '{header[index]}' appears more than once in the header "
                f"(columns {positions})",
                "rename the duplicates so the " + role + " column is unambiguous",
            )
    return ColumnChoice(
        customer=chosen["customer"],  # type: ignore[arg-type]
        date=chosen["date"],  # type: ignore[arg-type]
        amount=chosen["amount"],
        channel=chosen["channel"],
    )


def no_amount_given(given: dict[str, str | None]) -> bool:
    """Whether the user said the log has no amounts (``--amount-col none``)."""
    return (given.get("amount") or "").strip().lower() == NO_AMOUNT


def find_column(header: list[str], role: str) -> int | None:
    """The position of the column detected for ``role``, or None: for other files
    (costs, customer lists) that share the transaction log's column names."""
    return _detect([header_key(name) for name in header], role, set())


def _named_column(header: list[str], keys: list[str], name: str, role: str, source: str) -> int:
    for index, column in enumerate(header):
        if column == name:
            return index
    wanted = header_key(name)
    for index, key in enumerate(keys):
        if key == wanted:
            return index
    raise UsageError(
        f"{source}: --{role}-col '{name}' is not a column; columns are: {_list(header)}"
    )


def _detect(keys: list[str], role: str, taken: set[int]) -> int | None:
    unqualified = [" ".join(_QUALIFIER.sub(" ", key).split()) for key in keys]
    for candidates in (keys, unqualified):
        for name in _NAMES[role]:
            for index, key in enumerate(candidates):
                if key == name and index not in taken:
                    return index
    for word in _WORDS[role]:
        for index, key in enumerate(unqualified):
            if index in taken:
                continue
            if word in key.split() or (not word.isascii() and word in key):
                return index
    return None


def _list(header: list[str]) -> str:
    """The header for a message: printable, each name and the list kept short."""
    if not header:
        return "(none)"
    names = []
    for name in header[:12]:
        printable = "".join(ch if ch.isprintable() else "?" for ch in name)
        names.append(printable if len(printable) <= 40 else printable[:39] + "…")
    more = f" and {len(header) - 12} more" if len(header) > 12 else ""
    return ", ".join(names) + more


def _roles(chosen: dict[str, int | None], header: list[str]) -> str:
    return ", ".join(f"{role}='{header[i]}'" for role, i in chosen.items() if i is not None)
