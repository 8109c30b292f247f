"""Write the sample shop's acquisition costs, in English and as a Persian export.

Monthly spend per paid channel over 2023-2024 (organic "direct" has none), with a
fixed seed. shop_costs_fa.csv books each month's spend at the Jalali month holding its
15th, with Persian headers, digits and separators, and a UTF-8 BOM.

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


def main() -> None:
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
