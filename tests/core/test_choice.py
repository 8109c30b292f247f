"""--model auto: the rule that picks the purchase model, on hand-made scores and on
the public CDNOW master log and the sample shop."""

from __future__ import annotations

import numpy as np
import pytest

from clvcli.core import choice
from clvcli.core.choice import (
    BIC_RULE,
    CANDIDATES,
    HOLDOUT_RULE,
    CandidateScore,
    Scores,
    old_one_time_buyers,
    pick,
    scores_of_rows,
    scores_of_transactions,
)
from clvcli.core.compute import ComputeSettings, compute_clv
from clvcli.io.readers import ReadSettings, read_transactions
from clvcli.lifecycle import StageRules
from clvcli.models import PURCHASE_MODELS, DistinctRows
from tests.conftest import DATA, SAMPLE


def holdout(**scores: tuple[float | None, float]) -> Scores:
    """Holdout scores: name -> (MAE, P(alive) past the cut-off)."""
    found = tuple(CandidateScore(name, mae, alive) for name, (mae, alive) in scores.items())
    return Scores(HOLDOUT_RULE, found, 1000, 182.0)


def test_candidates_are_purchase_models_and_not_bgbb():
    assert set(CANDIDATES) <= set(PURCHASE_MODELS)
    assert "bgbb" not in CANDIDATES
    assert CANDIDATES[:3] == ("bgnbd", "mbgnbd", "pnbd")


def test_the_lowest_holdout_error_wins():
    scores = holdout(bgnbd=(0.531, 0.4), mbgnbd=(0.520, 0.3), pnbd=(0.512, 0.2))
    chosen = pick(scores, old_buyers=10, churn_days=365)
    assert chosen.model == "pnbd" and chosen.left_out == {}
    assert chosen.note() == (
        "model auto chose pnbd: lowest holdout MAE (0.512 vs bgnbd 0.531, mbgnbd 0.520) "
        "on a 26-week holdout of 1,000 customers"
    )


def test_a_model_holding_old_one_time_buyers_alive_is_left_out():
    scores = holdout(bgnbd=(0.500, 1.0), mbgnbd=(0.520, 0.3), pnbd=(0.512, 0.2))
    chosen = pick(scores, old_buyers=12054, churn_days=365)
    assert chosen.model == "pnbd"
    assert chosen.left_out == {
        "bgnbd": "it gives P(alive) 1.00 to the 12,054 one-time buyers older than 365 days"
    }
    assert chosen.note().endswith(
        "; bgnbd left out: it gives P(alive) 1.00 to the 12,054 one-time buyers older than 365 days"
    )
    # 0.99 is already too alive; 0.98 is not.
    assert pick(holdout(bgnbd=(0.5, 0.99), pnbd=(0.6, 0.2)), 1, 365).model == "pnbd"
    assert pick(holdout(bgnbd=(0.5, 0.98), pnbd=(0.6, 0.2)), 1, 365).model == "bgnbd"


def test_without_old_one_time_buyers_every_candidate_may_win():
    scores = holdout(bgnbd=(0.500, 1.0), mbgnbd=(0.520, 0.3), pnbd=(0.512, 0.2))
    assert pick(scores, old_buyers=0, churn_days=365).model == "bgnbd"


def test_a_candidate_that_cannot_be_fitted_is_left_out_with_why():
    found = (
        CandidateScore("bgnbd", None, failure="the fit did not converge"),
        CandidateScore("mbgnbd", 1200.0, 0.3),
        CandidateScore("pnbd", 1190.0, 0.2),
    )
    chosen = pick(Scores(BIC_RULE, found, 500, None, "too short"), 0, 365)
    assert chosen.model == "pnbd"
    assert chosen.left_out == {"bgnbd": "could not be fitted (the fit did not converge)"}
    assert chosen.note().startswith(
        "model auto chose pnbd: lowest BIC (1,190.0 vs mbgnbd 1,200.0) on 500 customers; too short"
    )


def test_when_nothing_can_be_fitted_the_first_candidate_is_tried_on_everyone():
    found = tuple(CandidateScore(name, None, failure="too little data") for name in CANDIDATES)
    chosen = pick(Scores(BIC_RULE, found, 3), 0, 365)
    assert chosen.model == CANDIDATES[0]
    assert "no candidate could be fitted" in chosen.note()


def test_when_every_candidate_holds_them_alive_the_best_is_used_with_a_warning():
    scores = holdout(bgnbd=(0.5, 1.0), pnbd=(0.4, 0.995))
    chosen = pick(scores, old_buyers=3, churn_days=365)
    assert chosen.model == "pnbd"
    assert chosen.warning is not None and "every candidate model" in chosen.warning


def test_ties_go_to_the_first_candidate():
    assert pick(holdout(pnbd=(0.5, 0.1), mbgnbd=(0.5, 0.1)), 0, 365).model == "mbgnbd"


def test_old_one_time_buyers_are_past_the_cut_off_with_one_purchase():
    frequency = np.array([0, 0, 0, 1, 0])
    days = np.array([366, 365, 10, 900, 1000])
    assert old_one_time_buyers(frequency, days, 365) == 2
    assert old_one_time_buyers(frequency, days, 999) == 1


def test_the_record_is_rounded_for_the_metadata():
    chosen = pick(holdout(bgnbd=(0.123456789, 1.0), pnbd=(0.2, 0.1)), 5, 365)
    record = chosen.record()
    assert record["rule"] == "holdout_mae"
    assert record["scores"] == {"bgnbd": 0.123457, "pnbd": 0.2}
    assert set(record["left_out"]) == {"bgnbd"}
    assert record["holdout_days"] == 182.0


