"""The per-customer summary as SQL, written once in DuckDB's dialect.

The heavy step of CLV is one pass over every transaction; the models need only the
per-customer summary. This module holds that pass as one query with clv's rules:
customer ids in clv's normal form, refunds netted per customer and day, a day whose
refunds bring it to zero or below not a purchase, field-convention frequency,
recency, T and monetary_value in --period units. Its result has the columns of
`clv summary` and can be passed back with `--summary FILE`.

With ``with_litt`` it also gives each customer's ``litt`` (contract.LITT_COLUMN): the
sum of the logs of the times between their purchase days, in --period units, 0 for a
customer with one purchase day, as :func:`clvcli.core.summary.log_inter_purchase_times`
gives it. Only the BG/CNBD-k and MBG/CNBD-k fits need it, and it costs a sort of the
purchase days, so the engines ask for it only then. ``clv summary --emit-sql`` leaves
it out: it is no column of `clv summary`, and `--summary FILE` does not read it.

The DuckDB engine runs the text as it is (no transpiler to import on the default
path); `clv summary --emit-sql` hands it to sqlglot, which writes it in each
warehouse's dialect. Money is DOUBLE, but its sums must not depend on the order
in which an engine's threads add a group's rows, or the same log gives other last
digits run to run (and a cent on the CSV can flip): DuckDB adds with ``FSUM``, its
compensated sum, and every other dialect adds exact decimals (:data:`EXACT_SUM`).
"""

from __future__ import annotations

import re
from typing import Any

from clvcli.contract import LITT_COLUMN, days_per
from clvcli.errors import UsageError
from clvcli.io.text import (
    ARABIC_ID_LETTERS,
    ARABIC_INDIC_DIGITS,
    INVISIBLE_MARKS,
    PERSIAN_DIGITS,
    PERSIAN_ID_LETTERS,
)

# The dialects --emit-sql writes, each by sqlglot's name for it.
DIALECTS = ("duckdb", "postgres", "spark", "bigquery", "snowflake", "trino")
_IDENTIFIER = re.compile(r"^[A-Za-z_\u0600-\u06FF][\w\u0600-\u06FF$ -]*$")

# What Python's str.strip and Arrow's utf8_trim_whitespace take off an id's ends,
# as a class of RE2 (whose \\s holds only five of these characters).
WHITESPACE_RE2 = "\\t-\\r\\x{1c}-\\x{1f} \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}" + (
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
)
# Printable ASCII, spelt without escapes so that every dialect's regular
# expressions read it alike: such an id's normal form is its trim.
_PRINTABLE_ASCII = "^[ -~]*$"
# The sum of a group's doubles whatever the order they come in: each rounded to
# DECIMAL(38, 9) (BigQuery's widest NUMERIC; money has fewer decimals, a log of a
# gap gains an error of 5e-10 at most), added exactly, and the total made a DOUBLE.
EXACT_SUM = "EXACT"
# How each dialect adds money and logs (see summary_sql's ``total``).
TOTALS = {"duckdb": "FSUM"}
# How much of the id normal form each dialect writes (see _normal_id); "trim" else.
ID_FORMS = {"duckdb": "whole", "spark": "blanks"}


def _quoted_column(name: str) -> str:
    """Any column name, quoted with its quote characters doubled (never injectable)."""
    if not name or not name.isprintable():
        raise UsageError(f"column name '{name}' cannot be used in SQL")
    return '"' + name.replace('"', '""') + '"'


def _quoted_table(name: str) -> str:
    """A validated table name, quoted; ``schema.table`` keeps its parts."""
    parts = name.split(".")
    for part in parts:
        if not _IDENTIFIER.match(part):
            raise UsageError(
                f"--table '{name}' is not a plain identifier",
                "use letters, digits, underscores, spaces or hyphens (schema.table is fine)",
            )
    return ".".join(f'"{part}"' for part in parts)


def _normal_id(text: str, *, form: str) -> str:
    """An id in clv's normal form (see :func:`clvcli.io.text.normalise_id`).

    Printable ASCII ids, most ids, only lose their blanks: a regular expression
    finds them, so the costly translation runs on the others alone. ``form`` says
    how much of the normal form the dialect can write: ``whole`` (DuckDB) all of it
    in ASCII (invisible marks dropped, NFC, digits and letters translated, Unicode
    blanks trimmed); ``blanks`` (Spark, whose TRIM takes spaces only, and which
    has no NFC) the invisible marks dropped, the digits and Arabic letters
    translated and the Unicode blanks trimmed, by regular expressions; ``trim``
    (the others) the digits and letters translated and the ends trimmed.
    """
    digits = PERSIAN_DIGITS + ARABIC_INDIC_DIGITS + ARABIC_ID_LETTERS
    to = "0123456789" * 2 + PERSIAN_ID_LETTERS
    blanks = f"'^[{WHITESPACE_RE2}]+|[{WHITESPACE_RE2}]+$', '', 'g'"
    marks = "".join(f"\\x{{{ord(c):x}}}" for c in INVISIBLE_MARKS)
    unmarked = f"regexp_replace({text}, '[{marks}]', '', 'g')"
    if form == "whole":
        other = f"nfc_normalize({unmarked})"
        other = f"TRANSLATE({other}, '{digits}', '{to}')"
        other = f"regexp_replace({other}, {blanks})"
    elif form == "blanks":
        other = f"regexp_replace(TRANSLATE({unmarked}, '{digits}', '{to}'), {blanks})"
    else:
        other = f"TRIM(TRANSLATE({text}, '{digits}', '{to}'))"
    return (
        f"CASE WHEN regexp_matches({text}, '{_PRINTABLE_ASCII}') THEN TRIM({text})\n"
        f"      ELSE {other} END"
    )


