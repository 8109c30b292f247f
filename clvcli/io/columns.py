"""Finding the customer, date, amount and channel columns of an export.

Exports name columns in many ways: ``customer_id``, ``Customer ID``, ``کد مشتری``,
``مبلغ (تومان)``, ``Order Date``, ``CustomerID``. A column is recognised by, in order of
trust: its whole name (``InvoiceDate`` read as ``invoice date``), its name without a
qualifier in brackets, or a known word inside it.

Besides the three roles a log needs, detection finds the columns shops' line-item
exports carry: a quantity (when the amount is a unit price, the amount is quantity x
price) and an order or invoice number (a Shopify export repeats an order's total on
its first line only; a UCI-style invoice ``C536379`` is a return). When the choice was
not plain, :attr:`ColumnChoice.note` says which columns were used.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

from clvcli.errors import InputError, UsageError
from clvcli.io.text import header_key

ROLES = ("customer", "date", "amount", "channel")
# The amount is optional: a log of purchase days alone (visits, counted gifts) is read
# with empty money columns when no column could hold amounts (see io/amountless.py).
REQUIRED_ROLES = ("customer", "date")
# ``--amount-col none``: count purchases and leave money empty whatever the columns.
NO_AMOUNT = "none"
# Columns read besides the roles, for exports written one row per order line.
LINE_ROLES = ("quantity", "order")

# E-mail addresses and phone numbers: they stand for the customer when no id does.
_CONTACTS = (
    "customer email",
    "customer e mail",
    "email",
    "e mail",
    "email address",
    "e mail address",
    "buyer email",
    "user email",
    "ایمیل",
    "پست الکترونیک",
    "mobile",
    "phone",
    "customer phone",
    "موبایل",
    "شماره موبایل",
    "تلفن همراه",
    "شماره همراه",
)

# Unit prices: an amount only when multiplied by a quantity column (see _PRICES).
_PRICE_NAMES = (
    "price",
    "unit price",
    "unitprice",
    "price each",
    "priceeach",
    "item price",
    "prix",
    "prix unitaire",
    "قیمت",
    "قیمت واحد",
    "فی",
)

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
        "donor id",
        "donor",
        "member",
        "member number",
        "subscriber id",
        "contact id",
        "cust id",
        "custid",
        "customer key",
        "id client",
        "numero client",
        "kunde",
        "kundennummer",
        "kunden id",
        "cliente",
        "id cliente",
        "مشتری",
        "کد مشتری",
        "شناسه مشتری",
        "شماره مشتری",
        "کاربر",
        "شناسه کاربر",
        "خریدار",
        "کد اشتراک",
        # An e-mail address or a phone number stands for the customer when no id does.
        *_CONTACTS,
    ),
    "date": (
        "date",
        "order date",
        "orderdate",
        "purchase date",
        "transaction date",
        "invoice date",
        "paid at",
        "payment date",
        "created at",
        "createdat",
        "created",
        "order created",
        "order created at",
        "processed at",
        "timestamp",
        "datetime",
        "order time",
        "time",
        "date commande",
        "datum",
        "bestelldatum",
        "fecha",
        "تاریخ",
        "تاریخ سفارش",
        "تاریخ خرید",
        "تاریخ فاکتور",
        "زمان",
        "تاریخ تراکنش",
        "تاریخ پرداخت",
    ),
    "amount": (
        "amount",
        "total",
        "revenue",
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
        "montant",
        "montant ttc",
        "total ttc",
        "betrag",
        "umsatz",
        "importe",
        "monto",
        "مبلغ",
        "مبلغ کل",
        "جمع",
        "جمع کل",
        "فروش",
        "مبلغ سفارش",
        "مبلغ فاکتور",
        "مبلغ پرداختی",
        "درآمد",
        # A price is the amount of a line only with its quantity (see _PRICES).
        *_PRICE_NAMES,
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
    "quantity": (
        "quantity",
        "qty",
        "quantity ordered",
        "quantityordered",
        "units",
        "item quantity",
        "lineitem quantity",
        "quantite",
        "quantité",
        "menge",
        "cantidad",
        "تعداد",
    ),
    "order": (
        "order id",
        "orderid",
        "order number",
        "order no",
        "order",
        "order #",
        "invoice",
        "invoice no",
        "invoiceno",
        "invoice number",
        "invoice id",
        "receipt",
        "receipt number",
        "transaction id",
        "شماره سفارش",
        "کد سفارش",
        "شناسه سفارش",
        "شماره فاکتور",
    ),
}
# Words that mark a column's role when they appear inside a longer name.
_WORDS: dict[str, tuple[str, ...]] = {
    "customer": ("customer", "client", "مشتری", "خریدار"),
    "date": ("date", "تاریخ"),
    "amount": ("amount", "revenue", "total", "مبلغ", "sales"),
    "channel": ("channel", "کانال"),
    "quantity": ("quantity", "qty", "تعداد"),
    "order": ("invoice", "فاکتور"),
}
# Within a role's longer names, these words make a column a poorer match: an id or an
# e-mail is the customer rather than a name; a discount is no sale; a birth date is
# no purchase date.
_BETTER = ("id", "code", "no", "number", "key", "ref", "email", "mail", "کد", "شناسه", "شماره")
_POORER: dict[str, tuple[str, ...]] = {
    "customer": ("name", "نام", "type", "group", "segment", "since"),
    "date": ("birth", "due", "cancelled", "canceled", "refunded", "expiry", "ship", "shipped"),
    "amount": ("discount", "tax", "shipping", "refund", "refunded", "fee", "tip", "balance"),
}
# Names whose role is stood in for by something else (an e-mail for a customer, a
# payment time for the purchase): used, but said on stderr.
_INDIRECT = {
    "customer": {
        *_CONTACTS,
        "donor",
        "member",
        "user",
        "id",
    },
    "date": {"paid at", "payment date", "processed at", "time", "تاریخ پرداخت"},
    "amount": {"payment", "paid", "value"},
}
# Amount names that are a unit price: multiplied by a quantity column when there is one.
_PRICES = set(_PRICE_NAMES)
_QUALIFIER = re.compile(r"[\(\[\{（].*?[\)\]\}）]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@dataclass(frozen=True)
class ColumnChoice:
    """Header positions chosen for each role (channel may be absent).

    ``quantity`` is set when ``amount`` is a unit price to multiply by it; ``order``
    is the order or invoice number, when the export has one. ``note`` says which
    columns were used when that was not plain from the header (None when it was).
    """

    customer: int
    date: int
    amount: int | None  # None: no amount column (a log of purchase days)
    channel: int | None
    quantity: int | None = None
    order: int | None = None
    note: str | None = field(default=None, compare=False)
    # The customer column is a bare ``id`` told by the log's shape: its values must
    # repeat across rows to be a customer's (see io/order_lines.py).
    customer_by_shape: bool = field(default=False, compare=False)

    def positions(self) -> dict[str, int]:
        """The column of each role the export has, roles and line roles alike."""
        chosen = {role: getattr(self, role) for role in (*ROLES, *LINE_ROLES)}
        return {role: index for role, index in chosen.items() if index is not None}


def choose_columns(header: list[str], source: str, given: dict[str, str | None]) -> ColumnChoice:
    """Pick the column of each role, from the user's names or by detection.

    Raises InputError naming the columns found when a required one is missing, and
    when the header repeats the name of a column that would be used. No amount column
    gives ``amount=None``: the reader decides whether the log is one of purchase days
    alone (:func:`clvcli.io.amountless.check_amountless`).
    """
    keys = [header_key(name) for name in header]
    forms = _forms(header)
    chosen: dict[str, int | None] = {}
    found: dict[str, _Match] = {}
    for role in ROLES:
        name = given.get(role)
        if role == "amount" and no_amount_given(given) and header_key(name or "") not in keys:
            chosen[role] = None
        elif name:
            chosen[role] = _named_column(header, keys, name, role, source)
    for role in ROLES:
        if role not in chosen:
            taken_now = {c for c in chosen.values() if c is not None}
            match = _best(forms, role, taken_now)
            chosen[role] = None if match is None else match.index
            if match is not None:
                found[role] = match
    by_shape = _bare_id_customer(forms, chosen, given)
    if by_shape is not None:
        chosen["customer"] = by_shape
        found["customer"] = _Match(by_shape, "id", 0, 1)
    taken = [c for c in chosen.values() if c is not None]
    for role in REQUIRED_ROLES:
        if chosen[role] is None:
            raise InputError(
                f"{source}: no {role} column found; columns are: {_list(header)}",
                _one_column_hint(header) or f"name it with --{role}-col",
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
    used = set(taken)
    quantity = None
    if "amount" in found and found["amount"].name in _PRICES:
        match = _best(forms, "quantity", used)
        quantity = None if match is None else match.index
    order = _order_column(forms, used | {quantity})
    choice = ColumnChoice(
        customer=chosen["customer"],  # type: ignore[arg-type]
        date=chosen["date"],  # type: ignore[arg-type]
        amount=chosen["amount"],
        channel=chosen["channel"],
        quantity=quantity,
        order=order,
        customer_by_shape=by_shape is not None,
    )
    plain = quantity is None and all(match.plain(role) for role, match in found.items())
    return choice if plain else _with_note(choice, header, source)


def no_amount_given(given: dict[str, str | None]) -> bool:
    """Whether the user said the log has no amounts (``--amount-col none``)."""
    return (given.get("amount") or "").strip().lower() == NO_AMOUNT


def find_column(header: list[str], role: str) -> int | None:
    """The position of the column detected for ``role``, or None: for other files
    (costs, customer lists) that share the transaction log's column names."""
    match = _best(_forms(header), role, set())
    return None if match is None else match.index


