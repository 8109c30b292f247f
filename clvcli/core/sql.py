"""The RFM summary as SQL, to run inside the user's warehouse or Spark cluster.

The heavy step of CLV is one pass over every transaction; the models need only the
per-customer summary. `clv summary --emit-sql` prints a query that computes that
summary where the data already lives, with clv's own rules: customer ids trimmed and
their Persian and Arabic-Indic digits read as ASCII, Arabic yeh and kaf read as
Persian (in DuckDB also NFC and without invisible marks, as the default engine),
refunds netted per customer and day, a day whose refunds bring it to zero or below
not a purchase, field-convention frequency, recency, T and monetary_value in
--period units. Its result has the columns of `clv summary` and can be passed
back with `--summary FILE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from clvcli.contract import days_per
from clvcli.errors import UsageError
from clvcli.io.text import (
    ARABIC_ID_LETTERS,
    ARABIC_INDIC_DIGITS,
    INVISIBLE_MARKS,
    PERSIAN_DIGITS,
    PERSIAN_ID_LETTERS,
)

DIALECTS = ("duckdb", "postgres", "spark", "bigquery")
_IDENTIFIER = re.compile(r"^[A-Za-z_\u0600-\u06FF][\w\u0600-\u06FF$ -]*$")


@dataclass(frozen=True)
class _Dialect:
    quote: str
    text: str
    number: str
    days_between: str  # format with {later} and {earlier}
    first_by: str | None = None  # format with {value} and {order}; None: a window


_DIALECTS = {
    # DuckDB sums decimals exactly (in 128 bits), so its parallel sums give the same
    # result on every run, as doubles would not.
    "duckdb": _Dialect(
        '"',
        "VARCHAR",
        "DECIMAL(38, 6)",
        "DATE_DIFF('day', {earlier}, {later})",
        "ARG_MIN({value}, {order})",
    ),
    "postgres": _Dialect('"', "TEXT", "NUMERIC", "({later} - {earlier})"),
    "spark": _Dialect(
        "`", "STRING", "DOUBLE", "DATEDIFF({later}, {earlier})", "MIN_BY({value}, {order})"
    ),
    "bigquery": _Dialect(
        "`",
        "STRING",
        "FLOAT64",
        "DATE_DIFF({later}, {earlier}, DAY)",
        "ARRAY_AGG({value} IGNORE NULLS ORDER BY {order} LIMIT 1)[OFFSET(0)]",
    ),
}


def _quoted_column(name: str, dialect: _Dialect) -> str:
    """Any column name, quoted with its quote characters doubled (never injectable)."""
    if not name or not name.isprintable():
        raise UsageError(f"column name '{name}' cannot be used in SQL")
    return dialect.quote + name.replace(dialect.quote, dialect.quote * 2) + dialect.quote


def _quoted(name: str, dialect: _Dialect, what: str) -> str:
    """A validated identifier, quoted; ``schema.table`` keeps its parts."""
    parts = name.split(".")
    for part in parts:
        if not _IDENTIFIER.match(part):
            raise UsageError(
                f"{what} '{name}' is not a plain identifier",
                "use letters, digits, underscores, spaces or hyphens (schema.table is fine)",
            )
    return ".".join(f"{dialect.quote}{part}{dialect.quote}" for part in parts)


# What Python's str.strip and Arrow's utf8_trim_whitespace take off an id's ends,
# as a class of RE2 (whose \\s holds only five of these characters).
WHITESPACE_RE2 = "\\t-\\r\\x{1c}-\\x{1f} \\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}" + (
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
)


def _normal_id(text: str, dialect: str) -> str:
    """An id in clv's normal form, as far as the dialect can say it.

    DuckDB gets the whole of :func:`clvcli.io.text.normalise_id`, written in ASCII
    (RE2 escapes for the invisible characters): marks dropped, NFC, digits and
    letters translated, Unicode blanks trimmed. The other dialects trim and
    translate digits and Arabic letters.
    """
    digits = PERSIAN_DIGITS + ARABIC_INDIC_DIGITS + ARABIC_ID_LETTERS
    to = "0123456789" * 2 + PERSIAN_ID_LETTERS
    if dialect == "spark":
        # Spark's TRIM takes off spaces only: the blanks go as in DuckDB, by a Java
        # regex (backslashes doubled, as Spark's string literals read them).
        blank = WHITESPACE_RE2.replace("\\", "\\\\")
        text = f"TRANSLATE({text}, '{digits}', '{to}')"
        return f"regexp_replace({text}, '^[{blank}]+|[{blank}]+$', '')"
    if dialect != "duckdb":
        return f"TRIM(TRANSLATE({text}, '{digits}', '{to}'))"
    marks = "".join(f"\\x{{{ord(c):x}}}" for c in INVISIBLE_MARKS)
    text = f"nfc_normalize(regexp_replace({text}, '[{marks}]', '', 'g'))"
    text = f"TRANSLATE({text}, '{digits}', '{to}')"
    return f"regexp_replace({text}, '^[{WHITESPACE_RE2}]+|[{WHITESPACE_RE2}]+$', '', 'g')"


def summary_sql(
    *,
    dialect: str,
    table: str,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
    period: str = "day",
    as_of: str | None = None,
    source: str | None = None,
    normalise_ids: bool = True,
) -> str:
    """The query; ``as_of`` is an ISO date (default: the last date in the table).

    ``source`` replaces the quoted table with a FROM expression clv builds itself
    (a DuckDB ``read_parquet('...')``), never with text from the user.
    ``normalise_ids=False`` leaves out the trim and digit translation of every id,
    for a source whose ids clv has checked are in normal form already (the
    translation costs more than the rest of the first pass).
    """
    if dialect not in _DIALECTS:
        raise UsageError(f"unknown --dialect '{dialect}'", "use " + ", ".join(DIALECTS))
    if as_of is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", as_of):
        raise UsageError(f"--as-of for SQL must be an ISO date, not '{as_of}'")
    d = _DIALECTS[dialect]
    source = source or _quoted(table, d, "--table")
    customer = _quoted_column(customer_col, d)
    day = _quoted_column(date_col, d)
    amount = f"CAST({_quoted_column(amount_col, d)} AS {d.number})"
    unit = repr(days_per(period))
    if dialect == "spark":
        unit = f"CAST({unit} AS DOUBLE)"  # 7.0 alone is a DECIMAL in Spark: recency and T too
    end = f"DATE '{as_of}'" if as_of else "(SELECT MAX(day) FROM daily)"
    purchase_value = "CASE WHEN is_purchase = 1 THEN GREATEST(net, 0) END"
    purchase_day = "CASE WHEN is_purchase = 1 THEN day END"
    if d.first_by is None:
        # No aggregate picks the value at the first day here: number the days,
        # purchases first.
        nth = (
            ",\n    ROW_NUMBER() OVER (PARTITION BY customer_id "
            "ORDER BY is_purchase DESC, day) AS nth"
        )
        first_value = "SUM(CASE WHEN nth = 1 AND is_purchase = 1 THEN GREATEST(net, 0) ELSE 0 END)"
    else:
        nth = ""
        first_value = d.first_by.format(value=purchase_value, order=purchase_day)
    days = d.days_between.format
    customer_id = f"CAST({customer} AS {d.text})"
    if normalise_ids:
        customer_id = _normal_id(customer_id, dialect)
    return f"""-- RFM summary as clv computes it: period {period}, as of {as_of or "the last date"}.
