"""Generate the sample transaction logs of a made-up Iranian online shop.

The files next to this script are the demo and test input of ``clv``: one English
CSV, the same log as a Persian export (Jalali dates, Persian digits, BOM) and a
typed Parquet copy. They are simulated rather than hand-written so that they show
the shapes a lifetime-value tool must cope with: many one-time buyers, a loyal core,
customers who quietly left, same-day repeat orders and refunds.

Customers follow a "buy till you die" process (as in the BG/NBD model): while alive
each buys at her own Poisson rate (gamma heterogeneity across customers), and after
every purchase she drops out for good with her own probability (beta heterogeneity).

Run from the project root: ``python sample_data/generate.py``. The output depends
only on the seed, so re-running rewrites byte-identical files.
"""

from __future__ import annotations

import csv
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from clvcli.io import jalali  # noqa: E402  (needs the project root on sys.path)

SEED = 20241
N_CUSTOMERS = 2000
START = np.datetime64("2023-01-01", "D")
END = np.datetime64("2024-12-31", "D")
N_DAYS = int((END - START).astype(np.int64)) + 1  # 731: 2024 is a leap year
SECONDS_PER_DAY = 86_400

# Acquisition channels and their shares of new customers. Referral and direct
# customers already trust the shop, so they drop out less; Instagram impulse buyers
# drop out more.
CHANNELS = np.array(["instagram", "telegram", "google", "direct", "referral"])
CHANNEL_SHARE = np.array([0.38, 0.17, 0.21, 0.13, 0.11])
CHANNEL_DROPOUT = np.array([1.25, 1.0, 1.0, 0.8, 0.65])
CHANNEL_FA = {
    "instagram": "اینستاگرام",
    "google": "گوگل",
    "referral": "معرفی",
    "direct": "مستقیم",
    "telegram": "تلگرام",
}

# Behaviour: purchase rate per day ~ Gamma(shape, scale); dropout after each
# purchase ~ Beta(a, b). Acquisitions thin out over time with this e-folding time.
RATE_SHAPE, RATE_SCALE = 2.5, 0.015
DROPOUT_A, DROPOUT_B = 0.8, 2.0
ACQUISITION_DECAY_DAYS = 500.0
MAX_PURCHASES = 400  # columns of the simulation matrix; asserted to be enough

# Money, in toman. Each customer has a typical basket (gamma across customers);
# single orders scatter around it (log-normal).
SPEND_SHAPE, SPEND_SCALE = 2.2, 260_000.0
ORDER_NOISE_SIGMA = 0.45
MIN_ORDER, MAX_ORDER = 85_000, 9_800_000
PRICE_STEP = 1_000

SAME_DAY_SHARE = 0.05  # purchase days with a second, separate order
REFUND_SHARE = 0.03  # orders followed by a refund
REFUND_SAME_DAY_SHARE = 0.75
REFUND_FULL_SHARE = 0.6
REFUND_MAX_LAG_DAYS = 14

# Relative order volume by hour of day (Tehran time): quiet before dawn, a lunch
# bump and the evening peak when people shop on their phones.
HOUR_WEIGHT = np.array(
    [4, 2, 1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 8, 7, 7, 7, 8, 9, 11, 13, 14, 12, 8], dtype=float
)

HEADER = ["order_id", "customer_id", "order_date", "amount", "channel"]
HEADER_FA = ["شماره سفارش", "کد مشتری", "تاریخ سفارش", "مبلغ (تومان)", "کانال جذب"]
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC_THOUSANDS = "\u066c"


@dataclass(frozen=True)
class Customers:
    """Per-customer traits, indexed by position (customer i is ``ids[i]``)."""

    ids: np.ndarray  # "C0001", ... in order of the first order; see number_customers
    channel: np.ndarray  # index into CHANNELS
    first: np.ndarray  # time of first purchase, fractional days since START
    rate: np.ndarray  # purchases per day while alive
    dropout: np.ndarray  # probability of leaving after each purchase
    spend: np.ndarray  # typical order value in toman