def describe(choice: ColumnChoice, header: list[str]) -> str:
    """The columns a choice uses, as the note on stderr names them."""
    parts = [f"customer '{header[choice.customer]}'", f"date '{header[choice.date]}'"]
    if choice.amount is None:
        pass  # a log of purchase days: its own note says so
    elif choice.quantity is None:
        parts.append(f"amount '{header[choice.amount]}'")
    else:
        parts.append(f"amount '{header[choice.quantity]}' x '{header[choice.amount]}'")
    if choice.channel is not None:
        parts.append(f"channel '{header[choice.channel]}'")
    return ", ".join(parts)


def _with_note(choice: ColumnChoice, header: list[str], source: str) -> ColumnChoice:
    return dataclasses.replace(choice, note=f"{source}: {describe(choice, header)}")


def _named_column(header: list[str], keys: list[str], name: str, role: str, source: str) -> int:
    for index, column in enumerate(header):
        if column == name:
            return index
    wanted = header_key(name)
    for index, key in enumerate(keys):
        if key == wanted:
            return index
    if name.strip().isdigit() and 1 <= int(name) <= len(header):
        return int(name) - 1  # a position: 1 is the first column
    raise UsageError(
        f"{source}: --{role}-col '{name}' is not a column; columns are: {_list(header)}"
    )


