"""Stage rules of DOMAIN.md, in their order, with default and custom cut-offs."""

from __future__ import annotations

import numpy as np
import pytest

from clvcli.contract import STAGES
from clvcli.lifecycle import StageRules, assign_stages, parse_stages


def stages(orders, since_last, since_first, p_alive=None, rules=StageRules()):
    return list(
        assign_stages(
            np.array(orders),
            np.array(since_last),
            np.array(since_first),
            None if p_alive is None else np.array(p_alive, dtype=float),
            rules,
        )
    )


def test_day_rules_at_their_boundaries():
    assert stages([1], [365], [365]) == ["at_risk"]
    assert stages([1], [366], [366]) == ["churned"]
    assert stages([5], [180], [400]) == ["loyal"]
    assert stages([5], [181], [400]) == ["at_risk"]
    assert stages([1], [10], [10]) == ["new"]
    assert stages([4], [0], [180]) == ["loyal"]
    assert stages([4], [0], [179]) == ["repeat"]
    assert stages([3], [0], [500]) == ["repeat"]
    assert stages([2], [30], [40]) == ["repeat"]


def test_churn_wins_over_every_other_rule():
    assert stages([20], [400], [900]) == ["churned"]


def test_p_alive_rules_apply_only_where_known():
    assert stages([5, 5, 5, 1], [1, 1, 1, 1], [400] * 4, [0.05, 0.3, np.nan, 0.9]) == [
        "churned",
        "at_risk",
        "loyal",
        "new",
    ]


def test_custom_cut_offs():
    rules = StageRules(churn_days=90, risk_days=30, loyal_orders=2, loyal_days=0)
    assert stages([2, 2, 2], [10, 40, 100], [10, 40, 100], rules=rules) == [
        "loyal",
        "at_risk",
        "churned",
    ]


def test_parse_stages_accepts_lists_and_dashes():
    assert parse_stages("loyal, repeat") == ["loyal", "repeat"]
    assert parse_stages("at-risk") == ["at_risk"]
    with pytest.raises(ValueError, match="unknown stage 'gold'"):
        parse_stages("loyal,gold")
    assert STAGES[0] == "potential"


@pytest.mark.parametrize("with_p_alive", [True, False])
def test_blocks_on_threads_give_the_rules_row_by_row(monkeypatch, with_p_alive):
    from clvcli import parallel

    monkeypatch.setattr(parallel, "BLOCK_ROWS", 97)  # blocks end anywhere
    monkeypatch.setattr(parallel, "cores", lambda: 2)
    rng = np.random.default_rng(8)
    n = 5_000
    orders = rng.integers(1, 8, n)
    since_first = rng.integers(0, 900, n)
    since_last = np.minimum(rng.integers(0, 900, n), since_first)
    p_alive = np.where(rng.random(n) < 0.1, np.nan, rng.random(n)) if with_p_alive else None
    got = assign_stages(orders, since_last, since_first, p_alive).tolist()
    rules = StageRules()
    for i in range(n):
        alive = None if p_alive is None or np.isnan(p_alive[i]) else p_alive[i]
        if since_last[i] > rules.churn_days or (alive is not None and alive < 0.10):
            want = "churned"
        elif since_last[i] > rules.risk_days or (alive is not None and alive < 0.50):
            want = "at_risk"
        elif orders[i] == 1:
            want = "new"
        elif orders[i] >= rules.loyal_orders and since_first[i] >= rules.loyal_days:
            want = "loyal"
        else:
            want = "repeat"
        assert got[i] == want, i
