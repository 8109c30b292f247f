"""The two published data sets, summarised the way a user of clv would summarise them.

CDNOW: the 2,357-customer sample of Fader, Hardie and Lee, calibration period to
1997-09-30, holdout to 1998-06-30, in weeks (the published analyses use weeks 1-39
for calibration and 40-78 for the holdout). The SAMPLE id (second column) is the
customer id, so customers come out in the order 0001, 0002, ... of the papers.

Donations: the BG/BB data of Fader, Hardie and Shang (2010), 22 (frequency,
recency) patterns with their counts, used directly as distinct rows.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clvcli.contract import CustomerTable
from clvcli.core.summary import calibration_table
from clvcli.io.dates import parse_date_value
from clvcli.io.readers import read_transactions
from clvcli.models import DistinctRows

DATA = Path(__file__).resolve().parent.parent / "data"


def _cdnow_table() -> CustomerTable:
    raw = pd.read_csv(DATA / "CDNOW_sample.txt", sep=r"\s+", dtype=str, header=None)
    log = pd.DataFrame({"customer_id": raw[1], "date": raw[2], "amount": raw[4]})
    data = log.to_csv(index=False).encode("utf-8")
    transactions = read_transactions("-", stdin=io.BytesIO(data))
    return calibration_table(
        transactions,
        calibration_end=parse_date_value("1997-09-30"),
        as_of=parse_date_value("1998-06-30"),
        period="week",
    )


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """The CDNOW calibration summary: one row per customer, in sample-id order."""
    return _cdnow_table().frame


@pytest.fixture(scope="module")
def cdnow_rows(cdnow: pd.DataFrame) -> DistinctRows:
    """Distinct (frequency, recency, T) rows of CDNOW, in weeks."""
    return DistinctRows.of(
        cdnow["frequency"].to_numpy(), cdnow["recency"].to_numpy(), cdnow["T"].to_numpy()
    )


@pytest.fixture(scope="module")
def donations() -> DistinctRows:
    """The 22 donation patterns as rows (x, t_x, n) weighted by their counts."""
    frame = pd.read_csv(DATA / "donations.csv")
    return DistinctRows(
        (
            frame["frequency"].to_numpy(dtype=np.float64),
            frame["recency"].to_numpy(dtype=np.float64),
            frame["periods"].to_numpy(dtype=np.float64),
        ),
        frame["weights"].to_numpy(dtype=np.float64),
        np.arange(len(frame)),
    )
