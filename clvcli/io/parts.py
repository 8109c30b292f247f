"""Which files of a folder make up a partitioned export."""

from __future__ import annotations

import os

# The suffixes of the files clv reads out of a folder; others (a README, a _SUCCESS
# marker, hidden files) are left alone.
PART_SUFFIXES = (
    ".csv",
    ".tsv",
    ".txt",
    ".parquet",
    ".pq",
    ".gz",
    ".zip",
    ".xlsx",
    ".xlsm",
    ".xlsb",
    ".xls",
    ".ods",
)


def folder_parts(directory: str) -> list[str]:
    """The paths of the files in ``directory`` that clv reads, sorted by path."""
    return sorted(
        os.path.join(directory, name)
        for name in os.listdir(directory)
        if name.lower().endswith(PART_SUFFIXES) and not name.startswith((".", "_"))
    )