@dataclass(frozen=True)
class Log:
    """Transactions as parallel arrays; refunds have negative amounts."""

    order_id: np.ndarray
    customer: np.ndarray  # index into Customers
    second: np.ndarray  # seconds since START
    amount: np.ndarray  # toman, int64


def simulate_customers(rng: np.random.Generator) -> Customers:
    """Draw the customer population, sorted by time of acquisition (ids come later)."""
    # Truncated exponential acquisition time: more newcomers early than late.
    u = rng.random(N_CUSTOMERS)
    tail = 1.0 - np.exp(-N_DAYS / ACQUISITION_DECAY_DAYS)
    first = np.sort(-ACQUISITION_DECAY_DAYS * np.log1p(-u * tail))
    channel = rng.choice(len(CHANNELS), size=N_CUSTOMERS, p=CHANNEL_SHARE)
    rate = rng.gamma(RATE_SHAPE, RATE_SCALE, N_CUSTOMERS)
    dropout = np.clip(rng.beta(DROPOUT_A, DROPOUT_B, N_CUSTOMERS) * CHANNEL_DROPOUT[channel], 0, 1)
    spend = rng.gamma(SPEND_SHAPE, SPEND_SCALE, N_CUSTOMERS)
    unnumbered = np.full(N_CUSTOMERS, "", dtype="<U5")
    return Customers(unnumbered, channel, first, rate, dropout, spend)


def number_customers(cust: Customers, orders: Log) -> Customers:
    """Give ids C0001, C0002, ... in the order of each customer's first order, as a shop would."""
    _, first_row = np.unique(orders.customer, return_index=True)
    assert len(first_row) == N_CUSTOMERS, "every customer buys at least once"
    ids = np.empty(N_CUSTOMERS, dtype="<U5")
    ids[orders.customer[np.sort(first_row)]] = [f"C{i:04d}" for i in range(1, N_CUSTOMERS + 1)]
    return replace(cust, ids=ids)


def simulate_purchase_days(rng: np.random.Generator, cust: Customers) -> tuple[np.ndarray, ...]:
    """Run buy-till-you-die for everyone at once; return (customer, day) of purchase days.

    Row i of the matrix holds customer i's purchase times: the first purchase, then
    exponential gaps. She makes a geometric number of purchases before dropping out,
    and whatever falls after the end of the log is never observed.
    """
    gaps = rng.exponential(1.0, (N_CUSTOMERS, MAX_PURCHASES - 1)) / cust.rate[:, None]
    times = cust.first[:, None] + np.concatenate(
        [np.zeros((N_CUSTOMERS, 1)), np.cumsum(gaps, axis=1)], axis=1
    )
    lifetime_purchases = rng.geometric(np.maximum(cust.dropout, 1e-9))
    made = (np.arange(MAX_PURCHASES)[None, :] < lifetime_purchases[:, None]) & (times < N_DAYS)
    assert not made[:, -1].any(), "MAX_PURCHASES too small for this parameter set"
    customer, column = np.nonzero(made)
    day = np.floor(times[customer, column]).astype(np.int64)
    # Two purchases on one calendar day are one purchase day; same-day extras come later.
    key = np.unique(customer * N_DAYS + day)
    return key // N_DAYS, key % N_DAYS


def draw_seconds_of_day(rng: np.random.Generator, n: int) -> np.ndarray:
    """Times of day, in seconds, following the shop's hourly traffic."""
    hour = rng.choice(24, size=n, p=HOUR_WEIGHT / HOUR_WEIGHT.sum())
    return hour * 3600 + rng.integers(0, 3600, n)


