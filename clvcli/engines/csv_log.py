"""Comma-separated logs that DuckDB reads as they are.

Most logs arrive as CSV, and the reader's pass over one (parsing, then summarising
in numpy) costs several times DuckDB's. A CSV log goes to DuckDB when the reader
would read it the same way, which is decided in two steps:

- from the first 64 KB: UTF-8 without a byte-order mark, commas, the header on
  the first line, and only the customer, date and amount columns used (no channel,
  order number or quantity), with no option that changes how a log is read;
- on every row, while DuckDB reads the file once into a typed temporary Parquet
  file: ids in normal form (printable ASCII, no blank at either end), ISO dates from
  1700 on (earlier years may be a Jalali log), amounts that are plain numbers with a
  decimal point, and no empty cell or ragged row.

A number with exactly three decimals (``1.234``) may be a thousands group; the reader
decides that column by column, so one such amount, like any row that breaks a rule,
sends the whole log to the reader (:class:`NotClean`), which knows every rule and
names the row. The typed file is then a Parquet log like any other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from clvcli.engines import NotClean
from clvcli.engines.duckdb import (
    ID_RULE,
    ParquetLog,
    duckdb_session,
    log_files,
    plain_reading,
    sql_file,
    sql_text,
    three_columns,
)
from clvcli.errors import InputError
from clvcli.io.scratch import ScratchFolder
from clvcli.io.source import plain_csv_header

# The rules each cell must meet, as DuckDB conditions on its text; a cell that fails
# raises, and the log goes to the reader.
_DATE_RULE = "regexp_full_match({c}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') AND {c} >= '1700'"
_AMOUNT_RULE = "regexp_full_match({c}, '-?[0-9]+([.][0-9]{{1,2}}|[.][0-9]{{4,}})?')"


# DuckDB's longest line: past its default (2 MB) its parallel reader has been seen to
# drop a file's last line without a word, so the limit is set past any real line.
_LONGEST_LINE = 1 << 30


@dataclass
class CsvLog:
    """A CSV log whose first 64 KB qualify; :meth:`typed` reads its rows."""

    path: str
    files: tuple[str, ...]
    positions: tuple[int, int, int]
    width: int
    # Transactions, estimated from the files' sizes and their first lines.
    rows: int = 0
    _typed: ParquetLog | None = field(default=None, repr=False)
    _folder: ScratchFolder | None = field(default=None, repr=False)

    def typed(self) -> ParquetLog:
        """The log as a typed Parquet file DuckDB wrote, every rule checked on the
        way; :class:`NotClean` when a row breaks one. Read once, then kept (the file
        goes with this object, or when the process ends)."""
        if self._typed is None:
            self._typed = self._convert()
        return self._typed

    def _convert(self) -> ParquetLog:
        import duckdb

        folder = ScratchFolder("log")
        file = os.path.join(folder.name, "log.parquet")
        names = ("customer_id", "date", "amount")
        casts = (
            f"c{self.positions[0]}",
            f"CAST(c{self.positions[1]} AS DATE)",
            f"CAST(c{self.positions[2]} AS DOUBLE)",
        )
        rules = (ID_RULE, _DATE_RULE, _AMOUNT_RULE)
        selected = ",\n  ".join(
            f"CASE WHEN {rule.format(c=f'c{index}')} THEN {cast} "
            f"ELSE error('clv: not clean') END AS {name}"
            for index, rule, cast, name in zip(self.positions, rules, casts, names, strict=True)
        )
        query = f"SELECT\n  {selected}\nFROM {self._reader()}"
        try:
            with duckdb_session(self.path) as connection:
                try:
                    rows = connection.execute(
                        f"COPY ({query}) TO {sql_text(file)} (FORMAT parquet, COMPRESSION snappy)"
                    ).fetchall()[0][0]
                except duckdb.Error:
                    raise NotClean(self.path) from None
        except (NotClean, InputError):
            folder.cleanup()
            raise NotClean(self.path) from None
        if not rows:
            folder.cleanup()
            raise NotClean(self.path)
        self._folder = folder
        return ParquetLog(self.path, (file,), *names, False, int(rows), checked_ids=True)

    def _reader(self) -> str:
        """DuckDB's reading of the files: every column as text, by position, quoted
        as the reader quotes, a ragged row an error."""
        listed = ", ".join(sql_file(f) for f in self.files)
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(self.width)) + "}"
        return (
            f"read_csv([{listed}], header = true, auto_detect = false, columns = {columns}, "
            "delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            f"null_padding = false, max_line_size = {_LONGEST_LINE})"
        )


def csv_log(path: str, read: object) -> CsvLog | None:
    """The CSV log at ``path`` (a file, or a folder or glob of parts with one header)
    if its first 64 KB say DuckDB may read it as it is; None sends it to the
    reader. Reads no row: those are checked when :meth:`CsvLog.typed` reads them."""
    if not plain_reading(path, read):
        return None
    if read.encoding is not None or read.delimiter not in (None, ",") or read.decimal == ",":
        return None
    files = log_files(path, (".csv",))
    if files is None:
        return None
    header = plain_csv_header(files[0])
    if header is None or any(plain_csv_header(f) != header for f in files[1:]):
        return None
    positions = three_columns(header, path, read)
    if positions is None:
        return None
    return CsvLog(path, tuple(files), positions, len(header), sum(map(_estimated_rows, files)))


def _estimated_rows(file: str) -> int:
    """About how many lines ``file`` has: its size over the mean length of its first
    64 KB's lines."""
    with open(file, "rb") as handle:
        head = handle.read(1 << 16)
    return int(os.path.getsize(file) * max(head.count(b"\n"), 1) / max(len(head), 1))