WITH daily AS (
  SELECT
    {customer_id} AS customer_id,
    CAST({day} AS DATE) AS day,
    SUM({amount}) AS net,
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
    daily.net,
    CASE WHEN daily.net > 0.000001 OR (daily.refunded = 0 AND daily.net > -0.000001)
      THEN 1 ELSE 0 END AS is_purchase
  FROM daily CROSS JOIN bounds
  WHERE daily.customer_id <> '' AND daily.day <= bounds.as_of
),
numbered AS (
  SELECT days.*{nth}
  FROM days
),
customers AS (
  SELECT
    customer_id,
    MIN({purchase_day}) AS first_purchase,
    MAX({purchase_day}) AS last_purchase,
    SUM(is_purchase) AS orders,
    SUM(CASE WHEN is_purchase = 1 THEN GREATEST(net, 0) ELSE 0 END) AS occasion_total,
    {first_value} AS first_value,
    SUM(net) AS total_spend
  FROM numbered
  GROUP BY customer_id
  HAVING SUM(is_purchase) > 0
)
SELECT
  customers.customer_id,
  customers.orders - 1 AS frequency,
  {days(later="customers.last_purchase", earlier="customers.first_purchase")} / {unit} AS recency,
  {days(later="bounds.as_of", earlier="customers.first_purchase")} / {unit} AS {d.quote}T{d.quote},
  CASE WHEN customers.orders > 1
    THEN (customers.occasion_total - customers.first_value) / (customers.orders - 1)
    ELSE 0 END AS monetary_value,
  customers.first_purchase,
  customers.last_purchase,
  customers.orders,
  customers.total_spend
FROM customers CROSS JOIN bounds
ORDER BY customers.customer_id;
"""
