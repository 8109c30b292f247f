"""The terminal tables: numbers shown so a reader can tell them apart."""

from __future__ import annotations

import pandas as pd
from rich.console import Console

from clvcli.report.tables import frame_table


def _shown(frame: pd.DataFrame, **kwargs) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(frame_table(frame, **kwargs))
    return console.export_text()


def test_small_estimates_keep_three_significant_digits():
    frame = pd.DataFrame({"parameter": ["r", "beta", "b"], "estimate": [1.8183, 4.7197e-5, 0.0]})
    text = _shown(frame)
    assert "1.82" in text and "4.72e-05" in text
    assert "0.00 " in text  # a true zero stays as it is


def test_small_money_stays_in_cents():
    frame = pd.DataFrame({"customer": ["a", "b"], "value": [0.001, 12.5]})
    text = _shown(frame, money={"value"})
    assert "0.00" in text and "e-" not in text
