"""Write the sample subscription logs and cohort table that `clv retention` reads.

A made-up software business sells monthly subscriptions on three plans through three
channels. 600 subscribers join over 24 months, on a day from the 1st to the 28th; each
stays T months, drawn from a shifted-beta-geometric model (Fader & Hardie 2007) with
alpha = 1.2 and beta = 7.5: each subscriber has their own churn probability per
renewal, beta-distributed across subscribers. A subscription that would run past the
24th month is still active (its end is empty). Subscriber S0001 ends on the 28th of
the last month, so that the last date in each log, the as-of date `clv retention`
takes, is that day.

- subscriptions.csv: Gregorian months 2023-01 to 2024-12, prices in dollars.
- subscriptions_fa.csv: the same subscribers as a Persian billing panel exports them,
  in Jalali months 1402/01 to 1403/12 (each month of the first file is a Jalali month
  here, so the lifetimes and the fits are the same): Persian headers, Jalali dates and
  Persian digits, prices in toman with the Arabic thousands separator, a UTF-8 BOM.
- subscription_cohorts.csv: the regular segment of Fader & Hardie's (2007) Table 1 for
  years 0 to 7, the data the paper fits its sBG on, as a cohort table.

Usage: python sample_data/make_subscriptions.py [DIR] (from the project root; DIR
defaults to sample_data). The output depends only on the seed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from clvcli.io import jalali  # noqa: E402
from clvcli.retention import ShiftedBetaGeometric  # noqa: E402

ALPHA, BETA = 1.2, 7.5
SUBSCRIBERS = 600
MONTHS = 24
PLANS = {"basic": ("9.90", 190_000), "pro": ("19.90", 390_000), "team": ("49.00", 990_000)}
PLAN_SHARE = (0.55, 0.35, 0.10)
CHANNELS = ("search", "social", "referral")
PERSIAN_PLAN = {"basic": "پایه", "pro": "ویژه", "team": "سازمانی"}
PERSIAN_CHANNEL = {"search": "گوگل", "social": "اینستاگرام", "referral": "معرفی"}
DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
# Fader & Hardie (2007), Table 1, regular segment: of 1,000 customers, still active
# at the start of years 0 to 7.
TABLE1_REGULAR = (1000, 631, 468, 382, 326, 289, 262, 241)


def simulate() -> list[dict[str, object]]:
    """Each subscriber's start month (0..23), day, paid months T (None: still
    active), plan and channel."""
    rng = np.random.default_rng(2007)
    model = ShiftedBetaGeometric.from_params(alpha=ALPHA, beta=BETA)
    month = np.sort(rng.integers(0, MONTHS, SUBSCRIBERS))
    day = rng.integers(1, 29, SUBSCRIBERS)
    periods = model.draw_periods(SUBSCRIBERS, rng)
    plan = rng.choice(list(PLANS), SUBSCRIBERS, p=PLAN_SHARE)
    channel = rng.choice(CHANNELS, SUBSCRIBERS)
    month[0], day[0], periods[0] = MONTHS - 4, 28, 3  # ends on the as-of date
    rows = []
    for i in range(SUBSCRIBERS):
        ended = month[i] + periods[i] <= MONTHS - 1
        rows.append(
            {
                "id": f"S{i + 1:04d}",
                "month": int(month[i]),
                "day": int(day[i]),
                "periods": int(periods[i]) if ended else None,
                "plan": str(plan[i]),
                "channel": str(channel[i]),
            }
        )
    return sorted(rows, key=lambda r: (r["month"], r["day"], r["id"]))


def gregorian(month: int, day: int) -> str:
    year, month0 = divmod(2023 * 12 + month, 12)
    return f"{year:04d}-{month0 + 1:02d}-{day:02d}"


def persian_date(month: int, day: int) -> str:
    year, month0 = divmod(1402 * 12 + month, 12)
    assert jalali.valid(np.array([year]), np.array([month0 + 1]), np.array([day]))[0]
    return f"{year:04d}/{month0 + 1:02d}/{day:02d}".translate(DIGITS)


def main(folder: Path = HERE) -> None:
    rows = simulate()
    with open(folder / "subscriptions.csv", "w", newline="") as out:
        out.write("customer_id,start,end,price,plan,channel\n")
        for r in rows:
            end = "" if r["periods"] is None else gregorian(r["month"] + r["periods"], r["day"])
            price = PLANS[r["plan"]][0]
            start = gregorian(r["month"], r["day"])
            out.write(f"{r['id']},{start},{end},{price},{r['plan']},{r['channel']}\n")
    with open(folder / "subscriptions_fa.csv", "w", encoding="utf-8-sig", newline="") as out:
        out.write("کد مشتری,تاریخ شروع,تاریخ پایان,قیمت (تومان),طرح,کانال\n")
        for r in rows:
            start = persian_date(r["month"], r["day"])
            end = "" if r["periods"] is None else persian_date(r["month"] + r["periods"], r["day"])
            price = f"{PLANS[r['plan']][1]:,}".replace(",", "٬").translate(DIGITS)
            customer = r["id"].translate(DIGITS)
            plan, channel = PERSIAN_PLAN[r["plan"]], PERSIAN_CHANNEL[r["channel"]]
            out.write(f"{customer},{start},{end},{price},{plan},{channel}\n")
    with open(folder / "subscription_cohorts.csv", "w", newline="") as out:
        out.write("year,active\n")
        for year, active in enumerate(TABLE1_REGULAR):
            out.write(f"{year},{active}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