def summary_sql(
    *,
    table: str,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    period: str = "day",
    as_of: str | None = None,
    source: str | None = None,
    normalise_ids: bool = True,
    id_form: str = "whole",
    with_litt: bool = False,
    total: str = "SUM",
    scale: float | None = None,
    split_spend: bool = False,
) -> str:
    """The query in DuckDB's dialect; ``as_of`` is an ISO date (default: the last date).

    ``source`` replaces the quoted table with a FROM expression clv builds itself
    (a DuckDB ``read_parquet('...')``), never with text from the user.
    ``normalise_ids=False`` groups the ids as they are, whatever their type, for a
    source whose ids clv has checked are in normal form already (integers, or plain
    ASCII without blanks at the ends); they become text only in the result.
    ``id_form`` says how much of the id normal form the dialect can write (see
    :func:`_normal_id`). ``with_litt`` adds the column ``litt`` (see the module's
    docstring). ``total`` is the function that adds up money and logs: ``SUM``;
    ``FSUM``, DuckDB's compensated sum, which gives the same bits whatever the order
    its threads add a group's doubles in; or :data:`EXACT_SUM` for any dialect.
    ``scale``, for amounts checked to be whole units of 1 / scale (cents: 100; see
    :mod:`clvcli.core.money`): money is added as whole numbers of units, each day's
    net and each sum then divided by the scale, as the reader adds it, so the two give
    the same bits. ``split_spend`` (clv's own DuckDB path, amounts in no scale): the
    total spend adds the amounts' whole parts exactly and their rests once, as the
    reader does, rather than each day's rounded net.
    """
    if as_of is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
        raise UsageError(f"--as-of for SQL must be an ISO date, not '{as_of}'")
    source = source or _quoted_table(table)
    customer = _quoted_column(customer_col)
    day = _quoted_column(date_col)
    amount = f"CAST({_quoted_column(amount_col)} AS DOUBLE)"
    # A DOUBLE said so: a bare 7.0 is a DECIMAL in Spark, and recency and T with it.
    unit = f"CAST({float(days_per(period))!r} AS DOUBLE)"
    end = f"DATE '{as_of}'" if as_of else "(SELECT MAX(day) FROM daily)"
    customer_id = customer
    if normalise_ids:
        customer_id = _normal_id(f"CAST({customer} AS VARCHAR)", form=id_form)
    purchase_value = "CASE WHEN is_purchase = 1 THEN GREATEST(net, 0) END"
    purchase_day = "CASE WHEN is_purchase = 1 THEN day END"
    litt_ctes = litt_column = litt_join = ""
    if with_litt:
        litt_ctes, litt_column, litt_join = _litt_parts(unit, total)
    net = _sum(total, amount)
    occasion_total = _sum(total, "CASE WHEN is_purchase = 1 THEN GREATEST(net, 0) ELSE 0 END")
    spend = _sum(total, "net")
    net_units = ""
    if scale is not None:
        units = f"{float(scale)!r}"
        whole = f"SUM(CAST(ROUND({amount} * {units}) AS BIGINT))"
        net = f"CAST({whole} AS DOUBLE) / {units}"
        net_units = f"\n    {whole} AS net_units,"
        purchase_units = "CASE WHEN is_purchase = 1 THEN GREATEST(net_units, 0) ELSE 0 END"
        occasion_total = f"CAST(SUM({purchase_units}) AS DOUBLE) / {units}"
        spend = f"CAST(SUM(net_units) AS DOUBLE) / {units}"
    elif split_spend:
        # Total spend from the amounts themselves, not from each day's rounded net:
        # their whole parts added exactly, then the rest, rounded once, as the reader
        # adds amounts in no scale's units (a customer's total once differed by 0.02
        # at 8.5e13).
        net_units = (
            f"\n    SUM(ROUND({amount})) AS net_whole,"
            f"\n    FSUM({amount} - ROUND({amount})) AS net_rest,"
        )
        spend = "SUM(net_whole) + FSUM(net_rest)"
    return f"""WITH daily AS (
  SELECT
    {customer_id} AS customer_id,
    CAST({day} AS DATE) AS day,{net_units}
    {net} AS net,
    MAX(CASE WHEN {amount} < 0 THEN 1 ELSE 0 END) AS refunded
  FROM {source}
  WHERE {customer} IS NOT NULL AND {day} IS NOT NULL AND {amount} IS NOT NULL
  GROUP BY 1, 2
),
bounds AS (
  SELECT {end} AS as_of
),
days AS (
  SELECT
    daily.customer_id,
    daily.day,
    daily.net,{" daily.net_units," if scale is not None else ""}{
        " daily.net_whole, daily.net_rest," if scale is None and split_spend else ""
    }
    CASE WHEN daily.net > 0.000001 OR (daily.refunded = 0 AND daily.net > -0.000001)
      THEN 1 ELSE 0 END AS is_purchase
  FROM daily CROSS JOIN bounds
  WHERE daily.day <= bounds.as_of
),
customers AS (
  SELECT
    CAST(customer_id AS VARCHAR) AS customer_id,
    MIN({purchase_day}) AS first_purchase,
    MAX({purchase_day}) AS last_purchase,
    SUM(is_purchase) AS orders,
    {occasion_total} AS occasion_total,
    ARG_MIN({purchase_value}, {purchase_day}) AS first_value,
    {spend} AS total_spend
  FROM days
  GROUP BY days.customer_id
  HAVING SUM(is_purchase) > 0
){litt_ctes}
SELECT
  customers.customer_id AS "customer_id",
  customers.orders - 1 AS "frequency",
  DATE_DIFF('day', customers.first_purchase, customers.last_purchase) / {unit} AS "recency",
  DATE_DIFF('day', customers.first_purchase, bounds.as_of) / {unit} AS "T",
  CASE WHEN customers.orders > 1
    THEN (customers.occasion_total - customers.first_value) / (customers.orders - 1)
    ELSE 0 END AS "monetary_value",
  customers.first_purchase AS "first_purchase",
  customers.last_purchase AS "last_purchase",
  customers.orders AS "orders",
  customers.total_spend AS "total_spend"{litt_column}
FROM customers CROSS JOIN bounds{litt_join}
WHERE customers.customer_id <> ''
ORDER BY customers.customer_id
"""


