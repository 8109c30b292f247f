"""`clv segment` filters: --min-clv, --channel, --top, --sort, --summary --by channel."""

from __future__ import annotations

import csv
import io

from tests.conftest import SAMPLE

LOG = """customer,date,amount,channel
A,2024-01-01,100,ads
A,2024-03-01,100,ads
B,2024-01-05,80,seo
C,2024-02-01,300,ads
D,2024-03-01,10,seo
"""


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def ids(result) -> list[str]:
    assert result.exit_code == 0, result.stderr
    return [r["customer_id"] for r in rows(result.stdout)]


def test_min_clv_channel_top_and_sort(clv, write):
    path = write("tx.csv", LOG)
    base = ("segment", path, "--model", "none", "-q")
    assert ids(clv(*base, "--min-clv", "100")) == ["A", "C"]
    assert ids(clv(*base, "--channel", "seo")) == ["B", "D"]
    assert ids(clv(*base, "--top", "2")) == ["C", "A"]
    assert ids(clv(*base, "--stage", "new", "--sort", "total_clv")) == ["C", "B", "D"]
    assert ids(clv(*base, "--stage", "new", "--sort", "first_purchase")) == ["B", "C", "D"]
    assert ids(clv(*base, "--channel", "ads", "--min-clv", "250")) == ["C"]


def test_summary_by_channel_adds_up_to_the_whole(clv):
    whole = rows(clv("segment", SAMPLE / "shop.csv", "--summary", "-q").stdout)
    split = rows(clv("segment", SAMPLE / "shop.csv", "--summary", "--by", "channel", "-q").stdout)
    for stage in whole:
        parts = [r for r in split if r["stage"] == stage["stage"]]
        assert sum(int(r["customers"]) for r in parts) == int(stage["customers"])
    assert {r["channel"] for r in split} == {
        "direct",
        "google",
        "instagram",
        "referral",
        "telegram",
    }


def test_bad_filters_are_usage_errors(clv, write):
    path = write("plain.csv", "customer,date,amount\nA,2024-01-01,5\n")
    assert clv("segment", path, "--model", "none", "--channel", "ads").exit_code == 2
    assert (
        clv("segment", path, "--model", "none", "--stage", "new", "--sort", "nope").exit_code == 2
    )
    assert clv("segment", path, "--model", "none").exit_code == 2


def test_compute_output_with_intervals_keeps_them(clv, tmp_path):
    """Segmenting `compute --interval` output keeps its four interval columns."""
    values = tmp_path / "values.csv"
    made = clv("compute", SAMPLE / "shop.csv", "--interval", "0.9", "-q", "-o", values)
    assert made.exit_code == 0, made.stderr
    result = clv("segment", values, "--stage", "loyal", "-q")
    assert result.exit_code == 0, result.stderr
    written = {r["customer_id"]: r for r in rows(values.read_text())}
    kept = rows(result.stdout)
    assert kept and list(kept[0]) == list(next(iter(written.values())))
    for row in kept:
        assert row["predicted_clv_lower"] == written[row["customer_id"]]["predicted_clv_lower"]
        lower, upper = float(row["predicted_clv_lower"]), float(row["predicted_clv_upper"])
        assert lower <= float(row["predicted_clv"]) <= upper


def test_a_log_that_is_a_fifo_named_csv_is_read_once(clv, tmp_path):
    """Its first bytes are not taken to look at its header before the reader reads it."""
    import os
    import threading

    fifo = tmp_path / "log.csv"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "w", encoding="utf-8") as out:
            out.write(LOG)

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        assert ids(clv("segment", fifo, "--stage", "repeat", "--model", "none")) == ["A"]
    finally:
        writer.join(timeout=10)
