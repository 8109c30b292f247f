"""BG/BB's discrete opportunities on a hand-worked log.

Weeks (7 days) after a first purchase on day 0: customer 0 buys on days 0, 3, 8, 9 and
20 (opportunities 0, 0, 1, 1, 2: x = 2, t_x = 2), customer 1 on day 5 only (x = 0,
t_x = 0), customer 2 on days 1 and 30 (opportunity 4: x = 1, t_x = 4). Day 35 ends
the log: n = 5, 4 and 4 weeks.
"""

from __future__ import annotations

import numpy as np
import pytest

from clvcli.core.occasions import Occasions
from clvcli.core.opportunities import opportunity_rows

CUSTOMER = np.array([0, 0, 0, 0, 0, 1, 2, 2])
DAY = np.array([0, 3, 8, 9, 20, 5, 1, 30])
FIRST = np.array([0, 5, 1])


@pytest.mark.parametrize("shuffled", [False, True])
def test_opportunities_count_weeks_with_a_purchase(shuffled):
    order = np.random.default_rng(3).permutation(len(DAY)) if shuffled else np.arange(len(DAY))
    occasions = Occasions(CUSTOMER[order], DAY[order], np.ones(len(DAY)))
    x, t_x, n = opportunity_rows(occasions, FIRST, 35, "week")
    assert x.tolist() == [2, 0, 1]
    assert t_x.tolist() == [2, 0, 4]
    assert n.tolist() == [5, 4, 4]
