"""File names: a name that exists is that file; patterns only when nothing has the
name; names that are not UTF-8 printable (clvcli.io.names, clvcli.io.source)."""

from __future__ import annotations

import os

import pytest

from clvcli.errors import InputError
from clvcli.io.names import is_pattern, named_files, shown, without_surrogates
from clvcli.io.source import input_files, is_many, read_columns

GIVEN = {"customer": None, "date": None, "amount": None}


def _log(path, customer: str, amount: str = "10") -> None:
    path.write_text(f"customer,date,amount\n{customer},2024-01-01,{amount}\n")


def _customers(path) -> list[str]:
    return read_columns(str(path), GIVEN).columns["customer"].to_pylist()


@pytest.mark.parametrize(
    ("name", "sibling"),
    [
        ("sales[1].csv", "sales1.csv"),
        ("what?.csv", "whatX.csv"),
        ("a*b.csv", "aXb.csv"),
        ("x[!a].csv", "xb.csv"),
        ("**.csv", "z.csv"),
    ],
)
def test_a_name_that_exists_is_that_file(tmp_path, name, sibling):
    _log(tmp_path / name, "THE_FILE")
    _log(tmp_path / sibling, "THE_SIBLING")
    path = str(tmp_path / name)
    assert not is_pattern(path) and not is_many(path)
    assert named_files(path) == [path]
    assert _customers(path) == ["THE_FILE"]


def test_a_pattern_that_names_no_file_is_expanded(tmp_path):
    _log(tmp_path / "sales1.csv", "ONE")
    _log(tmp_path / "sales2.csv", "TWO")
    pattern = str(tmp_path / "sales[12].csv")
    assert is_many(pattern)
    assert input_files(pattern) == [str(tmp_path / "sales1.csv"), str(tmp_path / "sales2.csv")]
    assert _customers(pattern) == ["ONE", "TWO"]


def test_a_pattern_that_matches_nothing_is_an_input_error(tmp_path):
    pattern = str(tmp_path / "nothing*.csv")
    with pytest.raises(InputError, match=r"nothing\*\.csv: matches no CSV or Parquet files"):
        read_columns(pattern, GIVEN)


def test_a_folder_reads_each_part_once_as_itself(tmp_path):
    _log(tmp_path / "part[0].csv", "BRACKETS", "1")
    _log(tmp_path / "part0.csv", "PLAIN", "2")
    _log(tmp_path / "part?.csv", "QUESTION", "3")
    assert sorted(_customers(tmp_path)) == ["BRACKETS", "PLAIN", "QUESTION"]


def test_parts_matched_by_a_pattern_are_not_expanded_again(tmp_path):
    """``*.csv`` matches ``what?.csv``, read as itself: no recursion, no double count."""
    _log(tmp_path / "what?.csv", "QUESTION")
    _log(tmp_path / "whatX.csv", "X")
    assert sorted(_customers(tmp_path / "*.csv")) == ["QUESTION", "X"]


def test_surrogates_print_as_the_bytes_they_stand_for():
    name = os.fsdecode(b"caf\xe9.csv")
    assert name != "café.csv"
    assert without_surrogates(name) == "caf\\xe9.csv"
    assert without_surrogates(name).encode("utf-8")
    assert without_surrogates("café.csv") == "café.csv"
    assert shown("a\nb\x1b[31m.csv") == "a\\nb\\x1b[31m.csv"


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes on POSIX")
def test_a_file_whose_name_is_not_utf8_is_read_and_named(tmp_path):
    folder = os.fsencode(tmp_path)
    raw = os.path.join(folder, b"caf\xe9.csv")
    with open(raw, "wb") as handle:
        handle.write(b"customer,date,amount\nA,2024-01-01,5\nB,2024-01-02,5,9\n")
    path = os.fsdecode(raw)
    with pytest.raises(InputError) as caught:
        read_columns(path, GIVEN)  # the reader names the file...
    assert str(caught.value).startswith(f"{without_surrogates(path)}: line 3 has 4 fields")
    assert "\\xe9" in str(caught.value)
    with open(raw, "wb") as handle:
        handle.write(b"customer,date,amount\nA,2024-01-01,5\nB,2024-01-02,5\n")
    columns = read_columns(path, GIVEN).columns  # ...and reads it when it is fine
    assert columns["customer"].to_pylist() == ["A", "B"]


def _parquet_log(path, customer: str) -> None:
    import pandas as pd

    log = pd.DataFrame({"customer": [customer], "date": [pd.Timestamp("2024-01-01").date()]})
    log.assign(amount=10.0).to_parquet(path, index=False)


def test_duckdb_reads_a_name_with_glob_characters_as_itself(tmp_path):
    from clvcli.engines.duckdb import log_pieces, parquet_log
    from clvcli.io.readers import ReadSettings

    _parquet_log(tmp_path / "sales[1].parquet", "THE_FILE")
    _parquet_log(tmp_path / "sales1.parquet", "THE_SIBLING")
    log = parquet_log(str(tmp_path / "sales[1].parquet"), ReadSettings())
    assert log is not None
    with log_pieces(log, period="day", as_of=None) as summary:
        (table,) = summary.tables()
    assert table.frame["customer_id"].tolist() == ["THE_FILE"]


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes on POSIX")
def test_a_parquet_name_that_is_not_utf8_is_left_to_the_reader(tmp_path):
    """DuckDB takes names as UTF-8: ``caf\\xe9.parquet`` is the reader's to open."""
    from clvcli.engines.duckdb import parquet_log
    from clvcli.io.readers import ReadSettings

    raw = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"caf\xe9.parquet"))
    _parquet_log(tmp_path / "cafe.parquet", "A")
    os.rename(tmp_path / "cafe.parquet", raw)
    assert parquet_log(raw, ReadSettings()) is None
    assert _customers(raw) == ["A"]
