"""The public CDNOW master log, rendered as real exports write it, read as the clean file.

A reader is only trusted on files nobody here wrote. Each test writes the same
69,659 purchases the way a system or a spreadsheet in the field writes them and
checks that `clv summary` gives the clean file's customers, purchase days and money.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import DATA

CDNOW = DATA / "cdnow_master.csv"
CLEAN_TOTAL = 2_500_315.63
CLEAN_CUSTOMERS = 23_570
CLEAN_PURCHASE_DAYS = 67_591

_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def cdnow_rows() -> list[dict[str, str]]:
    with CDNOW.open(newline="") as f:
        return list(csv.DictReader(f))


def summary_totals(result) -> tuple[int, int, float]:
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(result.stdout.splitlines()))
    spend = sum(float(row["total_spend"] or 0) for row in rows)
    return len(rows), sum(int(row["orders"]) for row in rows), round(spend, 2)


def test_the_clean_file_gives_its_published_totals(clv):
    got = summary_totals(clv("summary", CDNOW, "--format", "csv", "--quiet"))
    assert got == (CLEAN_CUSTOMERS, CLEAN_PURCHASE_DAYS, CLEAN_TOTAL)


def test_a_persian_export_gives_the_clean_totals(clv, tmp_path: Path):
    """Persian headers, Persian digits in ids, Jalali dates and `٬` `٫` in amounts."""
    jdatetime = pytest.importorskip("jdatetime")
    path = tmp_path / "cdnow_fa.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("کد مشتری,تاریخ سفارش,مبلغ (دلار)\n")
        for row in cdnow_rows():
            year, month, day = (int(part) for part in row["date"].split("-"))
            jalali = jdatetime.date.fromgregorian(year=year, month=month, day=day)
            amount = f"{float(row['amount']):,.2f}".replace(",", "٬").replace(".", "٫")
            cells = (
                f"C{row['customer_id']}".translate(_PERSIAN_DIGITS),
                f"{jalali.year}/{jalali.month:02d}/{jalali.day:02d}".translate(_PERSIAN_DIGITS),
                f'"{amount.translate(_PERSIAN_DIGITS)}"',
            )
            f.write(",".join(cells) + "\n")
    got = summary_totals(clv("summary", path, "--format", "csv", "--quiet"))
    assert got == (CLEAN_CUSTOMERS, CLEAN_PURCHASE_DAYS, CLEAN_TOTAL)
