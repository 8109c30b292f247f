"""--engine duckdb: DuckDB computes the summary; everything after it is clv's own."""

from __future__ import annotations

import pandas as pd

from tests.conftest import SAMPLE


def test_compute_with_duckdb_matches_the_default_engine(clv):
    for name in ("shop.parquet", "shop.csv"):
        default = clv("compute", SAMPLE / name, "--period", "week", "-q")
        duck = clv("compute", SAMPLE / name, "--period", "week", "--engine", "duckdb", "-q")
        assert duck.exit_code == 0, duck.stderr
        without_channel = [line.rsplit(",", 1)[0] for line in default.stdout.splitlines()]
        assert duck.stdout.splitlines() == without_channel


def test_summary_and_fit_with_duckdb(clv):
    default = clv("summary", SAMPLE / "shop.csv", "--as-of", "2024-06-30", "-q")
    duck = clv("summary", SAMPLE / "shop.csv", "--as-of", "2024-06-30", "--engine", "duckdb", "-q")
    assert duck.stdout == default.stdout
    assert clv("fit", SAMPLE / "shop.parquet", "--engine", "duckdb", "-q").exit_code == 0


def test_duckdb_reads_a_folder(clv, tmp_path):
    shop = pd.read_csv(SAMPLE / "shop.csv", dtype=str)
    shop.iloc[:6000].to_parquet(tmp_path / "a.parquet", index=False)
    shop.iloc[6000:].to_parquet(tmp_path / "b.parquet", index=False)
    folder = clv("summary", tmp_path, "--engine", "duckdb", "-q")
    whole = clv("summary", SAMPLE / "shop.csv", "-q")
    assert folder.exit_code == 0, folder.stderr
    assert folder.stdout == whole.stdout


def test_what_duckdb_cannot_read_is_a_clear_error(clv):
    persian = clv("compute", SAMPLE / "shop_fa.csv", "--engine", "duckdb")
    assert persian.exit_code == 3
    assert persian.stderr.startswith(f"clv: error: {SAMPLE / 'shop_fa.csv'}: DuckDB could not")
    assert "use the default engine" in persian.stderr
    assert clv("compute", "-", "--engine", "duckdb", input="a").exit_code == 2
    assert clv("compute", SAMPLE / "shop.csv", "--engine", "spark").exit_code == 2
    calibration = clv(
        "summary", SAMPLE / "shop.csv", "--engine", "duckdb", "--calibration-end", "2024-06-30"
    )
    assert calibration.exit_code == 2
