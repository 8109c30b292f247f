"""--engine: DuckDB, the default, computes the summary of a typed Parquet log as it is;
any other log is read by clv's reader. Every name of an engine gives one answer."""

from __future__ import annotations

import pandas as pd

from tests.conftest import SAMPLE


def test_compute_with_duckdb_matches_the_default_engine(clv):
    for name in ("shop.parquet", "shop.csv"):
        default = clv("compute", SAMPLE / name, "--period", "week", "-q")
        for engine in ("duckdb", "arrow"):
            duck = clv("compute", SAMPLE / name, "--period", "week", "--engine", engine, "-q")
            assert duck.exit_code == 0, duck.stderr
            assert duck.stdout == default.stdout


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


def test_what_duckdb_cannot_take_as_it_is_the_reader_reads(clv):
    persian = clv("compute", SAMPLE / "shop_fa.csv", "--engine", "duckdb", "-q")
    assert persian.exit_code == 0, persian.stderr
    assert persian.stdout == clv("compute", SAMPLE / "shop_fa.csv", "-q").stdout
    shop = (SAMPLE / "shop.csv").read_bytes()
    piped = clv("summary", "-", "--engine", "duckdb", "-q", input=shop)
    assert piped.exit_code == 0, piped.stderr
    unknown = clv("compute", SAMPLE / "shop.csv", "--engine", "oracle")
    assert unknown.exit_code == 2
    calibration = clv(
        "summary", SAMPLE / "shop.csv", "--engine", "duckdb", "--calibration-end", "2024-06-30"
    )
    assert calibration.exit_code == 0, calibration.stderr


def _without_channel(path) -> pd.DataFrame:
    name = str(path)
    if name.endswith(".parquet"):
        frame = pd.read_parquet(path)
    else:
        frame = pd.read_json(path, lines=name.endswith(".jsonl"), dtype={"customer_id": str})
    return frame.drop(columns=["channel"], errors="ignore")


def test_duckdb_streams_every_file_format_as_the_default_engine_writes_it(clv, tmp_path):
    for fmt in ("parquet", "json", "jsonl"):
        default, duck = tmp_path / f"default.{fmt}", tmp_path / f"duck.{fmt}"
        assert clv("compute", SAMPLE / "shop.parquet", "--period", "week", "-o", default, "-q")
        result = clv(
            "compute", SAMPLE / "shop.parquet", "--period", "week", "--engine", "duckdb",
            "-o", duck, "-q",
        )  # fmt: skip
        assert result.exit_code == 0, result.stderr
        pd.testing.assert_frame_equal(_without_channel(duck), _without_channel(default))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{who}.{fmt}" for who in ("default", "duck") for fmt in ("parquet", "json", "jsonl")
    )


def test_duckdb_with_a_customer_list_or_a_terminal_table(clv):
    listed = clv(
        "compute", SAMPLE / "shop.parquet", "--engine", "duckdb", "--customers",
        SAMPLE / "shop_customers.csv", "-q",
    )  # fmt: skip
    assert listed.exit_code == 0, listed.stderr
    header = listed.stdout.splitlines()[0]
    assert "acquisition_cost" in header
    table = clv(
        "compute", SAMPLE / "shop.parquet", "--engine", "duckdb", "--format", "table",
        "--limit", "3",
    )  # fmt: skip
    assert table.exit_code == 0, table.stderr
    assert "Customers" in table.stdout


def test_summary_with_duckdb_streams_to_a_file(clv, tmp_path):
    out = tmp_path / "summary.csv"
    duck = clv("summary", SAMPLE / "shop.csv", "--engine", "duckdb", "-o", out, "-q")
    assert duck.exit_code == 0, duck.stderr
    assert out.read_text() == clv("summary", SAMPLE / "shop.csv", "-q").stdout
