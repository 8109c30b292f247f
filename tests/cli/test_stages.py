"""`clv stages`: the funnel, split by channel, and the transition matrix."""

from __future__ import annotations

import csv
import io

import pytest

from tests.conftest import SAMPLE

# As of 2024-07-02 with the day rules: A loyal (4 purchase days over 182 days), B new,
# C churned (397 days without a purchase), D repeat. On 2024-03-01: A repeat (2 days,
# 60 days of tenure), B new, C at_risk (274 days), D not yet a customer.
LOG = """customer,date,amount,channel
A,2024-01-01,100,ads
A,2024-03-01,100,ads
A,2024-05-01,100,ads
A,2024-07-01,100,ads
B,2024-01-05,80,seo
C,2023-06-01,50,ads
D,2024-07-01,10,seo
D,2024-07-02,30,seo
"""


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def log(write):
    return write("tx.csv", LOG)


def test_funnel_in_lifecycle_order(clv, log):
    result = clv("stages", log, "--model", "none", "--margin", "0.5")
    assert result.exit_code == 0, result.stderr
    funnel = {r["stage"]: r for r in rows(result.stdout)}
    assert list(funnel) == ["new", "repeat", "loyal", "at_risk", "churned"]
    assert funnel["loyal"]["customers"] == "1" and funnel["loyal"]["share"] == "0.25"
    assert funnel["loyal"]["revenue"] == "400.00"
    assert funnel["loyal"]["mean_clv"] == "200.00"
    assert funnel["repeat"]["total_clv"] == "20.00"
    assert funnel["at_risk"]["customers"] == "0" and funnel["at_risk"]["mean_clv"] == ""


def test_funnel_by_channel(clv, log):
    funnel = rows(clv("stages", log, "--model", "none", "--by", "channel").stdout)
    counts = {(r["channel"], r["stage"]): int(r["customers"]) for r in funnel}
    assert counts[("ads", "loyal")] == 1 and counts[("ads", "churned")] == 1
    assert counts[("seo", "new")] == 1 and counts[("seo", "repeat")] == 1
    assert sum(counts.values()) == 4
    assert {r["channel"] for r in funnel} == {"ads", "seo"}


def test_transition_matrix(clv, log):
    result = clv("stages", log, "--model", "none", "--compare-to", "2024-03-01", "-q")
    matrix = {r["from_stage"]: r for r in rows(result.stdout)}
    assert list(matrix) == ["not_yet_customer", "new", "repeat", "loyal", "at_risk", "churned"]
    assert matrix["repeat"]["loyal"] == "1"  # A
    assert matrix["new"]["new"] == "1"  # B
    assert matrix["at_risk"]["churned"] == "1"  # C
    assert matrix["not_yet_customer"]["repeat"] == "1"  # D
    assert matrix["loyal"]["total"] == "0"


def test_transition_rows_sum_to_the_earlier_counts(clv):
    earlier = rows(
        clv("stages", SAMPLE / "shop.csv", "--period", "week", "--as-of", "2024-06-30", "-q").stdout
    )
    matrix = rows(
        clv(
            "stages", SAMPLE / "shop.csv", "--period", "week", "--compare-to", "2024-06-30", "-q"
        ).stdout
    )
    by_stage = {r["from_stage"]: r for r in matrix}
    for stage in earlier:
        row = by_stage[stage["stage"]]
        cells = sum(int(row[s]) for s in ("new", "repeat", "loyal", "at_risk", "churned"))
        assert cells == int(row["total"]) == int(stage["customers"])
    everyone = sum(int(r["total"]) for r in matrix)
    assert everyone == 1989


def test_bad_options(clv, log):
    assert clv("stages", log, "--by", "city").exit_code == 2
    assert clv("stages", log, "--compare-to", "2025-01-01").exit_code == 2


def test_by_channel_without_a_channel_column_is_a_usage_error(clv, write):
    path = write("plain.csv", "customer,date,amount\nA,2024-01-01,5\n")
    result = clv("stages", path, "--model", "none", "--by", "channel")
    assert result.exit_code == 2
    assert "needs a channel column" in result.stderr
