"""Which files of a folder make up a partitioned export.

Its own module, with nothing heavy to import: `clv` looks at the files before it
imports pyarrow, to know whether the log is large (see clvcli.cli.launch).
"""

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