def add_same_day_orders(
    rng: np.random.Generator, customer: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Timestamp each purchase day and give a few of them a second order.

    The extra order comes minutes to hours after or before the first one (a
    forgotten item, a gift), and always inside the same day.
    """
    first = draw_seconds_of_day(rng, len(day))
    extra = rng.random(len(day)) < SAME_DAY_SHARE
    offset = rng.integers(5 * 60, 6 * 3600, extra.sum())
    after = first[extra] + offset
    second = np.where(after < SECONDS_PER_DAY, after, np.maximum(first[extra] - offset, 0))
    customers = np.concatenate([customer, customer[extra]])
    days = np.concatenate([day, day[extra]])
    seconds = np.concatenate([first, second])
    return customers, days * SECONDS_PER_DAY + seconds


def round_price(toman: np.ndarray) -> np.ndarray:
    """Round to whole thousands of toman, like real price tags."""
    return (np.round(toman / PRICE_STEP) * PRICE_STEP).astype(np.int64)


def draw_amounts(rng: np.random.Generator, cust: Customers, customer: np.ndarray) -> np.ndarray:
    """Order values scattered (mean-preserving log-normal) around each customer's level."""
    noise = rng.lognormal(-(ORDER_NOISE_SIGMA**2) / 2, ORDER_NOISE_SIGMA, len(customer))
    return round_price(np.clip(cust.spend[customer] * noise, MIN_ORDER, MAX_ORDER))


def number(prefix: str, second: np.ndarray, customer: np.ndarray) -> tuple[np.ndarray, ...]:
    """Sort rows by time (customer breaks ties) and number them like a shop would.

    Returns the sort order and ids ``<prefix>000001``... in that order, so that
    sorting the log by date then id keeps the numbering chronological.
    """
    order = np.lexsort((customer, second))
    ids = np.array([f"{prefix}{i:06d}" for i in range(1, len(order) + 1)])
    return order, ids


def make_orders(rng: np.random.Generator, cust: Customers) -> Log:
    """Simulate every order: purchase days, same-day extras, times, amounts, ids."""
    customer, day = simulate_purchase_days(rng, cust)
    customer, second = add_same_day_orders(rng, customer, day)
    amount = draw_amounts(rng, cust, customer)
    order, ids = number("O", second, customer)
    return Log(ids, customer[order], second[order], amount[order])


def make_refunds(rng: np.random.Generator, orders: Log) -> Log:
    """Refund a few orders, in full or in part, mostly the same day, some days later.

    A refund never precedes its order and never falls after the end of the log;
    when a late refund would, it moves to the order's own day.
    """
    picked = np.flatnonzero(rng.random(len(orders.amount)) < REFUND_SHARE)
    n = len(picked)
    order_day, order_sec = np.divmod(orders.second[picked], SECONDS_PER_DAY)
    lag = np.where(
        rng.random(n) < REFUND_SAME_DAY_SHARE, 0, rng.integers(1, REFUND_MAX_LAG_DAYS + 1, n)
    )
    day = np.minimum(order_day + lag, N_DAYS - 1)
    same_day = day == order_day
    # Same day: some time after the order. Later: during support hours, 9:00-18:00.
    later_in_day = order_sec + np.ceil(rng.random(n) * (SECONDS_PER_DAY - 1 - order_sec))
    office_hours = rng.integers(9 * 3600, 18 * 3600, n)
    sec = np.where(same_day, later_in_day, office_hours).astype(np.int64)
    paid = orders.amount[picked]
    partial = round_price(paid * rng.uniform(0.2, 0.7, n))
    amount = -np.where(rng.random(n) < REFUND_FULL_SHARE, paid, np.maximum(partial, PRICE_STEP))
    customer = orders.customer[picked]
    second = day * SECONDS_PER_DAY + sec
    order, ids = number("R", second, customer)
    return Log(ids, customer[order], second[order], amount[order])


def combine(orders: Log, refunds: Log) -> Log:
    """One log sorted by timestamp, then order id (an order sorts before its refund)."""
    order_id = np.concatenate([orders.order_id, refunds.order_id])
    second = np.concatenate([orders.second, refunds.second])
    order = np.lexsort((order_id, second))
    return Log(
        order_id[order],
        np.concatenate([orders.customer, refunds.customer])[order],
        second[order],
        np.concatenate([orders.amount, refunds.amount])[order],
    )


def timestamps(log: Log) -> np.ndarray:
    """Shop-local timestamps as datetime64[s]."""
    return START.astype("datetime64[s]") + log.second.astype("timedelta64[s]")


def write_csv(path: Path, log: Log, cust: Customers) -> None:
    """English export: ISO timestamps, plain integer amounts, UTF-8 without BOM."""
    when = np.datetime_as_string(timestamps(log), unit="s")
    rows = zip(
        log.order_id,
        cust.ids[log.customer],
        np.char.replace(when, "T", " "),
        log.amount.astype(str),
        CHANNELS[cust.channel[log.customer]],
        strict=True,
    )
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def persian(text: str) -> str:
    """Western digits to Persian digits (U+06F0..U+06F9)."""
    return text.translate(PERSIAN_DIGITS)


def persian_amount(toman: int) -> str:
    """Toman as Persian digits grouped by the Arabic thousands separator, e.g. -۱٬۲۰۰."""
    grouped = f"{abs(toman):,}".replace(",", ARABIC_THOUSANDS)
    return ("-" if toman < 0 else "") + persian(grouped)


def jalali_dates(days: np.ndarray) -> np.ndarray:
    """``YYYY/MM/DD`` Jalali dates in Persian digits, computed once per distinct day."""
    distinct, inverse = np.unique(days, return_inverse=True)
    epoch_days = distinct + START.astype(np.int64)
    year, month, day = jalali.from_days(epoch_days)
    text = [persian(f"{y:04d}/{m:02d}/{d:02d}") for y, m, d in zip(year, month, day, strict=True)]
    return np.array(text)[inverse]


def write_csv_fa(path: Path, log: Log, cust: Customers) -> None:
    """Persian export of the same rows: what an Iranian shop panel hands to Excel."""
    channel_fa = np.array([CHANNEL_FA[c] for c in CHANNELS])
    rows = zip(
        [persian(s) for s in log.order_id],
        [persian(s) for s in cust.ids[log.customer]],
        jalali_dates(log.second // SECONDS_PER_DAY),
        [persian_amount(int(a)) for a in log.amount],
        channel_fa[cust.channel[log.customer]],
        strict=True,
    )
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER_FA)
        writer.writerows(rows)


def write_parquet(path: Path, log: Log, cust: Customers) -> None:
    """Typed copy of shop.csv, built straight from arrays so it has no pandas metadata."""
    table = pa.table(
        {
            "order_id": pa.array(log.order_id.tolist(), pa.string()),
            "customer_id": pa.array(cust.ids[log.customer].tolist(), pa.string()),
            # Parquet has no seconds unit (pyarrow would coerce to ms anyway), so say so.
            "order_date": pa.array(timestamps(log), pa.timestamp("ms")),
            "amount": pa.array(log.amount, pa.int64()),
            "channel": pa.array(CHANNELS[cust.channel[log.customer]].tolist(), pa.string()),
        }
    )
    pq.write_table(table, path, compression="zstd")


def main() -> None:
    """Simulate the shop once and write all three files next to this script."""
    rng = np.random.default_rng(SEED)
    cust = simulate_customers(rng)
    orders = make_orders(rng, cust)
    cust = number_customers(cust, orders)
    log = combine(orders, make_refunds(rng, orders))
    write_csv(HERE / "shop.csv", log, cust)
    write_csv_fa(HERE / "shop_fa.csv", log, cust)
    write_parquet(HERE / "shop.parquet", log, cust)
    print(f"{len(log.amount)} rows, {N_CUSTOMERS} customers -> {HERE}")


if __name__ == "__main__":
    main()
