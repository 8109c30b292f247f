"""Joining a customer list to the per-customer table.

Listed customers who never bought become rows of the ``potential`` stage: nothing
spent, no model columns (the models describe buyers), no CLV yet. A listed channel
replaces the channel of the first purchase (an empty one leaves it); an acquisition
cost joins as a column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from clvcli.io.customers import CustomerList
from clvcli.io.readers import UNKNOWN_CHANNEL

POTENTIAL = "potential"
# Columns that are counts for buyers and empty for prospects.
_COUNTS = ("orders", "days_since_last", "frequency")


def with_customer_list(frame: pd.DataFrame, listed: CustomerList) -> pd.DataFrame:
    """``frame`` (one row per buyer, ids sorted) with the list's prospects and columns."""
    known = frame["customer_id"].to_numpy(dtype=object)
    is_buyer = np.isin(listed.ids, known)
    prospects = pd.DataFrame({"customer_id": listed.ids[~is_buyer]})
    for column in frame.columns.drop("customer_id"):
        prospects[column] = _empty_like(frame[column], len(prospects))
    prospects["orders"] = 0
    for column in ("total_spend", "historical_clv", "total_clv"):
        prospects[column] = 0.0
    prospects["stage"] = POTENTIAL
    if len(prospects):
        for column in _COUNTS:
            frame = frame.astype({column: "Int64"})
            prospects[column] = prospects[column].astype("Int64")
    merged = pd.concat([frame, prospects], ignore_index=True) if len(prospects) else frame
    merged = merged.sort_values("customer_id", kind="stable", ignore_index=True)
    ids = merged["customer_id"].to_numpy(dtype=object)
    position = np.searchsorted(listed.ids, ids)
    position = np.minimum(position, max(len(listed.ids) - 1, 0))
    is_listed = listed.ids[position] == ids
    if listed.channel is not None:
        channel = (
            merged["channel"].to_numpy(dtype=object).copy()
            if "channel" in merged
            else np.full(len(merged), UNKNOWN_CHANNEL, dtype=object)
        )
        channel = np.where(pd.isna(channel), UNKNOWN_CHANNEL, channel)
        given = listed.channel[position] != UNKNOWN_CHANNEL
        channel[is_listed & given] = listed.channel[position[is_listed & given]]
        merged["channel"] = channel
    elif "channel" in merged:
        merged["channel"] = merged["channel"].fillna(UNKNOWN_CHANNEL)
    if listed.acquisition_cost is not None:
        merged["acquisition_cost"] = np.where(is_listed, listed.acquisition_cost[position], np.nan)
    return merged


def _empty_like(column: pd.Series, length: int) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return pd.Series(pd.NaT, index=range(length), dtype=column.dtype)
    if pd.api.types.is_numeric_dtype(column.dtype):
        return pd.Series(np.nan, index=range(length))
    return pd.Series(None, index=range(length), dtype=column.dtype)
