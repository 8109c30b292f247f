"""Write the sample shop's acquisition costs, in English and as a Persian export.

Monthly spend per paid channel over 2023-2024 (organic "direct" has none), with a
fixed seed. shop_costs_fa.csv books each month's spend at the Jalali month holding its
15th, with Persian headers, digits and separators, and a UTF-8 BOM.
shop_customers.csv is the shop's customer list as a CRM would export it: every buyer
with the channel of their first order and what acquiring them cost (none for direct
visitors), and 120 prospects who signed up but never bought.

Usage: python sample_data/make_costs.py (from the project root)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent))

from clvcli.io import jalali  # noqa: E402

BASE = {"instagram": 15_000_000, "google": 11_000_000, "telegram": 6_000_000, "referral": 2_000_000}
PERSIAN = {"instagram": "اینستاگرام", "google": "گوگل", "telegram": "تلگرام", "referral": "معرفی"}
DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def spend_rows() -> list[tuple[str, int, int, int]]:
    rng = np.random.default_rng(7)
    rows = []
    for year in (2023, 2024):
        for month in range(1, 13):
            for channel, amount in BASE.items():
                growth = 1.15 if year == 2024 else 1.0
                spend = int(round(amount * rng.uniform(0.8, 1.2) * growth, -5))
                rows.append((channel, year, month, spend))
    return rows


CPA = {"instagram": 500_000, "google": 700_000, "telegram": 400_000, "referral": 250_000}


def write_customer_list() -> None:
    """Buyers with their first order's channel and a cost, then prospects."""
    rng = np.random.default_rng(11)
    first_channel: dict[str, str] = {}
    with open(HERE / "shop.csv", encoding="utf-8") as source:
        next(source)
        for line in source:
            _, customer, _, _, channel = line.rstrip("\n").split(",")
            first_channel.setdefault(customer, channel)
    channels = list(CPA)
    prospects = {f"P{n:04d}": channels[rng.integers(len(channels))] for n in range(1, 121)}
    with open(HERE / "shop_customers.csv", "w", newline="") as out:
        out.write("customer_id,channel,acquisition_cost\n")
        for customer, channel in sorted({**first_channel, **prospects}.items()):
            cost = CPA.get(channel)
            text = "" if cost is None else str(int(round(cost * rng.uniform(0.5, 1.5), -3)))
            out.write(f"{customer},{channel},{text}\n")


def main() -> None:
    write_customer_list()
    rows = spend_rows()
    with open(HERE / "shop_costs.csv", "w", newline="") as out:
        out.write("channel,period,spend\n")
        for channel, year, month, spend in rows:
            out.write(f"{channel},{year:04d}-{month:02d},{spend}\n")
    with open(HERE / "shop_costs_fa.csv", "w", encoding="utf-8-sig", newline="") as out:
        out.write("کانال جذب,ماه,هزینه (تومان)\n")
        for channel, year, month, spend in rows:
            day = int(np.datetime64(f"{year:04d}-{month:02d}-15", "D").astype(np.int64))
            jy, jm, _ = jalali.from_days(np.array([day]))
            period = f"{jy[0]:04d}/{jm[0]:02d}".translate(DIGITS)
            amount = f"{spend:,}".replace(",", "٬").translate(DIGITS)
            out.write(f"{PERSIAN[channel]},{period},{amount}\n")


if __name__ == "__main__":
    main()
