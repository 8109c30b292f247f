"""Choosing the output format and sending a result frame to stdout or a file."""

from __future__ import annotations

import errno
import json
import sys
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pandas as pd

from clvcli.cli.console import Reporter
from clvcli.cli.options import RunOptions
from clvcli.errors import OutputError, ReaderLeft, UsageError
from clvcli.io.metadata import metadata_json, run_metadata
from clvcli.io.writers import (
    BINARY_FORMATS,
    FrameWriter,
    check_writable,
    format_for_path,
    in_chunks,
    output_group,
    rounded_document,
)


def resolve_format(opts: RunOptions) -> str:
    """The format: --format, else -o's extension, else table on a terminal, else CSV.

    Called before any work so that a bad output fails fast.
    """
    if opts.output:
        check_writable(opts.output)
        if opts.values.get("sidecar"):
            check_writable(opts.output + ".meta.json")
    if opts.values.get("sidecar") and not opts.output:
        raise UsageError("--sidecar needs -o FILE", "the metadata goes to FILE.meta.json")
    if opts.format:
        fmt = opts.format
    elif opts.output:
        fmt = format_for_path(opts.output)
    else:
        fmt = "table" if sys.stdout.isatty() else "csv"
    if fmt == "table" and opts.output:
        raise UsageError(
            "--format table is for terminals",
            "write files as csv, tsv, json, jsonl, parquet or xlsx",
        )
    if fmt in BINARY_FORMATS and not opts.output and sys.stdout.isatty():
        name = {"parquet": "Parquet", "xlsx": "Excel"}[fmt]
        raise UsageError(f"will not write {name} to a terminal", f"use -o FILE.{fmt} or a pipe")
    return fmt


def _table_view(frame: pd.DataFrame, columns: list[str] | None) -> pd.DataFrame:
    """The columns worth a terminal's width: the chosen ones, without empty ones."""
    if columns is not None:
        frame = frame[[c for c in columns if c in frame.columns]]
    empty = [c for c in frame.columns if len(frame) and frame[c].isna().all()]
    return frame.drop(columns=empty)


def emit(
    frame: pd.DataFrame,
    opts: RunOptions,
    reporter: Reporter,
    *,
    money: Iterable[str] = (),
    percent: Iterable[str] = (),
    title: str | None = None,
    what: str = "rows",
    table_columns: list[str] | None = None,
    keep: tuple[str, ...] = (),
    drop_order: list[str] | None = None,
    marked: dict[str, Any] | None = None,
) -> None:
    """Write ``frame`` in the chosen format to -o FILE or stdout.

    ``marked``: cells a table shows with a ``*`` (see :func:`frame_table`).
    """
    fmt = resolve_format(opts)
    if fmt == "table":
        # rich only for a table: a run that writes data need not import it (50 ms).
        from rich.console import Console

        from clvcli.report.tables import frame_table

        limit = getattr(opts, "limit", 0)
        shown = _table_view(frame, table_columns)
        console = Console(file=sys.stdout, soft_wrap=False)
        table = frame_table(
            shown,
            money=set(money),
            percent=set(percent),
            title=title,
            limit=limit,
            width=console.width,
            keep=set(keep),
            drop_order=drop_order,
            marked=marked,
        )
        with _stdout_reader_may_leave():
            console.print(table)
        shown_columns = len(table.columns)
        notes = []
        if 0 < limit < len(frame):
            notes.append(f"showing {limit:,} of {len(frame):,} {what}; --limit 0 shows all")
        if shown_columns < len(frame.columns):
            notes.append("the table shows the main columns; --format csv or -o FILE gives all")
        reporter.warn(notes, kind="note")
        return
    write_frames(in_chunks(frame), opts, reporter, money=money, what=what, rows=len(frame))


def write_document(data: bytes, fmt: str, opts: RunOptions, reporter: Reporter) -> None:
    """A whole document (a fit's JSON, a query) to -o FILE, atomically, or stdout,
    with the ``written`` event and the ``--sidecar`` that data outputs give."""
    if opts.output:
        with output_group() as group:
            group.write(opts.output, data)
            if opts.values.get("sidecar"):
                sidecar = metadata_json(run_metadata(opts.record)).encode("utf-8")
                group.write(opts.output + ".meta.json", sidecar)
    else:
        with _stdout_reader_may_leave():
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
    reporter.event("written", format=fmt, path=opts.output or "-")


@contextmanager
def _stdout_reader_may_leave() -> Iterator[None]:
    """A closed stdout as :class:`ReaderLeft`, and a stdout that cannot take the data
    (a full disk behind ``> file``, ``> /dev/full``) as an output error (exit 5)."""
    try:
        yield
    except OSError as exc:
        raise stdout_error(exc) from None


def stdout_error(exc: OSError) -> Exception:
    """What a failed write to stdout means: the reader left, or the output failed."""
    if exc.errno == errno.EPIPE:
        return ReaderLeft()
    return OutputError(f"cannot write to stdout: {exc.strerror or exc}")


def write_json(
    document: Any, opts: RunOptions, reporter: Reporter, *, full_precision: bool = False
) -> None:
    """A JSON document (a fit's or a validation's report), as :func:`write_document`.

    Fractions get ten significant digits, as in every CSV and JSON clv writes, unless
    ``full_precision``: a fit's JSON is the model ``--params`` scores with, and must
    score exactly as the fit itself.
    """
    if not full_precision:
        document = rounded_document(document)
    data = (json.dumps(document, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    write_document(data, "json", opts, reporter)


def write_frames(
    frames: Iterable[pd.DataFrame],
    opts: RunOptions,
    reporter: Reporter,
    *,
    money: Iterable[str] = (),
    what: str = "rows",
    rows: int | None = None,
) -> int:
    """Write frames with the same columns, one after another, to -o FILE or stdout.

    A result of tens of millions of rows streams through: only one frame at a time
    is ever turned into text or Arrow. ``rows``, when known, goes in the progress
    line. A file appears whole or not at all; stdout gets the rows as they come.
    """
    fmt = resolve_format(opts)
    metadata = None
    if fmt == "parquet" or opts.values.get("sidecar"):
        metadata = run_metadata(opts.record)
    raw = opts.values.get("raw", False)
    count = "" if rows is None else f"{rows:,} "
    with reporter.progress(f"writing {count}{what}"):
        if opts.output:
            # The sidecar is staged with the file and both are renamed at the end.
            with output_group() as group:
                with group.file(opts.output) as handle:
                    written = _write(
                        frames,
                        FrameWriter(handle, fmt, money, raw=raw, metadata=metadata, sheet=what),
                    )
                if metadata is not None and opts.values.get("sidecar"):
                    group.write(opts.output + ".meta.json", metadata_json(metadata).encode("utf-8"))
        else:
            with _stdout_reader_may_leave():
                written = _write(
                    frames,
                    FrameWriter(
                        sys.stdout.buffer, fmt, money, raw=raw, metadata=metadata, sheet=what
                    ),
                )
    reporter.event("written", rows=written, format=fmt, path=opts.output or "-")
    return written


def _write(frames: Iterable[pd.DataFrame], writer: FrameWriter) -> int:
    """Each frame written on a second thread while this one makes the next.

    Arrow encodes and compresses with the GIL let go, so a table made in pieces (the
    compute table of millions of customers) is made and written at once. A failure on
    either side ends the run with its error once the write under way is done.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="clv-write") as pool:
        pending = None
        for frame in frames:
            if pending is not None:
                pending.result()
            pending = pool.submit(writer.write, frame)
        if pending is not None:
            pending.result()
    writer.close()
    return writer.rows