def _sum(total: str, value: str) -> str:
    """``value`` added up over a group by ``total`` (see :func:`summary_sql`)."""
    if total == EXACT_SUM:
        return f"CAST(SUM(CAST({value} AS DECIMAL(38, 9))) AS DOUBLE)"
    return f"{total}({value})"


def _litt_parts(unit: str, total: str = "SUM") -> tuple[str, str, str]:
    """The query's parts that give ``litt``: the common table expressions, the column
    and the join. A purchase day's gap is the days since the customer's previous one
    (a day apart at least: days are grouped), so its log is finite; a customer with
    one purchase day has no gap and a litt of 0."""
    ctes = f""",
gaps AS (
  SELECT
    days.customer_id,
    DATE_DIFF('day', LAG(days.day) OVER (PARTITION BY days.customer_id ORDER BY days.day),
      days.day) AS gap
  FROM days
  WHERE days.is_purchase = 1
),
litts AS (
  SELECT
    CAST(customer_id AS VARCHAR) AS customer_id,
    {_sum(total, f"LN(gaps.gap / {unit})")} AS litt
  FROM gaps
  WHERE gaps.gap IS NOT NULL
  GROUP BY gaps.customer_id
)"""
    column = f',\n  COALESCE(litts.litt, CAST(0 AS DOUBLE)) AS "{LITT_COLUMN}"'
    join = "\nLEFT JOIN litts ON litts.customer_id = customers.customer_id"
    return ctes, column, join


def emitted_sql(
    *,
    dialect: str,
    table: str,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    period: str = "day",
    as_of: str | None = None,
    with_litt: bool = False,
) -> str:
    """The summary query in ``dialect``, written by sqlglot from the one query
    (``with_litt``: with the column ``litt``, which ``--emit-sql`` leaves out)."""
    if dialect not in DIALECTS:
        raise UsageError(f"unknown --dialect '{dialect}'", "use " + ", ".join(DIALECTS))
    text = summary_sql(
        table=table,
        customer_col=customer_col,
        date_col=date_col,
        amount_col=amount_col,
        period=period,
        as_of=as_of,
        id_form=ID_FORMS.get(dialect, "trim"),
        with_litt=with_litt,
        total=TOTALS.get(dialect, EXACT_SUM),
    )
    import sqlglot

    tree = sqlglot.parse_one(text, read="duckdb")
    if dialect == "postgres":
        tree = tree.transform(_first_by_in_postgres)
    body = tree.sql(dialect=dialect, pretty=True, unsupported_level=sqlglot.ErrorLevel.RAISE)
    head = f"-- RFM summary as clv computes it: period {period}, as of {as_of or 'the last date'}."
    return f"{head}\n{body};\n"


def _first_by_in_postgres(node: Any) -> Any:
    """PostgreSQL has no ARG_MIN: the first of the values ordered by the key (a NULL
    key, which comes with a NULL value, sorts last)."""
    from sqlglot import exp, parse_one

    if not isinstance(node, exp.ArgMin):
        return node
    value, key = node.this.sql("postgres"), node.expression.sql("postgres")
    return parse_one(f"(ARRAY_AGG({value} ORDER BY {key}))[1]", read="postgres")
