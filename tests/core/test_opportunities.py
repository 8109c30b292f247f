"""BG/BB's discrete opportunities on a hand-worked log.

Weeks (7 days) after a first purchase on day 0: customer 0 buys on days 0, 3, 8, 9 and
20 (opportunities 0, 0, 1, 1, 2: x = 2, t_x = 2), customer 1 on day 5 only (x = 0,
t_x = 0), customer 2 on days 1 and 30 (opportunity 4: x = 1, t_x = 4). Day 35 ends
the log: n = 5, 4 and 4 weeks.
"""

from __future__ import annotations

import numpy as np
import pytest

from clvcli.core.opportunities import opportunities
from clvcli.io.readers import Transactions

CUSTOMER = np.array([0, 0, 0, 0, 0, 1, 2, 2])
DAY = np.array([0, 3, 8, 9, 20, 5, 1, 30])


@pytest.mark.parametrize("shuffled", [False, True])
def test_opportunities_count_weeks_with_a_purchase(shuffled):
    order = np.random.default_rng(3).permutation(len(DAY)) if shuffled else np.arange(len(DAY))
    log = Transactions(
        source="log",
        customer_ids=np.array(["A", "B", "C"], dtype=object),
        customer=CUSTOMER[order],
        day=DAY[order],
        amount=np.ones(len(DAY)),
        channel=None,
        rows_read=len(DAY),
    )
    found = opportunities(log, 35, "week")
    assert found.x.tolist() == [2, 0, 1]
    assert found.t_x.tolist() == [2, 0, 4]
    assert found.n.tolist() == [5, 4, 4]


def test_a_refunded_day_is_no_opportunity():
    """A day whose refund nets it to zero is no purchase: it neither starts a customer's
    opportunities nor counts as one; a day netting above zero still does."""
    log = Transactions(
        source="log",
        customer_ids=np.array(["A", "B"], dtype=object),
        customer=np.array([0, 0, 0, 1, 1, 1, 1]),
        day=np.array([0, 0, 8, 0, 8, 8, 15]),
        amount=np.array([5.0, -5.0, 3.0, 2.0, 4.0, -1.0, 1.0]),
        channel=None,
        rows_read=7,
    )
    found = opportunities(log, 21, "week")
    assert found.x.tolist() == [0, 2]  # A starts on day 8; B buys in weeks 1 and 2
    assert found.n.tolist() == [1, 3]
