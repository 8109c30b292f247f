"""A directory or a glob of CSV and Parquet files is one input (a partitioned export)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import SAMPLE


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    shop = pd.read_csv(SAMPLE / "shop.csv", dtype=str)
    shop.iloc[:4000].to_csv(folder / "part-1.csv", index=False)
    shop.iloc[4000:8000].to_parquet(folder / "part-2.parquet", index=False)
    shop.iloc[8000:].to_csv(folder / "part-3.csv", index=False)
    (folder / "_SUCCESS").write_text("")
    return folder


def test_a_folder_gives_what_the_whole_file_gives(clv, parts):
    whole = clv("compute", SAMPLE / "shop.csv", "--period", "week", "-q")
    folder = clv("compute", parts, "--period", "week", "-q")
    assert folder.exit_code == 0, folder.stderr
    assert folder.stdout == whole.stdout


def test_a_glob_takes_the_matching_files_only(clv, parts):
    globbed = clv("summary", str(parts / "part-[13].csv"), "-q")
    shop = pd.read_csv(SAMPLE / "shop.csv", dtype=str)
    expected = pd.concat([shop.iloc[:4000], shop.iloc[8000:]])
    assert globbed.exit_code == 0
    single = clv("summary", "-", "-q", input=expected.to_csv(index=False))
    assert globbed.stdout == single.stdout


def test_segment_and_fit_read_a_folder(clv, parts):
    assert (
        clv("segment", parts, "--summary", "-q").stdout
        == clv("segment", SAMPLE / "shop.csv", "--summary", "-q").stdout
    )
    assert clv("fit", parts, "--period", "week", "-q").exit_code == 0


def test_a_bad_row_names_its_file(clv, tmp_path):
    (tmp_path / "a.csv").write_text("customer,date,amount\nA,2024-01-01,5\n")
    (tmp_path / "b.csv").write_text("customer,date,amount\nB,2024-01-02,5\nC,someday,5\n")
    result = clv("compute", tmp_path)
    assert result.exit_code == 3
    assert result.stderr.splitlines()[0] == (
        f"clv: error: {tmp_path}: file {tmp_path / 'b.csv'}, row 2 (line 3), column 'date': "
        "cannot read 'someday' as a date"
    )


def test_an_empty_folder_is_an_input_error(clv, tmp_path):
    result = clv("compute", tmp_path)
    assert result.exit_code == 3
    assert "is a directory with no CSV or Parquet files" in result.stderr
