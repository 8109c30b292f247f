"""clvcli.core.cac: the grouping when channels are missing, channels that do not
match between costs and log, the margin-1 note and the refusal without amounts."""

from __future__ import annotations

import pandas as pd
import pytest

from clvcli.core.cac import channel_mismatch, choose_grouping, margin_note, require_amounts
from clvcli.errors import InputError


def customers(*channels: str, orders: int = 1) -> pd.DataFrame:
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(len(channels))]})
    frame["orders"] = orders
    frame["channel"] = list(channels)
    return frame


def costs(*channels: str | None) -> pd.DataFrame:
    return pd.DataFrame({"channel": list(channels), "month": 0, "spend": 10.0})


def test_by_as_given_wins():
    assert choose_grouping("channel", customers("a"), costs(None)) == ("channel", [])


def test_default_by_channel_and_cohort_when_both_name_channels():
    assert choose_grouping(None, customers("a"), costs("a")) == ("channel,cohort", [])


@pytest.mark.parametrize(
    ("log", "spend", "which"),
    [
        (customers("a"), costs(None), "the costs name no channels"),
        (customers("a").drop(columns="channel"), costs("a"), "the log names no channels"),
        (customers("a").drop(columns="channel"), costs(None), "neither the log nor the costs"),
    ],
)
def test_default_falls_back_to_cohort(log, spend, which):
    by, notes = choose_grouping(None, log, spend)
    assert by == "cohort"
    assert len(notes) == 1 and notes[0].startswith(which)


def test_channel_mismatch_names_both_sides():
    warnings = channel_mismatch(customers("a", "b", "b"), costs("a", "x"))
    assert warnings == [
        "the costs have spend on channel 'x' (10.00) that acquired no customer in the log; "
        "the total row counts that spend",
        "channel 'b' (2 customers) of the log has no costs; the total row counts it as "
        "acquired for nothing",
    ]


def test_matching_channels_and_prospects_say_nothing():
    assert channel_mismatch(customers("a"), costs("a", "a")) == []
    # A listed prospect (no purchase) is not a customer of its channel.
    prospects = pd.concat([customers("a"), customers("b", orders=0)], ignore_index=True)
    assert channel_mismatch(prospects, costs("a")) == []
    assert channel_mismatch(customers("a"), costs(None)) == []


def test_margin_note_only_at_margin_one():
    assert "--margin 0.3" in margin_note(1.0)
    assert margin_note(0.3) is None


def test_require_amounts():
    require_amounts(True, "shop.csv")
    with pytest.raises(InputError, match=r"shop\.csv: no amount column"):
        require_amounts(False, "shop.csv")
