"""Customer ids through the CLI: one customer however an export spells the id, and
ids that are different stay different through `clv compute | clv segment`."""

from __future__ import annotations

import csv
import io
import unicodedata

import pandas as pd
import pytest

NFD_CAFE = unicodedata.normalize("NFD", "café")
# Ids a spreadsheet would run as formulas, and ids that start with ' themselves.
GUARDED = ["=x", "'=x", "''=x", "'abc", "+1", "-3", "@a", "abc'", "'"]


def _log(rows: list[tuple[str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["customer_id", "date", "amount"])
    writer.writerows(rows)
    return out.getvalue()


def _ids(path) -> list[str]:
    return sorted(pd.read_parquet(path)["customer_id"])


def test_spellings_of_one_id_are_one_customer_and_output_is_nfc(clv, write, tmp_path):
    log = write(
        "log.csv",
        _log(
            [
                ("C\u200b12", "2024-01-01", "10"),
                ("C12\t", "2024-01-05", "10"),
                ("\u00a0C۱۲", "2024-02-01", "10"),
                ("علي", "2024-01-01", "5"),
                ("علی\u200c", "2024-01-09", "5"),
                (NFD_CAFE, "2024-01-01", "7"),
                ("café", "2024-03-01", "7"),
            ]
        ),
    )
    out = tmp_path / "out.parquet"
    result = clv("compute", log, "--model", "none", "-q", "-o", out)
    assert result.exit_code == 0, result.stderr
    frame = pd.read_parquet(out).set_index("customer_id")
    assert sorted(frame.index) == sorted(["C12", "café", "علی"])
    assert "caf\u00e9" in frame.index  # NFC, whatever form the log had
    assert frame.loc["C12", "orders"] == 3


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_guarded_ids_survive_compute_then_segment(clv, write, tmp_path, fmt):
    rows = [(i, f"2024-01-{n + 1:02d}", "10") for n, i in enumerate(GUARDED)]
    log = write("log.csv", _log([*rows, ("C1", "2024-02-01", "3")]))
    computed = tmp_path / f"out.{fmt}"
    result = clv("compute", log, "--model", "none", "-q", "-o", computed)
    assert result.exit_code == 0, result.stderr
    segmented = tmp_path / "segment.parquet"
    again = clv("segment", computed, "--min-clv", "0", "-q", "-o", segmented)
    assert again.exit_code == 0, again.stderr
    assert _ids(segmented) == sorted([*GUARDED, "C1"])


def test_guarded_ids_survive_a_pipe(clv, write):
    log = write("log.csv", _log([("=x", "2024-01-01", "5"), ("'=x", "2024-01-02", "6")]))
    computed = clv("compute", log, "--model", "none", "-q")
    assert computed.exit_code == 0, computed.stderr
    segmented = clv(
        "segment", "-", "--min-clv", "0", "-q", "--format", "json", input=computed.stdout
    )
    assert segmented.exit_code == 0, segmented.stderr
    ids = sorted(
        pd.read_json(io.StringIO(segmented.stdout), dtype={"customer_id": str})["customer_id"]
    )
    assert ids == ["'=x", "=x"]


def test_a_compute_output_with_a_customer_twice_is_an_input_error(clv, write, tmp_path):
    log = write("log.csv", _log([("A", "2024-01-01", "5"), ("B", "2024-01-02", "6")]))
    computed = tmp_path / "out.csv"
    assert clv("compute", log, "--model", "none", "-q", "-o", computed).exit_code == 0
    lines = computed.read_text(encoding="utf-8").splitlines()
    doubled = "\n".join([*lines, lines[1]]) + "\n"
    result = clv("segment", "-", "--min-clv", "0", "-q", input=doubled)
    assert result.exit_code == 3
    assert result.stderr.startswith("clv: error: <stdin>: customer 'A' has more than one row")
    assert "rows 1 and 3" in result.stderr
    assert result.stdout == ""
    # Two spellings of one id are one customer twice, too.
    spelled = "\n".join([*lines, lines[1].replace("A,", "A\u200b,", 1)]) + "\n"
    assert clv("segment", "-", "--min-clv", "0", "-q", input=spelled).exit_code == 3


def test_a_customer_list_matches_ids_however_spelled(clv, write):
    log = write("log.csv", _log([("علي", "2024-01-01", "5"), ("C12", "2024-01-02", "6")]))
    listed = write("customers.csv", "customer_id\nعلی\u200c\nC\u200b12\nNEW\n")
    result = clv(
        "segment", log, "--customers", listed, "--stage", "potential", "-q", "--model", "none"
    )
    assert result.exit_code == 0, result.stderr
    potential = [line.split(",")[0] for line in result.stdout.splitlines()[1:]]
    assert potential == ["NEW"]


def test_the_duckdb_engine_counts_customers_as_the_default_engine(clv, write):
    pytest.importorskip("duckdb")
    rows = []
    for n in range(300):
        rows += [(f"C{n}", "2024-01-01", "5"), (f"C{n}\t", "2024-02-01", "6")]
        rows += [(f"C\u200b{n}", "2024-03-01", "7"), (f"\u00a0C{n}", "2024-03-05", "8")]
    rows += [("علي", "2024-01-01", "5"), ("علی", "2024-02-01", "5"), (NFD_CAFE, "2024-01-01", "1")]
    log = write("log.csv", _log(rows))
    default = clv("summary", log, "-q")
    duck = clv("summary", log, "--engine", "duckdb", "-q")
    assert duck.exit_code == 0, duck.stderr
    assert len(default.stdout.splitlines()) == 1 + 300 + 2
    assert duck.stdout == default.stdout


def test_cdnow_with_spelled_ids_counts_its_customers_once_in_both_engines(clv, tmp_path):
    """The CDNOW log (23,570 customers) as an export that pads some ids with a
    trailing tab and breaks others with a zero-width space or a BOM."""
    pytest.importorskip("duckdb")
    from tests.conftest import DATA, assert_same_csv

    lines = (DATA / "cdnow_master.csv").read_text(encoding="utf-8").splitlines()
    spellings = ("{}", "{}\t", "{}\u200b", "\ufeff{}", "\u00a0{} ")
    rendered = [lines[0]]
    for n, line in enumerate(lines[1:]):
        customer, rest = line.split(",", 1)
        rendered.append(spellings[n % len(spellings)].format(customer) + "," + rest)
    log = tmp_path / "cdnow.csv"
    log.write_text("\n".join(rendered) + "\n", encoding="utf-8")
    clean = clv("summary", DATA / "cdnow_master.csv", "-q")
    default = clv("summary", log, "-q")
    duck = clv("summary", log, "--engine", "duckdb", "-q")
    duck_clean = clv("summary", DATA / "cdnow_master.csv", "--engine", "duckdb", "-q")
    assert default.exit_code == duck.exit_code == 0, default.stderr + duck.stderr
    assert len(clean.stdout.splitlines()) == 1 + 23_570
    assert_same_csv(default.stdout, clean.stdout)  # the reader's, and DuckDB's
    assert_same_csv(duck.stdout, duck_clean.stdout)
    assert_same_csv(duck.stdout, clean.stdout)
    ids = [line.split(",")[0] for line in clean.stdout.splitlines()]
    assert [line.split(",")[0] for line in duck.stdout.splitlines()] == ids


def test_segment_channel_is_matched_however_typed(clv, write):
    log = write(
        "log.csv",
        "customer_id,date,amount,channel\nA,2024-01-01,5,پيامك\nB,2024-01-02,6,وب\n",
    )
    result = clv("segment", log, "--channel", "پیامک\u200c", "--model", "none", "-q")
    assert result.exit_code == 0, result.stderr
    assert [line.split(",")[0] for line in result.stdout.splitlines()[1:]] == ["A"]


def test_guarded_ids_survive_summary_then_compute(clv, write, tmp_path):
    rows = [(i, f"2024-01-{n + 1:02d}", "10") for n, i in enumerate(GUARDED)]
    log = write("log.csv", _log([*rows, ("C1", "2024-02-01", "3")]))
    summary = tmp_path / "summary.csv"
    assert clv("summary", log, "-q", "-o", summary).exit_code == 0
    out = tmp_path / "out.parquet"
    result = clv("compute", "--summary", summary, "--model", "none", "-q", "-o", out)
    assert result.exit_code == 0, result.stderr
    assert _ids(out) == sorted([*GUARDED, "C1"])


def test_a_parquet_output_keeps_ids_that_start_with_a_quote(clv, write, tmp_path):
    log = write("log.csv", _log([("'abc", "2024-01-01", "5"), ("=x", "2024-01-02", "6")]))
    computed = tmp_path / "out.parquet"
    assert clv("compute", log, "--model", "none", "-q", "-o", computed).exit_code == 0
    segmented = tmp_path / "segment.parquet"
    result = clv("segment", computed, "--min-clv", "0", "-q", "-o", segmented)
    assert result.exit_code == 0, result.stderr
    assert _ids(segmented) == ["'abc", "=x"]
