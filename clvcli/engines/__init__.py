"""The engines that run the one pass over the transactions that grows with the log.

Every command asks this seam for what it needs of the log (the per-customer summary,
its holdout columns, the purchase periods, the monthly aggregates), whichever engine
runs it: DuckDB on this machine by default, Spark on a cluster.
"""

from __future__ import annotations


class NotClean(Exception):
    """A file the engine cannot read with certainty as it is (empty cells, dates that
    are not ISO, amounts that are not plain numbers, ids that need normalising): the
    reader, which knows every input rule, takes it instead. Never shown to users."""
