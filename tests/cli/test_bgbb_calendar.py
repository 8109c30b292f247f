"""BG/BB on the donations data as a transaction log: opportunities follow the calendar.

tests/data/donations.csv holds the 22 (x, t_x, n = 6) patterns of the 11,104 donors of
Fader, Hardie and Shang (2010). Rendered here as the log a charity keeps (donor, date,
amount), a gift on the same date each year (or month, or week), the fit must give the
published estimates: alpha 1.204, beta 0.750, gamma 0.657, delta 2.783, LL -33,225.6.
A year of 365.25 days used to put a gift made a year later into the year before, and
gave alpha 80.6 with `converged True`.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pytest

from clvcli.io import jalali
from tests.conftest import DATA

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
PUBLISHED_LL = -33225.6
D = dt.date.fromisoformat


def patterns() -> list[tuple[int, int, int]]:
    """(x, t_x, donors) of the published data, every one with n = 6."""
    with open(DATA / "donations.csv", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert {r["periods"] for r in rows} == {"6"}
    return [(int(r["frequency"]), int(r["recency"]), int(r["weights"])) for r in rows]


def anniversary(first: dt.date, k: int, period: str) -> dt.date:
    """The start of period k by Python's calendar (the month's last day when it is short)."""
    if period in ("day", "week"):
        return first + dt.timedelta(days=k * (7 if period == "week" else 1))
    months = k * (12 if period == "year" else 1)
    year, month = divmod(first.year * 12 + first.month - 1 + months, 12)
    return dt.date(year, month + 1, min(first.day, calendar.monthrange(year, month + 1)[1]))


def render_donations(
    path: Path, period: str, firsts: list[dt.date], *, shift: int = 0, extra=None
) -> int:
    """Write the donors' gifts: the first on one of ``firsts`` (in turn), then x gifts
    in the periods t_x - x + 1 .. t_x, each on its anniversary, ``shift`` days later.
    ``extra(donor, x, t_x)`` may name more periods with a gift. Returns the donors."""
    out = io.StringIO()
    out.write("donor,date,amount\n")
    donor = 0
    for x, t_x, count in patterns():
        for _ in range(count):
            first = firsts[donor % len(firsts)]
            periods = [0, *range(t_x - x + 1, t_x + 1)]
            periods += extra(donor, x, t_x) if extra else []
            for k in periods:
                when = anniversary(first, k, period) + dt.timedelta(days=shift)
                out.write(f"D{donor:05d},{when.isoformat()},25.00\n")
            donor += 1
    path.write_text(out.getvalue(), encoding="utf-8")
    return donor


def fit(clv, path: Path, period: str, *extra: str) -> dict:
    result = clv(
        "fit", path, "--model", "bgbb", "--period", period, "--customer-col", "donor",
        "--format", "json", "-q", *extra,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def assert_published(report: dict) -> None:
    assert report["n_customers"] == 11104
    assert report["converged"] is True
    for name, value in PUBLISHED.items():
        assert report["params"][name] == pytest.approx(value, rel=5e-3), name
    assert report["log_likelihood"] == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_gifts_on_new_years_day_give_the_published_estimates(clv, tmp_path):
    path = tmp_path / "donations.csv"
    assert render_donations(path, "year", [D("1995-01-01")]) == 11104
    report = fit(clv, path, "year")
    assert report["as_of"] == "2001-01-01"
    assert_published(report)


def test_a_day_later_gives_the_same_fit(clv, tmp_path):
    same_day, day_later = tmp_path / "same.csv", tmp_path / "later.csv"
    render_donations(same_day, "year", [D("1995-01-01")])
    render_donations(day_later, "year", [D("1995-01-01")], shift=1)
    one, other = fit(clv, same_day, "year"), fit(clv, day_later, "year")
    assert other["as_of"] == "2001-01-02"
    assert_published(other)
    for name in PUBLISHED:
        assert other["params"][name] == pytest.approx(one["params"][name], rel=1e-6)


def test_first_gifts_on_month_ends_and_leap_years_give_the_published_estimates(clv, tmp_path):
    # Anniversaries of 28 February and of month ends, through the leap years 1996 and
    # 2000; by 2001-12-31 every donor has had exactly six more yearly opportunities.
    firsts = [D(d) for d in ("1995-01-01", "1995-01-31", "1995-02-28", "1995-03-01",
                             "1995-04-30", "1995-07-15", "1995-08-31", "1995-12-31")]  # fmt: skip
    path = tmp_path / "donations.csv"
    render_donations(path, "year", firsts)
    assert_published(fit(clv, path, "year", "--as-of", "2001-12-31"))


def test_monthly_gifts_give_the_published_estimates(clv, tmp_path):
    # First gifts on the 28th to the 31st of January: their anniversaries in February
    # all fall on the 28th, and by 31 July each donor has had six more months.
    firsts = [D(f"1995-01-{d}") for d in (28, 29, 30, 31)]
    path = tmp_path / "donations.csv"
    render_donations(path, "month", firsts)
    assert_published(fit(clv, path, "month", "--as-of", "1995-07-31"))


def test_weekly_gifts_give_the_published_estimates(clv, tmp_path):
    firsts = [D("1995-01-01") + dt.timedelta(days=d) for d in range(7)]
    path = tmp_path / "donations.csv"
    render_donations(path, "week", firsts)
    assert_published(fit(clv, path, "week", "--as-of", "1995-02-18"))


@pytest.mark.parametrize("calendar", [[], ["--calendar", "jalali"]])
def test_jalali_gifts_every_nowruz_give_the_published_estimates(clv, tmp_path, calendar):
    """A Persian charity's log: every gift on 1 Farvardin from 1376, written in Jalali
    dates. Nowruz fell on 21 March except in 2000 (20 March), a day before the
    Gregorian anniversary: the years are Jalali ones, as the dates are (read as Jalali
    by their years, or with --calendar jalali). Gregorian years gave alpha 30.3."""
    nowruz = {year: int(jalali.to_days(year, 1, 1)) for year in range(1376, 1383)}
    out = io.StringIO()
    out.write("donor,date,amount\n")
    donor = 0
    for x, t_x, count in patterns():
        for _ in range(count):
            for k in [0, *range(t_x - x + 1, t_x + 1)]:
                out.write(f"D{donor:05d},{1376 + k}/01/01,25.00\n")
            donor += 1
    assert str(np.datetime64(nowruz[1379], "D")) == "2000-03-20"
    path = tmp_path / "donations_fa.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    report = fit(clv, path, "year", *calendar)
    assert report["as_of"] == str(np.datetime64(nowruz[1382], "D"))
    assert_published(report)


def test_validate_holds_out_the_last_calendar_year(clv, tmp_path):
    # Donors who gave in 2001 give again on 2002-01-01: `--holdout 1y` keeps 1995-2001
    # (the published calibration) and one yearly opportunity of holdout for everyone.
    path = tmp_path / "donations.csv"
    renewed = [0]

    def again(donor, x, t_x):
        if t_x == 6:
            renewed[0] += 1
            return [7]
        return []

    render_donations(path, "year", [D("1995-01-01")], extra=again)
    result = clv(
        "validate", path, "--model", "bgbb", "--period", "year", "--holdout", "1y",
        "--customer-col", "donor", "--format", "json", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["calibration_end"] == "2001-01-01"
    bgbb = report["models"]["bgbb"]
    for name, value in PUBLISHED.items():
        assert bgbb["params"][name] == pytest.approx(value, rel=5e-3), name
    assert bgbb["actual_holdout_purchases"] == renewed[0]


def test_a_six_month_holdout_to_a_months_end_is_the_half_year(clv, tmp_path):
    """--holdout 6m before 1998-06-30 starts the holdout on 1998-01-01 (it was
    182.6 days, from 1997-12-30)."""
    raw = (DATA / "CDNOW_sample.txt").read_text(encoding="utf-8").split("\n")
    lines = ["customer_id,date,amount"]
    for line in raw:
        if line.strip():
            _, customer, date, _, amount = line.split()
            lines.append(f"{customer},{date},{amount}")
    path = tmp_path / "cdnow.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = clv(
        "validate", path, "--model", "bgnbd", "--period", "week", "--holdout", "6m",
        "--format", "json", "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["calibration_end"] == "1997-12-31"
    assert report["holdout_end"] == "1998-06-30"
