"""Fader & Hardie (2007), "How to project customer retention", Table 1: the share of
1,000 customers of each segment still active at years 0 to 12, in percent (read from
tests/data/fader_hardie_2007_table1.csv), and the segments as cohort tables."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

TABLE1 = Path(__file__).resolve().parent.parent / "data" / "fader_hardie_2007_table1.csv"
COHORT_SIZE = 1000
SEGMENTS = ("regular", "high_end")


def read_table1() -> dict[str, np.ndarray]:
    """Percent still active at years 0..12, by segment."""
    with TABLE1.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["year"]) for row in rows] == list(range(13))
    return {segment: np.array([float(row[segment]) for row in rows]) for segment in SEGMENTS}


@pytest.fixture(scope="session")
def table1() -> dict[str, np.ndarray]:
    return read_table1()


def survivors(percent: np.ndarray, years: int) -> list[int]:
    """Active customers of the 1,000 at years 0..years - 1."""
    return [round(p * COHORT_SIZE / 100) for p in percent[:years]]