@pytest.fixture(scope="module")
def master():
    """The whole CDNOW master log: 23,570 customers over 78 weeks."""
    transactions = read_transactions(str(DATA / "cdnow_master.csv"), ReadSettings())
    assert transactions.num_rows == 69_659
    return transactions


def test_cdnow_master_is_long_enough_for_a_holdout_of_a_third(master):
    scores = scores_of_transactions(master, period="week", as_of=None, churn_days=365)
    assert scores.rule == HOLDOUT_RULE
    assert scores.holdout_days == 182.0  # a third of 1997-01-01 to 1998-06-30 (546 days)
    assert scores.customers == 11_785  # an even sample: every other customer
    by_name = {c.model: c for c in scores.candidates}
    assert by_name["bgnbd"].alive_past_cutoff == 1.0  # BG/NBD's artifact
    assert by_name["pnbd"].alive_past_cutoff < 0.99
    assert all(0.3 < c.score < 0.8 for c in scores.candidates)


def test_the_default_on_cdnow_master_never_holds_an_old_one_time_buyer_alive(master):
    values = compute_clv(master, ComputeSettings(period="week"))
    frame = values.frame
    old = (frame["frequency"] == 0) & (frame["days_since_last"] > 365)
    assert old.sum() == 12_054  # half the customers bought once, over a year ago
    assert frame.loc[old, "p_alive"].max() < 0.99
    assert values.choice is not None and values.choice.model != "bgnbd"
    assert "bgnbd" in values.choice.left_out
    assert values.purchase_model.name == values.choice.model
    # Asked for by name, BG/NBD is what it was: every one-time buyer alive.
    fixed = compute_clv(master, ComputeSettings(period="week", model="bgnbd")).frame
    assert (fixed.loc[old, "p_alive"] == 1.0).all()


def test_the_default_on_the_sample_shop_never_holds_an_old_one_time_buyer_alive():
    transactions = read_transactions(str(SAMPLE / "shop.csv"), ReadSettings())
    for churn_days in (365, 200):
        settings = ComputeSettings(period="week", rules=StageRules(churn_days=churn_days))
        values = compute_clv(transactions, settings)
        frame = values.frame
        old = (frame["frequency"] == 0) & (frame["days_since_last"] > churn_days)
        assert old.any()
        assert frame.loc[old, "p_alive"].max() < 0.99
        assert values.choice.scores.rule == HOLDOUT_RULE


def test_a_short_log_is_chosen_by_bic(master):
    short = master.select(master.day <= master.day.min() + 200)
    scores = scores_of_transactions(short, period="week", as_of=None, churn_days=365)
    assert scores.rule == BIC_RULE
    assert scores.why_not_holdout == "the log spans 29 weeks, under the 52 a holdout needs"
    assert all(c.score is not None for c in scores.candidates)


def test_the_choice_runs_on_an_even_sample_of_customers(master, monkeypatch):
    monkeypatch.setattr(choice, "SAMPLE_CUSTOMERS", 5000)
    scores = scores_of_transactions(master, period="week", as_of=None, churn_days=365)
    # every 5th customer of 23,570: 4,714, of whom all were acquired in calibration
    assert scores.customers == 4714


def test_a_summary_is_scored_by_bic_on_a_sample_of_its_histories(monkeypatch):
    rng = np.random.default_rng(42)
    x = rng.poisson(1.0, 3000).astype(float)
    T = rng.uniform(20, 52, 3000).round(1)
    t_x = np.where(x > 0, (T * rng.uniform(0, 1, 3000)).round(1), 0.0)
    rows = DistinctRows.of(x, t_x, T)
    monkeypatch.setattr(choice, "SAMPLE_ROWS", len(rows.weight) // 3)
    scores = scores_of_rows(rows, period="week", churn_days=365, why="no holdout")
    assert scores.rule == BIC_RULE
    assert scores.customers < 3000 / 2  # about a third of the customers
    # The models that choose k by the purchase days are no candidates on a summary.
    summary_candidates = {m for m in CANDIDATES if not PURCHASE_MODELS[m].needs_purchase_days}
    assert {c.model for c in scores.candidates} == summary_candidates


def test_a_model_extending_another_must_beat_it_by_more_than_noise():
    """GGompertz near its Pareto/NBD limit, MBG/CNBD-k near k = 1: a hair's better
    holdout MAE does not choose the costlier model; a clear gain does."""
    near = holdout(pnbd=(0.7350, 0.2), ggomnbd=(0.7349, 0.2), mbgnbd=(0.74, 0.3))
    assert pick(near, old_buyers=0, churn_days=365).model == "pnbd"
    clear = holdout(pnbd=(0.7350, 0.2), ggomnbd=(0.7300, 0.2))
    assert pick(clear, old_buyers=0, churn_days=365).model == "ggomnbd"
    grocery = holdout(mbgnbd=(0.681, 0.3), mbgcnbd=(0.644, 0.3))
    assert pick(grocery, old_buyers=0, churn_days=365).model == "mbgcnbd"
    # Left out as too alive, the simpler model sets no bar.
    alone = holdout(bgnbd=(0.70, 1.0), bgcnbd=(0.6999, 0.2))
    assert pick(alone, old_buyers=5, churn_days=365).model == "bgcnbd"