def _one_column_hint(header: list[str]) -> str | None:
    """For a header read as one column whose name holds several words apart (a file
    whose delimiter could not be told, say spaces with a ragged row): which
    delimiter to give."""
    if len(header) != 1:
        return None
    for delimiter, name in (("\t", "a tab"), (";", "';'"), ("|", "'|'"), (" ", "' '")):
        if len(header[0].strip().split(delimiter)) > 1:
            return (
                f"the header was read as one column: if {name} separates the fields, say "
                f"so with --delimiter {delimiter!r} (a row with more fields is then named)"
            )
    return None


@dataclass(frozen=True)
class _Forms:
    """The forms of each header name that detection compares."""

    keys: list[str]  # header_key, with camelCase split: ``InvoiceDate`` is ``invoice date``
    compact: list[str]  # header_key alone: ``customerId`` is ``customerid``
    unqualified: list[str]  # without a qualifier in brackets


def _forms(header: list[str]) -> _Forms:
    keys = [header_key(_CAMEL.sub(" ", name)) for name in header]
    unqualified = [" ".join(_QUALIFIER.sub(" ", key).split()) for key in keys]
    return _Forms(keys, [header_key(name) for name in header], unqualified)


@dataclass(frozen=True)
class _Match:
    """The column found for a role, by which name or word, and how many competed."""

    index: int
    name: str
    pass_: int  # 0: whole name, 1: name without qualifier, 2: word inside a name
    candidates: int

    def plain(self, role: str) -> bool:
        """Whether the column is plainly the role's: a direct whole name, no rival."""
        indirect = _INDIRECT.get(role, set())
        return self.pass_ < 2 and self.name not in indirect and self.candidates == 1


