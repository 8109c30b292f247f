"""Outputs that cannot hurt: formula-guarded CSV, traceable files, no temporary files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os

import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE

LOG = (
    "customer_id,date,amount,channel\n"
    "=1+1,2024-01-01,10,@ads\n"
    "-5,2024-01-02,20,+tv\n"
    "@A,2024-01-03,30,=cmd|' /C calc'!A0\n"
    "B,2024-01-04,40,plain\n"
)


@pytest.fixture
def log(write):
    return write("tx.csv", LOG)


def cells(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_text_cells_that_start_a_formula_are_guarded(clv, log, fmt):
    result = clv("compute", log, "--model", "none", "--format", fmt)
    rows = cells(result.stdout, "," if fmt == "csv" else "\t")
    ids = {r["customer_id"]: r["channel"] for r in rows}
    assert ids == {"'-5": "'+tv", "'=1+1": "'@ads", "'@A": "'=cmd|' /C calc'!A0", "B": "plain"}
    # Numbers are never text, so a refund stays a number.
    assert all(not r["total_spend"].startswith("'") for r in rows)


def test_raw_keeps_cells_and_json_and_parquet_are_raw(clv, log, tmp_path):
    raw = {r["customer_id"] for r in cells(clv("compute", log, "--model", "none", "--raw").stdout)}
    assert raw == {"-5", "=1+1", "@A", "B"}
    records = json.loads(clv("compute", log, "--model", "none", "--format", "json").stdout)
    assert {r["customer_id"] for r in records} == raw
    out = tmp_path / "out.parquet"
    assert clv("compute", log, "--model", "none", "-o", out).exit_code == 0
    assert set(pq.read_table(out).column("customer_id").to_pylist()) == raw


def test_guarded_output_reads_back_as_the_original_ids(clv, log):
    computed = clv("compute", log, "--model", "none")
    again = clv("segment", "-", "--stage", "new", "--raw", input=computed.stdout_bytes)
    assert again.exit_code == 0, again.stderr
    assert {r["customer_id"] for r in cells(again.stdout)} == {"-5", "=1+1", "@A", "B"}


def test_parquet_records_version_as_of_models_and_input_digest(clv, tmp_path):
    shop = SAMPLE / "shop.csv"
    out = tmp_path / "values.parquet"
    assert clv("compute", shop, "--period", "week", "-q", "-o", out).exit_code == 0
    meta = json.loads(pq.read_schema(out).metadata[b"clv"])
    from clvcli import __version__

    assert (meta["clv_version"], meta["command"], meta["as_of"]) == (
        __version__,
        "compute",
        "2024-12-31",
    )
    assert meta["options"]["period"] == "week" and meta["options"]["model"] == "auto"
    digest = hashlib.sha256(shop.read_bytes()).hexdigest()
    assert meta["inputs"] == [{"path": str(shop), "sha256": digest}]
    fit = json.loads(clv("fit", shop, "--period", "week", "--format", "json", "-q").stdout)
    assert meta["models"]["purchases"]["model"] == fit["model"]  # both chose alike
    assert meta["models"]["purchases"]["chosen_by"] == fit["chosen_by"]
    for name, value in fit["params"].items():
        assert meta["models"]["purchases"]["params"][name] == pytest.approx(value, rel=1e-9)
    assert set(meta["models"]["spend"]["params"]) == {"p", "q", "v"}


def test_sidecar_holds_the_same_metadata_and_needs_an_output(clv, tmp_path, log):
    out = tmp_path / "values.csv"
    assert clv("compute", log, "--model", "none", "-o", out, "--sidecar").exit_code == 0
    side = json.loads((tmp_path / "values.csv.meta.json").read_text())
    assert side["command"] == "compute" and side["models"] == {}
    assert side["inputs"][0]["sha256"] == hashlib.sha256(log.read_bytes()).hexdigest()
    parquet = tmp_path / "values.parquet"
    assert clv("compute", log, "--model", "none", "-o", parquet, "--sidecar").exit_code == 0
    side = json.loads((tmp_path / "values.parquet.meta.json").read_text())
    assert side == json.loads(pq.read_schema(parquet).metadata[b"clv"]) | {
        "options": side["options"]
    }
    result = clv("compute", log, "--sidecar")
    assert result.exit_code == 2 and "--sidecar needs -o FILE" in result.stderr


def test_fit_validate_and_emit_sql_write_their_sidecar_too(clv, tmp_path):
    shop = SAMPLE / "shop.csv"
    digest = hashlib.sha256(shop.read_bytes()).hexdigest()
    params = tmp_path / "params.json"
    assert clv("fit", shop, "--period", "week", "-o", params, "--sidecar").exit_code == 0
    fitted = json.loads(params.read_text())
    side = json.loads((tmp_path / "params.json.meta.json").read_text())
    assert (side["command"], side["as_of"]) == ("fit", fitted["as_of"])
    assert side["models"]["purchases"] == {
        "model": fitted["model"],
        "params": fitted["params"],
        "chosen_by": fitted["chosen_by"],
    }
    assert side["models"]["spend"]["params"] == fitted["spend_model"]["params"]
    assert side["inputs"] == [{"path": str(shop), "sha256": digest}]
    check = tmp_path / "check.json"
    argv = ("validate", shop, "--period", "week", "--holdout", "26w", "-o", check, "--sidecar")
    assert clv(*argv).exit_code == 0
    side = json.loads((tmp_path / "check.json.meta.json").read_text())
    assert side["command"] == "validate" and side["inputs"][0]["sha256"] == digest
    query = tmp_path / "summary.sql"
    argv = ("summary", "--emit-sql", "--table", "sales", "-o", query, "--sidecar")
    assert clv(*argv).exit_code == 0
    side = json.loads((tmp_path / "summary.sql.meta.json").read_text())
    assert (side["command"], side["inputs"], side["models"]) == ("summary", [], {})
    result = clv("fit", shop, "--period", "week", "--sidecar")
    assert result.exit_code == 2 and "--sidecar needs -o FILE" in result.stderr


def test_stdin_input_is_digested_from_its_bytes(clv, tmp_path):
    data = (SAMPLE / "shop.csv").read_bytes()
    out = tmp_path / "v.parquet"
    assert clv("compute", "-", "--model", "none", "-q", "-o", out, input=data).exit_code == 0
    meta = json.loads(pq.read_schema(out).metadata[b"clv"])
    assert meta["inputs"] == [{"path": "<stdin>", "sha256": hashlib.sha256(data).hexdigest()}]


def test_no_temporary_files_after_a_run_or_an_error(clv, log, tmp_path, write):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    assert clv("compute", log, "-q", "-o", out_dir / "a.parquet").exit_code == 0
    assert clv("compute", log, "-q", "-o", out_dir / "b.csv", "--sidecar").exit_code == 0
    bad = write("bad.csv", "customer,date,amount\nA,2024-01-01,x\n")
    assert clv("compute", bad, "-o", out_dir / "c.csv").exit_code == 3
    assert sorted(os.listdir(out_dir)) == ["a.parquet", "b.csv", "b.csv.meta.json"]


def test_a_failed_write_is_an_output_error_and_leaves_nothing(clv, log, tmp_path):
    # /proc takes no new files, not even from root: the write itself fails.
    result = clv("compute", log, "-q", "-o", "/proc/clv-out.csv")
    assert result.exit_code == 5
    assert result.stderr_lines[0].startswith("clv: error: cannot write /proc/clv-out.csv: ")
    assert not os.path.exists("/proc/clv-out.csv")
    not_a_dir = log.parent / "tx.csv" / "out.csv"
    result = clv("compute", log, "-o", not_a_dir)
    assert (
        result.exit_code == 5 and f"'{log.parent / 'tx.csv'}' is not a directory" in result.stderr
    )
    missing = log.parent / "nowhere" / "out.csv"
    result = clv("compute", log, "-o", missing)
    assert result.exit_code == 5 and f"'{log.parent / 'nowhere'}' does not exist" in result.stderr
