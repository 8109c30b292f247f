"""Purchase occasions: one per customer and day, refunds netted.

The models count purchase occasions, not rows: several orders of one customer on one
day are one occasion, and a refund on that day reduces it. A day whose refunds bring
its net to zero or below is not a purchase; a day of free (zero-amount) orders and no
refund is one, as in the field's standard data (CDNOW has such orders).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from clvcli.core.money import in_units, sums_of_runs
from clvcli.io.readers import Transactions


@dataclass(frozen=True)
class Occasions:
    """Purchase days sorted by customer code, then day."""

    customer: np.ndarray
    day: np.ndarray
    value: np.ndarray
    # Where each customer's days begin, when known without looking (see purchase_occasions).
    starts: np.ndarray | None = None

    def after(self, first_excluded: int) -> Occasions:
        keep = self.day > first_excluded
        return Occasions(self.customer[keep], self.day[keep], self.value[keep])


def purchase_occasions(transactions: Transactions) -> Occasions:
    """Net each customer's day and keep the days with a positive net."""
    if transactions.num_rows == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Occasions(empty, empty, np.zeros(0))
    if transactions.by_customer:
        customer, day, amount = transactions.customer, transactions.day, transactions.amount
        known = transactions.customer_starts
        new_day = np.empty(len(day), dtype=bool)
        new_day[0] = True
        np.not_equal(day[1:], day[:-1], out=new_day[1:])
        if known is None:
            new_day[1:] |= customer[1:] != customer[:-1]
        else:
            new_day[known] = True
        if new_day.all():
            # One row per customer and day, as many exports have: the rows are the
            # occasions, and their arrays serve as they are.
            # Each day's net is its one amount, in whole units as a sum of several is.
            return _kept(customer, day, in_units(amount), amount < 0, known)
        starts = np.flatnonzero(new_day)
        del new_day
        customer, day = customer[starts], day[starts]
    else:
        first_day = int(transactions.day.min())
        width = int(transactions.day.max()) - first_day + 1
        key = transactions.customer * width + (transactions.day - first_day)
        # Sort once and sum runs of equal keys: what np.unique(return_inverse) does,
        # without the inverse it would build (half its time on ten million rows).
        order = np.argsort(key)
        key, amount = key[order], transactions.amount[order]
        del order
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        key = key[starts]
        customer, day = key // width, key % width + first_day
        del key
    net = sums_of_runs(amount, starts)
    refunded = np.logical_or.reduceat(amount < 0, starts)
    return _kept(customer, day, net, refunded)


def _kept(
    customer: np.ndarray,
    day: np.ndarray,
    net: np.ndarray,
    refunded: np.ndarray,
    starts: np.ndarray | None = None,
) -> Occasions:
    """The customer-days whose net is a purchase, valued at their net (``starts``: where
    each customer's days begin, kept when every day is)."""
    # Amounts are money: a net within a millionth of zero is zero.
    purchase = (net > 1e-6) | (~refunded & (net > -1e-6))
    if purchase.all():
        return Occasions(customer, day, np.maximum(net, 0.0), starts)
    return Occasions(customer[purchase], day[purchase], np.maximum(net[purchase], 0.0))
