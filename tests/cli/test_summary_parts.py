"""--summary with a folder or glob: the parts a warehouse or cluster writes.

Spark writes a folder of part-*.parquet, BigQuery numbered shards; the parts of a
summary give the results of the summary in one file, and a bad part is named.
"""

from __future__ import annotations

import itertools
import json

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE

WEEK = ("--period", "week", "-q")


@pytest.fixture(scope="module")
def summary(tmp_path_factory):
    from clvcli.cli.main import main

    path = tmp_path_factory.mktemp("summary") / "summary.parquet"
    assert main(["summary", str(SAMPLE / "shop.csv"), *WEEK, "-o", str(path)]) == 0
    return pq.read_table(path)


def _parts(folder, table, fmt: str = "parquet", cuts=(0, 700, 1400)):
    """The summary cut into parts, in shuffled order of rows as a cluster writes them."""
    folder.mkdir()
    shuffled = table.take(list(range(len(table)))[::-1])
    bounds = [*cuts, len(table)]
    for index, (start, stop) in enumerate(itertools.pairwise(bounds)):
        part = shuffled.slice(start, stop - start)
        name = folder / f"part-{index:05d}.{fmt}"
        if fmt == "parquet":
            pq.write_table(part, name)
        else:
            pacsv.write_csv(part, name)
    return folder


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_folder_of_parts_gives_the_summary_in_one_file(clv, summary, tmp_path, fmt):
    whole = tmp_path / "whole.parquet"
    pq.write_table(summary, whole)
    folder = _parts(tmp_path / "parts", summary, fmt)
    one = clv("compute", "--summary", whole, *WEEK)
    for source in (folder, folder / f"*.{fmt}"):
        parts = clv("compute", "--summary", source, *WEEK)
        assert parts.exit_code == 0, parts.stderr
        assert parts.stdout == one.stdout
    fitted = [
        json.loads(clv("fit", "--summary", s, *WEEK, "--format", "json").stdout)["params"]
        for s in (whole, folder)
    ]
    assert fitted[0] == fitted[1]


def test_segment_reads_a_folder_of_summary_parts(clv, summary, tmp_path):
    whole = tmp_path / "whole.parquet"
    pq.write_table(summary, whole)
    folder = _parts(tmp_path / "parts", summary)
    one = clv("segment", whole, "--stage", "loyal", *WEEK)
    parts = clv("segment", folder, "--stage", "loyal", *WEEK)
    assert parts.exit_code == 0, parts.stderr
    assert parts.stdout == one.stdout
    assert one.stdout.count("\n") > 1


def test_a_bad_row_is_named_by_its_part_and_row(clv, summary, tmp_path):
    folder = _parts(tmp_path / "parts", summary)
    second = folder / "part-00001.parquet"
    part = pq.read_table(second)
    frequency = part.column("frequency").to_pylist()
    frequency[2] = -1
    pq.write_table(
        part.set_column(part.schema.get_field_index("frequency"), "frequency", [frequency]), second
    )
    result = clv("compute", "--summary", folder, *WEEK)
    assert result.exit_code == 3
    assert f"{second}: row 3, column 'frequency'" in result.stderr
    assert "Traceback" not in result.stderr


def test_parts_with_different_columns_are_refused(clv, summary, tmp_path):
    folder = _parts(tmp_path / "parts", summary)
    last = folder / "part-00002.parquet"
    pq.write_table(pq.read_table(last).drop_columns(["total_spend"]), last)
    result = clv("compute", "--summary", folder, *WEEK)
    assert result.exit_code == 3
    assert "do not all have the same columns" in result.stderr


@pytest.mark.parametrize("where", ["across parts", "in one file"])
def test_a_customer_twice_is_refused(clv, summary, tmp_path, where):
    if where == "across parts":
        source = _parts(tmp_path / "parts", summary, cuts=(0, 700))
        pq.write_table(summary.slice(0, 5), source / "part-00009.parquet")
    else:
        source = tmp_path / "twice.parquet"
        pq.write_table(summary.take([0, *range(len(summary))]), source)
    result = clv("compute", "--summary", source, *WEEK)
    assert result.exit_code == 3
    twice = summary.column("customer_id")[0].as_py()
    assert f"customer '{twice}' has more than one row" in result.stderr


# --engine duckdb: the summary sorted by DuckDB into a file read in pieces.


def _both(clv, source, *options):
    memory = clv("compute", "--summary", source, *WEEK, *options)
    streamed = clv("compute", "--summary", source, *WEEK, "--engine", "duckdb", *options)
    return memory, streamed


@pytest.mark.parametrize("split", [False, True])
def test_duckdb_streams_a_summary_to_the_same_table(clv, summary, tmp_path, split, monkeypatch):
    from clvcli.engines import duckdb as engine

    sorted_by_duckdb = []
    original = engine.summary_file_pieces

    def counted(*args, **kwargs):
        sorted_by_duckdb.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "summary_file_pieces", counted)
    source = _parts(tmp_path / "parts", summary) if split else tmp_path / "whole.parquet"
    if not split:
        pq.write_table(summary, source)
    memory, streamed = _both(clv, source)
    assert len(sorted_by_duckdb) == 2  # DuckDB, the default engine, under both its names
    assert streamed.exit_code == 0, streamed.stderr
    assert streamed.stdout == memory.stdout
    files = [tmp_path / "memory.parquet", tmp_path / "streamed.parquet"]
    for extra, out in zip(([], ["--engine", "duckdb"]), files, strict=True):
        done = clv("compute", "--summary", source, *WEEK, *extra, "-o", out)
        assert done.exit_code == 0, done.stderr
    assert pq.read_table(files[0]).equals(pq.read_table(files[1]))