def _best(forms: _Forms, role: str, taken: set[int | None]) -> _Match | None:
    matches = _matches(forms, role, taken)
    if not matches:
        return None
    index, name, pass_ = matches[0]
    return _Match(index, name, pass_, len({m[0] for m in matches}))


def _matches(forms: _Forms, role: str, taken: set[int | None]) -> list[tuple[int, str, int]]:
    """Every column that could hold ``role``, best first: (position, name or word, pass)."""
    found: list[tuple[int, str, int]] = []
    for pass_, candidates in enumerate((forms.keys, forms.unqualified)):
        for name in _NAMES[role]:
            for index in range(len(candidates)):
                if index in taken:
                    continue
                if candidates[index] == name or (pass_ == 0 and forms.compact[index] == name):
                    found.append((index, name, pass_))
    poorer = _POORER.get(role, ())
    by_word: list[tuple[int, int, str]] = []
    for word in _WORDS[role]:
        for index, key in enumerate(forms.unqualified):
            if index in taken:
                continue
            words = key.split()
            if word in words or (not word.isascii() and word in key):
                rank = 1
                if _has_any(words, key, poorer):
                    rank = 2
                elif role == "customer" and _has_any(words, key, _BETTER):
                    rank = 0
                by_word.append((rank, index, word))
    # Stable: among equals, the order of the words, then of the columns, as before.
    found += [(index, word, 2) for _, index, word in sorted(by_word, key=lambda m: m[0])]
    seen: set[int] = set()
    unique = []
    for match in found:
        if match[0] not in seen:
            seen.add(match[0])
            unique.append(match)
    return unique


def _has_any(words: list[str], key: str, wanted: tuple[str, ...]) -> bool:
    """Whether a name holds one of ``wanted``: a whole word, or inside it for Persian."""
    return any(w in words if w.isascii() else w in key for w in wanted)


def _bare_id_customer(
    forms: _Forms, chosen: dict[str, int | None], given: dict[str, str | None]
) -> int | None:
    """A column named just ``id`` is the customer of a log that is nothing else.

    ``id, date, amount``: every other column has a role, so the id can only be the
    customer's (the reader then checks that ids repeat across rows). In a wider
    export an ``id`` is an order's or a row's, never taken for the customer.
    """
    if chosen.get("customer") is not None or given.get("customer"):
        return None
    ids = [i for i, key in enumerate(forms.keys) if key in ("id", "#")]
    if len(ids) != 1:
        return None
    others = {i for i in range(len(forms.keys)) if i != ids[0]}
    taken = {c for c in chosen.values() if c is not None}
    return ids[0] if others == taken else None


def _order_column(forms: _Forms, taken: set[int | None]) -> int | None:
    """The order or invoice number of an export written one row per order line.

    Only such an export needs it (an order's lines, a return invoice), so a log of
    one row per order never reads it. Shopify calls it ``Name`` beside ``Lineitem``
    columns.
    """
    lines = any(key.startswith("lineitem ") or key in _LINE_MARKS for key in forms.keys)
    if not lines and _best(forms, "quantity", set()) is None:
        return None
    if any(key.startswith("lineitem ") for key in forms.keys) and "name" in forms.keys:
        index = forms.keys.index("name")
        if index not in taken:
            return index
    match = _best(forms, "order", taken)
    return None if match is None else match.index


# Columns that say a row is an order's line, not an order.
_LINE_MARKS = {
    "sku",
    "stock code",
    "stockcode",
    "product",
    "product id",
    "product name",
    "item",
    "item name",
    "description",
    "کالا",
    "نام کالا",
    "کد کالا",
    "محصول",
}


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


def listed_columns(header: list[str]) -> str:
    """A header as messages list it (printable, each name and the list kept short)."""
    return _list(header)
