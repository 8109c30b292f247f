"""`clv fit` from a log: the report is the same whether its rows are kept or let go."""

from __future__ import annotations

import pytest

from clvcli.core.fitting import fit_report
from clvcli.io.readers import read_transactions
from tests.conftest import SAMPLE


@pytest.mark.parametrize(
    ("model", "kept"), [("bgnbd", False), ("gamma-gamma", False), ("bgbb", True)]
)
def test_a_consumed_log_gives_the_report_of_a_kept_one(model: str, kept: bool) -> None:
    """Consumed, the log's rows go once summed up, except for BG/BB, which counts
    purchase periods in them; the report and its warnings do not change."""
    path = str(SAMPLE / "shop.csv")
    kept_log = read_transactions(path)
    expected = fit_report(kept_log, model, period="week")
    consumed_log = read_transactions(path)
    got = fit_report(consumed_log, model, period="week", consume=True)
    assert _timeless(got[0]) == _timeless(expected[0])
    assert got[1] == expected[1]
    assert (len(consumed_log.day) == kept_log.num_rows) is kept
    assert len(kept_log.day) == kept_log.num_rows


def _timeless(report: dict) -> dict:
    """The report without the seconds its fits took, at any depth."""
    return {
        key: _timeless(value) if isinstance(value, dict) else value
        for key, value in report.items()
        if key != "seconds"
    }