def test_duckdb_names_the_bad_row_as_the_default_engine(clv, summary, tmp_path):
    folder = _parts(tmp_path / "parts", summary)
    second = folder / "part-00001.parquet"
    part = pq.read_table(second)
    for column, value in (("recency", 1e9), ("monetary_value", float("nan"))):
        values = part.column(column).to_pylist()
        values[4] = value
        part = part.set_column(part.schema.get_field_index(column), column, [values])
    pq.write_table(part, second)
    memory, streamed = _both(clv, folder)
    assert memory.exit_code == streamed.exit_code == 3
    assert f"{second}: row 5, column 'T'" in memory.stderr
    assert streamed.stderr == memory.stderr


def test_duckdb_refuses_a_customer_twice_and_text_summaries(clv, summary, tmp_path):
    twice = tmp_path / "twice.parquet"
    pq.write_table(summary.take([3, *range(len(summary))]), twice)
    memory, streamed = _both(clv, twice)
    assert memory.exit_code == streamed.exit_code == 3
    assert streamed.stderr == memory.stderr
    text = tmp_path / "summary.csv"
    pacsv.write_csv(summary, text)
    as_text = clv("compute", "--summary", text, *WEEK, "--engine", "duckdb")
    assert as_text.exit_code == 0, as_text.stderr  # the reader reads a text summary


def test_duckdb_needs_the_as_of_of_a_summary_without_dates(clv, summary, tmp_path):
    bare = tmp_path / "bare.parquet"
    pq.write_table(summary.drop_columns(["first_purchase", "last_purchase"]), bare)
    memory, streamed = _both(clv, bare)
    assert memory.exit_code == streamed.exit_code == 2
    assert "give its --as-of" in streamed.stderr
    memory, streamed = _both(clv, bare, "--as-of", "2024-12-31")
    assert streamed.exit_code == 0, streamed.stderr
    assert streamed.stdout == memory.stdout


def test_duckdb_sorts_numeric_ids_as_text(clv, summary, tmp_path):
    import pyarrow as pa

    numbered = tmp_path / "numbered.parquet"
    ids = pa.array(range(len(summary), 0, -1), type=pa.int64())
    pq.write_table(summary.set_column(0, "customer_id", ids), numbered)
    memory, streamed = _both(clv, numbered)
    assert streamed.exit_code == 0, streamed.stderr
    assert streamed.stdout == memory.stdout
    assert streamed.stdout.splitlines()[1].startswith("1,")


def _fit(clv, *source_and_options):
    done = clv("fit", *source_and_options, *WEEK, "--format", "json")
    assert done.exit_code == 0, done.stderr
    report = json.loads(done.stdout)
    report.pop("seconds")
    report.get("spend_model", {}).pop("seconds", None)
    return report


@pytest.mark.parametrize("model", ["bgnbd", "pnbd", "gamma-gamma"])
def test_duckdb_fits_on_distinct_rows_what_the_table_fits(clv, summary, tmp_path, model):
    folder = _parts(tmp_path / "parts", summary)
    table = _fit(clv, "--summary", folder, "--model", model)
    assert _fit(clv, "--summary", folder, "--model", model, "--engine", "duckdb") == table
    log = SAMPLE / "shop.csv"
    from_log = _fit(clv, log, "--model", model, "--engine", "duckdb")
    assert from_log == _fit(clv, log, "--model", model, "--engine", "arrow")
    assert from_log["params"] == table["params"]


def test_duckdb_fit_of_bgbb_needs_the_transactions(clv, summary, tmp_path):
    folder = _parts(tmp_path / "parts", summary)
    done = clv("fit", "--summary", folder, *WEEK, "--model", "bgbb", "--engine", "duckdb")
    assert done.exit_code == 2
    assert "needs the transaction log" in done.stderr


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("customer_id", "  "),
        ("customer_id", "\u00a0\u3000"),  # no-break and ideographic spaces
        ("customer_id", "\x0b\x1c"),  # a vertical tab and a file separator
        ("first_purchase", None),
    ],
)
def test_duckdb_names_blank_ids_and_missing_dates_as_the_default_engine(
    clv, summary, tmp_path, column, value
):
    broken = tmp_path / "broken.parquet"
    values = summary.column(column).to_pylist()
    values[7] = value
    index = summary.schema.get_field_index(column)
    field = summary.schema.field(index)
    pq.write_table(summary.set_column(index, field, [values]), broken)
    memory, streamed = _both(clv, broken)
    assert memory.exit_code == streamed.exit_code == 3
    assert f"row 8, column '{column}'" in memory.stderr
    assert streamed.stderr == memory.stderr


def test_the_streamed_check_blanks_what_the_default_engine_trims():
    from clvcli.engines.duckdb import _WHITESPACE

    characters = [chr(c) for c in range(1, 0x10000) if not 0xD800 <= c <= 0xDFFF]
    connection = duckdb.connect()
    connection.register("ids", pa.table({"c": [*characters, " a ", "\u2003\u2028"]}))
    found = connection.execute(f"SELECT c FROM ids WHERE regexp_full_match(c, '[{_WHITESPACE}]*')")
    blank = {row[0] for row in found.fetchall()}
    assert blank == {c for c in characters if c.isspace()} | {"\u2003\u2028"}
